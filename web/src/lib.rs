//! `kafkalab-web`: the Kafka Lab page. A Leptos app, compiled to WebAssembly, that runs
//! `kafkalab-core`'s simulator in the browser and draws it.
//!
//! - [`lab`]: the page's session with the simulator: every click becomes a line of the core's
//!   command language, run and remembered (plain Rust, tested on the host);
//! - [`timeline`]: the run as a recording (seed, settings, actions) that can be rewound by
//!   replay from checkpoints, and forked; [`share`]: the same as a link's fragment;
//!   [`shortcuts`]: the keyboard shortcuts (plain Rust, tested on the host);
//! - [`layout`]: where things go on the drawing (plain Rust, tested on the host);
//! - [`lessons`]: the course embedded at build time, the lesson being played and what the
//!   player shows of it, and the progress kept in the browser (plain Rust, tested on the host);
//! - [`markdown`]: the lessons' narration read into styled blocks (plain Rust, tested on the
//!   host);
//! - [`panels`]: the rows of the consumer-groups and clients panels (plain Rust, tested on the
//!   host);
//! - [`sequence`] and [`in_flight`]: the network's recent traffic as a sequence diagram and as
//!   messages travelling on the cluster drawing (plain Rust, tested on the host); drawn by
//!   `sequence_diagram` and `in_flight_overlay`;
//! - `app`, `groups`, `clients`, `lesson_player`, `time_controls`: the Leptos components, only
//!   built for `wasm32`; they
//!   translate, they do not decide.

pub mod in_flight;
pub mod lab;
pub mod layout;
pub mod lessons;
pub mod markdown;
pub mod panels;
pub mod sequence;
pub mod share;
pub mod shortcuts;
pub mod timeline;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod clients;
#[cfg(target_arch = "wasm32")]
mod groups;
#[cfg(target_arch = "wasm32")]
mod in_flight_overlay;
#[cfg(target_arch = "wasm32")]
pub mod lesson_player;
#[cfg(target_arch = "wasm32")]
mod sequence_diagram;
#[cfg(target_arch = "wasm32")]
mod time_controls;

/// Mounts the lab on the page's `<body>`; `index.html` calls it once the module is loaded.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn mount_lab() {
    console_error_panic_hook::set_once();
    // A shared link's fragment holds a run to replay; from then on the address bar follows
    // the run, so it is always a link to it.
    let fragment = web_sys::window().and_then(|w| w.location().hash().ok()).filter(|h| !h.is_empty());
    leptos::mount::mount_to_body(move || leptos::view! { <app::App share=fragment.clone() sync_url=true /> });
}
