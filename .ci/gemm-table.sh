#!/usr/bin/env bash
# Prints the GEMM table of the README: `latent bench gemm` beside numpy (OpenBLAS) on the same
# shapes, in the same run, 1 and 2 threads. Needs python3 with numpy. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product latent >/dev/null
numpy_gflops() {
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$1" OPENBLAS_NUM_THREADS="$1" python3 - "$2" "$3" "$4" "$5" "$6" <<'PY'
import sys, time, numpy as np
m, k, n, ta, tb = map(int, sys.argv[1:6])
a = np.random.rand(*((k, m) if ta else (m, k))).astype(np.float32)
b = np.random.rand(*((n, k) if tb else (k, n))).astype(np.float32)
f = lambda: (a.T if ta else a) @ (b.T if tb else b)
f(); rates = []; end = time.perf_counter() + 1.0
while time.perf_counter() < end or len(rates) < 3:
    t = time.perf_counter(); f(); rates.append(2 * m * n * k / (time.perf_counter() - t) / 1e9)
print(f"{sorted(rates)[len(rates) // 2]:.1f}")
PY
}
echo "| shape (m x k x n) | threads | Latent GFLOP/s | numpy GFLOP/s | ratio |"
echo "|---|---|---|---|---|"
for threads in 1 2; do
    for spec in "2048 2048 2048 0 0" "128 784 400 0 0" "128 400 784 0 0" "784 128 400 1 0" "128 400 784 0 1" "400 128 784 1 0"; do
        set -- $spec
        flags=""
        [ "$4" = 1 ] && flags="$flags --transpose-a"
        [ "$5" = 1 ] && flags="$flags --transpose-b"
        ours=$(.build/release/latent bench gemm --m "$1" --k "$2" --n "$3" --threads "$threads" $flags --json 2>/dev/null | tail -1 |
            python3 -c "import json, sys; print(json.load(sys.stdin)['gflops'])")
        theirs=$(numpy_gflops "$threads" "$1" "$2" "$3" "$4" "$5")
        label="$1 x $2 x $3"
        [ "$4" = 1 ] && label="$label (A transposed)"
        [ "$5" = 1 ] && label="$label (B transposed)"
        echo "| $label | $threads | $ours | $theirs | $(python3 -c "print(f'{$ours / $theirs:.2f}')") |"
    done
done
