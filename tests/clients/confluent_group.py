"""confluent-kafka: a consumer group of two members shares a 6-partition topic and commits its
offsets; then one member leaves and a new process takes its place, and the group goes on from
the committed offsets. Prints one JSON document of what it saw; the Rust test
(native/tests/real_clients.rs) decides whether that is right.

Usage: confluent_group.py BOOTSTRAP TOPIC GROUP
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]

admin = AdminClient({"bootstrap.servers": bootstrap})
for future in admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=3)]).values():
    future.result(30)
# The topic exists once every broker's metadata says so.
deadline = time.time() + 30
while time.time() < deadline:
    listed = admin.list_topics(topic, timeout=10).topics.get(topic)
    if listed is not None and listed.error is None and len(listed.partitions) == 6:
        break
    time.sleep(0.2)


def produce(first, count):
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    for i in range(first, first + count):
        producer.produce(topic, key=f"key-{i}".encode(), value=f"value-{i}".encode())
    assert producer.flush(30) == 0


def member(name):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 10000, "heartbeat.interval.ms": 1000})
    consumer.subscribe([topic])
    return consumer


def consume(members, wanted, seconds=60):
    """Polls every member in turn until `wanted` records arrived; commits after each record."""
    seen = []
    deadline = time.time() + seconds
    while len(seen) < wanted and time.time() < deadline:
        for name, consumer in members.items():
            message = consumer.poll(0.1)
            if message is None or message.error():
                continue
            seen.append([name, message.partition(), message.offset(), message.value().decode()])
            consumer.commit(message=message, asynchronous=False)
    # A few more polls: nothing else may arrive.
    for _ in range(10):
        for name, consumer in members.items():
            message = consumer.poll(0.1)
            if message is not None and not message.error():
                seen.append([name, message.partition(), message.offset(), message.value().decode()])
    return seen


def assignment(consumer):
    return sorted(tp.partition for tp in consumer.assignment())


members = {"member-a": member("member-a"), "member-b": member("member-b")}
produce(0, 60)
first = consume(members, 60)
first_assignment = {name: assignment(c) for name, c in members.items()}

members["member-b"].close()
del members["member-b"]
produce(60, 30)
members["member-b2"] = member("member-b2")
second = consume(members, 30)
second_assignment = {name: assignment(c) for name, c in members.items()}
for consumer in members.values():
    consumer.close()

print(json.dumps({"first": first, "first_assignment": first_assignment,
                  "second": second, "second_assignment": second_assignment}))
