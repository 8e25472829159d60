//! `kafkalab-web`: the Kafka Lab page. A Leptos app, compiled to WebAssembly, that runs
//! `kafkalab-core`'s simulator in the browser and draws it.
//!
//! - [`lab`]: the page's session with the simulator: every click becomes a line of the core's
//!   command language, run and remembered (plain Rust, tested on the host);
//! - [`timeline`]: the run as a recording (seed, settings, actions) that can be rewound by
//!   replay from checkpoints, and forked; [`share`]: the same as a link's fragment;
//!   [`shortcuts`]: the keyboard shortcuts (plain Rust, tested on the host);
//! - [`comparison`]: two runs side by side, one setting apart (`acks=1` against `acks=all`),
//!   moving together, each with what it acknowledged and lost (plain Rust, tested on the host);
//! - [`layout`]: where things go on the drawing (plain Rust, tested on the host);
//! - [`lessons`]: the course embedded at build time, the lesson being played and what the
//!   player shows of it, and the progress kept in the browser (plain Rust, tested on the host);
//! - [`markdown`]: the lessons' narration read into styled blocks (plain Rust, tested on the
//!   host);
//! - [`broker_rows`]: the brokers table (state, leaders, ISR, under-replicated partitions);
//!   [`control_lines`]: the control panel's forms as command lines (plain Rust, tested on the
//!   host);
//! - [`lag_history`]: each consumer group's lag sampled as the run plays, for the lag chart
//!   (plain Rust, tested on the host);
//! - [`pacer`]: how playing keeps the chosen speed within each frame's budget (plain Rust,
//!   tested on the host);
//! - [`panels`]: the rows of the consumer-groups and clients panels (plain Rust, tested on the
//!   host);
//! - [`inspection`]: what the inspector shows of the selected replica, broker, controller or
//!   group; [`hex_dump`]: a batch's bytes in rows with each field labelled (plain Rust, tested
//!   on the host);
//! - [`sequence`] and [`in_flight`]: the network's recent traffic as a sequence diagram and as
//!   messages travelling on the cluster drawing (plain Rust, tested on the host); drawn by
//!   `sequence_diagram` and `in_flight_overlay`;
//! - `app`, `brokers_panel`, `cluster_drawing`, `compare_view`, `control_panel`, `groups`, `clients`, `inspector`,
//!   `lag_chart`, `lesson_player`, `replica_tiles`, `time_controls`: the Leptos components, only
//!   built for `wasm32`; they translate, they do not decide.

pub mod broker_rows;
pub mod comparison;
pub mod control_lines;
pub mod hex_dump;
pub mod in_flight;
pub mod inspection;
pub mod lab;
pub mod lag_history;
pub mod layout;
pub mod lessons;
pub mod markdown;
pub mod pacer;
pub mod panels;
pub mod sequence;
pub mod share;
pub mod shortcuts;
pub mod timeline;
#[cfg(test)]
mod traffic_fixture;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod brokers_panel;
#[cfg(target_arch = "wasm32")]
mod clients;
#[cfg(target_arch = "wasm32")]
mod cluster_drawing;
#[cfg(target_arch = "wasm32")]
mod compare_view;
#[cfg(target_arch = "wasm32")]
mod control_panel;
#[cfg(target_arch = "wasm32")]
mod frame_loop;
#[cfg(target_arch = "wasm32")]
mod groups;
#[cfg(target_arch = "wasm32")]
mod in_flight_overlay;
#[cfg(target_arch = "wasm32")]
mod inspector;
#[cfg(target_arch = "wasm32")]
mod lag_chart;
#[cfg(target_arch = "wasm32")]
pub mod lesson_player;
#[cfg(target_arch = "wasm32")]
mod replica_tiles;
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
