"""confluent-kafka: a transactional producer commits, aborts and commits again; a
read_committed and a read_uncommitted consumer read the topic. Prints one JSON document of
what they saw; the Rust test (native/tests/real_clients.rs) decides whether that is right.

Usage: confluent_transactions.py BOOTSTRAP TOPIC
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer

bootstrap, topic = sys.argv[1], sys.argv[2]

producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "lab-transactions",
                     "transaction.timeout.ms": 60000})
producer.init_transactions(30)
outcomes = []
for batch, outcome in enumerate(["commit", "abort", "commit"]):
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, key=f"key-{i}".encode(), value=f"{outcome}-{batch}-{i}".encode())
    if outcome == "commit":
        producer.commit_transaction(30)
    else:
        producer.flush(30)
        producer.abort_transaction(30)
    outcomes.append(outcome)


def read(isolation, wanted):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{isolation}",
                         "auto.offset.reset": "earliest", "isolation.level": isolation,
                         "enable.auto.commit": False})
    consumer.subscribe([topic])
    values = []
    deadline = time.time() + 30
    quiet_until = None
    while time.time() < deadline:
        message = consumer.poll(0.2)
        if message is None or message.error():
            if len(values) >= wanted:
                quiet_until = quiet_until or time.time() + 2
                if time.time() > quiet_until:
                    break
            continue
        values.append(message.value().decode())
    consumer.close()
    return values


print(json.dumps({"outcomes": outcomes, "read_committed": read("read_committed", 20),
                  "read_uncommitted": read("read_uncommitted", 30)}))
