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
tools/node_modules/.bin/wasm-opt -Oz \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-multivalue --enable-mutable-globals \
  "$out/kafkalab_web_bg.wasm" -o "$out/kafkalab_web_bg.wasm"
cp index.html "$out/"
cp -r assets "$out/assets"
raw=$(stat -c %s "$out/kafkalab_web_bg.wasm")
gzipped=$(gzip -9 -c "$out/kafkalab_web_bg.wasm" | wc -c)
echo "built $out/: kafkalab_web_bg.wasm $raw bytes, $gzipped gzip'd"
