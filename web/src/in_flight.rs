//! Messages travelling on the cluster drawing: each message between two broker cards moves
//! along an arc from the top edge of one to the top edge of the other (over the cards between
//! them, and beside the column when both are in one column of the wrapped rows); one between
//! a client (or a controller on a machine of its own) and a broker drops in from the drawing's
//! top edge, placed by how much of its flight is behind it.
//!
//! The simulated network's flights last a few milliseconds, far less than one frame of the
//! page, so the drawing slows them down: a message is drawn for at least
//! [`VISIBLE_FLIGHT_MS`] of simulated time, its progress measured against that. With a combined
//! layout controller `n` runs on broker `n`'s machine: its messages start from that card, and
//! those between broker `n` and controller `n` never leave the machine, so they are not drawn.
//!
//! Plain Rust, in the cluster drawing's SVG units; `in_flight_overlay` draws it.

use kafkalab_core::config::ControllerLayout;
use kafkalab_core::ids::BrokerId;
use kafkalab_core::simulation::{Endpoint, Traffic};

use crate::layout::{broker_x, broker_y, BROKER_GAP, BROKER_WIDTH};
use crate::sequence::{fate_name, is_dropped, DROP_AT};

/// The band above the cards the messages travel in.
pub const WIRE_BAND: f64 = 64.0;
/// The least simulated time a message is drawn travelling for.
pub const VISIBLE_FLIGHT_MS: u64 = 1_000;
/// How far from a card's centre clients' (left) and lone controllers' (right) messages drop in.
const SIDE_OFFSET: f64 = BROKER_WIDTH / 4.0;

/// One message on its way.
#[derive(Clone, Debug, PartialEq)]
pub struct Dot {
    pub id: u64,
    pub kind: &'static str,
    pub summary: String,
    pub from: String,
    pub to: String,
    pub fate: &'static str,
    pub background: bool,
    /// It will not arrive and has got as far as it will: drawn with a cross.
    pub cross: bool,
    /// Whether it carries its kind as a label: only the newest message of each kind on each
    /// way does, so a busy moment does not pile labels on each other.
    pub labelled: bool,
    pub x: f64,
    pub y: f64,
}

/// Where an end of a message is on the drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    /// Broker card `index` (0-based, as the cards are drawn).
    Card(usize),
    /// Off the drawing above card `index`, at this offset from its centre.
    Above(usize, f64),
}

/// The most messages drawn at once (the newest): beyond it the drawing is noise and slow.
pub const MAX_DOTS: usize = 60;

/// Every message travelling at `now_ms` between places on the drawing of `brokers` (in card
/// order, each card `card_height` tall), the newest [`MAX_DOTS`] of them.
pub fn in_flight(
    traffic: &[Traffic],
    now_ms: u64,
    brokers: &[BrokerId],
    layout: ControllerLayout,
    card_height: f64,
) -> Vec<Dot> {
    let mut dots = travelling(traffic, now_ms, brokers, layout, card_height);
    dots.drain(..dots.len().saturating_sub(MAX_DOTS));
    let mut labelled: Vec<(&'static str, String, String)> = Vec::new();
    for dot in dots.iter_mut().rev() {
        let way = (dot.kind, dot.from.clone(), dot.to.clone());
        dot.labelled = !dot.background && !labelled.contains(&way);
        if dot.labelled {
            labelled.push(way);
        }
    }
    dots
}

fn travelling(
    traffic: &[Traffic],
    now_ms: u64,
    brokers: &[BrokerId],
    layout: ControllerLayout,
    card_height: f64,
) -> Vec<Dot> {
    traffic
        .iter()
        .filter_map(|t| {
            let shown_ms = t.arrive_ms.saturating_sub(t.sent_ms).max(VISIBLE_FLIGHT_MS);
            if now_ms < t.sent_ms || now_ms >= t.sent_ms + shown_ms {
                return None;
            }
            let (from, to) = places(&t.from, &t.to, brokers, layout)?;
            let progress = (now_ms - t.sent_ms) as f64 / shown_ms as f64;
            let dropped = is_dropped(t.fate);
            let reach = if dropped { progress.min(DROP_AT) } else { progress };
            let (x, y) = point(from, to, reach, card_height);
            Some(Dot {
                id: t.id,
                kind: t.kind,
                summary: t.summary.clone(),
                from: t.from.to_string(),
                to: t.to.to_string(),
                fate: fate_name(t.fate),
                background: t.background,
                cross: dropped && progress >= DROP_AT,
                labelled: false,
                x,
                y,
            })
        })
        .collect()
}

/// Where a message leaves and where it goes; none when the drawing has no way to show it.
fn places(from: &Endpoint, to: &Endpoint, brokers: &[BrokerId], layout: ControllerLayout) -> Option<(Place, Place)> {
    let card = |broker: BrokerId| brokers.iter().position(|&b| b == broker);
    // A card, or off the drawing at this offset from a card's centre.
    let machine = |endpoint: &Endpoint| match endpoint {
        Endpoint::Broker(id) => card(*id).map(Ok),
        Endpoint::Controller(id) if layout == ControllerLayout::Combined => card(BrokerId(id.0)).map(Ok),
        Endpoint::Controller(_) => Some(Err(SIDE_OFFSET)),
        _ => Some(Err(-SIDE_OFFSET)),
    };
    match (machine(from)?, machine(to)?) {
        (Ok(a), Ok(b)) if a != b => Some((Place::Card(a), Place::Card(b))),
        (Err(offset), Ok(b)) => Some((Place::Above(b, offset), Place::Card(b))),
        (Ok(a), Err(offset)) => Some((Place::Card(a), Place::Above(a, offset))),
        _ => None,
    }
}

fn centre(card: usize) -> f64 {
    broker_x(card) + BROKER_WIDTH / 2.0
}

/// The point `reach` of the way from `from` to `to`, cards `card_height` tall: along an arc
/// from one card's top edge to the other's (higher going right than going left, so the two
/// directions do not share a path; between two cards of one column it bulges beside the column,
/// right going up and left going down), or straight down or up between a card and the top
/// edge of the drawing.
fn point(from: Place, to: Place, reach: f64, card_height: f64) -> (f64, f64) {
    let top = |card: usize| broker_y(card, card_height);
    match (from, to) {
        (Place::Card(a), Place::Card(b)) => {
            let (start, end) = ((centre(a), top(a)), (centre(b), top(b)));
            let peak = if start.0 < end.0 { 0.8 } else { 0.45 } * WIRE_BAND;
            let beside = match start.0 == end.0 {
                true if start.1 > end.1 => (BROKER_WIDTH + BROKER_GAP) / 2.0,
                true => -(BROKER_WIDTH + BROKER_GAP) / 2.0,
                false => 0.0,
            };
            // A quadratic Bézier curve through the control point halfway across and `2 peak`
            // above the higher end: on one row it peaks `peak` above the cards halfway.
            let control = ((start.0 + end.0) / 2.0 + beside, start.1.min(end.1) - 2.0 * peak);
            let along = |p0: f64, p1: f64, p2: f64| {
                (1.0 - reach).powi(2) * p0 + 2.0 * (1.0 - reach) * reach * p1 + reach.powi(2) * p2
            };
            (along(start.0, control.0, end.0), along(start.1, control.1, end.1))
        }
        (Place::Above(card, offset), _) => (centre(card) + offset, -WIRE_BAND + (top(card) + WIRE_BAND) * reach),
        (_, Place::Above(card, offset)) => (centre(card) + offset, top(card) - (top(card) + WIRE_BAND) * reach),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkalab_core::ids::ControllerId;
    use kafkalab_core::simulation::TrafficFate;
    use kafkalab_core::trace::DropReason;

    use crate::traffic_fixture::{self, broker};

    const BROKERS: [BrokerId; 3] = [BrokerId(1), BrokerId(2), BrokerId(3)];
    const CARD_HEIGHT: f64 = 200.0;

    /// A follower's fetch answered, still on its way.
    fn message(from: Endpoint, to: Endpoint, sent_ms: u64, arrive_ms: u64) -> Traffic {
        Traffic {
            summary: String::from("orders/0 1 record, HW 3"),
            fate: TrafficFate::InFlight,
            ..traffic_fixture::message(1, from, to, "FetchResponse", sent_ms, arrive_ms)
        }
    }

    fn dots(traffic: &[Traffic], now_ms: u64) -> Vec<Dot> {
        in_flight(traffic, now_ms, &BROKERS, ControllerLayout::Combined, CARD_HEIGHT)
    }

    #[test]
    fn a_record_travels_from_card_to_card_over_an_arc_as_its_flight_goes_by() {
        let traffic = [message(broker(1), broker(2), 1_000, 1_003)];
        let start = &dots(&traffic, 1_000)[0];
        assert_eq!((start.x, start.y), (centre(0), 0.0), "it leaves from the sender's card");
        let halfway = &dots(&traffic, 1_500)[0];
        assert_eq!(halfway.x, (centre(0) + centre(1)) / 2.0);
        assert_eq!(halfway.y, -0.8 * WIRE_BAND, "at the top of its arc, inside the band");
        let late = &dots(&traffic, 1_900)[0];
        assert!(late.x > halfway.x && late.x < centre(1) && late.y < 0.0);
        assert!(dots(&traffic, 2_000).is_empty(), "drawn for the visible flight, then gone");
        assert!(dots(&traffic, 999).is_empty(), "not before it is sent");
    }

    #[test]
    fn a_busy_moment_labels_only_the_newest_message_of_each_way_and_draws_at_most_the_newest_sixty() {
        let traffic: Vec<Traffic> = (0..100)
            .map(|n| Traffic { id: n, ..message(broker(1), broker(1 + (n % 2) as i32 + 1), 1_000 + n, 1_003 + n) })
            .collect();
        let drawn = dots(&traffic, 1_100);
        assert_eq!(drawn.len(), MAX_DOTS);
        assert_eq!(drawn.first().map(|d| d.id), Some(100 - MAX_DOTS as u64), "the oldest went first");
        let labelled: Vec<u64> = drawn.iter().filter(|d| d.labelled).map(|d| d.id).collect();
        assert_eq!(labelled, [98, 99], "one label for the way to broker 2, one for the way to broker 3");
    }

    #[test]
    fn on_wrapped_rows_a_message_leaves_and_reaches_its_own_cards_top_edge() {
        let five: Vec<BrokerId> = (1..=5).map(BrokerId).collect();
        let at = |traffic: &[Traffic], now_ms| {
            let dot = &in_flight(traffic, now_ms, &five, ControllerLayout::Combined, CARD_HEIGHT)[0];
            (dot.x, dot.y)
        };
        let fifth_top = broker_y(4, CARD_HEIGHT);
        assert_eq!(fifth_top, CARD_HEIGHT + BROKER_GAP, "broker 5 starts the second row");
        let column = centre(0);
        let up = [message(broker(5), broker(1), 0, 2)];
        assert_eq!(at(&up, 0), (column, fifth_top), "it leaves broker 5's card, not broker 1's");
        let (x, y) = at(&up, 500);
        assert!(x > column + BROKER_WIDTH / 4.0 && y < fifth_top, "beside the column, right going up: {x}, {y}");
        let down = [message(broker(1), broker(5), 0, 2)];
        assert!(at(&down, 500).0 < column - BROKER_WIDTH / 4.0, "left going down");
        let from_console = [Traffic { kind: "Produce", ..message(Endpoint::Console, broker(5), 0, 2) }];
        assert_eq!(
            at(&from_console, 999).1.round(),
            fifth_top.round(),
            "a client's message drops onto broker 5's card"
        );
    }

    #[test]
    fn the_way_back_takes_a_lower_arc() {
        let there = &dots(&[message(broker(1), broker(2), 0, 2)], 500)[0];
        let back = &dots(&[message(broker(2), broker(1), 0, 2)], 500)[0];
        assert_eq!(there.x, back.x);
        assert!(back.y > there.y, "lower on the drawing (SVG's y grows downwards)");
    }

    #[test]
    fn a_long_flight_is_placed_by_its_own_length() {
        let traffic = [message(broker(3), broker(1), 0, 4_000)];
        let halfway = &dots(&traffic, 2_000)[0];
        assert_eq!(halfway.x, (centre(2) + centre(0)) / 2.0);
    }

    #[test]
    fn client_requests_drop_in_from_the_top_edge_and_answers_go_back_up() {
        let request = &dots(&[message(Endpoint::Console, broker(2), 0, 2)], 250)[0];
        assert_eq!((request.x, request.y), (centre(1) - SIDE_OFFSET, -0.75 * WIRE_BAND));
        let answer = &dots(&[message(broker(2), Endpoint::Console, 0, 2)], 250)[0];
        assert_eq!((answer.x, answer.y), (centre(1) - SIDE_OFFSET, -0.25 * WIRE_BAND));
        assert_eq!((answer.from.as_str(), answer.to.as_str()), ("broker 2", "console"));
    }

    #[test]
    fn a_combined_controller_talks_from_its_brokers_card_and_not_to_its_own_broker() {
        let c1 = Endpoint::Controller(ControllerId(1));
        let heartbeat = [message(broker(3), c1.clone(), 0, 2)];
        let dot = &dots(&heartbeat, 500)[0];
        assert_eq!(dot.x, (centre(2) + centre(0)) / 2.0);
        assert!(dots(&[message(broker(1), c1.clone(), 0, 2)], 500).is_empty(), "the same machine");
        let dedicated = in_flight(&heartbeat, 500, &BROKERS, ControllerLayout::Dedicated, CARD_HEIGHT);
        assert_eq!(dedicated[0].x, centre(2) + SIDE_OFFSET, "a lone controller is above the right of the card");
        let between_controllers = [message(c1, Endpoint::Controller(ControllerId(2)), 0, 2)];
        assert!(in_flight(&between_controllers, 500, &BROKERS, ControllerLayout::Dedicated, CARD_HEIGHT).is_empty());
    }

    #[test]
    fn a_message_to_a_dead_broker_stops_short_with_a_cross() {
        let mut dropped = message(broker(1), broker(2), 0, 2);
        dropped.fate = TrafficFate::Dropped(DropReason::NodeDown);
        let early = &dots(std::slice::from_ref(&dropped), 400)[0];
        assert!(!early.cross && early.fate == "node-down");
        let stopped = &dots(std::slice::from_ref(&dropped), 900)[0];
        assert!(stopped.cross);
        assert_eq!((stopped.x, stopped.y), point(Place::Card(0), Place::Card(1), DROP_AT, CARD_HEIGHT));
    }
}
