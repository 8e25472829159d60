//! The network's traffic on the page: an `acks=all` produce typed in the console shows in the
//! "Requests" sequence diagram as a Produce from the console's lane to the leader's and a
//! ProduceResponse back, travels on the cluster drawing, and brings the followers' fetches
//! into the diagram once background traffic is shown; a produce to a killed leader is drawn
//! dropped, its receiver down. Playing faster than 10× the diagram holds still and the drawing
//! shows no messages, since they would only flicker; pausing brings both back.
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

#[wasm_bindgen_test]
async fn playing_too_fast_to_follow_holds_the_diagram_and_hides_messages_until_paused() {
    let (page, leader) = paused_page().await;
    let leader_lane = format!("broker {leader}");
    type_command(&page, "produce orders partition=0 value=seen acks=all");
    tick().await;
    type_command(&page, "advance 200ms");
    tick().await;
    let request = format!("[data-testid=arrow][data-kind=Produce][data-to=\"{leader_lane}\"]");
    assert_eq!(arrows(&page, &request), 1);
    let body = web_sys::window().unwrap().document().unwrap().body().unwrap();
    for _ in 0..6 {
        press(&body, "+");
    }
    tick().await;
    assert_eq!(text(&page, "[data-testid=speed-label]"), "100×");
    click(&page, "[data-testid=play]");
    // 30 s later the produce is long out of the last 3 s, but the diagram holds what it showed.
    type_command(&page, "advance 30s");
    type_command(&page, "produce orders partition=1 value=unseen acks=all");
    tick().await;
    assert!(text(&page, "[data-testid=sequence-hint]").starts_with("Holding still while playing faster than 10×"));
    assert_eq!(arrows(&page, &request), 1, "the held diagram still shows the first produce");
    assert!(!exists(&page, "[data-testid=cluster] [data-testid=message]"), "no messages drawn at 100×");
    assert!(text(&page, "[data-testid=in-flight-note]").contains("10× or slower"));

    click(&page, "[data-testid=play]"); // pause: both follow the clock again
    tick().await;
    assert_eq!(arrows(&page, &request), 0, "the first produce is out of the last 3 s");
    assert!(!text(&page, "[data-testid=sequence-hint]").starts_with("Holding"));
    assert!(!exists(&page, "[data-testid=in-flight-note]"));
}
