//! The Compare mode: two runs side by side, one setting apart, each titled with its side of the
//! difference and drawn as the lab draws a cluster, with a summary of what its producer was told
//! and what was lost. The time controls and the console drive both. Everything it shows and does
//! comes from [`crate::comparison`]; this only draws it and forwards clicks and lines.

use kafkalab_core::ids::BrokerId;
use kafkalab_core::view::ClusterView;
use leptos::prelude::*;

use crate::app::Console;
use crate::cluster_drawing::{ClusterDiagram, Shown};
use crate::comparison::{Comparison, Difference, Side, SideReport, ACKS_PRESET};
use crate::frame_loop::play;
use crate::lab::Speed;
use crate::layout::Drawing;
use crate::share::{Settings, Share};
use crate::time_controls::{link_with, put_in_address_bar, TimeControls};

/// What the page shows of the comparison after each change.
#[derive(Clone, Debug, PartialEq)]
struct Snapshot {
    now_ms: u64,
    horizon_ms: u64,
    views: [ClusterView; 2],
    reports: [SideReport; 2],
    history: Vec<String>,
}

impl Snapshot {
    fn of(comparison: &Comparison) -> Self {
        Snapshot {
            now_ms: comparison.now_ms(),
            horizon_ms: comparison.horizon_ms(),
            views: Side::BOTH.map(|side| comparison.side(side).simulation().view()),
            reports: Side::BOTH.map(|side| comparison.report(side)),
            history: comparison.history(),
        }
    }
}

/// The Compare mode, with its own clock: it starts paused, at time 0, comparing `acks`, or
/// where a link to a comparison left it.
#[component]
pub fn CompareView(
    /// The seed both runs share.
    seed: u64,
    /// A link to a comparison, to open instead.
    link: Option<Share>,
    /// Whether the address bar follows the comparison, so it is always a link to it.
    sync_url: bool,
) -> impl IntoView {
    let settings = Settings { seed, ..Settings::default() };
    let fresh = || Comparison::new(settings, Difference::Acks).expect("the default settings describe a cluster");
    let (opened, refused) = match link.as_ref().map(Comparison::from_share) {
        Some(Ok(opened)) => (opened, None),
        Some(Err(why)) => (fresh(), Some(format!("This link could not be replayed: {why}"))),
        None => (fresh(), None),
    };
    let difference = RwSignal::new(opened.difference());
    let comparison = StoredValue::new(opened);
    let snapshot = RwSignal::new(comparison.with_value(Snapshot::of));
    let story = RwSignal::new(None::<&'static str>);
    let error = RwSignal::new(refused);
    let playing = RwSignal::new(false);
    let speed = RwSignal::new(Speed::DEFAULT);
    // A new pair of runs draws its brokers again.
    let generation = RwSignal::new(0u64);

    // The address bar is a link to the comparison, updated when it changes course (not on every
    // tick of playing).
    let sync = move || {
        if sync_url {
            put_in_address_bar(&comparison.with_value(|c| link_with(Some(&c.share()))));
        }
    };
    sync();
    Effect::watch(move || playing.get(), move |_, _, _| sync(), false);
    let refresh = move || {
        snapshot.set(comparison.with_value(Snapshot::of));
        sync();
    };
    let act = move |action: &dyn Fn(&mut Comparison) -> Result<(), String>| {
        let result = comparison.try_update_value(|c| action(c)).unwrap_or(Ok(()));
        error.set(result.err());
        refresh();
    };
    let move_in_time = move |motion: &dyn Fn(&mut Comparison)| {
        comparison.update_value(|c| motion(c));
        refresh();
    };
    let replace = move |made: Result<Comparison, String>, told: Option<&'static str>| match made {
        Ok(made) => {
            difference.set(made.difference());
            comparison.set_value(made);
            story.set(told);
            error.set(None);
            playing.set(false);
            generation.update(|g| *g += 1);
            refresh();
        }
        Err(why) => error.set(Some(why)),
    };
    let choose = move |key: String| {
        if let Some(chosen) = Difference::from_key(&key) {
            replace(Comparison::new(settings, chosen), None);
        }
    };
    let load_preset = move |_| replace(Comparison::from_preset(&ACKS_PRESET), Some(ACKS_PRESET.story));

    let on_seek = Callback::new(move |ms: u64| move_in_time(&|c| c.seek(ms)));
    let on_step = Callback::new(move |()| {
        move_in_time(&|c| {
            c.step();
        })
    });
    let on_step_back = Callback::new(move |()| move_in_time(&|c| c.step_back()));
    let link = Callback::new(move |()| comparison.with_value(|c| link_with(Some(&c.share()))));
    let run_line = Callback::new(move |line: String| act(&|c| c.act(&line)));
    let toggle_broker = Callback::new(move |id: BrokerId| act(&|c| c.toggle_broker(id)));

    // Both sides play together, paced as the lab is.
    play(
        playing,
        speed,
        move |ms| comparison.update_value(|c| c.advance(ms)),
        move || snapshot.set(comparison.with_value(Snapshot::of)),
    );

    view! {
        <section class="compare" data-testid="compare" aria-label="Compare two runs">
            <TimeControls playing=playing speed=speed now_ms=Signal::derive(move || snapshot.with(|s| s.now_ms))
                          horizon_ms=Signal::derive(move || snapshot.with(|s| s.horizon_ms))
                          timeline=Signal::derive(|| true)
                          on_seek=on_seek on_step=on_step on_step_back=on_step_back link=link />
            <div class="compare-bar">
                <label>"Difference "
                    <select data-testid="compare-difference" aria-label="The setting the two runs differ in"
                            on:change=move |ev| choose(event_target_value(&ev))>
                        {Difference::ALL.into_iter().map(|d| view! {
                            <option value=d.key() selected=move || difference.get() == d>
                                {format!("{} vs {}", d.label(Side::Left), d.label(Side::Right))}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <button data-testid="compare-preset" on:click=load_preset>"Load preset: acks=1 vs acks=all, the leader dies"</button>
                <button data-testid="compare-produce" on:click=move |_| act(&|c| c.produce_one())>"Produce a record on both"</button>
                <span class="clock" data-testid="compare-clock">{move || snapshot.with(|s| format!("t = {:.1} s", s.now_ms as f64 / 1000.0))}</span>
            </div>
            <Show when=move || story.get().is_some()>
                <p class="compare-story" data-testid="compare-story">{move || story.get().unwrap_or_default()}</p>
            </Show>
            <div class="compare-columns">
                {Side::BOTH.into_iter().map(|side| view! { <CompareSide side=side snapshot=snapshot generation=generation on_toggle=toggle_broker /> }).collect_view()}
            </div>
            <section class="bottom compare-console">
                <Console on_run=run_line error=error.read_only() history=Signal::derive(move || snapshot.with(|s| s.history.clone())) />
            </section>
        </section>
    }
}

/// One run: its title, its cluster and its summary.
#[component]
fn CompareSide(
    side: Side,
    snapshot: RwSignal<Snapshot>,
    /// Bumped when a new pair of runs replaces the old, so the drawing is built again.
    generation: RwSignal<u64>,
    on_toggle: Callback<BrokerId>,
) -> impl IntoView {
    let index = Side::BOTH.iter().position(|&s| s == side).expect("a side");
    let view = Signal::derive(move || snapshot.with(|s| s.views[index].clone()));
    let report = Memo::new(move |_| snapshot.with(|s| s.reports[index].clone()));
    let label = move || report.with(|r| r.label.clone());
    view! {
        <section class=format!("compare-side {}", side.name()) data-testid=format!("compare-{}", side.name())
                 data-side=side.name() data-label=label
                 data-now-ms=move || snapshot.with(|s| s.now_ms)
                 data-acknowledged=move || report.with(|r| r.acknowledged)
                 data-lost=move || report.with(|r| r.lost.len())
                 aria-label=move || report.with(SideReport::sentence)>
            <h2 class="compare-title">{label}</h2>
            {move || {
                generation.track();
                view! { <ClusterDiagram view=view on_toggle=on_toggle shown=Signal::derive(Shown::default) drawing=Signal::derive(Drawing::default) traffic=Signal::derive(Vec::new) follow=Signal::derive(|| true) /> }
            }}
            <Summary report=report />
        </section>
    }
}

/// What the side's producer was told, what was lost (each lost record listed), and each
/// partition's leader and high watermark.
#[component]
fn Summary(report: Memo<SideReport>) -> impl IntoView {
    let lost = move || report.with(|r| r.lost.len());
    view! {
        <div class="compare-summary" role="status" aria-live="polite">
            <dl class="compare-counts">
                <div><dt>"Acknowledged"</dt><dd data-testid="acknowledged">{move || report.with(|r| r.acknowledged)}</dd></div>
                <div class:has-lost={move || lost() > 0}><dt>"Acknowledged, then lost"</dt>
                    <dd data-testid="lost">{move || if lost() > 0 { format!("✕ {}", lost()) } else { String::from("✓ 0") }}</dd></div>
                <div><dt>"Failed"</dt><dd data-testid="failed">{move || report.with(|r| r.failed)}</dd></div>
            </dl>
            <p class={move || if lost() > 0 { "lost-records has-lost" } else { "lost-records" }} data-testid="lost-records">
                {move || if lost() > 0 {
                    format!("✕ Lost after being acknowledged: {}", report.with(SideReport::lost_list))
                } else {
                    String::from("✓ Nothing acknowledged was lost.")
                }}
            </p>
            <table class="compare-partitions">
                <thead><tr><th>"Partition"</th><th>"Leader"</th><th>"HW"</th></tr></thead>
                <tbody>
                    {move || report.with(|r| r.partitions.iter().map(|p| {
                        let leader = p.leader.map_or(String::from("none"), |b| b.to_string());
                        let hw = p.high_watermark.map_or(String::from("–"), |hw| hw.to_string());
                        let (leader_cell, hw_cell) = (leader.clone(), hw.clone());
                        view! {
                            <tr data-partition=p.partition.to_string() data-leader=leader data-hw=hw>
                                <td>{p.partition.to_string()}</td><td>{leader_cell}</td><td>{hw_cell}</td>
                            </tr>
                        }
                    }).collect_view())}
                </tbody>
            </table>
        </div>
    }
}
