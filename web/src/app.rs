//! The page: the lab's session in signals, the controls, and the panels around the cluster
//! drawing ([`crate::cluster_drawing`]). They draw [`ClusterView`]s and turn clicks into
//! [`Lab`] calls; the cluster's behaviour all comes from `kafkalab-core`.

use kafkalab_core::ids::{BrokerId, Offset};
use kafkalab_core::simulation::Traffic;
use kafkalab_core::view::ClusterView;
use leptos::prelude::*;

use crate::brokers_panel::BrokersPanel;
use crate::clients::ClientsPanel;
use crate::cluster_drawing::{ClusterDiagram, Shown};
use crate::compare_view::CompareView;
use crate::control_lines::ControlState;
use crate::control_panel::ControlPanel;
use crate::frame_loop::play;
use crate::groups::GroupsPanel;
use crate::inspection::{replica_of_partition, Selection};
use crate::inspector::{select, Inspect, Inspector};
use crate::lab::{Lab, Speed};
use crate::lag_chart::LagChart;
use crate::lag_history::LagHistory;
use crate::layout::Drawing;
use crate::lesson_player::{store_lesson, store_progress, stored_lesson, stored_progress, LessonPanel};
use crate::lessons::{LessonRun, StepView};
use crate::panels::topic_summaries;
use crate::sequence::recent_traffic;
use crate::sequence_diagram::SequenceDiagram;
use crate::time_controls::{comparison_link, link_to, load_lab, show_in_address_bar, TimeControls};

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
    /// What the control panel shows.
    control: ControlState,
    /// The network's messages of the last seconds (none in a lesson, whose run records none).
    traffic: Vec<Traffic>,
}

impl Snapshot {
    fn of(lab: &Lab) -> Self {
        let view = lab.view();
        Snapshot {
            control: ControlState::of(lab.simulation(), &view),
            view,
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
    let compared = comparison_link(share.as_deref());
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
    // Compare mode: two runs side by side in place of the lab, which pauses meanwhile; a link
    // to a comparison opens in it.
    let comparing = RwSignal::new(compared.is_some());
    // What the inspector shows: page state, never recorded.
    provide_context(Inspect(RwSignal::new(None::<Selection>)));

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

    // Playing: frames pay the simulated time the speed owes within a frame's budget, and draw
    // (see `pacer`), so a big cluster at full speed runs slower rather than freezing the page.
    let reached = play(
        playing,
        speed,
        move |ms| lab.update_value(|lab| lab.advance(ms)),
        move || snapshot.set(lab.with_value(Snapshot::of)),
    );

    // One copy of the view per frame, shared by every part that draws it.
    let view: Signal<ClusterView> = Memo::new(move |_| snapshot.with(|s| s.view.clone())).into();
    let internal: Signal<bool> = show_internal.into();
    let topic_filter = RwSignal::new(None::<String>);
    let shown = Signal::derive(move || Shown { internal: show_internal.get(), topic: topic_filter.get() });
    let drawing = RwSignal::new(Drawing::Auto);
    let topic_names =
        Memo::new(move |_| snapshot.with(|s| s.control.topics.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>()));
    // The lag chart's samples: read from each new view; a rewind drops the later ones.
    let lag = RwSignal::new(LagHistory::default());
    Effect::new(move |_| snapshot.with(|s| lag.update(|history| history.record(&s.view))));
    let traffic = Signal::derive(move || snapshot.with(|s| s.traffic.clone()));
    // The line above the drawing: brokers and topics, redrawn only when they change.
    let shape = Memo::new(move |_| view.with(|v| (v.brokers.len(), topic_summaries(v))));
    // Single messages are drawn while the eye can follow them: paused, or at 10× or slower.
    let follow_messages: Signal<bool> = Memo::new(move |_| !playing.get() || speed.get().follows_messages()).into();
    view! {
        <div class="page" class:with-lesson=move || in_lesson.get()>
        <Show when=move || in_lesson.get()>
            <LessonPanel view=step_view picked=picked error=lesson_error.into() on_pick=open_lesson on_step=go_to_step on_answer=answer />
        </Show>
        <div class="workspace">
        <header class="topbar">
            <h1>"Kafka Lab"</h1>
            <p class="subtitle" data-testid="subtitle">{move || if in_lesson.get() {
                view! { "The lesson's cluster. Click a broker to kill or restart it, or type commands in the console." }.into_any()
            } else {
                let (brokers, topics) = shape.get();
                let topics = topics.into_iter().enumerate().map(|(n, t)| view! {
                    {if n == 0 { ", " } else { "; " }} <code>{t.name}</code>
                    {format!(": {} partitions, replication factor {}", t.partitions, t.replication_factor)}
                }).collect_view();
                view! { {format!("{brokers} brokers")} {topics} ". Click a broker to kill or restart it, or a replica to read its log." }.into_any()
            }}</p>
        </header>
        <Show when=move || !comparing.get()>
        <TimeControls playing=playing speed=speed now_ms=Signal::derive(move || snapshot.with(|s| s.view.now_ms))
                      horizon_ms=Signal::derive(move || snapshot.with(|s| s.horizon_ms))
                      timeline=Signal::derive(move || !in_lesson.get())
                      on_seek=on_seek on_step=on_step on_step_back=on_step_back link=link />
        </Show>
        <section class="controls">
            <button data-testid="compare-mode" aria-pressed=move || comparing.get().to_string() disabled=move || in_lesson.get()
                    title="Two runs side by side, one setting apart" on:click=move |_| {
                        playing.set(false);
                        comparing.update(|c| *c = !*c);
                        if !comparing.get_untracked() {
                            sync();
                        }
                    }>
                {move || if comparing.get() { "Close compare" } else { "Compare" }}
            </button>
            <button data-testid="lessons" aria-pressed=move || in_lesson.get().to_string() disabled=move || comparing.get()
                    on:click=toggle_lessons>
                {move || if in_lesson.get() { "Close lessons" } else { "Lessons" }}
            </button>
            <button data-testid="produce" hidden=move || comparing.get() on:click=move |_| act(&|lab| lab.produce_one())>"Produce a record"</button>
            <label class="toggle">
                <input type="checkbox" data-testid="show-internal" prop:checked=move || show_internal.get()
                       on:change=move |ev| show_internal.set(event_target_checked(&ev)) />
                " Show internal topics"
            </label>
            <label class="toggle">"Topic "
                <select data-testid="topic-filter" on:change=move |ev| {
                    let topic = event_target_value(&ev);
                    topic_filter.set((!topic.is_empty()).then_some(topic));
                }>
                    <option value="">"all"</option>
                    {move || topic_names.get().into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="toggle">"Draw replicas as "
                <select data-testid="drawing" on:change=move |ev| drawing.set(Drawing::from_key(&event_target_value(&ev)))>
                    <option value="auto">"auto"</option>
                    <option value="rows">"rows with logs"</option>
                    <option value="tiles">"tiles"</option>
                </select>
            </label>
            <span class="clock" data-testid="clock" hidden=move || comparing.get()>{move || snapshot.with(|s| format!("t = {:.1} s{}", s.view.now_ms as f64 / 1000.0,
                if s.clock_held { " · held: the lesson waits for you" } else { "" }))}</span>
            <span class="reached" data-testid="reached">{move || {
                let asked = speed.get().factor();
                match reached.get() {
                    Some(real) if playing.get() && real < asked * 0.8 => format!("running at {real:.0}×: the simulation cannot go faster here"),
                    _ => String::new(),
                }
            }}</span>
        </section>
        <Show when=move || !comparing.get() fallback=move || view! { <CompareView seed=seed link=compared.clone() sync_url=sync_url /> }>
        <main class="lab">
            {move || {
                generation.track();
                view! { <ClusterDiagram view=view on_toggle=toggle_broker shown=shown drawing=drawing.into() traffic=traffic follow=follow_messages /> }
            }}
            <div class="side">
                <BrokersPanel view=view show_internal=internal on_run=run_line />
                <PartitionTable view=view shown=shown />
                <ControllerQuorum view=view />
            </div>
            <Inspector view=view lab=lab />
        </main>
        <section class="operate">
            <ControlPanel state=Signal::derive(move || snapshot.with(|s| s.control.clone())) on_run=run_line />
            <LagChart history=lag.into() now_ms=Signal::derive(move || snapshot.with(|s| s.view.now_ms)) />
        </section>
        <section class="clients-and-groups">
            <GroupsPanel view=view show_internal=internal />
            <ClientsPanel view=view on_run=run_line />
        </section>
        <SequenceDiagram traffic=traffic follow=follow_messages now_ms=Signal::derive(move || snapshot.with(|s| s.view.now_ms)) />
        <section class="bottom">
            <Console on_run=run_line error=error.read_only() history=Signal::derive(move || snapshot.with(|s| s.history.clone())) />
            <EventLog events=Signal::derive(move || snapshot.with(|s| s.events.clone())) />
        </section>
        </Show>
        </div>
        </div>
    }
}

/// Each partition's leader, leader epoch and ISR, as the controller's metadata says.
#[component]
fn PartitionTable(view: Signal<ClusterView>, shown: Signal<Shown>) -> impl IntoView {
    let list = |brokers: &[BrokerId]| brokers.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(", ");
    view! {
        <table class="partitions" data-testid="partitions">
            <thead><tr><th>"Partition"</th><th>"Leader"</th><th>"Epoch"</th><th>"ISR"</th><th>"High watermark"</th></tr></thead>
            <tbody>
                {move || view.with(|v| v.partitions.iter()
                    .filter(|p| shown.with(|shown| shown.topic(&p.partition.topic)))
                    .map(|p| {
                    let leader = p.leader.map_or(String::from("none"), |b| b.to_string());
                    let hw = p.replicas.iter().find(|r| r.is_leader).map_or(Offset(0), |r| r.high_watermark);
                    let leader_cell = leader.clone();
                    let partition = p.partition.clone();
                    let open = move |_| if let Some(s) = view.with_untracked(|v| replica_of_partition(v, &partition)) { select(s) };
                    view! {
                        <tr data-partition=p.partition.to_string() data-leader=leader data-isr=list(&p.isr) on:click=open>
                            <td><button class="link" aria-label=format!("inspect the log of {}", p.partition)>{p.partition.to_string()}</button></td>
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
pub(crate) fn Console(
    on_run: Callback<String>,
    error: ReadSignal<Option<String>>,
    history: Signal<Vec<String>>,
) -> impl IntoView {
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
                       aria-label="a command, in the lab's command language"
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
                            <tr data-controller=c.id.0 data-role=role class:active=active class:dead=!c.alive
                                on:click={ let id = c.id; move |_| select(Selection::Controller(id)) }>
                                <td><button class="link" aria-label=format!("inspect controller c{}", c.id.0)>{format!("c{}", c.id.0)}</button>
                                    {if active { " ★ active" } else { "" }}</td>
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
