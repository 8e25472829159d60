//! The console consumer reads what was committed, in order per partition, and nothing else:
//! a record above the high watermark stays invisible until every in-sync replica has it.

mod scenario;

use kafkalab_core::config::ControllerLayout;
use kafkalab_core::ids::{Offset, TopicPartition};
use kafkalab_core::{ClusterConfig, Simulation};
use scenario::{lab, lab_with, run};

fn positions(simulation: &Simulation) -> Vec<(i32, i64, u64)> {
    simulation.consumer_positions().map(|(p, c)| (p.partition.0, c.position.0, c.records)).collect()
}

#[test]
fn the_consumer_reads_every_committed_record_once_in_offset_order() {
    let mut sim = lab();
    for i in 0..9 {
        run(&mut sim, &format!("produce orders value=v{i}"));
    }
    run(&mut sim, "consume orders");
    sim.advance(2_000);
    assert_eq!(positions(&sim), [(0, 3, 3), (1, 3, 3), (2, 3, 3)], "three records per partition, round robin");
    run(&mut sim, "produce orders partition=1 value=late");
    sim.advance(1_000);
    assert_eq!(positions(&sim)[1], (1, 4, 4), "a new record reaches the waiting consumer");
}

#[test]
fn a_record_above_the_high_watermark_is_not_consumed_until_it_is_committed() {
    let config = ClusterConfig { controller_layout: ControllerLayout::Dedicated, ..ClusterConfig::default() };
    let mut sim = lab_with(config);
    run(&mut sim, "consume orders");
    run(&mut sim, "split 1 | 2 3"); // orders/0's leader keeps its controller link, loses its followers
    run(&mut sim, "produce orders partition=0 value=pending acks=1");
    sim.advance(5_000);
    let tp = TopicPartition::new("orders", 0);
    let leader_log = &sim.broker(kafkalab_core::BrokerId(1)).unwrap().replica(&tp).unwrap().log;
    assert_eq!((leader_log.log_end_offset(), leader_log.high_watermark()), (Offset(1), Offset(0)));
    assert_eq!(positions(&sim)[0], (0, 0, 0), "written to the leader, not yet committed: not read");
    sim.advance(40_000); // replica.lag.time.max.ms: the ISR shrinks to [1] and the HW moves on
    assert_eq!(positions(&sim)[0], (0, 1, 1), "committed now, and read");
}

#[test]
fn the_consumer_follows_a_new_leader() {
    let mut sim = lab();
    run(&mut sim, "consume orders");
    run(&mut sim, "produce orders partition=0 value=a");
    sim.advance(1_000);
    run(&mut sim, "kill 1");
    sim.advance(15_000);
    run(&mut sim, "produce orders partition=0 value=b");
    sim.advance(2_000);
    assert_eq!(positions(&sim)[0], (0, 2, 2), "read a from broker 1, b from its successor");
}
