//! The compact drawing of a broker's replicas, for big clusters (7 brokers × 50 partitions):
//! one small tile per replica instead of a row with its log. A tile shows the partition number,
//! a ★ and a thick border when the broker leads it, a hatched fill and a × when the replica is
//! out of the ISR, and a bar for how much of its log is committed; its title says the rest.
//! Like a row, it opens the replica in the inspector.

use leptos::prelude::*;

use kafkalab_core::ids::BrokerId;

use crate::cluster_drawing::ReplicaRowData;
use crate::inspection::Selection;
use crate::inspector::replica_opener;
use crate::layout::{tile_position, TILE};

/// The hatch pattern out-of-sync tiles are filled with; drawn once per diagram.
#[component]
pub fn TilePatterns() -> impl IntoView {
    view! {
        <defs>
            <pattern id="out-of-sync-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                <rect width="6" height="6" class="hatch-bg" />
                <line x1="0" y1="0" x2="0" y2="6" class="hatch-line" />
            </pattern>
        </defs>
    }
}

/// One replica as a tile, the `index`-th of its card on `broker`. Clicking it (or Enter on it)
/// opens its log in the inspector, without killing the broker.
#[component]
pub fn ReplicaTile(data: ReplicaRowData, broker: BrokerId, index: usize) -> impl IntoView {
    let selection = Selection::Replica { broker, partition: data.topic_partition.clone() };
    let (open, open_by_key) = replica_opener(selection);
    let (x, y) = tile_position(index);
    let role = if data.is_leader { "leader" } else { "follower" };
    let isr = if data.in_isr { "in-sync" } else { "out-of-sync" };
    let number = data.partition.rsplit('/').next().unwrap_or_default().to_string();
    let stored = (data.log_end - data.log_start).max(0);
    let committed = (data.high_watermark - data.log_start).clamp(0, stored);
    let bar = if stored == 0 { 0.0 } else { (TILE - 8.0) * committed as f64 / stored as f64 };
    let title = format!(
        "{}: {}, {} · LEO {} · HW {}",
        data.partition,
        role,
        if data.in_isr { "in the ISR" } else { "out of the ISR" },
        data.log_end,
        data.high_watermark
    );
    view! {
        <g class=format!("replica tile {role} {isr}") data-replica=data.partition.clone() data-role=role data-isr=isr
           data-leo=data.log_end data-hw=data.high_watermark transform=format!("translate({x},{y})")
           tabindex="0" role="button" aria-label=format!("inspect the log of {} on broker {broker}", data.partition)
           on:click=open on:keydown=open_by_key>
            <title>{title}</title>
            <rect class="tile-bg" width=TILE height=TILE rx="5" />
            <text class="tile-number" x=TILE / 2.0 y="17" text-anchor="middle">{number}</text>
            <text class="tile-mark" x=TILE / 2.0 y="29" text-anchor="middle">
                {if data.is_leader { "★" } else if !data.in_isr { "×" } else { "" }}
            </text>
            <rect class="tile-committed" x="4" y=TILE - 7.0 width=bar height="3" />
        </g>
    }
}
