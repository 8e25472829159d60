// End to end: start `kafkalab serve`, open the page it serves in headless Chromium, produce
// and kill a broker by clicking, save a screenshot, scrub the timeline back to before the kill
// (another screenshot), open the page's own link in a new tab and see the same run, then list
// the brokers' metadata with kcat; then open the lesson player and play the first lesson to its
// end by clicking and typing, and save a screenshot of it at 1280x720.
//
//   node tests/e2e/lab.test.mjs        (after scripts/build-web.sh and a release build)
//
// Ports default to 18080 (page) and 19092-19094 (brokers) so a running `./lab run` is not
// disturbed; set KAFKALAB_E2E_HTTP_PORT / KAFKALAB_E2E_BROKER_PORT to change them.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from '../../tools/node_modules/playwright-core/index.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const httpPort = Number(process.env.KAFKALAB_E2E_HTTP_PORT ?? 18080);
const brokerPort = Number(process.env.KAFKALAB_E2E_BROKER_PORT ?? 19092);
const out = join(root, 'tests', 'out');
mkdirSync(out, { recursive: true });

const step = (what) => console.log(`[e2e] ${what}`);

/** The first lesson of the course (by file name, as the page orders them): its title, its
 *  number of steps, each task's solution by goal, and each prediction's answer by question. */
function firstLesson() {
  const dir = join(root, 'lessons');
  const name = readdirSync(dir).filter((n) => n.endsWith('.md') && n !== 'README.md').sort()[0];
  const lines = readFileSync(join(dir, name), 'utf8').split('\n');
  const lesson = { name, title: '', steps: 0, solutions: new Map(), answers: new Map() };
  for (let i = 0; i < lines.length; i++) {
    if (!lesson.title && lines[i].startsWith('# ')) lesson.title = lines[i].slice(2).trim();
    if (lines[i].startsWith('## Step:')) lesson.steps++;
    const block = lines[i].match(/^```(task|predict)\s*$/);
    if (!block) continue;
    const fields = [];
    for (i++; !lines[i].startsWith('```'); i++) {
      const field = lines[i].match(/^\s*([a-z]+):\s*(.*)$/);
      if (field) fields.push([field[1], field[2].trim()]);
    }
    const all = (name) => fields.filter(([n]) => n === name).map(([, v]) => v);
    if (block[1] === 'task') {
      lesson.solutions.set(all('goal')[0], all('solution'));
    } else {
      const choices = fields.filter(([n]) => n === 'choice' || n === 'answer');
      lesson.answers.set(all('question')[0], choices.findIndex(([n]) => n === 'answer'));
    }
  }
  return lesson;
}

function waitForPort(port, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(); });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on 127.0.0.1:${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

step(`starting kafkalab serve (page :${httpPort}, brokers :${brokerPort}-${brokerPort + 2})`);
const server = spawn(join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'release', 'kafkalab'),
  ['serve', '--in-memory', '--web-dir', join(root, 'dist'), '--http-port', String(httpPort), '--port', String(brokerPort)],
  { stdio: ['ignore', 'inherit', 'inherit'] });
let serverExit = null;
server.on('exit', (code, signal) => { serverExit = { code, signal }; });

let context;
try {
  await Promise.all([waitForPort(httpPort), waitForPort(brokerPort), waitForPort(brokerPort + 1), waitForPort(brokerPort + 2)]);

  step('opening the page in headless Chromium');
  context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'kafkalab-chromium-')), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console error: ${message.text()}`); });
  const response = await page.goto(`http://127.0.0.1:${httpPort}/`);
  assert.equal(response.status(), 200);
  await page.waitForSelector('[data-broker="3"]');
  assert.equal(await page.locator('svg.cluster [data-broker]').count(), 3, 'three brokers are drawn');

  step('producing three records by clicking');
  for (let i = 0; i < 3; i++) await page.click('[data-testid=produce]');
  // Round robin: one record per partition, on every replica once followers have fetched.
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-replica]')].every((r) => r.getAttribute('data-leo') === '1'
      && r.getAttribute('data-hw') === '1'), null, { timeout: 15000 });
  assert.equal(await page.locator('[data-replica][data-leo="1"]').count(), 9, 'nine replicas hold their record');

  step('killing broker 1 by clicking it');
  assert.equal(await page.getAttribute('[data-partition="orders/0"]', 'data-leader'), '1');
  const beforeKillMs = Number(await page.getAttribute('[data-testid=time]', 'data-now-ms'));
  await page.click('[data-broker="1"] .broker-name'); // its name: a replica row opens the inspector
  await page.waitForSelector('[data-broker="1"][data-status="dead"]', { timeout: 5000 });
  step('waiting for the controller to fence it and elect a new leader for orders/0');
  await page.waitForSelector('[data-partition="orders/0"][data-leader="2"]', { timeout: 20000 });
  assert.equal(await page.getAttribute('[data-partition="orders/0"]', 'data-isr'), '2, 3');
  assert.equal(await page.getAttribute('[data-broker="2"] [data-replica="orders/0"]', 'data-role'), 'leader');
  const screenshot = join(out, 'e2e-lab.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  step(`screenshot saved to ${screenshot}`);

  // The kill happened at beforeKillMs at the earliest: a millisecond earlier, broker 1 ran.
  const scrubToMs = beforeKillMs - 1;
  step(`pausing and scrubbing the timeline back to ${scrubToMs} ms, before the kill`);
  await page.click('[data-testid=play]');
  await page.waitForSelector('[data-testid=play]:text("Play")');
  const endMs = Number(await page.getAttribute('[data-testid=time]', 'data-horizon-ms'));
  await page.$eval('[data-testid=timeline]', (slider, ms) => {
    slider.value = String(ms);
    slider.dispatchEvent(new Event('input', { bubbles: true }));
  }, scrubToMs);
  await page.waitForSelector('[data-broker="1"][data-status="alive"]', { timeout: 5000 });
  assert.equal(await page.getAttribute('[data-partition="orders/0"]', 'data-leader'), '1', 'broker 1 leads again');
  assert.match(await page.textContent('[data-testid=fork-notice]'), /forks/);
  assert.equal(Number(await page.getAttribute('[data-testid=time]', 'data-horizon-ms')), endMs, 'the future is kept');
  const timelineShot = join(out, 'e2e-timeline.png');
  await page.screenshot({ path: timelineShot, fullPage: true });
  step(`screenshot saved to ${timelineShot}`);

  step('opening the address bar\'s link in a new tab replays the same run');
  const link = page.url();
  assert.match(link, /#seed=1&brokers=3&t=\d+&end=\d+&a=.*kill%201/);
  const copy = await context.newPage();
  copy.on('pageerror', (error) => problems.push(`page error (link): ${error.message}`));
  await copy.goto(link);
  await copy.waitForSelector('[data-broker="3"]');
  for (const selector of ['svg.cluster', '[data-testid=partitions]', '[data-testid=time]']) {
    assert.equal(await copy.innerHTML(selector), await page.innerHTML(selector), `${selector} is the same`);
  }
  await copy.keyboard.press('End');
  await copy.waitForSelector('[data-broker="1"][data-status="dead"]', { timeout: 5000 });
  assert.equal(await copy.getAttribute('[data-partition="orders/0"]', 'data-leader'), '2', 'and its future too');
  await copy.close();
  assert.deepEqual(problems, [], 'the page logged no errors');

  step(`kcat -b 127.0.0.1:${brokerPort} -L`);
  const listing = execFileSync('kcat', ['-b', `127.0.0.1:${brokerPort}`, '-L', '-m', '10'], { encoding: 'utf8', timeout: 20000 });
  console.log(listing.trimEnd().split('\n').map((line) => `    ${line}`).join('\n'));
  assert.match(listing, /3 brokers:/);
  for (let id = 1; id <= 3; id++) {
    assert.match(listing, new RegExp(`broker ${id} at 127\\.0\\.0\\.1:${brokerPort + id - 1}`));
  }
  assert.match(listing, /topic "orders" with 3 partitions:/);
  assert.match(listing, /partition 0, leader 1, replicas: 1,2,3, isrs: 1,2,3/);
  assert.match(listing, /partition 1, leader 2, replicas: 2,3,1, isrs: 2,3,1/);
  assert.match(listing, /partition 2, leader 3, replicas: 3,1,2, isrs: 3,1,2/);

  const lesson = firstLesson();
  step(`opening the lesson player: ${lesson.name} (${lesson.steps} steps)`);
  await page.setViewportSize({ width: 1280, height: 720 });
  // About 30× real time (the speed slider's position 6), playing: the run was left paused.
  await page.$eval('[data-testid=speed]', (slider) => {
    slider.value = '6';
    slider.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.click('[data-testid=lessons]');
  await page.waitForSelector('[data-testid=lesson]');
  await page.click('[data-testid=play]:text("Play")');
  await page.waitForSelector('[data-testid=play]:text("Pause")');
  assert.equal(await page.locator('[data-testid=timeline], [data-testid=step], [data-testid=copy-link]').count(), 0,
    'a lesson has no timeline to move along and no link to copy');
  assert.doesNotMatch(page.url(), /#/, 'the address bar no longer holds the free run');
  assert.equal((await page.textContent('#lesson-heading')).trim(), lesson.title);
  const done = new Set();
  for (let index = 0; index < lesson.steps; index++) {
    assert.equal((await page.textContent('[data-testid=lesson-step]')).trim(), `Step ${index + 1} of ${lesson.steps}`);
    step(`  step ${index + 1}: ${(await page.textContent('[data-testid=lesson-step-title]')).trim()}`);
    for (let tries = 0; ; tries++) {
      assert.ok(tries < 300, `step ${index + 1} never completed`);
      if (await page.locator('[data-testid=lesson-next].primary, [data-testid=lesson-complete]').count()) break;
      const task = page.locator('[data-testid=task][data-done=false]');
      const prediction = page.locator('[data-testid=prediction][data-answered=false]');
      if (await task.count()) {
        const goal = (await task.locator('.goal').textContent()).trim();
        if (!done.has(goal)) {
          done.add(goal);
          assert.ok(lesson.solutions.has(goal), `the task shown is the lesson's: ${goal}`);
          for (const line of lesson.solutions.get(goal)) {
            const broker = line.match(/^(?:kill|restart) (\d+)$/);
            if (broker) {
              await page.click(`[data-broker="${broker[1]}"] .broker-name`);
            } else {
              await page.fill('[data-testid=command]', line);
              await page.press('[data-testid=command]', 'Enter');
            }
            step(`    did: ${line}`);
          }
        }
      } else if (await prediction.count()) {
        const question = (await prediction.locator('.question').textContent()).trim();
        assert.ok(lesson.answers.has(question), `the question shown is the lesson's: ${question}`);
        assert.equal(await prediction.locator('[data-testid=reveal]').count(), 0, 'no answer shown before answering');
        await prediction.locator(`[data-choice="${lesson.answers.get(question)}"]`).click();
        await page.waitForSelector('[data-testid=reveal][data-right=true]');
        step(`    answered: ${question}`);
      }
      await page.waitForTimeout(100);
    }
    if (index + 1 < lesson.steps) await page.click('[data-testid=lesson-next]');
  }
  await page.waitForSelector('[data-testid=lesson-complete]');
  assert.equal(await page.locator('[data-testid=task][data-done=false]').count(), 0, 'every task is ticked');
  assert.equal(await page.locator('[data-testid=proof][data-proof=fails]').count(), 0, 'the lab bore every answer out');
  // The lab scrolled to follow clicks and typing; the picture shows the page from its top.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300); // let the last redraw settle before the picture
  const lessonShot = join(out, 'e2e-lesson.png');
  await page.screenshot({ path: lessonShot });
  step(`lesson complete; screenshot saved to ${lessonShot}`);
  assert.deepEqual(problems, [], 'the page logged no errors');

  assert.equal(serverExit, null, 'the server is still running');
  step('passed');
} finally {
  if (context) await context.close();
  server.kill('SIGTERM');
}
