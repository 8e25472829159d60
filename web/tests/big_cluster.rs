//! A big cluster in a real headless Chromium: 7 brokers and a 50-partition topic, opened from
//! a link. The cards wrap onto two rows and draw their replicas as tiles; the topic filter and
//! the drawing choice change what is drawn; a leader killed by a click shows up in the tiles.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, Event, EventInit, HtmlSelectElement};

wasm_bindgen_test_configure!(run_in_browser);

const BIG: &str = "seed=1&brokers=7&t=3000&a=0:create-topic%20big%20partitions%3D50%20replication-factor%3D3";

fn choose(page: &Element, selector: &str, value: &str) {
    let select: HtmlSelectElement = find(page, selector).unchecked_into();
    select.set_value(value);
    let init = EventInit::new();
    init.set_bubbles(true);
    select.dispatch_event(&Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
}

fn count(page: &Element, selector: &str) -> u32 {
    page.query_selector_all(selector).unwrap().length()
}

#[wasm_bindgen_test]
async fn seven_brokers_and_fifty_partitions_are_drawn_as_tiles_on_two_rows_of_cards() {
    forget_lessons();
    let page = mount_with(Some(format!("#{BIG}")), false);
    tick().await;
    assert_eq!(count(&page, "[data-broker]"), 7);
    let subtitle = text(&page, "[data-testid=subtitle]");
    assert!(
        subtitle.starts_with("7 brokers, big: 50 partitions, replication factor 3; orders: 3 partitions"),
        "the line above the drawing names the cluster opened: {subtitle}"
    );
    assert!(find(&page, "[data-testid=cluster]").class_list().contains("tiles"));
    assert_eq!(count(&page, ".replica.tile[data-replica^=\"big/\"]"), 150, "every replica of big, as a tile");
    assert_eq!(count(&page, ".replica.tile.leader[data-replica^=\"big/\"]"), 50, "one leader each");
    let fifth = attribute(&page, "[data-broker=\"5\"]", "transform");
    assert!(fifth.starts_with("translate(0,") && !fifth.ends_with(",0)"), "broker 5 starts a second row: {fifth}");

    choose(&page, "[data-testid=topic-filter]", "orders");
    tick().await;
    assert_eq!(count(&page, "[data-replica^=\"big/\"]"), 0, "the filter hides big");
    assert_eq!(count(&page, "[data-partition^=\"big/\"]"), 0, "from the table too");
    assert!(count(&page, "[data-replica^=\"orders/\"]") > 0);
    assert!(!find(&page, "[data-testid=cluster]").class_list().contains("tiles"), "few replicas: rows again");

    choose(&page, "[data-testid=topic-filter]", "");
    choose(&page, "[data-testid=drawing]", "rows");
    tick().await;
    assert!(!find(&page, "[data-testid=cluster]").class_list().contains("tiles"));
    assert_eq!(count(&page, ".replica:not(.tile)[data-replica^=\"big/\"]"), 150);
}

#[wasm_bindgen_test]
async fn a_killed_broker_s_tiles_leave_the_isr_and_its_partitions_get_new_leaders() {
    forget_lessons();
    let page = mount_with(Some(format!("#{BIG}")), false);
    tick().await;
    let led_by_one = count(&page, "[data-broker=\"1\"] .replica.tile.leader");
    assert!(led_by_one > 0, "broker 1 leads some of big");
    click(&page, "[data-broker=\"1\"]");
    type_command(&page, "advance 12s");
    tick().await;
    assert_eq!(attribute(&page, "[data-broker=\"1\"]", "data-status"), "dead");
    let tile = attribute(&page, "[data-broker=\"1\"] .replica.tile", "data-replica");
    click(&page, &format!("[data-broker=\"1\"] .replica.tile[data-replica=\"{tile}\"]"));
    tick().await;
    assert_eq!(
        attribute(&page, "[data-broker=\"1\"]", "data-status"),
        "dead",
        "a tile click inspects, it does not restart"
    );
    assert_eq!(attribute(&page, "[data-testid=inspected-replica]", "data-partition"), tile, "the tile opened its log");
    assert_eq!(attribute(&page, "[data-testid=inspected-replica]", "data-broker"), "1");
    assert_eq!(count(&page, "[data-broker=\"1\"] .replica.tile.leader"), 0);
    assert_eq!(
        count(&page, "[data-broker=\"1\"] .replica.tile.in-sync"),
        0,
        "every tile of broker 1 is out of the ISR"
    );
    assert_eq!(count(&page, ".replica.tile.leader[data-replica^=\"big/\"]"), 50, "every partition has a leader");
}
