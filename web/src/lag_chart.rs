//! The consumer lag chart: each group's total lag over the last minute of simulated time,
//! one line per group told apart by colour, dash pattern and a label at its end.

use leptos::prelude::*;

use crate::lag_history::{LagHistory, WINDOW_MS};

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 120.0;
/// Room on the right for each line's label.
const LABEL_ROOM: f64 = 90.0;

/// Dash patterns, so lines differ without colour.
const DASHES: [&str; 4] = ["", "6 3", "2 3", "8 3 2 3"];

#[component]
pub fn LagChart(history: Signal<LagHistory>, now_ms: Signal<u64>) -> impl IntoView {
    view! {
        <section class="panel lag" aria-labelledby="lag-title">
            <h2 id="lag-title">"Consumer lag"</h2>
            {move || history.with(|h| {
                let groups = h.groups();
                if groups.is_empty() {
                    return view! { <p class="hint">"No group has committed offsets yet."</p> }.into_any();
                }
                let now = now_ms.get();
                let max = h.max_lag();
                let lines = groups.iter().enumerate().map(|(index, group)| {
                    let latest = h.latest(group).unwrap_or(0);
                    let y = HEIGHT - latest as f64 / max as f64 * HEIGHT;
                    view! {
                        <g class=format!("series series-{}", index % DASHES.len()) data-lag-group=group.clone()
                           data-latest=latest>
                            <polyline points=h.polyline(group, now, WIDTH, HEIGHT) fill="none"
                                      stroke-dasharray=DASHES[index % DASHES.len()] />
                            <text x=WIDTH + 6.0 y=y + 4.0>{format!("{group}: {latest}")}</text>
                        </g>
                    }
                }).collect_view();
                view! {
                    <svg class="lag-chart" data-testid="lag-chart" viewBox=format!("-30 -8 {} {}", WIDTH + LABEL_ROOM + 30.0, HEIGHT + 28.0)
                         role="img" aria-label=format!("consumer lag over the last {} s", WINDOW_MS / 1000)>
                        <line class="axis" x1="0" y1=HEIGHT x2=WIDTH y2=HEIGHT />
                        <line class="axis" x1="0" y1="0" x2="0" y2=HEIGHT />
                        <text class="tick" x="-4" y="4" text-anchor="end">{max}</text>
                        <text class="tick" x="-4" y=HEIGHT text-anchor="end">"0"</text>
                        <text class="tick" x="0" y=HEIGHT + 16.0>{format!("−{} s", WINDOW_MS / 1000)}</text>
                        <text class="tick" x=WIDTH y=HEIGHT + 16.0 text-anchor="end">"now"</text>
                        {lines}
                    </svg>
                }.into_any()
            })}
        </section>
    }
}
