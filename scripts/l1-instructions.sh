#!/usr/bin/env bash
# Instructions per L1 hit for each peer of benches/l1_hit.rs, counted by
# callgrind (independent of machine load). Usage:
#   scripts/l1-instructions.sh [hits] [peers...]
# Prints "peer dist instructions/hit" (the key-sequence loop included; the
# `loop` peer is that loop alone).
set -euo pipefail
cd "$(dirname "$0")/.."
hits=${1:-1000000}
shift || true
peers=("$@")
if [ ${#peers[@]} -eq 0 ]; then
  peers=(loop strata:lru strata:s3fifo strata:sieve strata:clock strata:fifo strata:lfu strata:tinylfu
         mini_moka quick_cache mutex_hashmap)
fi
cargo build -q --profile bench --example l1_hit_count
bin=target/release/examples/l1_hit_count
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for dist in zipf uniform; do
  for p in "${peers[@]}"; do
    valgrind --tool=callgrind --toggle-collect='*measured_*' --callgrind-out-file="$out/cg" \
      "$bin" "$p" "$dist" "$hits" >/dev/null 2>"$out/log"
    ir=$(sed -n 's/^summary: //p' "$out/cg")
    awk -v p="$p" -v d="$dist" -v ir="$ir" -v n="$hits" 'BEGIN { printf "%-16s %-8s %6.1f\n", p, d, ir / n }'
  done
done
