//! What one tick of the page costs at full speed on a 5-broker, 50-partition cluster: the
//! simulation's advance (10 s of simulated time, as a 100 ms tick at 100×), the view the page
//! draws, and the control panel's state, each timed separately.
//!
//! `cargo run --release -p kafkalab-web --example tick_cost` prints a table.

use std::time::Instant;

use kafkalab_web::control_lines::ControlState;
use kafkalab_web::share::Settings;
use kafkalab_web::timeline::Recording;

fn main() {
    let mut run = Recording::new(Settings { seed: 1, brokers: 5 }.config()).expect("a 5-broker cluster");
    run.act("create-topic big partitions=50 replication-factor=3").unwrap();
    run.advance(3_000);
    let (mut advance, mut view, mut control) = (0.0, 0.0, 0.0);
    let ticks = 30;
    for n in 0..ticks {
        for p in 0..20 {
            run.act(&format!("produce big value=r{n}-{p} acks=1")).unwrap();
        }
        let start = Instant::now();
        run.advance(10_000);
        advance += start.elapsed().as_secs_f64();
        let start = Instant::now();
        let drawn = std::hint::black_box(run.simulation().view());
        view += start.elapsed().as_secs_f64();
        let start = Instant::now();
        let _ = std::hint::black_box(ControlState::of(run.simulation(), &drawn));
        control += start.elapsed().as_secs_f64();
    }
    let ms = |total: f64| total * 1000.0 / ticks as f64;
    println!("| part of a tick (10 s simulated, 5 brokers × 50 partitions) | ms per tick (native, release) |");
    println!("|---|---:|");
    println!("| simulation advance | {:.2} |", ms(advance));
    println!("| view | {:.2} |", ms(view));
    println!("| control panel state | {:.2} |", ms(control));
}
