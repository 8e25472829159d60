//! Messages travelling on the cluster drawing, drawn over the broker cards: labelled pills for
//! what says something new (one label per kind and way), small dots for the rest, a cross on what will not arrive.
//! Positions come from [`crate::in_flight`]; this only draws them. While playing faster than
//! [`Speed::FOLLOWABLE`] it draws none and says so.

use kafkalab_core::simulation::Traffic;
use kafkalab_core::view::ClusterView;
use leptos::prelude::*;

use crate::in_flight::{in_flight, Dot, WIRE_BAND};
use crate::lab::Speed;

/// Every message in flight now, as an SVG group to place inside the cluster drawing.
#[component]
pub fn InFlightOverlay(
    /// The messages of the last seconds, as the simulation recorded them.
    traffic: Signal<Vec<Traffic>>,
    /// The cluster drawn: its clock, its brokers' order and its controllers' layout.
    view: Signal<ClusterView>,
    /// Whether messages are drawn: not while playing too fast to follow them.
    follow: Signal<bool>,
    /// How tall each broker card is, so messages of the second row of cards start from it.
    card_height: Signal<f64>,
) -> impl IntoView {
    let dots = Memo::new(move |_| {
        if !follow.get() {
            return Vec::new();
        }
        let (now_ms, brokers, layout) =
            view.with(|v| (v.now_ms, v.brokers.iter().map(|b| b.id).collect::<Vec<_>>(), v.controller_layout));
        traffic.with(|t| in_flight(t, now_ms, &brokers, layout, card_height.get()))
    });
    view! {
        <g class="in-flight" data-testid="in-flight">
            <For each=move || dots.get() key=|dot| dot.id let:dot>
                <MovingDot id=dot.id first=dot dots=dots />
            </For>
            <Show when=move || !follow.get()>
                <text class="in-flight-note" data-testid="in-flight-note" x="4" y=-WIRE_BAND + 14.0>
                    {format!("Messages are drawn at {} or slower.", Speed::FOLLOWABLE.label())}
                </text>
            </Show>
        </g>
    }
}

/// One message: kept as the same element while it travels, so its moves are smooth.
#[component]
fn MovingDot(id: u64, first: Dot, dots: Memo<Vec<Dot>>) -> impl IntoView {
    let current =
        Memo::new(move |_| dots.with(|all| all.iter().find(|d| d.id == id).cloned()).unwrap_or_else(|| first.clone()));
    let place = move || current.with(|dot| format!("translate({:.1},{:.1})", dot.x, dot.y));
    let crossed = move || current.with(|dot| dot.cross);
    let dot = current.get_untracked();
    let class = format!("message{}", if dot.background { " background" } else { "" });
    let title = format!("{} {} → {}: {}", dot.kind, dot.from, dot.to, dot.summary);
    let width = dot.kind.len() as f64 * 6.2 + 12.0;
    let shape = if !dot.labelled {
        view! { <circle r="3" /> }.into_any()
    } else {
        view! {
            <rect x=-width / 2.0 y="-8" width=width height="16" rx="8" />
            <text y="4" text-anchor="middle">{dot.kind}</text>
        }
        .into_any()
    };
    view! {
        <g class=class data-testid="message" data-kind=dot.kind data-from=dot.from.clone() data-to=dot.to.clone()
           data-fate=move || current.with(|dot| dot.fate) data-dropped=move || crossed().to_string() transform=place>
            <title>{title}</title>
            {shape}
            <Show when=crossed>
                <text class="cross" x="0" y="-10" text-anchor="middle">"✕"</text>
            </Show>
        </g>
    }
}
