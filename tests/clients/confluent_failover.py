"""confluent-kafka: an idempotent producer at acks=all keeps writing to a topic replicated to
three brokers with min.insync.replicas=2 while the test kills the leader of partition 0. The
script says `READY <leader>` when it has started writing; the test then runs
`kafkalab broker kill <leader>`. Afterwards a consumer reads the topic from the beginning.
Prints one JSON document of what was acknowledged and what was read; the Rust test
(native/tests/real_clients.rs) decides whether that is right.

Usage: confluent_failover.py BOOTSTRAP TOPIC COUNT
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

admin = AdminClient({"bootstrap.servers": bootstrap})
new_topic = NewTopic(topic, num_partitions=3, replication_factor=3, config={"min.insync.replicas": "2"})
for future in admin.create_topics([new_topic]).values():
    future.result(30)
leader = None
deadline = time.time() + 30
while leader is None and time.time() < deadline:
    listed = admin.list_topics(topic, timeout=10).topics.get(topic)
    if listed is not None and listed.error is None and 0 in listed.partitions and listed.partitions[0].leader > 0:
        leader = listed.partitions[0].leader
    else:
        time.sleep(0.2)

producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                     "linger.ms": 5, "message.timeout.ms": 120000, "topic.metadata.refresh.interval.ms": 1000})
acknowledged, errors = [], []


def delivered(error, message):
    if error is not None:
        errors.append(str(error))
    else:
        acknowledged.append([message.partition(), message.offset(), message.value().decode()])


print(f"READY {leader}", flush=True)
for i in range(count):
    producer.produce(topic, key=f"key-{i % 11}".encode(), value=f"value-{i}".encode(), on_delivery=delivered)
    producer.poll(0.02)
unflushed = producer.flush(120)

# Read by assignment, not as a group: with one broker of three down, `__consumer_offsets`
# (replication factor 3) could not be created for a first group, as in Kafka.
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "failover-reader",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(3)])
consumed = []
deadline = time.time() + 60
quiet_until = None
while time.time() < deadline:
    message = consumer.poll(0.2)
    if message is None or message.error():
        if len(consumed) >= len(acknowledged):
            quiet_until = quiet_until or time.time() + 2
            if time.time() > quiet_until:
                break
        continue
    consumed.append([message.partition(), message.offset(), message.key().decode(), message.value().decode()])
consumer.close()
after = admin.list_topics(topic, timeout=10).topics[topic].partitions[0]

print(json.dumps({"leader_before": leader, "leader_after": after.leader, "isr_after": list(after.isrs),
                  "unflushed": unflushed, "errors": errors, "acknowledged": acknowledged, "consumed": consumed}))
