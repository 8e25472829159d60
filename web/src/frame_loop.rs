//! A function run once per animation frame, just before the browser paints, for as long as the
//! component that started it lives, and playing on it: a timer of its own would now and then
//! fire twice between two paints and make that frame twice as long.

use std::rc::Rc;

use leptos::leptos_dom::helpers::AnimationFrameRequestHandle;
use leptos::prelude::*;

use crate::lab::Speed;
use crate::pacer::{pay, Frame, Pacer};

/// Plays while `playing`: each frame does what the [`Pacer`] plans at `speed`, calling
/// `advance` with slices of simulated milliseconds and `draw` when the drawing is to catch up.
/// Returns the speed really reached, once known.
pub fn play(
    playing: RwSignal<bool>,
    speed: RwSignal<Speed>,
    advance: impl Fn(u64) + 'static,
    draw: impl Fn() + 'static,
) -> ReadSignal<Option<f64>> {
    let pacer = StoredValue::new(Pacer::default());
    let reached = RwSignal::new(None::<f64>);
    let performance = web_sys::window().and_then(|w| w.performance());
    every_frame(move || {
        let Some(clock) = performance.as_ref() else { return };
        if !playing.get_untracked() {
            pacer.update_value(Pacer::pause);
            return;
        }
        let start = clock.now();
        let speed = speed.get_untracked();
        let drawn = match pacer.with_value(|p| p.plan(speed)) {
            Frame::Draw => {
                pacer.update_value(Pacer::drew);
                true
            }
            Frame::Simulate { budget_ms, draw } => {
                let owed = pacer.try_update_value(|p| p.owed(start, speed)).unwrap_or(0);
                if owed == 0 {
                    return;
                }
                let paid = pay(owed, budget_ms, &advance, || clock.now() - start);
                pacer.update_value(|p| p.paid(owed, paid, draw));
                reached.set(pacer.with_value(Pacer::reached));
                draw
            }
        };
        if drawn {
            draw();
        }
    });
    reached.read_only()
}

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
