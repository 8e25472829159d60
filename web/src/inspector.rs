//! The inspector panel: whatever was selected (a partition replica, a broker, a controller or
//! a group) shown in detail; for a replica its batches, and for the batch chosen its real bytes
//! in hex with every field named. The rows come from [`crate::inspection`] and
//! [`crate::hex_dump`]; this only draws them.
//!
//! The selection lives in a context ([`Inspect`]) so the broker cards, the partition table, the
//! controller table and the groups panel can select without new props. It is page state only:
//! inspecting is never recorded and changes nothing in the run.

use kafkalab_core::ids::BrokerId;
use kafkalab_core::record_batch::{BatchAnatomy, RecordBatch};
use kafkalab_core::view::ClusterView;
use leptos::prelude::*;

use crate::hex_dump::{FieldRow, HexDump};
use crate::inspection::{
    inspect, BatchRow, BrokerPanel, ControllerPanel, Fact, GroupPanel, Inspected, ReplicaPanel, Selection,
};
use crate::lab::Lab;

/// The inspector's selection, provided by the app to every component that can select.
#[derive(Clone, Copy)]
pub struct Inspect(pub RwSignal<Option<Selection>>);

/// Selects `selection` for the inspector, if the page has one.
pub fn select(selection: Selection) {
    if let Some(Inspect(selected)) = use_context::<Inspect>() {
        selected.set(Some(selection));
    }
}

/// What a drawn replica does on a click, or on Enter or Space while focused: it opens in the
/// inspector, and the event goes no further (the broker card around it kills on a click, the
/// page plays on Space).
pub fn replica_opener(
    selection: Selection,
) -> (impl Fn(leptos::ev::MouseEvent) + Clone + 'static, impl Fn(leptos::ev::KeyboardEvent) + Clone + 'static) {
    let on_key = selection.clone();
    let click = move |ev: leptos::ev::MouseEvent| {
        ev.stop_propagation();
        select(selection.clone());
    };
    let key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" || ev.key() == " " {
            ev.prevent_default();
            ev.stop_propagation();
            select(on_key.clone());
        }
    };
    (click, key)
}

/// The inspector: the selection's details, refreshed as the run goes on.
#[component]
pub fn Inspector(
    /// The state drawn this frame; the inspector reads again whenever it changes.
    view: Signal<ClusterView>,
    /// The lab, for the on-demand reads the view leaves out.
    lab: StoredValue<Lab>,
) -> impl IntoView {
    let Inspect(selection) = expect_context::<Inspect>();
    // The batch and field chosen in a replica's panel, kept while it is redrawn.
    let chosen = ChosenBatch { batch: RwSignal::new(None), field: RwSignal::new(None) };
    let inspected = Memo::new(move |_| {
        let selected = selection.get();
        view.with(|v| lab.with_value(|lab| inspect(lab.simulation(), v, selected.as_ref())))
    });
    view! {
        <section class="panel inspector" data-testid="inspector" aria-labelledby="inspector-title">
            <header class="inspector-head">
                <h2 id="inspector-title">"Inspector"</h2>
                <Show when=move || selection.with(Option::is_some)>
                    <button class="inspector-close" aria-label="close the inspector" on:click=move |_| selection.set(None)>"✕"</button>
                </Show>
            </header>
            {move || match inspected.get() {
                Inspected::Nothing => view! {
                    <p class="hint">"Click a replica row in a broker or a row of the partition table to see its log, "
                        "a broker's Inspect button, a controller's row or a group's name."</p>
                }.into_any(),
                Inspected::Gone(why) => view! { <p class="hint" data-testid="inspector-gone">{why}</p> }.into_any(),
                Inspected::Replica(panel) => view! { <ReplicaDetails panel=*panel chosen=chosen /> }.into_any(),
                Inspected::Broker(panel) => view! { <BrokerDetails panel=panel /> }.into_any(),
                Inspected::Controller(panel) => view! { <ControllerDetails panel=panel /> }.into_any(),
                Inspected::Group(panel) => view! { <GroupDetails panel=panel /> }.into_any(),
            }}
        </section>
    }
}

/// Label-value lines.
#[component]
fn Facts(facts: Vec<Fact>) -> impl IntoView {
    view! {
        <dl class="inspector-facts">
            {facts.into_iter().map(|(label, value)| view! {
                <div data-fact=label><dt>{label}</dt><dd>{value}</dd></div>
            }).collect_view()}
        </dl>
    }
}

/// A replica: which broker's (switchable), its offsets, its batches, and the chosen batch's bytes.
#[component]
fn ReplicaDetails(panel: ReplicaPanel, chosen: ChosenBatch) -> impl IntoView {
    let partition = panel.partition.clone();
    let topic_partition = panel.log.partition.clone();
    let switch = move |ev: leptos::ev::Event| {
        if let Ok(broker) = event_target_value(&ev).parse::<i32>() {
            select(Selection::Replica { broker: BrokerId(broker), partition: topic_partition.clone() });
        }
    };
    let current = panel.broker;
    let batches = panel.batches.clone();
    let log = panel.log.clone();
    let dump = move || {
        let base = chosen.batch.get()?;
        let batch = log.batches.iter().find(|b| b.base_offset.0 == base)?;
        let parsed = RecordBatch::parse(batch.bytes.clone()).ok()?;
        Some((base, HexDump::of(&BatchAnatomy::of(&parsed))))
    };
    view! {
        <div class="inspected replica-log" data-testid="inspected-replica" data-broker=current.0 data-partition=partition.clone()>
            <h3>{format!("{partition} on broker {current}")}</h3>
            <label class="replica-switch">"Replica on broker "
                <select aria-label="which broker's replica" on:change=switch>
                    {panel.replica_brokers.iter().map(|b| view! {
                        <option value=b.0 selected=*b == current>{b.to_string()}</option>
                    }).collect_view()}
                </select>
            </label>
            <Facts facts=panel.facts />
            {if batches.is_empty() { Some(view! { <p class="hint">"The log is empty."</p> }) } else { None }}
            <ol class="batch-list" data-testid="batches" aria-label="batches">
                {batches.into_iter().map(|row| view! { <BatchItem row=row chosen=chosen /> }).collect_view()}
            </ol>
            {move || dump().map(|(base, dump)| view! { <HexDumpView base=base dump=dump chosen=chosen /> })}
        </div>
    }
}

/// The batch (by base offset) and field chosen in the replica panel, shared by its parts.
#[derive(Clone, Copy)]
struct ChosenBatch {
    batch: RwSignal<Option<i64>>,
    field: RwSignal<Option<usize>>,
}

/// One batch in the list: a button that shows its bytes.
#[component]
fn BatchItem(row: BatchRow, chosen: ChosenBatch) -> impl IntoView {
    let base = row.base_offset;
    let committed = if row.committed { "✓ committed" } else { "◌ not committed" };
    let label = format!("batch at offsets {}, {} bytes: show its bytes", row.offsets, row.size_bytes);
    view! {
        <li class="batch" class:committed=row.committed data-batch=base data-offsets=row.offsets.clone()
            data-producer-id=row.producer_id data-committed=row.committed.to_string() data-size=row.size_bytes>
            <button class="batch-choose" aria-label=label aria-pressed=move || (chosen.batch.get() == Some(base)).to_string()
                    on:click=move |_| { chosen.batch.set(Some(base)); chosen.field.set(None); }>
                <span class="batch-offsets">{format!("offsets {}", row.offsets)}</span>
                <span class="batch-commit">{committed}</span>
                <span class="batch-producer">{row.producer.clone()}</span>
                {row.flags.iter().map(|flag| view! { <span class="batch-flag">{flag.clone()}</span> }).collect_view()}
            </button>
            <ul class="batch-records">
                {row.records.into_iter().map(|r| view! { <li><code>{r}</code></li> }).collect_view()}
            </ul>
        </li>
    }
}

/// A batch's bytes, 16 to a row, coloured by field kind with each field's first byte marked,
/// beside the table of its fields; choosing a field highlights its bytes.
#[component]
fn HexDumpView(base: i64, dump: HexDump, chosen: ChosenBatch) -> impl IntoView {
    let titles: Vec<String> = dump.fields.iter().map(|f| f.title.clone()).collect();
    let rows = dump
        .rows
        .into_iter()
        .map(|row| {
            let cells = row
                .bytes
                .into_iter()
                .map(|cell| {
                    let field = cell.field;
                    view! {
                        <span class=format!("byte kind-{}", cell.kind) class:field-start=cell.starts_field
                              class:selected=move || chosen.field.get() == Some(field)
                              data-byte=cell.position data-field=field title=titles[field].clone()>{cell.hex}</span>
                    }
                })
                .collect_view();
            view! { <div class="hex-row"><span class="hex-offset">{row.offset}</span>{cells}</div> }
        })
        .collect_view();
    view! {
        <div class="hex-and-fields" data-testid="batch-bytes" data-batch=base data-size=dump.size_bytes>
            <div class="hex-column">
                <h4>{format!("Batch at offset {base}: {} bytes", dump.size_bytes)}</h4>
                <div class="hex-dump" data-testid="hex-dump" role="group" aria-label="the batch's bytes in hex">{rows}</div>
                <ul class="hex-legend" aria-label="field kinds">
                    {dump.legend.into_iter().map(|entry| view! {
                        <li><span class=format!("swatch kind-{}", entry.kind) aria-hidden="true"></span>{entry.label}</li>
                    }).collect_view()}
                </ul>
            </div>
            <FieldTable fields=dump.fields chosen=Some(chosen) label="the batch's fields" testid="fields" />
            {(!dump.decompressed_fields.is_empty()).then(|| view! {
                <FieldTable fields=dump.decompressed_fields chosen=None label="the records, decompressed" testid="decompressed-fields" />
            })}
        </div>
    }
}

/// The fields of a batch (or of its decompressed records): name, part, bytes, value.
#[component]
fn FieldTable(
    fields: Vec<FieldRow>,
    chosen: Option<ChosenBatch>,
    label: &'static str,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <table class="field-table" data-testid=testid aria-label=label>
            <thead><tr><th>"Field"</th><th>"Part"</th><th>"Bytes"</th><th>"Value"</th></tr></thead>
            <tbody>
                {fields.into_iter().map(|field| {
                    let index = field.index;
                    let is_chosen = move || chosen.is_some_and(|c| c.field.get() == Some(index));
                    let name = field.name;
                    view! {
                        <tr class=format!("kind-{}", field.kind) class:selected=is_chosen data-field-name=name
                            data-field-index=index data-value=field.value.clone() data-part=field.part.clone()>
                            <td>{match chosen {
                                Some(c) => view! {
                                    <button class="field-choose" aria-pressed=move || is_chosen().to_string()
                                            aria-label=format!("highlight the bytes of {name} ({})", field.part)
                                            on:click=move |_| c.field.update(|f| *f = if *f == Some(index) { None } else { Some(index) })>
                                        {name}
                                    </button>
                                }.into_any(),
                                None => view! { <span>{name}</span> }.into_any(),
                            }}</td>
                            <td>{field.part.clone()}</td>
                            <td>{field.bytes.clone()}</td>
                            <td class="field-value">{field.value.clone()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// A broker: its status and what it holds.
#[component]
fn BrokerDetails(panel: BrokerPanel) -> impl IntoView {
    let id = panel.id;
    view! {
        <div class="inspected" data-testid="inspected-broker" data-broker=id.0 data-status=panel.status>
            <h3>{format!("Broker {id}")}</h3>
            <Facts facts=panel.facts />
            <table class="inspector-table" aria-label="replicas it holds">
                <thead><tr><th>"Partition"</th><th>"Role"</th><th>"ISR"</th><th>"LEO · HW"</th></tr></thead>
                <tbody>
                    {panel.replicas.into_iter().map(|row| {
                        let partition = row.topic_partition.clone();
                        let open = move |_| select(Selection::Replica { broker: id, partition: partition.clone() });
                        view! {
                            <tr data-held=row.partition.clone() data-role=row.role.clone() data-isr=row.isr>
                                <td><button class="link" aria-label=format!("inspect {} on broker {id}", row.partition) on:click=open>
                                    {row.partition.clone()}</button></td>
                                <td>{row.role.clone()}</td>
                                <td>{row.isr}</td>
                                <td>{format!("{} · {}", row.log_end, row.high_watermark)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A controller: its Raft state and its metadata log, newest first.
#[component]
fn ControllerDetails(panel: ControllerPanel) -> impl IntoView {
    view! {
        <div class="inspected" data-testid="inspected-controller" data-controller=panel.id.0 data-role=panel.role.clone()>
            <h3>{format!("Controller c{}", panel.id.0)}</h3>
            <Facts facts=panel.facts />
            <h4>"Metadata log, newest first"</h4>
            <ol class="inspector-metadata" aria-label="metadata log entries">
                {panel.entries.into_iter().map(|(offset, epoch, committed, record)| view! {
                    <li data-offset=offset data-committed=committed.to_string()>
                        <code>{format!("{offset} (epoch {epoch}) {}: {record}", if committed { "✓" } else { "◌" })}</code>
                    </li>
                }).collect_view()}
            </ol>
        </div>
    }
}

/// A group: state, protocol, members with their assignments, committed offsets and lag.
#[component]
fn GroupDetails(panel: GroupPanel) -> impl IntoView {
    let row = panel.row;
    let show = |value: Option<i64>| value.map_or(String::from("–"), |v| v.to_string());
    view! {
        <div class="inspected" data-testid="inspected-group" data-group=row.group_id.clone() data-state=row.state.word>
            <h3>{format!("Group {}", row.group_id)}</h3>
            <Facts facts=panel.facts />
            <h4>"Members"</h4>
            <ul class="inspector-members">
                {if row.members.is_empty() { view! { <li class="hint">"no members"</li> }.into_any() } else {
                    row.members.into_iter().map(|m| view! {
                        <li data-member=m.label.clone()>
                            {m.is_leader.then_some("★ ")}<strong>{m.label.clone()}</strong>
                            {format!(" → {}", if m.assignment.is_empty() { String::from("nothing assigned") } else { m.assignment.join(", ") })}
                        </li>
                    }).collect_view().into_any()
                }}
            </ul>
            <table class="inspector-table" aria-label="committed offsets and lag">
                <thead><tr><th>"Partition"</th><th>"Committed"</th><th>"Log end"</th><th>"Lag"</th></tr></thead>
                <tbody>
                    {row.partitions.into_iter().map(|p| view! {
                        <tr data-group-partition=p.partition.clone() data-lag=show(p.lag)>
                            <td>{p.partition.clone()}</td><td>{show(p.committed)}</td><td>{show(p.log_end)}</td><td>{show(p.lag)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
