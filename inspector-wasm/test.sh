#!/usr/bin/env bash
# The inspector's browser tests, on a fresh machine too: installs Chromium,
# its driver and Node.js (Debian packages) and the e2e's npm packages when
# missing, builds the page (build.sh), runs the wasm-bindgen tests of the API
# in headless Chromium, then the end-to-end test of the page (e2e/e2e.mjs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

"$here/build.sh"

# Lints of the wasm-only code paths, then the wasm-bindgen tests in the
# browser (runner set in .cargo/config.toml, Chromium flags in
# inspector-wasm/webdriver.json).
cargo clippy -p strata-inspector --target wasm32-unknown-unknown --all-targets -- -D warnings
(cd "$here" && CHROMEDRIVER="$(command -v chromedriver)" cargo test -p strata-inspector --target wasm32-unknown-unknown)

# End to end: `strata inspect` serves the page, Chromium drives it, and the
# results are compared with `strata replay` and with the same code run natively.
cargo build -p strata --bin strata
cargo build -p strata-inspector --example native_run
installed="$(cd "$here/e2e" && node -p "try { require('./node_modules/playwright-core/package.json').version } catch { '' }")"
wanted="$(cd "$here/e2e" && node -p "require('./package-lock.json').packages['node_modules/playwright-core'].version")"
if [ "$installed" != "$wanted" ]; then
  (cd "$here/e2e" && npm ci --no-audit --no-fund)
fi
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
STRATA_BIN="$target_dir/debug/strata" NATIVE_RUN="$target_dir/debug/examples/native_run" \
  CHROMIUM="$(command -v chromium)" node "$here/e2e/e2e.mjs"
