#!/usr/bin/env bash
# The page's performance benchmark (not a test: it reports, it does not fail on a missed target).
# Builds the page into dist/ (scripts/build-web.sh, with $CARGO_TARGET_DIR when set), prints
# what the wasm module is made of (scripts/wasm-size.py, from cargo's unoptimised module), then
# measures the page in headless Chromium (tests/bench/web.mjs) and prints one markdown table:
# measure | value | baseline | ratio | target | met?. Each figure has a baseline measured in the
# same run, so the ratios stay comparable on a busy machine.
#
#   scripts/bench-web.sh              build, then measure
#   SKIP_BUILD=1 scripts/bench-web.sh measure the dist/ already built
#   BENCH_RUNS=9 BENCH_FRAMES_MS=10000 scripts/bench-web.sh   more loads and seeks, longer frames
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}

if [ ! -d tools/node_modules/playwright-core ] || [ ! -x tools/node_modules/.bin/wasm-opt ]; then
  echo "tools/node_modules lacks playwright-core or wasm-opt: run scripts/setup.sh run first" >&2
  exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: run scripts/setup.sh test, or set CHROMIUM" >&2
  exit 1
fi

if [ -z "${SKIP_BUILD:-}" ]; then
  scripts/build-web.sh
fi

echo
echo "## What the module is made of (cargo's module, before wasm-bindgen and wasm-opt)"
echo
python3 scripts/wasm-size.py "$target/wasm32-unknown-unknown/wasm-release/kafkalab_web.wasm" --top 20

echo
echo "## The page, measured in headless Chromium"
echo
CARGO_TARGET_DIR="$target" node tests/bench/web.mjs
