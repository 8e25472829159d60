//! What every browser test does: mount the page, find things on it, and act as a user would
//! (click, type a command, drag the timeline, press a key, tick a checkbox).
#![allow(dead_code)] // each test binary uses its own share of these

use kafkalab_web::app::App;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    Element, Event, EventInit, HtmlFormElement, HtmlInputElement, KeyboardEvent, KeyboardEventInit, MouseEvent,
    MouseEventInit,
};

pub fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .expect("a valid selector")
        .unwrap_or_else(|| panic!("nothing on the page matches {selector}"))
}

pub fn attribute(root: &Element, selector: &str, name: &str) -> String {
    find(root, selector).get_attribute(name).unwrap_or_else(|| panic!("{selector} has no {name}"))
}

/// A real click event, bubbling like a user's (SVG elements have no `.click()`).
pub fn click(root: &Element, selector: &str) {
    let init = MouseEventInit::new();
    init.set_bubbles(true);
    let event = MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
    find(root, selector).dispatch_event(&event).unwrap();
}

/// Types a line into the console and submits it.
pub fn type_command(root: &Element, line: &str) {
    let input: HtmlInputElement = find(root, "[data-testid=command]").unchecked_into();
    input.set_value(line);
    let init = EventInit::new();
    init.set_bubbles(true);
    input.dispatch_event(&Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
    let form: HtmlFormElement = find(root, ".console form").unchecked_into();
    form.request_submit().unwrap();
}

pub fn mount() -> Element {
    mount_with(None, false)
}

/// Mounts the page, opening the run of a link's `share` fragment, with the address bar
/// following the run when `sync_url`.
pub fn mount_with(share: Option<String>, sync_url: bool) -> Element {
    let document = document();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(
        host.clone().unchecked_into(),
        move || view! { <App share=share.clone() sync_url=sync_url /> },
    );
    handle.forget();
    host
}

/// Drags the timeline to `ms`, as a user's slider does: a new value, then `input`.
pub fn scrub_to(root: &Element, ms: u64) {
    let slider: HtmlInputElement = find(root, "[data-testid=timeline]").unchecked_into();
    slider.set_value(&ms.to_string());
    let init = EventInit::new();
    init.set_bubbles(true);
    slider.dispatch_event(&Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
}

/// A key pressed while `target` has the focus; the event bubbles up to the window.
pub fn press(target: &Element, key: &str) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    target.dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
}

/// Ticks the checkbox `selector` as a user would: it changes state and fires `change`.
pub fn toggle_checkbox(root: &Element, selector: &str) {
    let input: HtmlInputElement = find(root, selector).unchecked_into();
    input.set_checked(!input.checked());
    let init = EventInit::new();
    init.set_bubbles(true);
    input.dispatch_event(&Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
}

/// Forgets any lesson progress the browser keeps, so each test starts from the free lab.
pub fn forget_lessons() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    for i in (0..storage.length().unwrap()).rev() {
        let key = storage.key(i).unwrap().unwrap();
        if key.starts_with("kafkalab.lesson") {
            storage.remove_item(&key).unwrap();
        }
    }
}

pub fn text(root: &Element, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default()
}

pub fn exists(root: &Element, selector: &str) -> bool {
    root.query_selector(selector).unwrap().is_some()
}
