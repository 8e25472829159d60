//! The Compare mode in a real headless Chromium: open it from the controls bar, load the
//! `acks=1` vs `acks=all` preset, play on, and see the `acks=1` side report acknowledged records
//! lost (listed by offset) while the `acks=all` side reports none, both at the same moment; a
//! line typed in the console runs on both sides. The address bar holds the comparison, and
//! opening that link shows the same two runs at the same moment.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::task::tick;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn the_acks_preset_loses_acknowledged_records_with_acks_1_only_and_a_typed_kill_reaches_both_sides() {
    forget_lessons();
    let page = mount();
    click(&page, "[data-testid=play]"); // pause the lab: compare mode has its own clock
    tick().await;
    click(&page, "[data-testid=compare-mode]");
    tick().await;
    assert!(exists(&page, "[data-testid=compare]"), "compare mode replaced the lab");
    assert!(!exists(&page, "main.lab"));
    assert_eq!(attribute(&page, "[data-testid=compare-mode]", "aria-pressed"), "true");
    assert!(find(&page, "[data-testid=produce]").has_attribute("hidden"), "the lab's own produce button is put away");
    assert_eq!(attribute(&page, "[data-side=left]", "data-label"), "acks=1");
    assert_eq!(attribute(&page, "[data-side=right]", "data-label"), "acks=all");
    assert_eq!(text(&page, "[data-side=left] .compare-title"), "acks=1");

    click(&page, "[data-testid=compare-preset]");
    tick().await;
    assert!(text(&page, "[data-testid=compare-story]").contains("split 1 | 2 3"));
    assert_eq!(attribute(&page, "[data-side=left] [data-broker=\"1\"]", "data-status"), "dead");
    let history = text(&page, "[data-testid=history]");
    assert!(history.contains("acks=1 ⇄ produce"), "each side ran the produce with its acks: {history}");

    type_command(&page, "advance 30s");
    tick().await;
    let lost = |side: &str| attribute(&page, &format!("[data-side={side}]"), "data-lost").parse::<usize>().unwrap();
    assert!(lost("left") > 0, "acks=1 lost records it was told were written");
    assert_eq!(lost("right"), 0, "acks=all lost nothing it was told was written");
    assert_eq!(attribute(&page, "[data-side=right]", "data-acknowledged"), "0");
    assert!(text(&page, "[data-side=left] [data-testid=lost-records]").contains("orders/0@0"));
    assert!(text(&page, "[data-side=right] [data-testid=lost-records]").contains("Nothing acknowledged was lost"));
    let now = attribute(&page, "[data-side=left]", "data-now-ms");
    assert_eq!(now, attribute(&page, "[data-side=right]", "data-now-ms"), "both sides show the same moment");
    assert_eq!(now, "35100");
    assert_eq!(attribute(&page, "[data-testid=time]", "data-now-ms"), "35100", "the time controls follow both");

    type_command(&page, "kill 2");
    tick().await;
    for side in ["left", "right"] {
        assert_eq!(
            attribute(&page, &format!("[data-side={side}] [data-broker=\"2\"]"), "data-status"),
            "dead",
            "{side}"
        );
    }
    assert_eq!(text(&page, "[data-testid=error]"), "");

    click(&page, "[data-testid=compare-mode]");
    tick().await;
    assert!(
        exists(&page, "main.lab") && !exists(&page, "[data-testid=compare]"),
        "closing compare brings the lab back"
    );
}

#[wasm_bindgen_test]
async fn the_address_bar_holds_the_comparison_and_opening_it_shows_the_same_two_runs() {
    forget_lessons();
    let page = mount_with(None, true);
    click(&page, "[data-testid=play]");
    tick().await;
    click(&page, "[data-testid=compare-mode]");
    tick().await;
    click(&page, "[data-testid=compare-preset]");
    type_command(&page, "advance 30s");
    tick().await;
    let location = web_sys::window().unwrap().location();
    let hash = location.hash().unwrap();
    assert!(hash.starts_with("#compare=acks&"), "{hash}");
    let lost = attribute(&page, "[data-side=left]", "data-lost");
    assert_ne!(lost, "0");

    let reopened = mount_with(Some(hash), false);
    tick().await;
    assert!(exists(&reopened, "[data-testid=compare]"), "the link opens in compare mode");
    assert_eq!(text(&reopened, "[data-testid=error]"), "");
    for side in ["left", "right"] {
        let selector = format!("[data-side={side}]");
        for name in ["data-label", "data-lost", "data-acknowledged", "data-now-ms"] {
            assert_eq!(attribute(&reopened, &selector, name), attribute(&page, &selector, name), "{side} {name}");
        }
    }
    assert_eq!(text(&reopened, "[data-testid=history]"), text(&page, "[data-testid=history]"));

    click(&page, "[data-testid=compare-mode]");
    tick().await;
    let hash = location.hash().unwrap();
    assert!(!hash.contains("compare="), "closing compare puts the lab's run back in the address bar: {hash}");
}
