// kafkajs: produce keyed records with acks=all, then read them back as a consumer group that
// commits its offsets. Prints one JSON document of what it saw; the Rust test
// (native/tests/real_clients.rs) decides whether that is right.
//
// Usage: node kafkajs_group.mjs BOOTSTRAP TOPIC COUNT GROUP
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tools/package.json'));
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, countText, group] = process.argv.slice(2);
const count = Number(countText);
const kafka = new Kafka({ clientId: 'kafkajs-lab', brokers: [bootstrap], logLevel: logLevel.ERROR });

const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
const produced = [];
for (let i = 0; i < count; i += 1) {
  const [result] = await producer.send({
    topic,
    acks: -1,
    messages: [{ key: `key-${i % 7}`, value: `value-${i}` }],
  });
  produced.push([result.partition, Number(result.baseOffset)]);
}
await producer.disconnect();

const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000 });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
const consumed = [];
let done;
const finished = new Promise((resolve) => { done = resolve; });
await consumer.run({
  autoCommit: true,
  eachMessage: async ({ partition, message }) => {
    consumed.push([partition, Number(message.offset), message.key.toString(), message.value.toString()]);
    if (consumed.length >= count) done();
  },
});
const timeout = setTimeout(done, 45000);
await finished;
clearTimeout(timeout);
await consumer.commitOffsets([]).catch(() => {});
await consumer.disconnect();

const admin = kafka.admin();
await admin.connect();
const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
await admin.disconnect();
const committed = {};
for (const { partition, offset } of offsets[0].partitions) committed[String(partition)] = Number(offset);

console.log(JSON.stringify({ produced, consumed, committed }));
