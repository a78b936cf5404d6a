#!/usr/bin/env bash
# Builds the book and runs its tests: installs the pinned mdBook if needed
# (about 4 min on an idle 2-core machine; skipped when `mdbook --version`
# already prints the pinned version), then `mdbook build` (HTML into
# target/book/) and `mdbook test`.
#
# The Rust examples the book shows are files under examples/, included into
# the chapters as `rust,ignore` blocks (mdbook test cannot link the
# workspace's crates); `cargo test --doc` compiles and runs them (src/lib.rs)
# and tests/book.rs checks the book's TOML and commands. `mdbook test` runs
# whatever self-contained Rust blocks the chapters hold.
set -euo pipefail
cd "$(dirname "$0")/.."

MDBOOK_VERSION=0.5.4

if [ "$(mdbook --version 2>/dev/null)" != "mdbook v$MDBOOK_VERSION" ]; then
  echo "book: installing mdbook $MDBOOK_VERSION" >&2
  # Only the `search` feature: `serve` and `watch` (a web server, a file
  # watcher) are not needed to build and test, and double the build time.
  cargo install mdbook --locked --version "$MDBOOK_VERSION" --no-default-features --features search
fi

mdbook build book
mdbook test book
