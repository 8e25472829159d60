#!/usr/bin/env bash
# Builds the page into dist/: index.html, assets/, the wasm-bindgen glue and the optimised
# module. dist/ works from any static file server.
set -euo pipefail
cd "$(dirname "$0")/.."
out=dist
profile=wasm-release
cargo build --quiet -p kafkalab-web --target wasm32-unknown-unknown --profile "$profile"
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/$profile/kafkalab_web.wasm"
# The features rustc enables by default for wasm32 must be allowed explicitly.
# --low-memory-unused: rustc puts the stack first, growing down from 1 MiB, with the data
# above it, so the lowest KiB is touched only by a stack within 1 KiB of overflowing; wasm-opt
# may then fold `p + small constant` into a load's offset field. With the producers and debug
# sections dropped: -21 KB raw, -6 KB gzip'd. (Measured and left out: --zero-filled-memory,
# no change; --converge, -0.3% gzip'd for twice the time; --gufa, bigger; -tnh, -0.2% but it
# lets wasm-opt assume that no panic ever happens.)
tools/node_modules/.bin/wasm-opt -Oz \
  --low-memory-unused --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-multivalue --enable-mutable-globals \
  "$out/kafkalab_web_bg.wasm" -o "$out/kafkalab_web_bg.wasm"
cp index.html "$out/"
cp -r assets "$out/assets"
raw=$(stat -c %s "$out/kafkalab_web_bg.wasm")
gzipped=$(gzip -9 -c "$out/kafkalab_web_bg.wasm" | wc -c)
echo "built $out/: kafkalab_web_bg.wasm $raw bytes, $gzipped gzip'd"
