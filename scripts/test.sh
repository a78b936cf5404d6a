#!/usr/bin/env bash
# The test command of the README: every test, against real Redis and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh

cargo test --workspace --all-targets
cargo test --workspace --doc

# The book: installs the pinned mdBook if needed, builds and tests it.
book/build.sh
