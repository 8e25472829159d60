// Takes the README's screenshot: the page from dist/ (built by scripts/build-web.sh) opened on a
// shared run (a consumer group, records produced, broker 1 killed and the leader moved), with
// a replica's log open in the inspector, at 1280 × 900 in headless Chromium.
//
//   node scripts/readme-screenshot.mjs [out.png]     (default docs/screenshot.png)
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { chromium } = require(join(root, 'tools/node_modules/playwright-core'));
const out = process.argv[2] ?? join(root, 'docs/screenshot.png');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

const server = createServer(async (req, res) => {
  const path = join(root, 'dist', decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/\/$/, '/index.html'));
  try {
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
    res.end(await readFile(path));
  } catch {
    res.writeHead(404).end();
  }
}).listen(0, '127.0.0.1');
await new Promise((ready) => server.once('listening', ready));

const actions = [
  '1000:consumer alice group=billing topics=orders auto.offset.reset=earliest',
  ...Array.from({ length: 6 }, (_, n) => `${2000 + n * 700}:produce orders key=k${n} value=order-${n} acks=all`),
  '8000:kill 1',
  '12000:produce orders key=k1 value=after-the-kill acks=all',
];
const fragment = `seed=1&brokers=3&t=21000&a=${actions.map((a) => a.replace(/^(\d+):(.*)$/, (_, t, line) => `${t}:${encodeURIComponent(line)}`)).join(';')}`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`http://127.0.0.1:${server.address().port}/#${fragment}`);
await page.waitForSelector('[data-broker="3"]');
await page.click('[data-broker="2"] [data-replica="orders/0"]');
await page.waitForSelector('[data-testid=inspected-replica]');
await page.screenshot({ path: out });
console.log(`wrote ${out}`);
await browser.close();
server.close();
