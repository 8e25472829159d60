//! The brokers table: per broker, its state, leaders, replicas, replicas out of the ISR and
//! the under-replicated partitions it leads, with buttons that kill, restart or shut it down
//! (each a command line, run through the console's path).

use kafkalab_core::view::ClusterView;
use leptos::prelude::*;

use crate::broker_rows::broker_rows;

#[component]
pub fn BrokersPanel(view: Signal<ClusterView>, show_internal: Signal<bool>, on_run: Callback<String>) -> impl IntoView {
    let rows = Memo::new(move |_| view.with(|v| broker_rows(v, show_internal.get())));
    view! {
        <section class="panel brokers-panel" aria-labelledby="brokers-title">
            <h2 id="brokers-title">"Brokers"</h2>
            <table class="brokers" data-testid="brokers">
                <thead><tr>
                    <th scope="col">"Broker"</th><th scope="col">"State"</th><th scope="col">"Leads"</th>
                    <th scope="col">"Replicas"</th><th scope="col">"Out of ISR"</th>
                    <th scope="col"><abbr title="under-replicated partitions it leads">"URP"</abbr></th>
                    <th scope="col">"Actions"</th>
                </tr></thead>
                <tbody>
                    {move || rows.get().into_iter().map(|row| {
                        let id = row.id;
                        let warn = row.under_replicated > 0 || row.out_of_isr > 0;
                        view! {
                            <tr data-broker-row=id data-state=row.state data-leaders=row.leaders
                                data-out-of-isr=row.out_of_isr data-urp=row.under_replicated
                                class:warn=warn>
                                <th scope="row">{id}</th>
                                <td class=format!("state {}", row.state.replace(' ', "-"))>{row.state}</td>
                                <td>{row.leaders}</td>
                                <td>{row.replicas}</td>
                                <td>{if row.out_of_isr > 0 { format!("⚠ {}", row.out_of_isr) } else { String::from("0") }}</td>
                                <td>{if row.under_replicated > 0 { format!("⚠ {}", row.under_replicated) } else { String::from("0") }}</td>
                                <td class="actions">
                                    {row.actions.into_iter().map(|(label, line)| {
                                        let shown = line.clone();
                                        view! {
                                            <button data-broker-action=line.clone() title=shown.clone()
                                                    aria-label=format!("{label} broker {id} (runs: {shown})")
                                                    on:click=move |_| on_run.run(line.clone())>{label}</button>
                                        }
                                    }).collect_view()}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
