//! A function run once per animation frame, just before the browser paints, for as long as the
//! component that started it lives. Playing uses it: a timer of its own would now and then
//! fire twice between two paints and make that frame twice as long.

use std::rc::Rc;

use leptos::leptos_dom::helpers::AnimationFrameRequestHandle;
use leptos::prelude::*;

/// Runs `tick` at every animation frame from the next one on, until the current reactive
/// owner (the component calling this) is cleaned up.
pub fn every_frame(tick: impl Fn() + 'static) {
    // The request for the next frame; gone once the owner is cleaned up, which ends the loop.
    let pending = StoredValue::new(None::<AnimationFrameRequestHandle>);
    request_next(Rc::new(tick), pending);
    on_cleanup(move || {
        if let Some(Some(request)) = pending.try_get_value() {
            request.cancel();
        }
    });
}

fn request_next(tick: Rc<dyn Fn()>, pending: StoredValue<Option<AnimationFrameRequestHandle>>) {
    let request = request_animation_frame_with_handle(move || {
        if pending.try_get_value().is_none() {
            return;
        }
        tick();
        request_next(tick, pending);
    });
    pending.try_set_value(request.ok());
}
