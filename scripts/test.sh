#!/usr/bin/env bash
# Every test: the workspace on the host, the core built for wasm32 (it must stay no_std), the
# page's components in headless Chromium, and the whole lab end to end (the page served by
# `kafkalab serve`, driven by clicks, and the brokers listed by kcat).
set -euo pipefail
cd "$(dirname "$0")/.."
section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

scripts/setup.sh test
# The real-client tests fail, rather than skip, when a client is missing.
export KAFKALAB_REQUIRE_CLIENTS=1

section "cargo test --workspace (host)"
cargo test --workspace

section "kafkalab-core for wasm32-unknown-unknown (no_std)"
cargo build -p kafkalab-core --target wasm32-unknown-unknown

section "the page's components in headless Chromium (wasm-bindgen-test)"
CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver} cargo test -p kafkalab-web --target wasm32-unknown-unknown

section "build the page and the server"
scripts/build-web.sh
cargo build --release -p kafkalab-native

section "end to end: kafkalab serve, the page in Chromium, kcat"
node tests/e2e/lab.test.mjs

section "all tests passed"
