#!/usr/bin/env bash
# Builds the inspector's static site into inspector-wasm/www: the wasm module
# (release profile `wasm-release`, size-optimised) bound with wasm-bindgen
# into www/pkg, and the sample traces of traces/ copied into www/traces with
# an index. Installs what it needs when missing: the wasm32 target and the
# wasm-bindgen CLI pinned to the crate's wasm-bindgen version.
# Serve the result with `strata inspect` (or any static server).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
www="$here/www"
cd "$root"

# The CLI must match the `wasm-bindgen = "=X"` dependency exactly.
bindgen_version="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"$/\1/p' "$here/Cargo.toml")"
[ -n "$bindgen_version" ] || { echo "build.sh: no pinned wasm-bindgen in $here/Cargo.toml" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]; then
  # No --locked: one locked dependency of the CLI is missing from the mirror.
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

cargo build -p strata-inspector --target wasm32-unknown-unknown --profile wasm-release
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
wasm="$target_dir/wasm32-unknown-unknown/wasm-release/strata_inspector.wasm"
rm -rf "$www/pkg"
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section --out-dir "$www/pkg" "$wasm"

# Sample traces: every file of traces/ but its README, listed in index.json.
rm -rf "$www/traces"
mkdir -p "$www/traces"
entries=()
for f in traces/*; do
  name="$(basename "$f")"
  [ -f "$f" ] && [ "$name" != README.md ] || continue
  cp "$f" "$www/traces/$name"
  entries+=("{\"name\":\"$name\",\"bytes\":$(stat -c %s "$f")}")
done
(IFS=,; echo "[${entries[*]}]") > "$www/traces/index.json"

size="$(stat -c %s "$www/pkg/strata_inspector_bg.wasm")"
echo "build.sh: $www/pkg/strata_inspector_bg.wasm is $size bytes ($((size / 1024)) KiB); ${#entries[@]} sample traces"
if [ "$size" -ge 1048576 ]; then
  echo "build.sh: the wasm module must stay under 1 MB" >&2
  exit 1
fi
