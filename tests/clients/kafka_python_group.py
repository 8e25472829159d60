"""kafka-python (idempotent by default): produce keyed records, then read them back as a
consumer group that commits its offsets. Prints one JSON document of what it saw; the Rust
test (native/tests/real_clients.rs) decides whether that is right.

Usage: kafka_python_group.py BOOTSTRAP TOPIC COUNT GROUP
"""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, topic, count, group = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", client_id="kafka-python-producer")
futures = [
    producer.send(topic, key=f"key-{i % 7}".encode(), value=f"value-{i}".encode()) for i in range(count)
]
producer.flush(timeout=30)
produced = []
for future in futures:
    metadata = future.get(timeout=30)
    produced.append([metadata.partition, metadata.offset])
idempotent = producer.config.get("enable_idempotence")
producer.close(timeout=10)

consumer = KafkaConsumer(
    topic,
    bootstrap_servers=bootstrap,
    group_id=group,
    client_id="kafka-python-consumer",
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    consumer_timeout_ms=1000,
)
consumed = []
deadline = time.time() + 45
while len(consumed) < count and time.time() < deadline:
    for message in consumer:
        consumed.append([message.partition, message.offset, message.key.decode(), message.value.decode()])
consumer.commit()
committed = {}
for partition in sorted(consumer.assignment(), key=lambda tp: tp.partition):
    committed[str(partition.partition)] = consumer.committed(partition)
consumer.close()

print(json.dumps({"idempotent": idempotent, "produced": produced, "consumed": consumed, "committed": committed}))
