//! How the page keeps the simulation at the chosen speed without freezing the drawing: each
//! animation frame owes the simulated time that the real time since the last frame is worth at
//! that speed, and the simulation pays it in small slices for at most a frame's budget of real
//! time. What it cannot pay in time is dropped, not carried: a cluster too big for the speed
//! asked runs slower than asked (the page says how fast it really runs) and stays responsive.
//!
//! At 10× or slower, while the simulation keeps up, every frame simulates and draws. Faster
//! than that, or once the simulation falls behind, frames take turns: one simulates for a
//! longer budget and draws nothing, the next only draws, so that neither overruns a 60 Hz frame
//! and the drawing still changes 30 times a second (faster than the eye follows single
//! messages, see [`Speed::FOLLOWABLE`], a drawing a frame only costs frames).

use crate::lab::Speed;

/// Simulated milliseconds the simulation runs between two looks at the clock.
pub const SLICE_MS: u64 = 100;
/// Real milliseconds a frame that also draws may spend simulating, so that simulation and
/// drawing fit in a 60 Hz frame.
pub const FRAME_BUDGET_MS: f64 = 8.0;
/// Real milliseconds a frame that draws nothing may spend simulating (of a 60 Hz frame's 16.7,
/// the rest is the browser's own work).
pub const SIMULATE_ONLY_BUDGET_MS: f64 = 12.0;
/// Real time longer than this between frames (a background tab, a debugger) counts as this.
pub const LONGEST_GAP_MS: f64 = 100.0;

/// The clock of the page's playing.
#[derive(Clone, Debug, Default)]
pub struct Pacer {
    /// The real time of the previous frame, while playing.
    last_ms: Option<f64>,
    /// Simulated time owed but smaller than a millisecond, carried to the next frame so that
    /// slow speeds keep their pace.
    fraction_ms: f64,
    /// Simulated and real milliseconds of recent frames, for the speed really reached.
    simulated_ms: f64,
    real_ms: f64,
    /// The last frame that simulated could not pay all it owed.
    behind: bool,
    /// The simulation has moved since the drawing was last brought up to date.
    undrawn: bool,
}

/// What one animation frame does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Frame {
    /// Simulate for at most `budget_ms` of real time, then draw if `draw`.
    Simulate { budget_ms: f64, draw: bool },
    /// Only draw what an earlier frame simulated.
    Draw,
}

impl Pacer {
    /// The simulated milliseconds a frame at real time `now_ms` owes at `speed`.
    pub fn owed(&mut self, now_ms: f64, speed: Speed) -> u64 {
        let gap = self.last_ms.map_or(0.0, |last| (now_ms - last).clamp(0.0, LONGEST_GAP_MS));
        self.last_ms = Some(now_ms);
        let owed = gap * speed.factor() + self.fraction_ms;
        self.fraction_ms = owed.fract();
        self.real_ms += gap;
        owed.trunc() as u64
    }

    /// What the next frame does at `speed`: simulate and draw while the simulation keeps up at
    /// a followable speed; faster, or once it is behind, simulate only and draw only by turns.
    pub fn plan(&self, speed: Speed) -> Frame {
        if self.undrawn {
            Frame::Draw
        } else if self.behind || !speed.follows_messages() {
            Frame::Simulate { budget_ms: SIMULATE_ONLY_BUDGET_MS, draw: false }
        } else {
            Frame::Simulate { budget_ms: FRAME_BUDGET_MS, draw: true }
        }
    }

    /// Records what a frame that simulated owed and really paid, and whether it drew after.
    pub fn paid(&mut self, owed_ms: u64, simulated_ms: u64, drew: bool) {
        self.behind = simulated_ms < owed_ms;
        self.undrawn = !drew && simulated_ms > 0;
        self.simulated_ms += simulated_ms as f64;
        // A moving window of about two seconds of real time.
        if self.real_ms > 2_000.0 {
            self.simulated_ms /= 2.0;
            self.real_ms /= 2.0;
        }
    }

    /// A frame drew what was simulated.
    pub fn drew(&mut self) {
        self.undrawn = false;
    }

    /// Playing stopped: the next frame starts afresh.
    pub fn pause(&mut self) {
        *self = Pacer::default();
    }

    /// Simulated time per real time over the last frames, once a second of it is known.
    pub fn reached(&self) -> Option<f64> {
        (self.real_ms >= 1_000.0).then(|| self.simulated_ms / self.real_ms)
    }
}

/// Pays `owed` simulated milliseconds by calling `advance` with slices of at most
/// [`SLICE_MS`], stopping once `elapsed_ms` says `budget_ms` of real time is spent. Returns
/// what was paid.
pub fn pay(owed: u64, budget_ms: f64, mut advance: impl FnMut(u64), mut elapsed_ms: impl FnMut() -> f64) -> u64 {
    let mut paid = 0;
    while paid < owed {
        let slice = (owed - paid).min(SLICE_MS);
        advance(slice);
        paid += slice;
        if elapsed_ms() >= budget_ms {
            break;
        }
    }
    paid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_owes_the_real_time_since_the_last_times_the_speed() {
        let mut pacer = Pacer::default();
        assert_eq!(pacer.owed(1_000.0, Speed(4)), 0, "the first frame only starts the clock");
        assert_eq!(pacer.owed(1_016.0, Speed(4)), 160, "16 ms at 10×");
        assert_eq!(pacer.owed(1_032.0, Speed::FASTEST), 1_600);
    }

    #[test]
    fn slow_speeds_carry_the_fraction_so_no_time_is_lost() {
        let mut pacer = Pacer::default();
        pacer.owed(0.0, Speed::SLOWEST);
        let total: u64 = (1..=100).map(|frame| pacer.owed(frame as f64 * 10.0, Speed::SLOWEST)).sum();
        assert_eq!(total, 100, "one real second at 0.1× is 100 ms");
    }

    #[test]
    fn a_long_gap_counts_as_the_longest_allowed() {
        let mut pacer = Pacer::default();
        pacer.owed(0.0, Speed(0));
        assert_eq!(pacer.owed(60_000.0, Speed(0)), LONGEST_GAP_MS as u64, "a minute in the background");
    }

    #[test]
    fn paying_stops_when_the_frame_budget_is_spent_and_drops_the_rest() {
        let mut advanced = Vec::new();
        let mut clock = 0.0;
        let paid = pay(
            1_000,
            FRAME_BUDGET_MS,
            |slice| advanced.push(slice),
            || {
                clock += 3.0; // each slice takes 3 ms of real time
                clock
            },
        );
        assert_eq!(advanced, [100, 100, 100], "the third slice used up the 8 ms budget");
        assert_eq!(paid, 300);
        assert_eq!(pay(250, FRAME_BUDGET_MS, |_| {}, || 0.0), 250, "a cheap frame pays all it owes");
    }

    #[test]
    fn the_speed_reached_is_what_was_paid_over_the_real_time() {
        let mut pacer = Pacer::default();
        pacer.owed(0.0, Speed::FASTEST);
        for frame in 1..=100 {
            let owed = pacer.owed(frame as f64 * 16.0, Speed::FASTEST);
            assert_eq!(owed, 1_600);
            pacer.paid(owed, owed / 2, true); // a cluster that runs at half the speed asked
        }
        let reached = pacer.reached().expect("more than a second played");
        assert!((reached - 50.0).abs() < 1.0, "{reached}");
    }

    #[test]
    fn frames_simulate_and_draw_while_keeping_up_and_take_turns_once_behind() {
        let both = Frame::Simulate { budget_ms: FRAME_BUDGET_MS, draw: true };
        let ten = Speed::FOLLOWABLE;
        let mut pacer = Pacer::default();
        assert_eq!(pacer.plan(ten), both);
        pacer.paid(160, 160, true);
        assert_eq!(pacer.plan(ten), both, "kept up");
        pacer.paid(160, 70, true);
        // Behind: a longer simulating frame that draws nothing, then one that only draws.
        let simulate_only = Frame::Simulate { budget_ms: SIMULATE_ONLY_BUDGET_MS, draw: false };
        assert_eq!(pacer.plan(ten), simulate_only);
        pacer.paid(320, 100, false);
        assert_eq!(pacer.plan(ten), Frame::Draw);
        pacer.drew();
        assert_eq!(pacer.plan(ten), simulate_only);
        // Caught up without drawing: the state is drawn, then frames do both again.
        pacer.paid(330, 330, false);
        assert_eq!(pacer.plan(ten), Frame::Draw);
        pacer.drew();
        assert_eq!(pacer.plan(ten), both);
        pacer.pause();
        assert_eq!(pacer.plan(ten), both, "a paused pacer starts afresh");
    }

    #[test]
    fn faster_than_the_eye_follows_frames_take_turns_even_when_keeping_up() {
        let mut pacer = Pacer::default();
        let simulate_only = Frame::Simulate { budget_ms: SIMULATE_ONLY_BUDGET_MS, draw: false };
        assert_eq!(pacer.plan(Speed::FASTEST), simulate_only);
        pacer.paid(1_600, 1_600, false);
        assert_eq!(pacer.plan(Speed::FASTEST), Frame::Draw);
        pacer.drew();
        assert_eq!(pacer.plan(Speed::FASTEST), simulate_only);
    }
}
