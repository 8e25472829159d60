//! Expectations read the run's state in the command language's words, and say what they found
//! when they do not hold.

use kafkalab_core::expectation::Expectation;
use kafkalab_core::{ClusterConfig, Command, Simulation};

fn lab() -> Simulation {
    let mut simulation = Simulation::new(ClusterConfig::default()).unwrap();
    simulation.advance(1_000);
    simulation
}

fn holds(simulation: &Simulation, line: &str) -> bool {
    let expectation = Expectation::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    expectation.check(&simulation.view()).is_ok()
}

#[test]
fn expectations_follow_a_failover() {
    let mut sim = lab();
    assert!(holds(&sim, "leader orders/0 == 1"));
    assert!(holds(&sim, "isr orders/0 == [3 2 1]"), "an ISR compares as a set");
    assert!(holds(&sim, "epoch orders/0 == 0"));
    assert!(holds(&sim, "broker 1 == alive"));
    sim.apply(&Command::parse("produce orders partition=0 value=a").unwrap()).unwrap();
    sim.advance(1_000);
    assert!(holds(&sim, "hw orders/0 == 1"));
    assert!(holds(&sim, "leo orders/0 on 3 >= 1"));
    sim.apply(&Command::parse("kill 1").unwrap()).unwrap();
    assert!(holds(&sim, "broker 1 == dead"));
    assert!(!holds(&sim, "leader orders/0 != 1"), "not before the session timeout");
    sim.advance(10_000);
    assert!(holds(&sim, "leader orders/0 != 1"));
    assert!(holds(&sim, "isr orders/0 == [2, 3]"));
    assert!(holds(&sim, "epoch orders/0 > 0"));
}

#[test]
fn the_active_controller_can_be_expected() {
    let mut sim = Simulation::new(ClusterConfig::default()).unwrap();
    assert!(holds(&sim, "controller == none"), "no controller leads before the first election");
    sim.advance(3_000);
    let active = sim.active_controller().unwrap();
    assert!(holds(&sim, &format!("controller == {active}")));
    assert!(holds(&sim, &format!("controller == c{active}")));
    sim.apply(&Command::parse(&format!("kill {active}")).unwrap()).unwrap();
    assert!(holds(&sim, "controller == none"));
    sim.advance(5_000);
    assert!(holds(&sim, &format!("controller != {active}")));
    assert!(!holds(&sim, "controller == none"));
}

#[test]
fn a_mismatch_says_what_was_found() {
    let sim = lab();
    let mismatch = Expectation::parse("isr orders/1 == [1 3]").unwrap().check(&sim.view()).unwrap_err();
    assert_eq!(mismatch.to_string(), "expected isr orders/1 == [1 3], but it is [1 2 3]");
    let mismatch = Expectation::parse("leader nope/0 == 1").unwrap().check(&sim.view()).unwrap_err();
    assert_eq!(mismatch.actual, "none");
}

#[test]
fn expectations_print_as_they_parse() {
    for line in [
        "leader orders/0 != 1",
        "hw orders/2 on 3 <= 4",
        "isr orders/0 == [1 3]",
        "broker 2 == fenced",
        "leader orders/1 == none",
        "controller != 2",
    ] {
        assert_eq!(Expectation::parse(line).unwrap().to_string(), line);
    }
}

#[test]
fn bad_expectations_say_what_and_where() {
    let cases = [
        ("ledaer orders/0 == 1", 1, "unknown expectation"),
        ("leader orders == 1", 8, "not a partition"),
        ("leader orders/0 = 1", 17, "not a comparison"),
        ("leader orders/0 == x", 20, "not a number"),
        ("isr orders/0 == 1", 17, "as a list"),
        ("isr orders/0 > [1]", 14, "only == and !="),
        ("broker 1 == sleeping", 13, "not a broker state"),
        ("leader orders/0 on 2 == 1", 17, "only goes with hw, leo or lso"),
        ("hw orders/0", 12, "expected a comparison"),
    ];
    for (line, column, message) in cases {
        let e = Expectation::parse(line).unwrap_err();
        assert_eq!(e.column, column, "{line}: {e}");
        assert!(e.message.contains(message), "{line}: {e}");
    }
}
