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

/// Side of one replica tile in the compact drawing.
pub const TILE: f64 = 40.0;
/// Space between two tiles.
pub const TILE_GAP: f64 = 5.0;
/// A card draws tiles instead of rows once some broker holds more replicas than this.
pub const COMPACT_ABOVE: usize = 8;

/// How the cards draw their replicas: rows with logs, tiles, or whichever fits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Drawing {
    #[default]
    Auto,
    Rows,
    Tiles,
}

impl Drawing {
    /// The form's value for it, and back.
    pub fn key(self) -> &'static str {
        match self {
            Drawing::Auto => "auto",
            Drawing::Rows => "rows",
            Drawing::Tiles => "tiles",
        }
    }

    pub fn from_key(key: &str) -> Drawing {
        match key {
            "rows" => Drawing::Rows,
            "tiles" => Drawing::Tiles,
            _ => Drawing::Auto,
        }
    }

    /// Whether cards draw tiles, when the fullest broker holds `most_replicas`.
    pub fn tiles(self, most_replicas: usize) -> bool {
        match self {
            Drawing::Auto => most_replicas > COMPACT_ABOVE,
            Drawing::Rows => false,
            Drawing::Tiles => true,
        }
    }
}

/// How many tiles fit across a card.
pub fn tiles_per_row() -> usize {
    ((BROKER_WIDTH - 2.0 * PADDING + TILE_GAP) / (TILE + TILE_GAP)) as usize
}

/// Where tile `index` (0-based) of a card goes: its top-left corner.
pub fn tile_position(index: usize) -> (f64, f64) {
    let per_row = tiles_per_row();
    let (row, column) = (index / per_row, index % per_row);
    (PADDING + column as f64 * (TILE + TILE_GAP), BROKER_HEADER + row as f64 * (TILE + TILE_GAP))
}

/// A card's height for `replicas` tiles.
pub fn compact_height(replicas: usize) -> f64 {
    let rows = replicas.div_ceil(tiles_per_row());
    BROKER_HEADER + rows as f64 * (TILE + TILE_GAP) + PADDING
}

/// The most cards side by side; more brokers wrap onto further rows, so that 7 brokers stay
/// legible on a laptop's screen.
pub const CARDS_PER_ROW: usize = 4;

/// The x of broker card `index` (0-based).
pub fn broker_x(index: usize) -> f64 {
    (index % CARDS_PER_ROW) as f64 * (BROKER_WIDTH + BROKER_GAP)
}

/// The y of broker card `index` (0-based) when every card is `card_height` tall.
pub fn broker_y(index: usize, card_height: f64) -> f64 {
    (index / CARDS_PER_ROW) as f64 * (card_height + BROKER_GAP)
}

/// The whole drawing's width for `brokers` cards.
pub fn diagram_width(brokers: usize) -> f64 {
    let across = brokers.min(CARDS_PER_ROW);
    if across == 0 {
        return 0.0;
    }
    across as f64 * BROKER_WIDTH + (across - 1) as f64 * BROKER_GAP
}

/// The whole drawing's height for `brokers` cards each `card_height` tall.
pub fn diagram_height(brokers: usize, card_height: f64) -> f64 {
    let rows = brokers.div_ceil(CARDS_PER_ROW).max(1);
    rows as f64 * card_height + (rows - 1) as f64 * BROKER_GAP
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
    fn tiles_fill_a_card_row_by_row_without_crossing_its_edge() {
        let per_row = tiles_per_row();
        assert_eq!(per_row, 6);
        let (last_x, _) = tile_position(per_row - 1);
        assert!(last_x + TILE <= BROKER_WIDTH - PADDING);
        assert_eq!(tile_position(per_row), (PADDING, BROKER_HEADER + TILE + TILE_GAP), "the next row starts left");
        // 7 brokers × 50 partitions × 3 replicas: about 22 replicas a broker, four rows.
        assert_eq!(compact_height(22), BROKER_HEADER + 4.0 * (TILE + TILE_GAP) + PADDING);
        assert!(compact_height(22) < broker_height(22) / 4.0, "a quarter of the detailed card's height");
    }

    #[test]
    fn the_automatic_drawing_switches_to_tiles_only_for_big_clusters() {
        assert!(!Drawing::Auto.tiles(3), "the page's cluster keeps its logs");
        assert!(Drawing::Auto.tiles(22));
        assert!(Drawing::Tiles.tiles(1) && !Drawing::Rows.tiles(100));
        for drawing in [Drawing::Auto, Drawing::Rows, Drawing::Tiles] {
            assert_eq!(Drawing::from_key(drawing.key()), drawing);
        }
    }

    #[test]
    fn seven_brokers_wrap_onto_a_second_row_of_cards() {
        assert_eq!(diagram_width(7), diagram_width(4));
        assert_eq!((broker_x(4), broker_y(4, 100.0)), (0.0, 100.0 + BROKER_GAP));
        assert_eq!(broker_y(3, 100.0), 0.0);
        assert_eq!(diagram_height(7, 100.0), broker_y(6, 100.0) + 100.0);
        assert_eq!(diagram_height(3, 100.0), 100.0);
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
