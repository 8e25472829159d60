//! The page for keyboard and screen-reader users, in a real headless Chromium: every button,
//! input and select has a name a screen reader can say; a broker card can be focused and
//! killed with Enter; the drawings are labelled images.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The name a screen reader gives a control: its aria-label, its text, its title, or the
/// label that wraps it or points at it.
fn accessible_name(control: &Element) -> String {
    let own = [control.get_attribute("aria-label"), control.get_attribute("title")]
        .into_iter()
        .flatten()
        .chain((control.tag_name() == "BUTTON").then(|| control.text_content().unwrap_or_default()))
        .find(|name| !name.trim().is_empty());
    if let Some(name) = own {
        return name;
    }
    if let Ok(Some(label)) = control.closest("label") {
        return label.text_content().unwrap_or_default();
    }
    let id = control.id();
    if !id.is_empty() {
        if let Some(label) = control.owner_document().unwrap().query_selector(&format!("label[for=\"{id}\"]")).unwrap()
        {
            return label.text_content().unwrap_or_default();
        }
    }
    String::new()
}

#[wasm_bindgen_test]
async fn every_control_has_a_name_a_screen_reader_can_say() {
    forget_lessons();
    let page = mount();
    click(&page, "[data-testid=play]");
    type_command(&page, "advance 1s");
    type_command(&page, "consumer alice group=billing topics=orders");
    type_command(&page, "advance 10s");
    tick().await;
    let controls = page.query_selector_all("button, input, select, [role=button]").unwrap();
    assert!(controls.length() > 30, "the page has its controls: {}", controls.length());
    let mut nameless = Vec::new();
    for i in 0..controls.length() {
        let control: Element = controls.item(i).unwrap().unchecked_into();
        if accessible_name(&control).trim().is_empty() {
            nameless.push(control.outer_html());
        }
    }
    assert!(nameless.is_empty(), "controls without a name: {nameless:#?}");
    let drawings = page.query_selector_all("svg").unwrap();
    assert!(drawings.length() >= 1);
    for i in 0..drawings.length() {
        let svg: Element = drawings.item(i).unwrap().unchecked_into();
        assert_eq!(svg.get_attribute("role").as_deref(), Some("img"), "{}", svg.outer_html());
        assert!(svg.get_attribute("aria-label").is_some_and(|l| !l.is_empty()), "an unlabelled drawing");
    }
}

#[wasm_bindgen_test]
async fn a_broker_card_is_focused_and_killed_with_the_keyboard() {
    forget_lessons();
    let page = mount();
    click(&page, "[data-testid=play]");
    type_command(&page, "advance 1s");
    tick().await;
    let card: HtmlElement = find(&page, "[data-broker=\"2\"]").unchecked_into();
    assert_eq!(card.get_attribute("tabindex").as_deref(), Some("0"));
    card.focus().unwrap();
    assert!(attribute(&page, "[data-broker=\"2\"]", "aria-label").contains("press to kill it"));
    press(&card, "Enter");
    tick().await;
    assert_eq!(attribute(&page, "[data-broker=\"2\"]", "data-status"), "dead");
    assert!(attribute(&page, "[data-broker=\"2\"]", "aria-label").contains("press to restart it"));
    press(&card, " ");
    tick().await;
    assert_ne!(attribute(&page, "[data-broker=\"2\"]", "data-status"), "dead");
    assert_eq!(text(&page, "[data-testid=play]"), "Play", "Space on a card is not the page's play/pause");
}
