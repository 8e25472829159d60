//! What a seek costs: rewinding a recorded run 10 simulated minutes, by replaying from the start
//! (the baseline: no checkpoints) and by the recording's seek (from the nearest checkpoint), for
//! runs of several lengths. The run is a learner's busy session on the page's cluster: a
//! consumer group, a record produced every 2 s, and a broker killed and restarted every 10 min.
//!
//! `cargo run --release -p kafkalab-web --example seek` prints a table.

use std::time::{Duration, Instant};

use kafkalab_web::share::Settings;
use kafkalab_web::timeline::Recording;

const MINUTE_MS: u64 = 60_000;
const REWIND_MS: u64 = 10 * MINUTE_MS;
const REPEATS: usize = 5;

/// The learner's session, played live for `length_ms`.
fn session(length_ms: u64) -> Recording {
    let mut run = Recording::new(Settings::default().config()).expect("the page's cluster");
    run.advance(1_000);
    run.act("consumer alice group=billing topics=orders auto.offset.reset=earliest").unwrap();
    let mut record = 0;
    while run.now_ms() + 2_000 <= length_ms {
        run.advance(2_000);
        record += 1;
        run.act(&format!("produce orders key=k{} value=v{record} acks=all", record % 7)).unwrap();
        match run.now_ms() % (10 * MINUTE_MS) {
            at if at == 5 * MINUTE_MS => run.act("kill 2").unwrap(),
            at if at == 7 * MINUTE_MS => run.act("restart 2").unwrap(),
            _ => {}
        }
    }
    run.advance(length_ms - run.now_ms());
    run
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    println!("Rewinding 10 simulated minutes (median of {REPEATS}; release build)\n");
    println!(
        "| run length | actions | straight replay | checkpointed seek | ratio | checkpoints (every) | trace lines |"
    );
    println!("|---|---|---|---|---|---|---|");
    for minutes in [15, 30, 60] {
        let length_ms = minutes * MINUTE_MS;
        let mut run = session(length_ms);
        let target_ms = length_ms - REWIND_MS;
        let config = run.config().clone();

        let straight = median(
            (0..REPEATS)
                .map(|_| {
                    let start = Instant::now();
                    let replayed = Recording::replay(config.clone(), run.actions(), target_ms, target_ms).unwrap();
                    let elapsed = start.elapsed();
                    assert_eq!(replayed.now_ms(), target_ms);
                    elapsed
                })
                .collect(),
        );
        let mut seeked_view = None;
        let seek = median(
            (0..REPEATS)
                .map(|_| {
                    run.seek(length_ms);
                    let start = Instant::now();
                    run.seek(target_ms);
                    let elapsed = start.elapsed();
                    seeked_view = Some(run.simulation().view());
                    elapsed
                })
                .collect(),
        );
        let replayed = Recording::replay(config, run.actions(), target_ms, target_ms).unwrap();
        assert_eq!(seeked_view, Some(replayed.simulation().view()), "both ways show the same moment");

        let times: Vec<u64> = run.checkpoint_times().collect();
        let every_s = times.windows(2).next().map_or(0, |w| (w[1] - w[0]) / 1000);
        println!(
            "| {minutes} min | {} | {:.1} ms | {:.1} ms | {:.3} ({:.0}× faster) | {} ({every_s} s) | {} |",
            run.actions().len(),
            straight.as_secs_f64() * 1e3,
            seek.as_secs_f64() * 1e3,
            seek.as_secs_f64() / straight.as_secs_f64(),
            straight.as_secs_f64() / seek.as_secs_f64(),
            times.len(),
            run.simulation().trace().len(),
        );
    }
}
