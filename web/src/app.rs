//! The Leptos components of the page. They draw [`ClusterView`]s and turn clicks into
//! [`Lab`] calls; the cluster's behaviour all comes from `kafkalab-core`.

use std::time::Duration;

use kafkalab_core::ids::{BrokerId, Offset};
use kafkalab_core::simulation::Traffic;
use kafkalab_core::view::{BrokerStatus, ClusterView};
use leptos::prelude::*;

use crate::clients::ClientsPanel;
use crate::groups::GroupsPanel;
use crate::in_flight::WIRE_BAND;
use crate::in_flight_overlay::InFlightOverlay;
use crate::lab::{status_label, Lab, Speed, TICK_MS};
use crate::layout::{
    broker_height, broker_x, diagram_width, first_visible_offset, BROKER_HEADER, BROKER_WIDTH, CELL_WIDTH, PADDING,
    REPLICA_ROW,
};
use crate::lesson_player::{store_lesson, store_progress, stored_lesson, stored_progress, LessonPanel};
use crate::lessons::{LessonRun, StepView};
use crate::panels::is_internal_topic;
use crate::sequence::recent_traffic;
use crate::sequence_diagram::SequenceDiagram;
use crate::time_controls::{link_to, load_lab, show_in_address_bar, TimeControls};

/// How many trace lines the event log shows.
const EVENT_LOG_LINES: usize = 14;

/// What the page shows of the lab after each change.
#[derive(Clone, Debug, PartialEq)]
struct Snapshot {
    view: ClusterView,
    events: Vec<String>,
    history: Vec<String>,
    /// The furthest moment reached: the timeline's end.
    horizon_ms: u64,
    /// The lesson being played: its index and its current step.
    lesson: Option<(usize, StepView)>,
    /// The lesson holds the clock until the learner acts or a wait begins.
    clock_held: bool,
    /// The network's messages of the last seconds (none in a lesson, whose run records none).
    traffic: Vec<Traffic>,
}

impl Snapshot {
    fn of(lab: &Lab) -> Self {
        Snapshot {
            view: lab.view(),
            events: lab.recent_trace(EVENT_LOG_LINES).iter().map(|l| l.to_string()).collect(),
            history: lab.history(),
            horizon_ms: lab.horizon_ms(),
            lesson: lab.lesson().map(|run| (run.index(), run.view())),
            clock_held: lab.clock_held(),
            traffic: lab.recording().map(|r| recent_traffic(r.simulation())).unwrap_or_default(),
        }
    }
}

/// The whole lab: controls, the cluster drawing, the partition table, the consumer groups and
/// clients, the console and the event log. The simulation runs on a timer while playing.
/// With the lesson player open, the lab is the lesson's, and the player sits beside it (the
/// timeline is free play's: a lesson only plays, pauses and changes speed); the lesson open
/// when the page was left is opened again, where the learner left it, unless the page opens a
/// shared link.
#[component]
pub fn App(
    /// The seed of the run.
    #[prop(default = 1)]
    seed: u64,
    /// A shared link's fragment: the run to replay instead (it is shown paused).
    #[prop(default = None)]
    share: Option<String>,
    /// Whether the address bar follows the run, so it is always a link to it.
    #[prop(optional)]
    sync_url: bool,
) -> impl IntoView {
    let from_link = share.is_some();
    let (lab, loaded) = load_lab(seed, share.as_deref());
    let lab = StoredValue::new(lab);
    let snapshot = RwSignal::new(lab.with_value(Snapshot::of));
    let error = RwSignal::new(loaded.err());
    let playing = RwSignal::new(!from_link);
    let speed = RwSignal::new(Speed::DEFAULT);
    // The address bar is updated when the run changes course, not on every tick (in a lesson,
    // it loses its fragment: a lesson is reopened from the progress the browser keeps).
    let sync = move || {
        if sync_url {
            lab.with_value(show_in_address_bar);
        }
    };
    // Kafka's internal topics (the coordinators' logs) stay out of the way unless asked for.
    let show_internal = RwSignal::new(false);

    let act = move |action: &dyn Fn(&mut Lab) -> Result<(), String>| {
        let result = lab.try_update_value(|lab| action(lab)).unwrap_or(Ok(()));
        error.set(result.err());
        snapshot.set(lab.with_value(Snapshot::of));
        sync();
    };
    let move_in_time = move |motion: &dyn Fn(&mut Lab)| {
        lab.update_value(|lab| motion(lab));
        snapshot.set(lab.with_value(Snapshot::of));
        sync();
    };
    let on_seek = Callback::new(move |ms: u64| move_in_time(&|lab| lab.seek(ms)));
    let on_step = Callback::new(move |()| move_in_time(&|lab| lab.step()));
    let on_step_back = Callback::new(move |()| move_in_time(&|lab| lab.step_back()));
    let link = Callback::new(move |()| lab.with_value(link_to));
    Effect::watch(move || playing.get(), move |_, _, _| sync(), false);
    let toggle_broker = Callback::new(move |id: BrokerId| act(&|lab| lab.toggle_broker(id)));
    let run_line = Callback::new(move |line: String| act(&|lab| lab.run_line(&line)));

    // The lesson player. Replacing the lab (a lesson opened or closed) bumps `generation`, so
    // the drawing is built again for the new cluster's brokers.
    let generation = RwSignal::new(0u64);
    let lesson_error = RwSignal::new(None::<String>);
    let replace_lab = move |new: Lab| {
        lab.set_value(new);
        generation.update(|g| *g += 1);
        error.set(None);
        snapshot.set(lab.with_value(Snapshot::of));
        sync();
    };
    let open_lesson = Callback::new(move |index: usize| {
        let name = crate::lessons::LESSONS[index].name;
        match LessonRun::open(index, stored_progress(name)) {
            Ok(run) => {
                store_lesson(Some(name));
                lesson_error.set(None);
                replace_lab(Lab::in_lesson(run));
            }
            Err(why) => lesson_error.set(Some(why)),
        }
    });
    let lesson_act = move |action: &dyn Fn(&mut LessonRun) -> Result<(), String>| {
        let result = lab
            .try_update_value(|lab| {
                let run = lab.lesson_mut()?;
                let result = action(run);
                store_progress(run.file_name(), run.saved());
                Some(result)
            })
            .flatten()
            .unwrap_or(Ok(()));
        lesson_error.set(result.err());
        snapshot.set(lab.with_value(Snapshot::of));
    };
    let go_to_step = Callback::new(move |step: usize| lesson_act(&|run| run.go_to(step)));
    let answer = Callback::new(move |(part, choice): (usize, usize)| lesson_act(&|run| run.answer(part, choice)));
    let toggle_lessons = move |_| {
        if snapshot.with_untracked(|s| s.lesson.is_some()) {
            store_lesson(None);
            replace_lab(Lab::new(seed));
        } else {
            open_lesson.run(stored_lesson().unwrap_or(0));
        }
    };
    if let Some(index) = stored_lesson().filter(|_| !from_link) {
        open_lesson.run(index);
    }
    let in_lesson = Memo::new(move |_| snapshot.with(|s| s.lesson.is_some()));
    let step_view = Memo::new(move |_| snapshot.with(|s| s.lesson.as_ref().map(|(_, v)| v.clone())));
    let picked = Signal::derive(move || snapshot.with(|s| s.lesson.as_ref().map(|(i, _)| *i)));

    if let Ok(handle) = set_interval_with_handle(
        move || {
            if playing.get_untracked() {
                let ms = speed.get_untracked().tick_ms();
                lab.update_value(|lab| lab.advance(ms));
                snapshot.set(lab.with_value(Snapshot::of));
            }
        },
        Duration::from_millis(TICK_MS),
    ) {
        on_cleanup(move || handle.clear());
    }

    let view = Signal::derive(move || snapshot.with(|s| s.view.clone()));
    let internal: Signal<bool> = show_internal.into();
    let traffic = Signal::derive(move || snapshot.with(|s| s.traffic.clone()));
    view! {
        <div class="page" class:with-lesson=move || in_lesson.get()>
        <Show when=move || in_lesson.get()>
            <LessonPanel view=step_view picked=picked error=lesson_error.into() on_pick=open_lesson on_step=go_to_step on_answer=answer />
        </Show>
        <div class="workspace">
        <header class="topbar">
            <h1>"Kafka Lab"</h1>
            <p class="subtitle">{move || if in_lesson.get() {
                view! { "The lesson's cluster. Click a broker to kill or restart it, or type commands in the console." }.into_any()
            } else {
                view! { "Three brokers, topic " <code>"orders"</code> ": 3 partitions, replication factor 3. Click a broker to kill or restart it." }.into_any()
            }}</p>
        </header>
        <TimeControls playing=playing speed=speed now_ms=Signal::derive(move || snapshot.with(|s| s.view.now_ms))
                      horizon_ms=Signal::derive(move || snapshot.with(|s| s.horizon_ms))
                      timeline=Signal::derive(move || !in_lesson.get())
                      on_seek=on_seek on_step=on_step on_step_back=on_step_back link=link />
        <section class="controls">
            <button data-testid="lessons" aria-pressed=move || in_lesson.get().to_string() on:click=toggle_lessons>
                {move || if in_lesson.get() { "Close lessons" } else { "Lessons" }}
            </button>
            <button data-testid="produce" on:click=move |_| act(&|lab| lab.produce_one())>"Produce a record"</button>
            <label class="toggle">
                <input type="checkbox" data-testid="show-internal" prop:checked=move || show_internal.get()
                       on:change=move |ev| show_internal.set(event_target_checked(&ev)) />
                " Show internal topics"
            </label>
            <span class="clock" data-testid="clock">{move || snapshot.with(|s| format!("t = {:.1} s{}", s.view.now_ms as f64 / 1000.0,
                if s.clock_held { " · held: the lesson waits for you" } else { "" }))}</span>
        </section>
        <main class="lab">
            {move || {
                generation.track();
                view! { <ClusterDiagram view=view on_toggle=toggle_broker show_internal=internal traffic=traffic /> }
            }}
            <div class="side">
                <PartitionTable view=view show_internal=internal />
                <ControllerQuorum view=view />
            </div>
        </main>
        <section class="clients-and-groups">
            <GroupsPanel view=view show_internal=internal />
            <ClientsPanel view=view on_run=run_line />
        </section>
        <SequenceDiagram traffic=traffic now_ms=Signal::derive(move || snapshot.with(|s| s.view.now_ms)) />
        <section class="bottom">
            <Console on_run=run_line error=error.read_only() history=Signal::derive(move || snapshot.with(|s| s.history.clone())) />
            <EventLog events=Signal::derive(move || snapshot.with(|s| s.events.clone())) />
        </section>
        </div>
        </div>
    }
}

/// One replica as a broker card draws it.
#[derive(Clone, Debug, PartialEq)]
struct ReplicaRowData {
    partition: String,
    is_leader: bool,
    in_isr: bool,
    log_start: i64,
    log_end: i64,
    high_watermark: i64,
}

fn replica_rows(view: &ClusterView, broker: BrokerId, show_internal: bool) -> Vec<ReplicaRowData> {
    view.replicas_on(broker)
        .filter(|(partition, _)| show_internal || !is_internal_topic(&partition.partition.topic))
        .map(|(partition, replica)| ReplicaRowData {
            partition: partition.partition.to_string(),
            is_leader: replica.is_leader,
            in_isr: replica.in_isr,
            log_start: replica.log_start_offset.0,
            log_end: replica.log_end_offset.0,
            high_watermark: replica.high_watermark.0,
        })
        .collect()
}

/// The brokers side by side, each with its replicas.
#[component]
fn ClusterDiagram(
    /// The state to draw.
    view: Signal<ClusterView>,
    /// Called with a broker's id when it is clicked.
    on_toggle: Callback<BrokerId>,
    /// Whether internal topics' replicas are drawn.
    show_internal: Signal<bool>,
    /// The network's recent messages, drawn travelling in a band above the cards.
    traffic: Signal<Vec<Traffic>>,
) -> impl IntoView {
    let ids: Vec<BrokerId> = view.with_untracked(|v| v.brokers.iter().map(|b| b.id).collect());
    let width = diagram_width(ids.len());
    // Cards grow when topics are created or partitions added from the console.
    let height = Memo::new(move |_| {
        let show = show_internal.get();
        view.with(|v| broker_height(v.brokers.iter().map(|b| replica_rows(v, b.id, show).len()).max().unwrap_or(0)))
    });
    view! {
        <svg class="cluster" data-testid="cluster"
             viewBox=move || format!("-2 {} {} {}", -WIRE_BAND - 2.0, width + 4.0, height.get() + WIRE_BAND + 4.0)
             role="img" aria-label="the brokers and their partition replicas">
            {ids.into_iter().enumerate().map(|(index, id)| view! {
                <BrokerCard id=id x=broker_x(index) height=height view=view on_toggle=on_toggle show_internal=show_internal />
            }).collect_view()}
            <InFlightOverlay traffic=traffic view=view />
        </svg>
    }
}

/// One broker: its name and state, and a row per replica it holds. Clicking it kills or
/// restarts it.
#[component]
fn BrokerCard(
    id: BrokerId,
    /// Left edge of the card.
    x: f64,
    /// The card's height, the same for every card.
    height: Memo<f64>,
    view: Signal<ClusterView>,
    on_toggle: Callback<BrokerId>,
    show_internal: Signal<bool>,
) -> impl IntoView {
    let status = Memo::new(move |_| view.with(|v| v.broker(id).map_or(BrokerStatus::Dead, |b| b.status)));
    let rows = Memo::new(move |_| view.with(|v| replica_rows(v, id, show_internal.get())));
    view! {
        <g class=move || format!("broker {}", status_label(status.get()))
           data-broker=id.0 data-status=move || status_label(status.get())
           transform=format!("translate({x},0)")
           on:click=move |_| on_toggle.run(id)>
            <title>{move || format!("Broker {id}: {}. Click to {}.", status_label(status.get()),
                if status.get() == BrokerStatus::Dead { "restart it" } else { "kill it" })}</title>
            <rect class="card" width=BROKER_WIDTH height=move || height.get() rx="10" />
            <text class="broker-name" x=PADDING y="28">{format!("Broker {id}")}</text>
            <text class="broker-status" x=BROKER_WIDTH - PADDING y="28" text-anchor="end">
                {move || status_label(status.get())}
            </text>
            {move || rows.get().into_iter().enumerate().map(|(row, data)| view! {
                <ReplicaRow data=data y=BROKER_HEADER + row as f64 * REPLICA_ROW />
            }).collect_view()}
        </g>
    }
}

/// A replica: partition, role, ISR membership, its log as cells, and its LEO and HW.
#[component]
fn ReplicaRow(data: ReplicaRowData, y: f64) -> impl IntoView {
    let role = if data.is_leader { "leader" } else { "follower" };
    let isr = if data.in_isr { "in-sync" } else { "out-of-sync" };
    let first = first_visible_offset(data.log_start, data.log_end);
    let cells_y = 24.0;
    let hw_x = PADDING + (data.high_watermark - first).max(0) as f64 * CELL_WIDTH;
    let cells = (first..data.log_end)
        .map(|offset| {
            let committed = offset < data.high_watermark;
            let x = PADDING + (offset - first) as f64 * CELL_WIDTH;
            view! {
                <rect class=if committed { "cell committed" } else { "cell uncommitted" }
                      x=x y=cells_y width=CELL_WIDTH - 2.0 height="16" rx="2">
                    <title>{format!("offset {offset}{}", if committed { " (committed)" } else { " (not yet committed)" })}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <g class=format!("replica {role} {isr}") data-replica=data.partition.clone() data-role=role data-isr=isr
           data-leo=data.log_end data-hw=data.high_watermark transform=format!("translate(0,{y})")>
            <rect class="replica-bg" x="6" width=BROKER_WIDTH - 12.0 height=REPLICA_ROW - 6.0 rx="6" />
            <text class="replica-name" x=PADDING y="16">{data.partition.clone()}</text>
            <text class="replica-role" x="92" y="16">{if data.is_leader { "★ leader" } else { "follower" }}</text>
            <text class="replica-isr" x=BROKER_WIDTH - PADDING y="16" text-anchor="end">{if data.in_isr { "in ISR" } else { "out of ISR" }}</text>
            <text class="replica-offsets" x=BROKER_WIDTH - PADDING y="37" text-anchor="end">
                {format!("LEO {} · HW {}", data.log_end, data.high_watermark)}
            </text>
            {cells}
            <line class="hw-mark" x1=hw_x - 1.0 x2=hw_x - 1.0 y1=cells_y - 4.0 y2=cells_y + 20.0>
                <title>{format!("high watermark {}", data.high_watermark)}</title>
            </line>
        </g>
    }
}

/// Each partition's leader, leader epoch and ISR, as the controller's metadata says.
#[component]
fn PartitionTable(view: Signal<ClusterView>, show_internal: Signal<bool>) -> impl IntoView {
    let list = |brokers: &[BrokerId]| brokers.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(", ");
    view! {
        <table class="partitions" data-testid="partitions">
            <thead><tr><th>"Partition"</th><th>"Leader"</th><th>"Epoch"</th><th>"ISR"</th><th>"High watermark"</th></tr></thead>
            <tbody>
                {move || view.with(|v| v.partitions.iter()
                    .filter(|p| show_internal.get() || !is_internal_topic(&p.partition.topic))
                    .map(|p| {
                    let leader = p.leader.map_or(String::from("none"), |b| b.to_string());
                    let hw = p.replicas.iter().find(|r| r.is_leader).map_or(Offset(0), |r| r.high_watermark);
                    let leader_cell = leader.clone();
                    view! {
                        <tr data-partition=p.partition.to_string() data-leader=leader data-isr=list(&p.isr)>
                            <td>{p.partition.to_string()}</td>
                            <td>{leader_cell}</td>
                            <td>{p.leader_epoch.0}</td>
                            <td>{format!("[{}]", list(&p.isr))}</td>
                            <td>{hw.0}</td>
                        </tr>
                    }
                }).collect_view())}
            </tbody>
        </table>
    }
}

/// Where commands can be typed, in the core's command language.
#[component]
fn Console(on_run: Callback<String>, error: ReadSignal<Option<String>>, history: Signal<Vec<String>>) -> impl IntoView {
    let line = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = line.get_untracked();
        if !text.trim().is_empty() {
            on_run.run(text);
            line.set(String::new());
        }
    };
    view! {
        <div class="console">
            <h2>"Console"</h2>
            <ol class="history" data-testid="history">
                {move || history.get().into_iter().rev().take(8).map(|l| view! { <li><code>{l}</code></li> }).collect_view()}
            </ol>
            <form on:submit=submit>
                <input data-testid="command" type="text" spellcheck="false" autocomplete="off"
                       placeholder="kill 2 · restart 2 · produce orders key=alice value=10 acks=all · advance 5s"
                       prop:value=move || line.get() on:input=move |ev| line.set(event_target_value(&ev)) />
                <button type="submit">"Run"</button>
            </form>
            <p class="error" data-testid="error">{move || error.get().unwrap_or_default()}</p>
        </div>
    }
}

/// The latest lines of the simulation's trace.
#[component]
fn EventLog(events: Signal<Vec<String>>) -> impl IntoView {
    view! {
        <div class="events">
            <h2>"Events"</h2>
            <pre data-testid="events">{move || events.get().join("\n")}</pre>
        </div>
    }
}

/// The KRaft controller quorum: each controller's role, epoch and metadata log position, and
/// the newest records of the active controller's metadata log.
#[component]
fn ControllerQuorum(view: Signal<ClusterView>) -> impl IntoView {
    /// How many metadata records the panel lists.
    const RECENT_RECORDS: usize = 6;
    view! {
        <section class="quorum" data-testid="quorum">
            <h2>"Controller quorum (KRaft)"</h2>
            <table class="controllers">
                <thead><tr><th>"Controller"</th><th>"Role"</th><th>"Epoch"</th><th>"Metadata log end · HW"</th></tr></thead>
                <tbody>
                    {move || view.with(|v| v.controllers.iter().map(|c| {
                        let role = if c.alive { c.role.to_string() } else { String::from("dead") };
                        let active = v.active_controller == Some(c.id);
                        let role_cell = role.clone();
                        view! {
                            <tr data-controller=c.id.0 data-role=role class:active=active class:dead=!c.alive>
                                <td>{format!("c{}", c.id.0)}{if active { " ★ active" } else { "" }}</td>
                                <td>{role_cell}</td>
                                <td>{c.epoch.0}</td>
                                <td>{format!("{} · {}", c.log_end_offset.0, c.high_watermark.0)}</td>
                            </tr>
                        }
                    }).collect_view())}
                </tbody>
            </table>
            <ol class="metadata-log" data-testid="metadata-log">
                {move || view.with(|v| {
                    let active = v.active_controller.and_then(|id| v.controller(id));
                    let entries: Vec<(i64, String)> = active
                        .map(|c| {
                            c.entries
                                .iter()
                                .filter(|e| e.committed)
                                .flat_map(|e| e.records.iter().map(move |r| (e.offset.0, r.clone())))
                                .collect()
                        })
                        .unwrap_or_default();
                    let start = entries.len().saturating_sub(RECENT_RECORDS);
                    entries[start..].iter().map(|(offset, record)| view! {
                        <li><code>{format!("{offset}: {record}")}</code></li>
                    }).collect_view()
                })}
            </ol>
        </section>
    }
}
