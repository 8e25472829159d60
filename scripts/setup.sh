#!/usr/bin/env bash
# Installs what Kafka Lab needs and the machine lacks; does nothing for what is already there.
#   scripts/setup.sh run    what building and running the lab needs
#   scripts/setup.sh test   that, plus what the tests need (Chromium, chromedriver, kcat, and
#                           the Python Kafka clients in tools/venv)
# Everything comes from the package registries (Debian, crates.io, npm); nothing fetches its
# own binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-test}

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_packages=()
need_command() { # need_command <command> <debian package>
  command -v "$1" >/dev/null 2>&1 || apt_packages+=("$2")
}

need_command node nodejs
need_command npm npm
if [ "$purpose" = test ]; then
  need_command chromium chromium
  need_command chromedriver chromium-driver
  need_command kcat kcat
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || apt_packages+=(python3-venv)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  say "installing Debian packages: ${apt_packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must match the wasm-bindgen crate the lock file pins, exactly.
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wasm_bindgen_version" ]; then
  say "installing wasm-bindgen-cli $wasm_bindgen_version (a few minutes, once)"
  # Not --locked: 0.2.130's lock file names a dependency version the registry no longer has.
  cargo install --quiet wasm-bindgen-cli --version "$wasm_bindgen_version"
fi

# wasm-opt from npm's binaryen (Debian's writes modules Chromium refuses), playwright-core and
# kafkajs, at the versions tools/package-lock.json records.
if [ ! -x tools/node_modules/.bin/wasm-opt ] || [ ! -d tools/node_modules/playwright-core ] \
   || [ ! -d tools/node_modules/kafkajs ] \
   || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  say "installing Node tools (binaryen, playwright-core, kafkajs)"
  npm ci --prefix tools --no-audit --no-fund --loglevel=error
fi

# The Python Kafka clients the tests run (confluent-kafka, kafka-python), at the versions
# tools/requirements.txt pins, in a virtual environment of the project's own.
if [ "$purpose" = test ] && { [ ! -x tools/venv/bin/python ] || [ tools/requirements.txt -nt tools/venv/.installed ]; }; then
  say "installing the Python Kafka clients into tools/venv"
  python3 -m venv tools/venv
  tools/venv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
  touch tools/venv/.installed
fi
