#!/usr/bin/env bash
# The test command of the README: every test, against real Redis and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh

cargo test --workspace --all-targets
cargo test --workspace --doc

# The book: installs the pinned mdBook if needed, builds and tests it.
book/build.sh

# The inspector in a real browser: wasm-bindgen tests and the end-to-end test
# of the page (installs Chromium, wasm-bindgen-cli and npm packages if missing).
./inspector-wasm/test.sh
