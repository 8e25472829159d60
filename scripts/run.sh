#!/usr/bin/env bash
# Installs what is missing, builds the page and the server, and starts the lab:
# the page on http://127.0.0.1:8080 and three brokers on 127.0.0.1:9092-9094.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
scripts/build-web.sh
cargo build --quiet --release -p kafkalab-native
echo "Kafka Lab: open http://127.0.0.1:8080 ; brokers on 127.0.0.1:9092-9094 (try: kcat -b 127.0.0.1:9092 -L)"
exec "${CARGO_TARGET_DIR:-target}/release/kafkalab" serve --web-dir dist "$@"
