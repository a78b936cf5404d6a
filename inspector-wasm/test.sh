#!/usr/bin/env bash
# The inspector's browser tests, on a fresh machine too: installs Chromium and
# its driver (Debian packages) and the e2e's npm packages when missing, builds
# the page (build.sh), runs the wasm-bindgen tests of the API in headless
# Chromium, then the end-to-end test of the page (e2e/e2e.mjs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium chromium-driver
fi

"$here/build.sh"

# wasm-bindgen tests in the browser (runner set in .cargo/config.toml, Chromium
# flags in inspector-wasm/webdriver.json).
(cd "$here" && CHROMEDRIVER="$(command -v chromedriver)" cargo test -p strata-inspector --target wasm32-unknown-unknown)

# End to end: `strata inspect` serves the page, Chromium drives it.
cargo build -p strata --bin strata
if [ ! -d "$here/e2e/node_modules/playwright-core" ]; then
  (cd "$here/e2e" && npm ci --no-audit --no-fund)
fi
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
STRATA_BIN="$target_dir/debug/strata" CHROMIUM="$(command -v chromium)" node "$here/e2e/e2e.mjs"
