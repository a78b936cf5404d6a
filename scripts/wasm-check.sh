#!/usr/bin/env bash
# Builds the decision half of Strata for wasm32-unknown-unknown, so the
# simulator keeps running in the browser: strata-core without default
# features (no tokio, sled, redis, sqlx, std Instant) and strata-sim.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo build -p strata-core --no-default-features --target wasm32-unknown-unknown
cargo build -p strata-sim --target wasm32-unknown-unknown
