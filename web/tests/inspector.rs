//! The inspector in a real headless Chromium: click a replica row and see its log (batches
//! with offsets and producer id, then a batch's bytes in hex with its fields named) without
//! killing the broker; click a controller's row, a group's name and a broker's Inspect button
//! and see their state.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::task::tick;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

/// Runs console lines one after the other, letting the page redraw after each.
async fn run(page: &Element, lines: &[&str]) {
    for line in lines {
        type_command(page, line);
        tick().await;
    }
}

fn count(root: &Element, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

#[wasm_bindgen_test]
async fn clicking_a_replica_shows_its_batches_and_a_batchs_labelled_bytes_without_killing_the_broker() {
    forget_lessons();
    let page = mount();
    click(&page, "[data-testid=play]"); // pause: this test moves time itself
    run(
        &page,
        &[
            "advance 1s",
            "producer p1",
            "advance 2s",
            "produce orders partition=0 key=alice value=10 producer=p1",
            "advance 1s",
            "produce orders partition=0 key=bob value=11 producer=p1",
            "advance 2s",
        ],
    )
    .await;
    let producer_id = text(&page, "[data-client=p1] [data-detail=\"producer id\"] dd");
    assert!(producer_id.parse::<i64>().is_ok_and(|id| id >= 0), "p1 has a producer id: {producer_id}");

    click(&page, "[data-broker=\"1\"] [data-replica=\"orders/0\"]");
    tick().await;
    assert_eq!(attribute(&page, "[data-broker=\"1\"]", "data-status"), "alive", "the click did not kill the broker");
    assert!(!text(&page, "[data-testid=history]").contains("kill"), "no kill was recorded");
    let inspected = find(&page, "[data-testid=inspected-replica]");
    assert_eq!(inspected.get_attribute("data-broker").as_deref(), Some("1"));
    assert_eq!(inspected.get_attribute("data-partition").as_deref(), Some("orders/0"));
    assert_eq!(count(&page, "[data-testid=batches] li.batch"), 2);
    assert_eq!(attribute(&page, "[data-testid=batches] li.batch:nth-child(1)", "data-offsets"), "0");
    assert_eq!(attribute(&page, "[data-testid=batches] li.batch:nth-child(2)", "data-offsets"), "1");
    for batch in 1..=2 {
        let selector = format!("[data-testid=batches] li.batch:nth-child({batch})");
        assert_eq!(attribute(&page, &selector, "data-producer-id"), producer_id);
        assert_eq!(attribute(&page, &selector, "data-committed"), "true");
    }

    click(&page, "[data-batch=\"0\"] button.batch-choose");
    tick().await;
    let batch_length: u32 = attribute(&page, "[data-testid=fields] [data-field-name=batchLength]", "data-value")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        count(&page, "[data-testid=hex-dump] [data-byte]"),
        batch_length + 12,
        "every byte of the batch is shown"
    );
    let key = find(&page, "[data-testid=fields] [data-field-name=key]");
    assert_eq!(key.get_attribute("data-value").as_deref(), Some("\"alice\""));
    assert_eq!(attribute(&page, "[data-testid=fields] [data-field-name=producerId]", "data-value"), producer_id);
    let key_index = key.get_attribute("data-field-index").unwrap();
    let key_bytes = format!("[data-testid=hex-dump] [data-field=\"{key_index}\"]");
    assert_eq!(count(&page, &key_bytes), 5, "\"alice\" is five bytes");
    assert!(attribute(&page, &key_bytes, "title").starts_with("key \"alice\""));
    assert_eq!(text(&page, &key_bytes), "61", "the key's first byte is 'a'");

    click(&page, "[data-testid=fields] [data-field-name=key] button");
    tick().await;
    assert_eq!(count(&page, "[data-testid=hex-dump] .byte.selected"), 5, "choosing the key highlights its bytes");
}

#[wasm_bindgen_test]
async fn a_controller_a_group_and_a_broker_show_their_state() {
    forget_lessons();
    let page = mount();
    click(&page, "[data-testid=play]");
    run(&page, &["advance 1s", "consumer alice group=billing topics=orders", "advance 10s"]).await;

    let role = attribute(&page, "[data-controller=\"1\"]", "data-role");
    click(&page, "[data-controller=\"1\"] button");
    tick().await;
    let controller = find(&page, "[data-testid=inspected-controller]");
    assert_eq!(controller.get_attribute("data-role"), Some(role));
    assert!(exists(&page, "[data-testid=inspected-controller] [data-fact=\"voted for\"]"));
    assert!(count(&page, ".inspector-metadata li") > 0, "its metadata log is listed");

    click(&page, "[data-inspect-group=billing]");
    tick().await;
    assert_eq!(attribute(&page, "[data-testid=inspected-group]", "data-state"), "Stable");
    assert_eq!(text(&page, "[data-testid=inspected-group] [data-fact=\"protocol type\"] dd"), "consumer");
    assert!(text(&page, "[data-testid=inspected-group] [data-member=alice]").contains("orders/0"));

    click(&page, "[data-inspect-broker=\"2\"]");
    tick().await;
    assert_eq!(attribute(&page, "[data-broker=\"2\"]", "data-status"), "alive", "Inspect does not kill the broker");
    assert_eq!(attribute(&page, "[data-testid=inspected-broker]", "data-broker"), "2");
    assert_eq!(text(&page, "[data-testid=inspected-broker] [data-fact=fenced] dd"), "no");
    assert_eq!(count(&page, "[data-testid=inspected-broker] [data-held^=\"orders/\"]"), 3);
}
