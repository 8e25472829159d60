//! The clients panel: each named producer and consumer, alive or dead, with what it holds, and
//! a button that kills or restarts it. The button runs `kill NAME` / `restart NAME` through the
//! console's path, so the action is a command line in the history like any typed one.

use kafkalab_core::view::ClusterView;
use leptos::prelude::*;

use crate::panels::{client_rows, ClientRow};

/// Every named client of the view, in the order they were started. `on_run` runs a command
/// line (the console's callback).
#[component]
pub fn ClientsPanel(view: Signal<ClusterView>, on_run: Callback<String>) -> impl IntoView {
    let rows = Memo::new(move |_| view.with(client_rows));
    let names = Memo::new(move |_| rows.with(|rows| rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>()));
    view! {
        <section class="panel clients" data-testid="clients" aria-labelledby="clients-title">
            <h2 id="clients-title">"Clients"</h2>
            <Show when=move || names.with(|n| n.is_empty())>
                <p class="hint">"No named clients yet. Try " <code>"producer p1 acks=1"</code> " or "
                    <code>"consumer alice group=billing topics=orders"</code></p>
            </Show>
            <ul class="client-list">
                // Keyed by name, so a client's button stays the same element while the clock runs
                // and a click is never lost to a redraw.
                <For each=move || names.get() key=|name| name.clone() let(name)>
                    <ClientItem name=name rows=rows on_run=on_run />
                </For>
            </ul>
        </section>
    }
}

/// One client: name, kind, alive or dead, its details and its kill/restart button.
#[component]
fn ClientItem(name: String, rows: Memo<Vec<ClientRow>>, on_run: Callback<String>) -> impl IntoView {
    let key = name.clone();
    let row = Memo::new(move |_| rows.with(|rows| rows.iter().find(|r| r.name == key).cloned()));
    let alive = move || row.with(|r| r.as_ref().is_some_and(|r| r.alive));
    let kind = move || row.with(|r| r.as_ref().map_or("", |r| r.kind));
    let action = move || row.with(|r| r.as_ref().map(|r| r.action.clone()).unwrap_or_default());
    let shown = name.clone();
    view! {
        <li class=move || format!("client {} {}", kind(), if alive() { "alive" } else { "dead" })
            data-client=name.clone() data-kind=kind data-alive=move || alive().to_string()>
            <div class="client-head">
                <strong class="client-name">{shown}</strong>
                <span class="client-kind">{kind}</span>
                <span class="client-status">
                    <span class="marker" aria-hidden="true">{move || if alive() { "●" } else { "✕" }}</span>
                    {move || if alive() { " alive" } else { " dead" }}
                </span>
                <button class="client-action" data-client-action=name.clone()
                        aria-label=move || format!("{} (runs: {})", if alive() { "Kill" } else { "Restart" }, action())
                        title=action
                        on:click=move |_| on_run.run(action())>
                    {move || if alive() { "Kill" } else { "Restart" }}
                </button>
            </div>
            <dl class="client-details">
                {move || row.with(|r| r.as_ref().map(|r| r.details.iter().map(|(label, value)| view! {
                    <div data-detail=*label><dt>{*label}</dt><dd>{value.clone()}</dd></div>
                }).collect_view()))}
            </dl>
        </li>
    }
}
