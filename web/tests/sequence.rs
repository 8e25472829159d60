//! The network's traffic on the page: an `acks=all` produce typed in the console shows in the
//! "Requests" sequence diagram as a Produce from the console's lane to the leader's and a
//! ProduceResponse back, travels on the cluster drawing, and brings the followers' fetches
//! into the diagram once background traffic is shown; a produce to a killed leader is drawn
//! dropped, its receiver down.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::task::tick;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

/// The page, paused with its brokers registered, and the leader of orders/0.
async fn paused_page() -> (Element, String) {
    forget_lessons();
    let page = mount();
    click(&page, "[data-testid=play]"); // pause: the test moves time itself
    tick().await;
    type_command(&page, "advance 2s");
    tick().await;
    let leader = attribute(&page, "[data-partition=\"orders/0\"]", "data-leader");
    (page, leader)
}

fn arrows(page: &Element, selector: &str) -> u32 {
    find(page, "[data-testid=sequence]").query_selector_all(selector).unwrap().length()
}

#[wasm_bindgen_test]
async fn an_acks_all_produce_shows_as_a_request_to_the_leader_and_an_answer_back() {
    let (page, leader) = paused_page().await;
    let leader_lane = format!("broker {leader}");
    type_command(&page, "produce orders partition=0 value=hello acks=all");
    tick().await;
    // The record leaves the console: it travels on the cluster drawing, from the top edge.
    let travelling = "[data-testid=cluster] [data-testid=message][data-kind=Produce]";
    assert_eq!(attribute(&page, travelling, "data-to"), leader_lane);
    assert_eq!(attribute(&page, travelling, "data-from"), "console");

    type_command(&page, "advance 200ms");
    tick().await;
    let request = format!("[data-testid=arrow][data-kind=Produce][data-from=console][data-to=\"{leader_lane}\"]");
    assert_eq!(arrows(&page, &request), 1, "one Produce from the console to the leader");
    assert_eq!(attribute(&page, &request, "data-fate"), "delivered");
    let answer =
        format!("[data-testid=arrow][data-kind=ProduceResponse][data-from=\"{leader_lane}\"][data-to=console]");
    assert_eq!(arrows(&page, &answer), 1, "its answer comes back");
    assert!(exists(&page, "[data-testid=lane][data-lane=console]"));
    // The followers' fetches that carried the record travel between the cards, and are news.
    assert!(exists(
        &page,
        &format!("[data-testid=cluster] [data-testid=message][data-kind=FetchResponse][data-from=\"{leader_lane}\"]")
    ));
    assert!(arrows(&page, &format!("[data-testid=arrow][data-kind=FetchResponse][data-from=\"{leader_lane}\"]")) >= 2);

    // The background is hidden: no follower long-polls, no heartbeats.
    assert_eq!(arrows(&page, "[data-testid=arrow][data-background=true]"), 0);
    assert!(text(&page, "[data-testid=sequence-hint]").contains("background messages hidden"));
    toggle_checkbox(&page, "[data-testid=show-background]");
    tick().await;
    let fetches = format!("[data-testid=arrow][data-kind=Fetch][data-to=\"{leader_lane}\"]");
    assert!(arrows(&page, &fetches) >= 2, "the followers' replication fetches show with the background");
    assert!(arrows(&page, "[data-testid=arrow][data-kind=BrokerHeartbeat]") > 0);
}

#[wasm_bindgen_test]
async fn a_produce_to_a_killed_leader_is_drawn_dropped_because_it_is_down() {
    let (page, leader) = paused_page().await;
    let leader_lane = format!("broker {leader}");
    type_command(&page, &format!("kill {leader}"));
    tick().await;
    // The metadata still names it leader until its session expires: the produce goes to it.
    type_command(&page, "produce orders partition=0 value=lost acks=all");
    tick().await;
    type_command(&page, "advance 100ms");
    tick().await;
    let request = format!("[data-testid=arrow][data-kind=Produce][data-to=\"{leader_lane}\"]");
    assert_eq!(attribute(&page, &request, "data-fate"), "node-down");
    assert!(exists(&page, &format!("{request} .cross")), "it ends in a cross");
    assert_eq!(attribute(&page, &request, "data-from"), "console");
}
