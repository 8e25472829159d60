"""confluent-kafka (librdkafka 2.16): an idempotent producer at acks=all writes keyed records,
then a consumer reads the topic from the beginning. Prints one JSON document of what it saw;
the Rust test (native/tests/real_clients.rs) decides whether that is right.

Usage: confluent_idempotent.py BOOTSTRAP TOPIC COUNT
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                     "linger.ms": 5, "client.id": "confluent-idempotent"})
produced, errors = [], []


def delivered(error, message):
    if error is not None:
        errors.append(str(error))
    else:
        produced.append([message.partition(), message.offset(), message.key().decode(), message.value().decode()])


for i in range(count):
    producer.produce(topic, key=f"key-{i % 7}".encode(), value=f"value-{i}".encode(), on_delivery=delivered)
    producer.poll(0)
left = producer.flush(30)

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "confluent-reader", "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, "client.id": "confluent-reader"})
consumer.subscribe([topic])
consumed = []
deadline = time.time() + 45
while len(consumed) < len(produced) and time.time() < deadline:
    message = consumer.poll(0.5)
    if message is None:
        continue
    if message.error():
        errors.append(str(message.error()))
        continue
    consumed.append([message.partition(), message.offset(), message.key().decode(), message.value().decode()])
consumer.close()

print(json.dumps({"unflushed": left, "errors": errors, "produced": produced, "consumed": consumed}))
