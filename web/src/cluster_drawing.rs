//! The cluster, drawn: the brokers as cards (four to a row), each with a row per replica (its
//! log as cells by offset, LEO and HW) or, for big clusters, a tile per replica; the messages
//! in flight over them. A click on a card kills or restarts its broker; a click on a replica
//! opens its log in the inspector.

use kafkalab_core::ids::{BrokerId, TopicPartition};
use kafkalab_core::simulation::Traffic;
use kafkalab_core::view::{BrokerStatus, ClusterView};
use leptos::prelude::*;

use crate::broker_rows::broker_state;
use crate::in_flight::WIRE_BAND;
use crate::in_flight_overlay::InFlightOverlay;
use crate::inspection::Selection;
use crate::inspector::{replica_opener, select};
use crate::layout::{
    broker_height, broker_x, broker_y, compact_height, diagram_height, diagram_width, first_visible_offset, Drawing,
    BROKER_HEADER, BROKER_WIDTH, CELL_WIDTH, PADDING, REPLICA_ROW,
};
use crate::panels::is_internal_topic;
use crate::replica_tiles::{ReplicaTile, TilePatterns};

/// One replica as a broker card draws it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ReplicaRowData {
    pub(crate) partition: String,
    pub(crate) topic_partition: TopicPartition,
    pub(crate) is_leader: bool,
    pub(crate) in_isr: bool,
    pub(crate) log_start: i64,
    pub(crate) log_end: i64,
    pub(crate) high_watermark: i64,
}

/// Which replicas the drawing and the partition table show: internal topics or not, and one
/// topic or all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shown {
    pub internal: bool,
    pub topic: Option<String>,
}

impl Shown {
    /// Whether a topic's partitions are shown.
    pub fn topic(&self, topic: &str) -> bool {
        (self.internal || !is_internal_topic(topic)) && self.topic.as_deref().is_none_or(|t| t == topic)
    }
}

fn replica_rows(view: &ClusterView, broker: BrokerId, shown: &Shown) -> Vec<ReplicaRowData> {
    view.replicas_on(broker)
        .filter(|(partition, _)| shown.topic(&partition.partition.topic))
        .map(|(partition, replica)| ReplicaRowData {
            partition: partition.partition.to_string(),
            topic_partition: partition.partition.clone(),
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
pub(crate) fn ClusterDiagram(
    /// The state to draw.
    view: Signal<ClusterView>,
    /// Called with a broker's id when it is clicked.
    on_toggle: Callback<BrokerId>,
    /// Which replicas are drawn.
    shown: Signal<Shown>,
    /// Rows with logs, or tiles.
    drawing: Signal<Drawing>,
    /// The network's recent messages, drawn travelling in a band above the cards.
    traffic: Signal<Vec<Traffic>>,
    /// Whether messages are drawn: not while playing too fast to follow them.
    follow: Signal<bool>,
) -> impl IntoView {
    let ids: Vec<BrokerId> = view.with_untracked(|v| v.brokers.iter().map(|b| b.id).collect());
    let count = ids.len();
    let width = diagram_width(count);
    let most = Memo::new(move |_| {
        shown.with(|shown| {
            view.with(|v| v.brokers.iter().map(|b| replica_rows(v, b.id, shown).len()).max().unwrap_or(0))
        })
    });
    let tiles = Memo::new(move |_| drawing.get().tiles(most.get()));
    // Cards grow when topics are created or partitions added from the console.
    let height = Memo::new(move |_| if tiles.get() { compact_height(most.get()) } else { broker_height(most.get()) });
    view! {
        <svg class="cluster" class:tiles=move || tiles.get() data-testid="cluster"
             viewBox=move || format!("-2 {} {} {}", -WIRE_BAND - 2.0, width + 4.0, diagram_height(count, height.get()) + WIRE_BAND + 4.0)
             role="img" aria-label="the brokers and their partition replicas">
            <TilePatterns />
            {ids.into_iter().enumerate().map(|(index, id)| view! {
                <BrokerCard id=id index=index height=height view=view on_toggle=on_toggle shown=shown tiles=tiles />
            }).collect_view()}
            <InFlightOverlay traffic=traffic view=view follow=follow card_height=height.into() />
        </svg>
    }
}

/// One broker: its name and state, and a row (or a tile) per replica it holds. Clicking it
/// kills or restarts it.
#[component]
fn BrokerCard(
    id: BrokerId,
    /// Its place among the cards.
    index: usize,
    /// The card's height, the same for every card.
    height: Memo<f64>,
    view: Signal<ClusterView>,
    on_toggle: Callback<BrokerId>,
    shown: Signal<Shown>,
    tiles: Memo<bool>,
) -> impl IntoView {
    let status = Memo::new(move |_| view.with(|v| v.broker(id).map_or(BrokerStatus::Dead, |b| b.status)));
    let state = Memo::new(move |_| view.with(|v| v.broker(id).map_or("dead", broker_state)));
    let rows = Memo::new(move |_| shown.with(|shown| view.with(|v| replica_rows(v, id, shown))));
    let x = broker_x(index);
    view! {
        <g class=move || format!("broker {}", state.get().replace(' ', "-"))
           data-broker=id.0 data-status=move || state.get()
           transform=move || format!("translate({x},{})", broker_y(index, height.get()))
           tabindex="0" role="button"
           aria-label=move || format!("Broker {id}, {}: press to {}", state.get(),
               if status.get() == BrokerStatus::Dead { "restart it" } else { "kill it" })
           on:click=move |_| on_toggle.run(id)
           on:keydown=move |ev: leptos::ev::KeyboardEvent| {
               if ev.key() == "Enter" || ev.key() == " " {
                   ev.prevent_default();
                   ev.stop_propagation(); // not the page's Space = play/pause
                   on_toggle.run(id);
               }
           }>
            <title>{move || format!("Broker {id}: {}. Click to {}.", state.get(),
                if status.get() == BrokerStatus::Dead { "restart it" } else { "kill it" })}</title>
            <rect class="card" width=BROKER_WIDTH height=move || height.get() rx="10" />
            <text class="broker-name" x=PADDING y="28">{format!("Broker {id}")}</text>
            <foreignObject x="96" y="10" width="80" height="28">
                <button class="inspect-broker" data-inspect-broker=id.0 aria-label=format!("inspect broker {id}")
                        on:click=move |ev| { ev.stop_propagation(); select(Selection::Broker(id)); }>"Inspect"</button>
            </foreignObject>
            <text class="broker-status" x=BROKER_WIDTH - PADDING y="28" text-anchor="end">
                {move || state.get()}
            </text>
            {move || if tiles.get() {
                rows.get().into_iter().enumerate().map(|(index, data)| view! {
                    <ReplicaTile data=data broker=id index=index />
                }).collect_view().into_any()
            } else {
                rows.get().into_iter().enumerate().map(|(row, data)| view! {
                    <ReplicaRow data=data broker=id y=BROKER_HEADER + row as f64 * REPLICA_ROW />
                }).collect_view().into_any()
            }}
        </g>
    }
}

/// A replica: partition, role, ISR membership, its log as cells, and its LEO and HW. Clicking
/// it (or Enter on it) opens its log in the inspector, without killing the broker.
#[component]
fn ReplicaRow(data: ReplicaRowData, broker: BrokerId, y: f64) -> impl IntoView {
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
    let selection = Selection::Replica { broker, partition: data.topic_partition.clone() };
    let (open, open_by_key) = replica_opener(selection);
    view! {
        <g class=format!("replica {role} {isr}") data-replica=data.partition.clone() data-role=role data-isr=isr
           data-leo=data.log_end data-hw=data.high_watermark transform=format!("translate(0,{y})")
           tabindex="0" role="button" aria-label=format!("inspect the log of {} on broker {broker}", data.partition)
           on:click=open on:keydown=open_by_key>
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
