//! The "Requests (last 3 s)" panel: the sequence diagram of [`crate::sequence`] as SVG, with a
//! checkbox to show the background chatter. It only draws the layout it is given, and holds
//! still while the page plays faster than [`Speed::FOLLOWABLE`].

use kafkalab_core::simulation::Traffic;
use leptos::prelude::*;

use crate::lab::Speed;
use crate::sequence::{sequence_layout, Arrow, Lane, SequenceLayout, Tick, HEADER};

/// The sequence diagram of the recent traffic.
#[component]
pub fn SequenceDiagram(
    /// The messages of the last seconds, as the simulation recorded them.
    traffic: Signal<Vec<Traffic>>,
    /// The present moment: the diagram's bottom edge.
    now_ms: Signal<u64>,
    /// Whether the diagram follows the clock; if not (playing too fast to read it), it holds
    /// the last diagram drawn.
    follow: Signal<bool>,
) -> impl IntoView {
    let show_background = RwSignal::new(false);
    let layout = Memo::new(move |held: Option<&SequenceLayout>| match held {
        // Holding reads neither the traffic nor the clock, so frames do not redraw it.
        Some(held) if !follow.get() => held.clone(),
        _ => traffic.with(|t| sequence_layout(t, now_ms.get(), show_background.get())),
    });
    let hint = move || {
        layout.with(|l| match (l.arrows.is_empty(), l.hidden) {
            _ if !follow.get() => format!(
                "Holding still while playing faster than {}: slow down or pause to follow the requests.",
                Speed::FOLLOWABLE.label()
            ),
            (true, 0) => String::from("No messages in the last 3 s (none are recorded in a lesson)."),
            (_, 0) => String::new(),
            (_, hidden) => format!("{hidden} background messages hidden."),
        })
    };
    view! {
        <section class="panel sequence" data-testid="sequence" aria-labelledby="sequence-title">
            <header class="sequence-header">
                <h2 id="sequence-title">"Requests (last 3 s)"</h2>
                <label class="toggle">
                    <input type="checkbox" data-testid="show-background" prop:checked=move || show_background.get()
                           on:change=move |ev| show_background.set(event_target_checked(&ev)) />
                    " Show background traffic"
                </label>
            </header>
            <p class="hint" data-testid="sequence-hint">{hint}</p>
            <div class="sequence-scroll">
                <svg class="sequence-diagram" data-testid="sequence-diagram" role="img"
                     aria-label="requests and responses between clients, brokers and controllers, time running down"
                     width=move || layout.with(|l| l.width) height=move || layout.with(|l| l.height)
                     viewBox=move || layout.with(|l| format!("0 0 {} {}", l.width, l.height))>
                    <defs>
                        <marker id="sequence-head" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7"
                                orient="auto-start-reverse">
                            <path d="M0,0 L8,4 L0,8 z" />
                        </marker>
                    </defs>
                    {move || layout.with(|l| l.ticks.iter().map(|tick| tick_view(tick, l.width)).collect_view())}
                    {move || layout.with(|l| l.lanes.iter().map(|lane| lane_view(lane, l.height)).collect_view())}
                    {move || layout.with(|l| l.arrows.iter().map(arrow_view).collect_view())}
                </svg>
            </div>
        </section>
    }
}

fn tick_view(tick: &Tick, width: f64) -> impl IntoView {
    view! {
        <g class="tick">
            <line x1="0" x2=width y1=tick.y y2=tick.y />
            <text x="2" y=tick.y - 2.0>{tick.label.clone()}</text>
        </g>
    }
}

fn lane_view(lane: &Lane, height: f64) -> impl IntoView {
    view! {
        <g class=format!("lane {}", lane.role) data-testid="lane" data-lane=lane.label.clone()>
            <text x=lane.x y=HEADER - 14.0 text-anchor="middle">{lane.label.clone()}</text>
            <line x1=lane.x x2=lane.x y1=HEADER - 8.0 y2=height />
        </g>
    }
}

fn arrow_view(arrow: &Arrow) -> impl IntoView {
    let response = arrow.kind.ends_with("Response");
    let class = format!(
        "arrow {}{}{}",
        arrow.fate,
        if response { " response" } else { "" },
        if arrow.background { " background" } else { "" }
    );
    let title = format!("{} {} → {}: {} ({})", arrow.kind, arrow.from, arrow.to, arrow.summary, arrow.fate);
    let (x, y) = (arrow.x2, arrow.y2);
    let cross = arrow.cross.then(|| {
        view! { <path class="cross" d=format!("M{} {} l8 8 m0 -8 l-8 8", x - 4.0, y - 4.0) /> }
    });
    let label = (!arrow.background).then(|| {
        let (mid_x, mid_y) = ((arrow.x1 + x) / 2.0, (arrow.y1 + y) / 2.0 - 3.0);
        view! { <text x=mid_x y=mid_y text-anchor="middle">{arrow.kind}</text> }
    });
    view! {
        <g class=class data-testid="arrow" data-kind=arrow.kind data-from=arrow.from.clone() data-to=arrow.to.clone()
           data-fate=arrow.fate data-background=arrow.background.to_string()>
            <title>{title}</title>
            <line x1=arrow.x1 y1=arrow.y1 x2=x y2=y marker-end=(!arrow.cross).then_some("url(#sequence-head)") />
            {cross}
            {label}
        </g>
    }
}
