//! Where things go on the SVG drawing of the cluster, in SVG user units.
//!
//! Brokers stand side by side as cards; inside a card, one row per replica it holds, with the
//! replica's log drawn as cells by offset and marks for the high watermark and log end offset.

/// Width of one broker card.
pub const BROKER_WIDTH: f64 = 300.0;
/// Space between two broker cards.
pub const BROKER_GAP: f64 = 24.0;
/// Height of a card's header (its name and state).
pub const BROKER_HEADER: f64 = 44.0;
/// Height of one replica row.
pub const REPLICA_ROW: f64 = 56.0;
/// Width of one log cell (one offset).
pub const CELL_WIDTH: f64 = 16.0;
/// The most log cells a row draws; older offsets scroll off to the left.
pub const MAX_CELLS: i64 = 10;
/// Padding inside a card.
pub const PADDING: f64 = 12.0;

/// The x of broker card `index` (0-based).
pub fn broker_x(index: usize) -> f64 {
    index as f64 * (BROKER_WIDTH + BROKER_GAP)
}

/// The whole drawing's width for `brokers` cards.
pub fn diagram_width(brokers: usize) -> f64 {
    if brokers == 0 {
        return 0.0;
    }
    brokers as f64 * BROKER_WIDTH + (brokers - 1) as f64 * BROKER_GAP
}

/// A card's height for `replicas` rows.
pub fn broker_height(replicas: usize) -> f64 {
    BROKER_HEADER + replicas as f64 * REPLICA_ROW + PADDING
}

/// The first offset a row draws, so that the log end is always in view.
pub fn first_visible_offset(log_start: i64, log_end: i64) -> i64 {
    log_start.max(log_end - MAX_CELLS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_do_not_overlap() {
        assert!(broker_x(1) >= broker_x(0) + BROKER_WIDTH);
        assert_eq!(diagram_width(3), broker_x(2) + BROKER_WIDTH);
    }

    #[test]
    fn the_log_end_stays_in_view() {
        assert_eq!(first_visible_offset(0, 5), 0);
        assert_eq!(first_visible_offset(0, 100), 100 - MAX_CELLS);
        assert_eq!(first_visible_offset(90, 100), 90);
    }

    #[test]
    fn log_cells_leave_room_for_the_offsets_label() {
        // The "LEO n · HW n" label sits right of the cells and needs about 100 units.
        assert!(PADDING + MAX_CELLS as f64 * CELL_WIDTH + 100.0 < BROKER_WIDTH - PADDING);
    }
}
