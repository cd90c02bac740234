#!/bin/sh
# Runs every fuzz target for SECONDS (default 600) each, one after another, from fuzz/.
# Usage: fuzz/run-all.sh [SECONDS]
set -e
cd "$(dirname "$0")"
secs=${1:-600}
for t in sse chunk markdown config fleet error_body term_input; do
    mkdir -p "corpus/$t"
    echo "== $t for ${secs}s"
    cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 2>&1 | tail -3
done
