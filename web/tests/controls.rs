//! The control panel, the brokers table and the lag chart in a real headless Chromium: each
//! form runs its command line (and the history shows it), the brokers table follows a kill and
//! a controlled shutdown, a split cuts the cluster and heal joins it, and the lag chart draws a
//! group falling behind.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, Event, EventInit, HtmlInputElement, HtmlSelectElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A paused page whose brokers have registered.
async fn paused_page() -> Element {
    forget_lessons();
    let page = mount();
    click(&page, "[data-testid=play]");
    type_command(&page, "advance 1s");
    tick().await;
    page
}

fn fire(element: &Element, kind: &str) {
    let init = EventInit::new();
    init.set_bubbles(true);
    element.dispatch_event(&Event::new_with_event_init_dict(kind, &init).unwrap()).unwrap();
}

fn fill(page: &Element, selector: &str, value: &str) {
    let input: HtmlInputElement = find(page, selector).unchecked_into();
    input.set_value(value);
    fire(&input, "input");
}

fn choose(page: &Element, selector: &str, value: &str) {
    let select: HtmlSelectElement = find(page, selector).unchecked_into();
    select.set_value(value);
    assert_eq!(select.value(), value, "{selector} offers {value}");
    fire(&select, "change");
}

fn history(page: &Element) -> String {
    text(page, "[data-testid=history]")
}

#[wasm_bindgen_test]
async fn the_produce_form_sends_a_keyed_record_with_the_acks_chosen() {
    let page = paused_page().await;
    fill(&page, "[data-testid=produce-key]", "alice");
    fill(&page, "[data-testid=produce-value]", "two words");
    choose(&page, "[data-testid=produce-acks]", "1");
    click(&page, "[data-testid=produce-send]");
    tick().await;
    assert!(history(&page).contains("produce orders key=alice value=\"two words\" acks=1"), "{}", history(&page));
    type_command(&page, "advance 1s");
    tick().await;
    let leos: i64 = ["orders/0", "orders/1", "orders/2"]
        .iter()
        .map(|p| {
            attribute(&page, &format!("[data-broker=\"1\"] [data-replica=\"{p}\"]"), "data-leo").parse::<i64>().unwrap()
        })
        .sum();
    assert_eq!(leos, 1, "one record reached broker 1's copy of orders");
}

#[wasm_bindgen_test]
async fn settings_and_topics_change_through_their_command_lines() {
    let page = paused_page().await;
    choose(&page, "[data-testid=min-insync]", "2");
    tick().await;
    toggle_checkbox(&page, "[data-testid=unclean]");
    tick().await;
    fill(&page, "[data-testid=topic-name]", "payments");
    fill(&page, "[data-testid=topic-partitions]", "4");
    fill(&page, "[data-testid=topic-rf]", "2");
    click(&page, "[data-testid=topic-create]");
    tick().await;
    type_command(&page, "advance 1s");
    tick().await;
    let lines = history(&page);
    for line in [
        "set min.insync.replicas=2",
        "set unclean.leader.election.enable=true",
        "create-topic payments partitions=4 replication-factor=2",
    ] {
        assert!(lines.contains(line), "{line} in {lines}");
    }
    find(&page, "[data-partition=\"payments/3\"]");
    assert!(!exists(&page, "[data-partition=\"payments/4\"]"));
    let select: HtmlSelectElement = find(&page, "[data-testid=min-insync]").unchecked_into();
    assert_eq!(select.value(), "2", "the panel shows the setting the metadata now holds");

    choose(&page, "[data-testid=grow-topic]", "payments");
    fill(&page, "[data-testid=grow-to]", "6");
    click(&page, "[data-testid=grow]");
    tick().await;
    type_command(&page, "advance 1s");
    tick().await;
    find(&page, "[data-partition=\"payments/5\"]");
}

#[wasm_bindgen_test]
async fn a_consumer_added_and_then_stopped_from_the_panel_joins_and_leaves_its_group() {
    let page = paused_page().await;
    fill(&page, "[data-testid=consumer-group]", "billing");
    click(&page, "[data-testid=consumer-add]");
    tick().await;
    type_command(&page, "advance 10s");
    tick().await;
    assert!(history(&page).contains("consumer consumer-1 group=billing topics=orders"), "{}", history(&page));
    assert_eq!(attribute(&page, "[data-group=billing]", "data-state"), "Stable");
    assert!(text(&page, "[data-testid=consumer-add]").contains("consumer-2"), "the next one gets a new name");

    click(&page, "[data-testid=consumer-remove]");
    tick().await;
    type_command(&page, "advance 5s");
    tick().await;
    assert!(history(&page).contains("stop consumer-1"));
    assert_eq!(attribute(&page, "[data-group=billing]", "data-state"), "Empty");
}

#[wasm_bindgen_test]
async fn the_brokers_table_follows_a_kill_and_a_controlled_shutdown() {
    let page = paused_page().await;
    assert_eq!(attribute(&page, "[data-broker-row=\"1\"]", "data-leaders"), "1");
    click(&page, "[data-broker-action=\"shutdown 3\"]");
    tick().await;
    assert_eq!(attribute(&page, "[data-broker-row=\"3\"]", "data-state"), "shutting down");
    assert_eq!(attribute(&page, "[data-broker=\"3\"]", "data-status"), "shutting down", "the drawing says so too");
    type_command(&page, "advance 5s");
    tick().await;
    assert_eq!(attribute(&page, "[data-broker-row=\"3\"]", "data-state"), "dead", "its shutdown finished");
    let count = |broker: u32, column: &str| -> u32 {
        attribute(&page, &format!("[data-broker-row=\"{broker}\"]"), column).parse().unwrap()
    };
    assert_eq!(count(3, "data-leaders"), 0, "its leaderships moved away first");
    assert_eq!(count(1, "data-leaders") + count(2, "data-leaders"), 3);
    assert_eq!(count(1, "data-urp") + count(2, "data-urp"), 3, "every partition lacks broker 3");
    assert_eq!(count(3, "data-out-of-isr"), 3);

    click(&page, "[data-broker-action=\"kill 1\"]");
    tick().await;
    assert_eq!(attribute(&page, "[data-broker-row=\"1\"]", "data-state"), "dead");
    find(&page, "[data-broker-action=\"restart 1\"]");
}

#[wasm_bindgen_test]
async fn a_split_from_the_network_form_isolates_a_broker_and_heal_joins_it_again() {
    let page = paused_page().await;
    choose(&page, "[data-split-broker=\"1\"]", "0");
    choose(&page, "[data-split-broker=\"2\"]", "1");
    choose(&page, "[data-split-broker=\"3\"]", "1");
    click(&page, "[data-testid=split]");
    tick().await;
    assert!(history(&page).contains("split 1 | 2 3"), "{}", history(&page));
    type_command(&page, "advance 15s");
    tick().await;
    assert_ne!(
        attribute(&page, "[data-partition=\"orders/0\"]", "data-leader"),
        "1",
        "cut off, broker 1 lost orders/0"
    );
    let select: HtmlSelectElement = find(&page, "[data-split-broker=\"1\"]").unchecked_into();
    assert_eq!(select.value(), "0", "the form shows the split in force");

    click(&page, "[data-testid=heal]");
    tick().await;
    type_command(&page, "advance 15s");
    tick().await;
    assert!(history(&page).contains("heal"));
    assert_eq!(
        attribute(&page, "[data-partition=\"orders/0\"]", "data-isr").split(", ").count(),
        3,
        "broker 1 caught up"
    );
}

#[wasm_bindgen_test]
async fn the_lag_chart_draws_a_group_falling_behind_while_its_consumer_is_dead() {
    let page = paused_page().await;
    assert!(text(&page, ".lag").contains("No group has committed"));
    type_command(&page, "consumer alice group=billing topics=orders auto.offset.reset=earliest");
    type_command(&page, "advance 10s");
    tick().await;
    type_command(&page, "kill alice");
    for n in 0..4 {
        type_command(&page, &format!("produce orders value=v{n}"));
        type_command(&page, "advance 1s");
        tick().await;
    }
    assert_eq!(attribute(&page, "[data-lag-group=billing]", "data-latest"), "4");
    let points = attribute(&page, "[data-lag-group=billing] polyline", "points");
    assert!(points.split(' ').count() >= 5, "a point per sample: {points}");
}
