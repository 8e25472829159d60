//! The time controls: play and pause, step forward and back, the speed on a log scale, the
//! timeline to scrub the run, the notice that acting while rewound forks the run, the "Copy
//! link" button, and the keyboard shortcuts with their `?` list. They only translate: moving in
//! time is [`crate::timeline::Recording`]'s job, the keys are [`crate::shortcuts`]'.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::lab::{Lab, Speed};
use crate::share::{self, Share};
use crate::shortcuts::{key_belongs_to_element, shortcut_for, Shortcut, SHORTCUTS};

/// The lab a page opens with: the run a link's fragment describes, or a fresh one with `seed`
/// when there is none (or when the link is to a comparison: see [`comparison_link`]); a link
/// that cannot be replayed gives a fresh run and says why.
pub fn load_lab(seed: u64, fragment: Option<&str>) -> (Lab, Result<(), String>) {
    let Some(fragment) = fragment.map(|f| f.trim_start_matches('#')).filter(|f| !f.is_empty()) else {
        return (Lab::new(seed), Ok(()));
    };
    match share::decode(fragment) {
        Ok(run) if run.compare.is_some() => (Lab::new(seed), Ok(())),
        decoded => match decoded.map_err(|e| e.to_string()).and_then(|run| Lab::from_share(&run)) {
            Ok(lab) => (lab, Ok(())),
            Err(why) => (Lab::new(seed), Err(format!("This link could not be replayed: {why}"))),
        },
    }
}

/// The comparison a link's fragment describes, if it is a link to one (`compare=`).
pub fn comparison_link(fragment: Option<&str>) -> Option<Share> {
    fragment.and_then(|f| share::decode(f).ok()).filter(|run| run.compare.is_some())
}

/// A link to the run as it stands: this page's address with the run as its fragment (in a
/// lesson, which is not shared as a link, the page's address alone).
pub fn link_to(lab: &Lab) -> String {
    link_with(lab.share().as_ref())
}

/// This page's address with `run` as its fragment, or without a fragment.
pub fn link_with(run: Option<&Share>) -> String {
    let page = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    let page = page.split('#').next().unwrap_or_default();
    match run {
        Some(run) => format!("{page}#{}", share::encode(run)),
        None => page.to_string(),
    }
}

/// Puts the run in the address bar (without a new history entry), so it is always a link to it.
pub fn show_in_address_bar(lab: &Lab) {
    put_in_address_bar(&link_to(lab));
}

/// Replaces the address bar's address with `link`, without a new history entry.
pub fn put_in_address_bar(link: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(link));
    }
}

/// `12.345 s`: to the millisecond, so that a step always shows.
fn seconds(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

/// The controls above the drawing.
#[component]
pub fn TimeControls(
    /// Whether the run plays; the controls pause it to step.
    playing: RwSignal<bool>,
    /// How fast it plays.
    speed: RwSignal<Speed>,
    /// The moment shown.
    now_ms: Signal<u64>,
    /// The furthest moment reached: the timeline's end.
    horizon_ms: Signal<u64>,
    /// Whether the run has a timeline to move along (not in a lesson: then only play, pause
    /// and the speed are offered, and the keys that move in time do nothing).
    timeline: Signal<bool>,
    /// Called to show another moment (the slider, Home, End).
    on_seek: Callback<u64>,
    /// Called to run the next event.
    on_step: Callback<()>,
    /// Called to go back to the previous event.
    on_step_back: Callback<()>,
    /// Gives the link to this run, as it stands, for "Copy link".
    link: Callback<(), String>,
) -> impl IntoView {
    let help_open = RwSignal::new(false);
    let copy_status = RwSignal::new(String::new());
    let step = move || {
        playing.set(false);
        on_step.run(());
    };
    let step_back = move || {
        playing.set(false);
        on_step_back.run(());
    };
    let run_shortcut = move |shortcut: Shortcut| match shortcut {
        Shortcut::PlayPause => playing.update(|p| *p = !*p),
        Shortcut::Faster => speed.update(|s| *s = s.faster()),
        Shortcut::Slower => speed.update(|s| *s = s.slower()),
        Shortcut::ShowHelp => help_open.set(true),
        Shortcut::CloseHelp => help_open.set(false),
        _ if !timeline.get_untracked() => {}
        Shortcut::Step => step(),
        Shortcut::StepBack => step_back(),
        Shortcut::Start => on_seek.run(0),
        Shortcut::End => on_seek.run(horizon_ms.get_untracked()),
    };
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.ctrl_key() || ev.alt_key() || ev.meta_key() {
            return;
        }
        let key = ev.key();
        let tag = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).map(|e| e.tag_name());
        if tag.is_some_and(|tag| key_belongs_to_element(&tag, &key)) {
            return;
        }
        if let Some(shortcut) = shortcut_for(&key) {
            ev.prevent_default();
            run_shortcut(shortcut);
        }
    });
    on_cleanup(move || keys.remove());

    let copy_link = move |_| {
        let url = link.run(());
        let Some(window) = web_sys::window() else { return };
        copy_status.set(String::from("Copying…"));
        let copied = Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(move |_| {
            copy_status.set(String::from("Link copied: opening it replays this run."))
        });
        let failed = Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(move |_| {
            copy_status.set(String::from("The browser refused to copy: the address bar holds the same link."))
        });
        let _ = window.navigator().clipboard().write_text(&url).then(&copied).catch(&failed);
        // The browser calls one of them later, once: they must outlive this handler.
        copied.forget();
        failed.forget();
    };

    let rewound = move || now_ms.get() < horizon_ms.get();
    view! {
        <section class="time-controls" aria-label="Time controls" data-testid="time-controls">
            <button data-testid="play" aria-keyshortcuts="Space" on:click=move |_| playing.update(|p| *p = !*p)
                    aria-label=move || if playing.get() { "Pause the simulation" } else { "Play the simulation" }>
                {move || if playing.get() { "Pause" } else { "Play" }}
            </button>
            <Show when=move || timeline.get()>
            <button data-testid="step-back" aria-keyshortcuts="Comma ArrowLeft" title="Step back (, or ←)"
                    aria-label="Step back to the previous event" on:click=move |_| step_back()>"◀ Step"</button>
            <button data-testid="step" aria-keyshortcuts="Period ArrowRight" title="Step (. or →)"
                    aria-label="Step: run the next event" on:click=move |_| step()>"Step ▶"</button>
            </Show>
            <label class="speed">"Speed "
                <input type="range" data-testid="speed" min=Speed::SLOWEST.0 max=Speed::FASTEST.0 step="1"
                       aria-label="Speed" aria-keyshortcuts="+ -"
                       aria-valuetext=move || format!("{} real time", speed.get().label())
                       prop:value=move || speed.get().0.to_string()
                       on:input=move |ev| if let Ok(p) = event_target_value(&ev).parse() { speed.set(Speed(p)) } />
                <output data-testid="speed-label">{move || speed.get().label()}</output>
            </label>
            <Show when=move || timeline.get()>
            <label class="timeline">
                <span class="visually-hidden">"Timeline"</span>
                <input type="range" data-testid="timeline" min="0" step="1"
                       aria-label="Timeline: the moment shown, up to the furthest reached" aria-keyshortcuts="Home End"
                       prop:max=move || horizon_ms.get().to_string()
                       prop:value=move || now_ms.get().to_string()
                       aria-valuetext=move || format!("{} of {}", seconds(now_ms.get()), seconds(horizon_ms.get()))
                       on:input=move |ev| if let Ok(ms) = event_target_value(&ev).parse() {
                           playing.set(false);
                           on_seek.run(ms);
                       } />
            </label>
            <span class="time" data-testid="time" data-now-ms=move || now_ms.get() data-horizon-ms=move || horizon_ms.get()>{move || format!("{} / {}", seconds(now_ms.get()), seconds(horizon_ms.get()))}</span>
            <button data-testid="copy-link" aria-label="Copy a link that replays this run" on:click=copy_link>"Copy link"</button>
            </Show>
            <button data-testid="shortcuts-button" aria-label="Keyboard shortcuts" aria-keyshortcuts="?"
                    on:click=move |_| help_open.set(true)>"?"</button>
            <p class="status" role="status" data-testid="copy-status">{move || copy_status.get()}</p>
            <Show when=rewound>
                <p class="fork-notice" role="status" data-testid="fork-notice">
                    {move || format!("Rewound to {} of {}. Play to watch what happened next; act now (click, type, produce) and the run forks: everything after {} is replaced.",
                        seconds(now_ms.get()), seconds(horizon_ms.get()), seconds(now_ms.get()))}
                </p>
            </Show>
            <Show when=move || help_open.get()>
                <ShortcutList on_close=Callback::new(move |()| help_open.set(false)) />
            </Show>
        </section>
    }
}

/// The `?` dialog: every shortcut and what it does. Escape or the button closes it.
#[component]
fn ShortcutList(on_close: Callback<()>) -> impl IntoView {
    let close = NodeRef::<leptos::html::Button>::new();
    // Focus moves into the dialog, so a screen reader announces it and Enter closes it.
    Effect::new(move || {
        if let Some(button) = close.get() {
            let _ = button.focus();
        }
    });
    view! {
        <div class="dialog-backdrop" on:click=move |_| on_close.run(())>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" data-testid="shortcuts"
                 on:click=|ev| ev.stop_propagation()>
                <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
                <table>
                    <tbody>
                        {SHORTCUTS.iter().map(|(keys, what)| view! {
                            <tr><th scope="row"><kbd>{*keys}</kbd></th><td>{*what}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <p>"Shortcuts do nothing while you type in the console."</p>
                <button node_ref=close data-testid="close-shortcuts" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </div>
    }
}
