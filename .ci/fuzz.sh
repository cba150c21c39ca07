#!/usr/bin/env bash
# Fuzzes every reader (IDX, NPY, CSV, gzip) and the checkpoint loader with libFuzzer and
# AddressSanitizer, SECONDS each (default 600), and prints executions and crashes per target.
# Not part of CI: run it by hand, from the package root: .ci/fuzz.sh [SECONDS [TARGET...]]
set -euo pipefail
cd "$(dirname "$0")/fuzz"
seconds="${1:-600}"
shift || true
targets="${*:-idx npy csv gzip checkpoint checkpoint-body}"
swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
    -Xswiftc -use-ld=lld -Xlinker --allow-multiple-definition 2>&1 | tail -1
fuzzer=.build/release/LatentFuzz
mkdir -p runs
for target in $targets; do
    mkdir -p "runs/$target/corpus" "runs/$target/crashes"
    [ -e "runs/$target/corpus/seed" ] || "$fuzzer" seed "$target" "runs/$target/corpus/seed"
    log="runs/$target/log.txt"
    touch "runs/$target/.start"
    status=0
    "$fuzzer" "$target" "runs/$target/corpus" -max_total_time="$seconds" -artifact_prefix="runs/$target/crashes/" -print_final_stats=1 >"$log" 2>&1 || status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    crashes=$(find "runs/$target/crashes" -type f -newer "runs/$target/.start" | wc -l)
    echo "$target: $runs executions in $seconds s, $crashes crashes (exit $status)"
done
