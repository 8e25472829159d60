//! The sequence diagram of the last few seconds' requests: a lane per client, broker and
//! controller that took part, time running down the page, and one arrow per message from its
//! sender's lane at the time it left to its receiver's lane at the time it arrived. A message
//! still travelling stops where it is now; one that never arrived ends in a cross short of the
//! receiver.
//!
//! Time runs down at [`MS_PER_UNIT`], except where messages crowd: the network's latency is a
//! few milliseconds, so a request, the replication it causes and its answer would share one
//! line. There the diagram opens up: each moment something is sent or arrives is at least
//! [`MIN_GAP`] below the one before, and the rest of the diagram moves down to make room
//! (the order of events and the time marks stay true).
//!
//! The traffic comes from the core's record ([`Simulation::traffic`]), which also says what
//! is background chatter (the metadata log's fetches, broker heartbeats, replica fetches with
//! nothing new): hidden unless asked for, so the clients' requests stand out.
//!
//! Plain Rust, in SVG user units; `sequence_diagram` draws it.

use std::collections::BTreeMap;

use kafkalab_core::simulation::{Endpoint, Traffic, TrafficFate};
use kafkalab_core::trace::DropReason;
use kafkalab_core::Simulation;

/// How much time the diagram shows, up to the present moment.
pub const WINDOW_MS: u64 = 3_000;
/// Space between two lanes.
pub const LANE_GAP: f64 = 104.0;
/// Space left and right of the outer lanes, for their labels.
pub const MARGIN: f64 = 56.0;
/// Height of the lanes' labels above the time axis.
pub const HEADER: f64 = 40.0;
/// Simulated milliseconds per unit down the page.
pub const MS_PER_UNIT: f64 = 8.0;
/// The least space between two moments at which a shown message is sent or arrives.
pub const MIN_GAP: f64 = 14.0;
/// How far towards its receiver a dropped message is drawn before its cross.
pub const DROP_AT: f64 = 0.8;

/// One lane: a client, broker or controller that sent or received a shown message.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// As the core names it: `console`, `p1`, `broker 2`, `controller c1`.
    pub label: String,
    /// `client`, `broker` or `controller`, for styling.
    pub role: &'static str,
    pub x: f64,
}

/// One message as an arrow.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    /// The core's number for the message, to key it by.
    pub id: u64,
    pub kind: &'static str,
    pub summary: String,
    pub from: String,
    pub to: String,
    /// What became of it, as [`fate_name`] says.
    pub fate: &'static str,
    pub background: bool,
    pub x1: f64,
    pub y1: f64,
    /// Where the arrow ends now: at the receiver, where it travels, or where it was dropped.
    pub x2: f64,
    pub y2: f64,
    /// It never arrived and has got as far as it will: drawn with a cross at its end.
    pub cross: bool,
}

/// A mark on the time axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub y: f64,
    /// `now`, `-1 s`, ...
    pub label: String,
}

/// The whole diagram.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SequenceLayout {
    pub lanes: Vec<Lane>,
    pub arrows: Vec<Arrow>,
    pub ticks: Vec<Tick>,
    pub width: f64,
    pub height: f64,
    /// How many background messages the filter hides.
    pub hidden: usize,
}

/// The traffic of the last [`WINDOW_MS`]: what the page keeps of the simulation's record after
/// each change (none when it records none, as in a lesson's run).
pub fn recent_traffic(simulation: &Simulation) -> Vec<Traffic> {
    let now_ms = simulation.now_ms();
    simulation.traffic().iter().filter(|t| t.sent_ms + WINDOW_MS >= now_ms).cloned().collect()
}

/// A word for a message's fate, as the drawing's `data-fate` says it.
pub fn fate_name(fate: TrafficFate) -> &'static str {
    match fate {
        TrafficFate::InFlight => "in-flight",
        TrafficFate::Delivered => "delivered",
        TrafficFate::Dropped(DropReason::Lost) => "lost",
        TrafficFate::Dropped(DropReason::NodeDown) => "node-down",
        TrafficFate::Dropped(DropReason::Split) => "split",
        TrafficFate::Dropped(DropReason::ConnectionReset) => "connection-reset",
    }
}

/// Whether the fate is one that never arrives.
pub fn is_dropped(fate: TrafficFate) -> bool {
    matches!(fate, TrafficFate::Dropped(_))
}

/// The diagram of the messages sent in the [`WINDOW_MS`] up to `now_ms`; background ones only
/// when `show_background`.
pub fn sequence_layout(traffic: &[Traffic], now_ms: u64, show_background: bool) -> SequenceLayout {
    let start_ms = now_ms.saturating_sub(WINDOW_MS);
    let in_window: Vec<&Traffic> = traffic.iter().filter(|t| t.sent_ms >= start_ms && t.sent_ms <= now_ms).collect();
    let shown: Vec<&Traffic> = in_window.iter().copied().filter(|t| show_background || !t.background).collect();
    let mut lane_x: BTreeMap<&Endpoint, f64> = shown.iter().flat_map(|t| [(&t.from, 0.0), (&t.to, 0.0)]).collect();
    for (index, x) in lane_x.values_mut().enumerate() {
        *x = MARGIN + index as f64 * LANE_GAP;
    }
    let scale = TimeScale::new(start_ms, shown.iter().flat_map(|t| [t.sent_ms, t.arrive_ms.min(now_ms)]));
    let y = |at_ms: u64| scale.y(at_ms);
    let arrows = shown
        .iter()
        .map(|t| {
            let (from_x, to_x) = (lane_x[&t.from], lane_x[&t.to]);
            let (from_y, to_y) = (y(t.sent_ms), y(t.arrive_ms));
            let progress = t.progress_at(now_ms);
            let dropped = is_dropped(t.fate);
            let reach = if dropped { progress.min(DROP_AT) } else { progress };
            Arrow {
                id: t.id,
                kind: t.kind,
                summary: t.summary.clone(),
                from: t.from.to_string(),
                to: t.to.to_string(),
                fate: fate_name(t.fate),
                background: t.background,
                x1: from_x,
                y1: from_y,
                x2: from_x + (to_x - from_x) * reach,
                y2: if t.arrive_ms <= now_ms {
                    from_y + (to_y - from_y) * reach
                } else {
                    // Still travelling: as far down as the moment it has reached.
                    let flight_ms = (t.arrive_ms - t.sent_ms) as f64;
                    y(t.sent_ms + (flight_ms * reach) as u64)
                },
                cross: dropped && progress >= DROP_AT,
            }
        })
        .collect();
    let lanes: Vec<Lane> =
        lane_x.iter().map(|(endpoint, &x)| Lane { label: endpoint.to_string(), role: role(endpoint), x }).collect();
    let ticks = (0..=WINDOW_MS / 1_000)
        .map(|seconds_ago| {
            let label = if seconds_ago == 0 { String::from("now") } else { format!("-{seconds_ago} s") };
            Tick { y: y(now_ms.saturating_sub(seconds_ago * 1_000)).max(HEADER), label }
        })
        .collect();
    SequenceLayout {
        width: 2.0 * MARGIN + lanes.len().saturating_sub(1) as f64 * LANE_GAP,
        height: y(now_ms) + 12.0,
        lanes,
        arrows,
        ticks,
        hidden: in_window.len() - shown.len(),
    }
}

/// Time to height: [`MS_PER_UNIT`] from the window's start, opened up by the room the crowded
/// moments needed.
struct TimeScale {
    start_ms: u64,
    /// Each moment something happens, with how far the diagram is pushed down from then on.
    pushed: Vec<(u64, f64)>,
}

impl TimeScale {
    fn new(start_ms: u64, moments: impl Iterator<Item = u64>) -> Self {
        let mut moments: Vec<u64> = moments.collect();
        moments.sort_unstable();
        moments.dedup();
        let mut scale = TimeScale { start_ms, pushed: Vec::with_capacity(moments.len()) };
        let mut previous_y = f64::NEG_INFINITY;
        for at_ms in moments {
            let push = (previous_y + MIN_GAP - scale.y(at_ms)).max(0.0);
            let total = scale.pushed.last().map_or(0.0, |&(_, p)| p) + push;
            scale.pushed.push((at_ms, total));
            previous_y = scale.y(at_ms);
        }
        scale
    }

    fn y(&self, at_ms: u64) -> f64 {
        let index = self.pushed.partition_point(|&(moment, _)| moment <= at_ms);
        let push = index.checked_sub(1).map_or(0.0, |i| self.pushed[i].1);
        HEADER + at_ms.saturating_sub(self.start_ms) as f64 / MS_PER_UNIT + push
    }
}

fn role(endpoint: &Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Broker(_) => "broker",
        Endpoint::Controller(_) => "controller",
        _ => "client",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkalab_core::ids::ControllerId;
    use std::sync::Arc;

    use crate::traffic_fixture::{broker, message};

    #[test]
    fn lanes_are_only_those_that_took_part_clients_first_then_brokers_then_controllers() {
        let traffic = [
            message(1, Endpoint::Controller(ControllerId(1)), broker(3), "BrokerHeartbeatResponse", 9_000, 9_002),
            message(2, Endpoint::Client(Arc::from("p1")), broker(2), "Produce", 9_100, 9_103),
            message(3, broker(2), Endpoint::Console, "ProduceResponse", 9_200, 9_201),
        ];
        let layout = sequence_layout(&traffic, 10_000, true);
        let labels: Vec<&str> = layout.lanes.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["console", "p1", "broker 2", "broker 3", "controller c1"]);
        assert!(layout.lanes.windows(2).all(|w| w[1].x - w[0].x == LANE_GAP));
        assert_eq!(layout.width, 2.0 * MARGIN + 4.0 * LANE_GAP);
    }

    #[test]
    fn an_arrow_runs_from_the_senders_lane_at_its_send_time_to_the_receivers_lane_at_its_arrival() {
        let traffic = [message(7, Endpoint::Console, broker(1), "Produce", 8_000, 8_400)];
        let layout = sequence_layout(&traffic, 10_000, false);
        let [arrow] = layout.arrows.as_slice() else { panic!("one arrow") };
        let (console, leader) = (layout.lanes[0].x, layout.lanes[1].x);
        assert_eq!((arrow.x1, arrow.x2), (console, leader));
        assert_eq!(arrow.y1, HEADER + 1_000.0 / MS_PER_UNIT, "sent 2 s before now, 1 s into the window");
        assert_eq!(arrow.y2, HEADER + 1_400.0 / MS_PER_UNIT);
        assert_eq!((arrow.from.as_str(), arrow.to.as_str(), arrow.fate), ("console", "broker 1", "delivered"));
        assert!(!arrow.cross);
    }

    #[test]
    fn a_message_still_travelling_stops_at_the_present_moment() {
        let mut travelling = message(1, Endpoint::Console, broker(1), "Produce", 9_900, 10_100);
        travelling.fate = TrafficFate::InFlight;
        let layout = sequence_layout(&[travelling], 10_000, false);
        let arrow = &layout.arrows[0];
        assert_eq!(arrow.x2, (layout.lanes[0].x + layout.lanes[1].x) / 2.0, "half its flight behind it");
        assert_eq!(arrow.y2, layout.ticks[0].y, "at the mark of the present moment");
        assert_eq!(layout.ticks[0].label, "now");
        assert_eq!(arrow.fate, "in-flight");
    }

    #[test]
    fn a_dropped_message_ends_in_a_cross_short_of_its_receiver() {
        let mut dropped = message(1, broker(1), broker(2), "FetchResponse", 9_000, 9_004);
        dropped.fate = TrafficFate::Dropped(DropReason::NodeDown);
        let mut lost = message(2, Endpoint::Console, broker(2), "Produce", 9_990, 10_010);
        lost.fate = TrafficFate::Dropped(DropReason::Lost);
        let layout = sequence_layout(&[dropped, lost], 10_000, false);
        let [down, lost] = layout.arrows.as_slice() else { panic!("two arrows") };
        assert!(down.cross && down.fate == "node-down");
        assert!(down.x2 < layout.lanes.iter().find(|l| l.label == "broker 2").unwrap().x);
        assert!(!lost.cross, "the network loses it on the way: no cross before it has got that far");
        assert_eq!(lost.fate, "lost");
    }

    #[test]
    fn messages_in_the_same_few_milliseconds_are_spread_out_in_their_order() {
        let traffic = [
            message(1, Endpoint::Console, broker(1), "Produce", 9_000, 9_002),
            message(2, broker(1), broker(2), "FetchResponse", 9_002, 9_003),
            message(3, broker(1), Endpoint::Console, "ProduceResponse", 9_006, 9_007),
            message(4, Endpoint::Console, broker(1), "Produce", 9_800, 9_801),
        ];
        let layout = sequence_layout(&traffic, 10_000, false);
        let ys: Vec<(f64, f64)> = layout.arrows.iter().map(|a| (a.y1, a.y2)).collect();
        assert_eq!(ys[0].1 - ys[0].0, MIN_GAP, "an arrow slopes down at least one gap");
        assert_eq!(ys[1].0, ys[0].1, "sent as the produce arrived: the same moment");
        assert!(ys[2].0 >= ys[1].1 + MIN_GAP, "the answer comes after the replication");
        assert_eq!(ys[3].0 - ys[2].1, 793.0 / MS_PER_UNIT, "after the crowd, time runs at its scale again");
        assert!(layout.ticks.windows(2).all(|w| w[0].y > w[1].y), "the time marks keep their order");
        assert!(layout.height > HEADER + WINDOW_MS as f64 / MS_PER_UNIT + 12.0, "the diagram grew to make room");
    }

    #[test]
    fn background_chatter_is_hidden_unless_asked_for_and_counted() {
        let mut heartbeat =
            message(1, broker(1), Endpoint::Controller(ControllerId(1)), "BrokerHeartbeat", 9_000, 9_002);
        heartbeat.background = true;
        let produce = message(2, Endpoint::Console, broker(1), "Produce", 9_500, 9_502);
        let traffic = [heartbeat, produce];
        let quiet = sequence_layout(&traffic, 10_000, false);
        assert_eq!(quiet.arrows.iter().map(|a| a.kind).collect::<Vec<_>>(), ["Produce"]);
        assert_eq!(quiet.hidden, 1);
        assert_eq!(quiet.lanes.len(), 2, "the controller's lane goes with its traffic");
        let all = sequence_layout(&traffic, 10_000, true);
        assert_eq!(all.arrows.len(), 2);
        assert_eq!(all.hidden, 0);
    }

    #[test]
    fn only_the_last_three_seconds_are_drawn_with_a_tick_each_second() {
        let traffic = [
            message(1, Endpoint::Console, broker(1), "Produce", 6_999, 7_001),
            message(2, Endpoint::Console, broker(1), "Produce", 7_000, 7_002),
        ];
        let layout = sequence_layout(&traffic, 10_000, false);
        assert_eq!(layout.arrows.iter().map(|a| a.id).collect::<Vec<_>>(), [2]);
        let labels: Vec<&str> = layout.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["now", "-1 s", "-2 s", "-3 s"]);
        assert_eq!(layout.ticks[3].y, HEADER);
    }

    #[test]
    fn the_page_keeps_the_last_three_seconds_of_a_recording_simulation() {
        let mut simulation = Simulation::new(kafkalab_core::ClusterConfig::default()).unwrap();
        simulation.record_traffic(5_000);
        simulation.advance(6_000);
        let recent = recent_traffic(&simulation);
        assert!(!recent.is_empty());
        assert!(recent.iter().all(|t| t.sent_ms + WINDOW_MS >= 6_000));
        assert!(recent.len() < simulation.traffic().len(), "older traffic stays in the core's record");
    }
}
