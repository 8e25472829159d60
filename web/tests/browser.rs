//! The page in a real headless Chromium: mount the app, click a broker, and see the page mark
//! it dead and, once the session timeout has passed, show its partition's new leader; start a
//! consumer from the console and see its group, its partitions and its kill button; scrub the
//! timeline back past a kill, fork the run, reopen a run from its link, and use the shortcuts;
//! play the first lesson to its end by clicking and typing, and find it where it was left after
//! a reload.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::prelude::{document, window};
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn clicking_a_broker_marks_it_dead_and_its_partition_gets_a_new_leader() {
    let page = mount();
    click(&page, "[data-testid=play]"); // pause: this test moves time itself
    tick().await;
    assert_eq!(find(&page, "[data-testid=play]").text_content().unwrap(), "Play");

    type_command(&page, "advance 1s"); // let the brokers register
    tick().await;
    assert_eq!(attribute(&page, "[data-partition=\"orders/0\"]", "data-leader"), "1");
    assert_eq!(attribute(&page, "[data-broker=\"1\"]", "data-status"), "alive");

    click(&page, "[data-broker=\"1\"]");
    tick().await;
    assert_eq!(attribute(&page, "[data-broker=\"1\"]", "data-status"), "dead");
    // Nothing is elected before broker.session.timeout.ms (9 s) has passed.
    assert_eq!(attribute(&page, "[data-partition=\"orders/0\"]", "data-leader"), "1");

    type_command(&page, "advance 10s");
    tick().await;
    assert_eq!(attribute(&page, "[data-partition=\"orders/0\"]", "data-leader"), "2");
    assert_eq!(attribute(&page, "[data-partition=\"orders/0\"]", "data-isr"), "2, 3");
    assert_eq!(attribute(&page, "[data-broker=\"2\"] [data-replica=\"orders/0\"]", "data-role"), "leader");
    let history = find(&page, "[data-testid=history]").text_content().unwrap();
    assert!(history.contains("kill 1"), "the click was recorded as a command: {history}");

    click(&page, "[data-broker=\"1\"]");
    tick().await;
    assert_ne!(attribute(&page, "[data-broker=\"1\"]", "data-status"), "dead");
}

#[wasm_bindgen_test]
async fn a_mistyped_command_shows_where_it_is_wrong() {
    let page = mount();
    click(&page, "[data-testid=play]");
    type_command(&page, "kill 2x");
    tick().await;
    let error = find(&page, "[data-testid=error]").text_content().unwrap();
    assert!(error.contains("column 6") && error.contains("not a broker id"), "{error}");
}

#[wasm_bindgen_test]
async fn a_topic_created_from_the_console_appears_on_every_broker() {
    let page = mount();
    click(&page, "[data-testid=play]");
    type_command(&page, "advance 1s");
    tick().await;
    let height_before: f64 = attribute(&page, "[data-broker=\"1\"] rect.card", "height").parse().unwrap();
    type_command(&page, "create-topic payments partitions=3 replication-factor=3");
    tick().await;
    type_command(&page, "advance 1s");
    tick().await;
    for broker in 1..=3 {
        find(&page, &format!("[data-broker=\"{broker}\"] [data-replica=\"payments/2\"]"));
    }
    let height_after: f64 = attribute(&page, "[data-broker=\"1\"] rect.card", "height").parse().unwrap();
    assert!(height_after > height_before, "the cards grew from {height_before} to {height_after}");
    let events = find(&page, "[data-testid=events]").text_content().unwrap();
    assert!(events.contains("topic payments has 3 partitions"), "{events}");
}

#[wasm_bindgen_test]
async fn the_controller_quorum_is_shown_and_a_new_active_controller_takes_over() {
    let page = mount();
    click(&page, "[data-testid=play]");
    type_command(&page, "advance 5s");
    tick().await;
    let leaders = page.query_selector_all("[data-controller][data-role=leader]").unwrap();
    assert_eq!(leaders.length(), 1, "one active controller");
    assert_eq!(page.query_selector_all("[data-controller]").unwrap().length(), 3);
    let active: Element = leaders.item(0).unwrap().unchecked_into();
    let id = active.get_attribute("data-controller").unwrap();
    let log = find(&page, "[data-testid=metadata-log]").text_content().unwrap();
    assert!(log.contains("RegisterBroker"), "the committed metadata log is listed: {log}");

    type_command(&page, &format!("kill c{id}"));
    tick().await;
    assert_eq!(attribute(&page, &format!("[data-controller=\"{id}\"]"), "data-role"), "dead");
    type_command(&page, "advance 10s");
    tick().await;
    let leaders = page.query_selector_all("[data-controller][data-role=leader]").unwrap();
    assert_eq!(leaders.length(), 1, "the quorum elected another");
    let new: Element = leaders.item(0).unwrap().unchecked_into();
    assert_ne!(new.get_attribute("data-controller").unwrap(), id);
}

#[wasm_bindgen_test]
async fn a_consumer_typed_in_the_console_makes_its_group_stable_and_a_click_kills_it() {
    let page = mount();
    click(&page, "[data-testid=play]");
    type_command(&page, "advance 1s");
    tick().await;
    assert!(find(&page, "[data-testid=groups]").text_content().unwrap().contains("No consumer groups yet"));

    type_command(&page, "consumer alice group=billing topics=orders auto.offset.reset=earliest");
    tick().await;
    type_command(&page, "advance 10s");
    tick().await;
    assert_eq!(attribute(&page, "[data-group=billing]", "data-state"), "Stable");
    assert_eq!(find(&page, "[data-group=billing] [data-testid=group-state]").text_content().unwrap(), "● Stable");
    assert_eq!(attribute(&page, "[data-group=billing] [data-member=alice]", "data-leader"), "true");
    for partition in 0..3 {
        let row = format!("[data-group=billing] [data-group-partition=\"orders/{partition}\"]");
        assert_eq!(attribute(&page, &row, "data-owner"), "alice", "alice owns orders/{partition}");
        assert_eq!(attribute(&page, &row, "data-lag"), "0", "nothing was produced to orders/{partition}");
    }
    let coordinator = attribute(&page, "[data-group=billing]", "data-coordinator");
    assert!(["1", "2", "3"].contains(&coordinator.as_str()), "a broker coordinates billing: {coordinator}");
    assert_eq!(attribute(&page, "[data-client=alice]", "data-kind"), "consumer");
    assert_eq!(attribute(&page, "[data-client=alice]", "data-alive"), "true");

    click(&page, "[data-client-action=alice]");
    tick().await;
    assert_eq!(attribute(&page, "[data-client=alice]", "data-alive"), "false");
    assert_eq!(find(&page, "[data-client-action=alice]").text_content().unwrap(), "Restart");
    let history = find(&page, "[data-testid=history]").text_content().unwrap();
    assert!(history.contains("kill alice"), "the click was recorded as a command: {history}");

    click(&page, "[data-client-action=alice]");
    tick().await;
    assert_eq!(attribute(&page, "[data-client=alice]", "data-alive"), "true");
    assert!(find(&page, "[data-testid=history]").text_content().unwrap().contains("restart alice"));
}

#[wasm_bindgen_test]
async fn internal_topics_stay_hidden_until_the_toggle_shows_them() {
    let page = mount();
    click(&page, "[data-testid=play]");
    type_command(&page, "advance 1s");
    tick().await;
    type_command(&page, "consumer alice group=billing topics=orders");
    tick().await;
    type_command(&page, "advance 10s");
    tick().await;
    let internal = "[data-broker=\"1\"] [data-replica^=\"__consumer_offsets/\"]";
    assert_eq!(page.query_selector_all(internal).unwrap().length(), 0);
    assert!(page.query_selector("[data-partition^=\"__consumer_offsets/\"]").unwrap().is_none());

    toggle_checkbox(&page, "[data-testid=show-internal]");
    tick().await;
    assert!(page.query_selector_all(internal).unwrap().length() > 0, "the coordinator's log is drawn");
    find(&page, "[data-partition=\"__consumer_offsets/0\"]");
}

/// Does what a task's solution says, as a learner would: a click on the broker for `kill N` and
/// `restart N`, the console for anything else.
fn perform(page: &Element, task: &kafkalab_core::lesson::Task) {
    for command in &task.solution {
        let line = command.value.to_string();
        match line.split_once(' ') {
            Some(("kill" | "restart", id)) if id.parse::<u32>().is_ok() => {
                click(page, &format!("[data-broker=\"{id}\"]"))
            }
            _ => type_command(page, &line),
        }
    }
}

#[wasm_bindgen_test]
async fn the_first_lesson_is_played_to_its_end_by_clicking_and_typing_and_reopens_where_it_was_left() {
    use kafkalab_core::lesson::Part;
    use kafkalab_web::lessons::LESSONS;

    forget_lessons();
    let lesson = kafkalab_core::lesson::parse(LESSONS[0].name, LESSONS[0].text).unwrap();
    let page = mount();
    click(&page, "[data-testid=play]"); // pause: this test moves time itself
    click(&page, "[data-testid=lessons]");
    tick().await;
    assert_eq!(text(&page, "#lesson-heading"), lesson.title);
    assert!(!text(&page, ".lesson-intro").is_empty(), "the introduction is shown");
    assert!(exists(&page, "[data-testid=play]") && exists(&page, "[data-testid=speed]"));
    for control in ["timeline", "step", "step-back", "copy-link"] {
        assert!(!exists(&page, &format!("[data-testid={control}]")), "a lesson has no {control}");
    }

    let mut performed = std::collections::BTreeSet::new();
    let mut answered = 0;
    for (index, step) in lesson.steps.iter().enumerate() {
        assert_eq!(text(&page, "[data-testid=lesson-step]"), format!("Step {} of {}", index + 1, lesson.steps.len()));
        assert_eq!(text(&page, "[data-testid=lesson-step-title]"), step.title);
        for _ in 0..300 {
            if exists(&page, "[data-testid=lesson-next].primary") || exists(&page, "[data-testid=lesson-complete]") {
                break;
            }
            if exists(&page, "[data-testid=task][data-done=false]") {
                let goal = text(&page, "[data-testid=task][data-done=false] .goal");
                let task = step.parts.iter().find_map(|p| match p {
                    Part::Task(task) if task.goal == goal => Some(task),
                    _ => None,
                });
                let task = task.unwrap_or_else(|| panic!("the task shown is the lesson's: {goal}"));
                if performed.insert(goal) {
                    click(&page, "[data-testid=task][data-done=false] [data-testid=hint]");
                    tick().await;
                    assert_eq!(text(&page, "[data-testid=task][data-done=false] .hints li"), task.hints[0]);
                    perform(&page, task);
                } else {
                    type_command(&page, "advance 500ms");
                }
            } else if exists(&page, "[data-testid=prediction][data-answered=false]") {
                let card = find(&page, "[data-testid=prediction][data-answered=false]");
                assert!(!exists(&card, "[data-testid=reveal]"), "nothing of the answer before answering");
                let question = text(&card, ".question");
                let prediction = step.parts.iter().find_map(|p| match p {
                    Part::Prediction(prediction) if prediction.question == question => Some(prediction),
                    _ => None,
                });
                let prediction = prediction.unwrap_or_else(|| panic!("the question shown is the lesson's: {question}"));
                // The first answer is a wrong one, to see it marked wrong; the others are right.
                let choice =
                    if answered == 0 { (prediction.answer + 1) % prediction.choices.len() } else { prediction.answer };
                click(&card, &format!("[data-choice=\"{choice}\"]"));
                tick().await;
                let reveal = format!(
                    "[data-testid=prediction][data-answered=true] [data-testid=reveal][data-right={}]",
                    answered > 0
                );
                assert!(
                    exists(&page, &reveal),
                    "the answer is revealed and marked {}",
                    if answered > 0 { "right" } else { "wrong" }
                );
                answered += 1;
            } else {
                // A wait, or the clock must run for the step to go on.
                type_command(&page, "advance 500ms");
            }
            tick().await;
        }
        if index + 1 < lesson.steps.len() {
            assert!(exists(&page, "[data-testid=lesson-next].primary"), "step {} is complete", index + 1);
            click(&page, "[data-testid=lesson-next]");
            tick().await;
        }
    }
    assert!(exists(&page, "[data-testid=lesson-complete]"), "the lesson is complete");
    assert!(answered > 0 && !performed.is_empty());
    assert!(!exists(&page, "[data-testid=task][data-done=false]"), "every task shows its tick");
    assert!(!exists(&page, "[data-testid=proof][data-proof=fails]"), "the lab bore every answer out");

    // A reload finds the lesson at its last step.
    click(&page, "[data-testid=lesson-back]");
    tick().await;
    let left_at = text(&page, "[data-testid=lesson-step]");
    let reloaded = mount();
    tick().await;
    assert_eq!(text(&reloaded, "[data-testid=lesson-step]"), left_at);
    assert_eq!(text(&reloaded, "#lesson-heading"), lesson.title);
    click(&reloaded, "[data-testid=lessons]");
    tick().await;
    assert!(!exists(&reloaded, "[data-testid=lesson]"), "closing the lessons brings the free lab back");
    assert!(exists(&reloaded, "[data-testid=timeline]"), "and its timeline");
    forget_lessons();
}

#[wasm_bindgen_test]
async fn a_shared_link_opens_its_run_even_when_a_lesson_was_left_open() {
    use kafkalab_web::lessons::{CURRENT_KEY, LESSONS};

    forget_lessons();
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.set_item(CURRENT_KEY, LESSONS[0].name).unwrap();
    let lesson = mount();
    tick().await;
    assert!(exists(&lesson, "[data-testid=lesson]"), "without a link, the lesson left open is reopened");
    click(&lesson, "[data-testid=play]");
    storage.set_item(CURRENT_KEY, LESSONS[0].name).unwrap();
    let linked = mount_with(Some(String::from("#seed=1&brokers=3&t=2000&a=1000:kill%201")), false);
    tick().await;
    assert!(!exists(&linked, "[data-testid=lesson]"), "the link's run is shown, not the lesson");
    assert_eq!(attribute(&linked, "[data-broker=\"1\"]", "data-status"), "dead");
    assert!(exists(&linked, "[data-testid=timeline]"));
    forget_lessons();
}

#[wasm_bindgen_test]
async fn scrubbing_back_past_a_kill_draws_the_broker_alive_again_and_acting_there_forks() {
    let page = mount();
    click(&page, "[data-testid=play]");
    type_command(&page, "advance 1s");
    tick().await;
    click(&page, "[data-broker=\"1\"]");
    tick().await;
    type_command(&page, "advance 10s");
    tick().await;
    assert_eq!(attribute(&page, "[data-broker=\"1\"]", "data-status"), "dead");
    assert_eq!(attribute(&page, "[data-partition=\"orders/0\"]", "data-leader"), "2");
    let after_the_kill = find(&page, "svg.cluster").inner_html();
    assert!(page.query_selector("[data-testid=fork-notice]").unwrap().is_none(), "at the end, nothing to fork");

    scrub_to(&page, 500);
    tick().await;
    assert_eq!(attribute(&page, "[data-broker=\"1\"]", "data-status"), "alive", "before the kill, broker 1 ran");
    assert_eq!(attribute(&page, "[data-partition=\"orders/0\"]", "data-leader"), "1");
    assert_eq!(find(&page, "[data-testid=time]").text_content().unwrap(), "0.500 s / 11.000 s");
    assert!(!find(&page, "[data-testid=history]").text_content().unwrap().contains("kill 1"));
    assert!(find(&page, "[data-testid=fork-notice]").text_content().unwrap().contains("forks"));

    scrub_to(&page, 11_000);
    tick().await;
    assert_eq!(find(&page, "svg.cluster").inner_html(), after_the_kill, "scrubbing forward replays the same run");

    scrub_to(&page, 500);
    tick().await;
    click(&page, "[data-broker=\"2\"]");
    tick().await;
    assert_eq!(attribute(&page, "[data-broker=\"2\"]", "data-status"), "dead");
    assert_eq!(
        find(&page, "[data-testid=time]").text_content().unwrap(),
        "0.500 s / 0.500 s",
        "the old future is gone"
    );
    let history = find(&page, "[data-testid=history]").text_content().unwrap();
    assert!(history.contains("kill 2") && !history.contains("kill 1"), "{history}");
    assert!(page.query_selector("[data-testid=fork-notice]").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn the_address_bar_holds_the_run_and_opening_it_draws_the_same_cluster() {
    let page = mount_with(None, true);
    click(&page, "[data-testid=play]");
    type_command(&page, "advance 1s");
    tick().await;
    click(&page, "[data-testid=produce]");
    click(&page, "[data-broker=\"1\"]");
    tick().await;
    type_command(&page, "produce orders key=\"a b\" value=x=1;2 acks=all");
    tick().await;
    type_command(&page, "advance 12s");
    tick().await;
    let hash = window().location().hash().unwrap();
    assert!(hash.starts_with("#seed=1&brokers=3&t=13000&a=1000:produce%20orders%20value%3Drecord-1"), "{hash}");
    // Leave the test page's address as it was.
    window().history().unwrap().replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("#")).unwrap();

    let reopened = mount_with(Some(hash), false);
    tick().await;
    assert_eq!(find(&reopened, "[data-testid=play]").text_content().unwrap(), "Play", "a link opens paused");
    for selector in ["svg.cluster", "[data-testid=partitions]", "[data-testid=history]", "[data-testid=events]"] {
        assert_eq!(find(&reopened, selector).inner_html(), find(&page, selector).inner_html(), "{selector}");
    }
    assert_eq!(attribute(&reopened, "[data-broker=\"1\"]", "data-status"), "dead");

    let broken = mount_with(Some(String::from("#a=5:kill%201;1:restart%201")), false);
    tick().await;
    let error = find(&broken, "[data-testid=error]").text_content().unwrap();
    assert!(error.contains("could not be replayed") && error.contains("action 2"), "{error}");
}

#[wasm_bindgen_test]
async fn shortcuts_play_step_and_list_themselves_but_not_while_typing() {
    let page = mount();
    let body: Element = document().body().unwrap().unchecked_into();
    assert_eq!(find(&page, "[data-testid=play]").text_content().unwrap(), "Pause");
    press(&body, " ");
    tick().await;
    assert_eq!(find(&page, "[data-testid=play]").text_content().unwrap(), "Play", "Space paused");

    type_command(&page, "advance 1s");
    tick().await;
    let now = || attribute(&page, "[data-testid=time]", "data-now-ms").parse::<u64>().unwrap();
    assert_eq!(now(), 1_000);
    press(&find(&page, "[data-testid=command]"), ".");
    tick().await;
    assert_eq!(now(), 1_000, "a key typed in the console is the console's");
    press(&body, ".");
    tick().await;
    let stepped = now();
    assert!(stepped > 1_000, "the step ran the next event");
    press(&body, "ArrowLeft");
    tick().await;
    assert!(now() < stepped, "the step back went to an earlier event");
    let speed = find(&page, "[data-testid=speed-label]").text_content().unwrap();
    press(&body, "+");
    tick().await;
    assert_ne!(find(&page, "[data-testid=speed-label]").text_content().unwrap(), speed, "+ sped up");

    press(&body, "?");
    tick().await;
    let list = find(&page, "[data-testid=shortcuts]").text_content().unwrap();
    assert!(list.contains("play or pause") && list.contains("step back"), "{list}");
    assert_eq!(attribute(&page, "[data-testid=shortcuts]", "role"), "dialog");
    press(&body, "Escape");
    tick().await;
    assert!(page.query_selector("[data-testid=shortcuts]").unwrap().is_none(), "Escape closed the list");
}
