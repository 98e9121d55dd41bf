#!/usr/bin/env bash
# Side-by-side training speed: `sinkrun bench --json` (A) against PyTorch's
# CPU reference bench/torch_ref.py (B) on the same model, run alternately
# A B A B ... for ROUNDS rounds on this machine, then a Markdown table of the
# medians. The reference model is both programs' default: vocab 256, d_model
# 128, 4 layers, 4 heads, SwiGLU 352, pre-RMSNorm, RoPE, untied, AdamW with
# weight decay and clipping 1.0, batch 32 x 64, float32, 2 threads.
#
#   bench/compare.sh                 # 5 rounds of 20 timed steps each
#   ROUNDS=7 STEPS=30 bench/compare.sh
#
# Environment: SINKRUN (binary, default bin/sinkrun, built by `make build`
# when missing), PYTHON (default /usr/bin/python3, Debian's python3-torch),
# THREADS (default 2: sinkrun --threads and torch --threads), PEAK_GFLOPS
# (FP32 peak of the cores used, default 256: 2 cores x 2 AVX-512 FMA units x
# 16 lanes x 2 FLOP x 2.0 GHz), SINKRUN_ARGS (extra bench flags).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
STEPS=${STEPS:-20}
THREADS=${THREADS:-2}
PEAK_GFLOPS=${PEAK_GFLOPS:-256}
PYTHON=${PYTHON:-/usr/bin/python3}
SINKRUN=${SINKRUN:-bin/sinkrun}
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3} GOEXPERIMENT=${GOEXPERIMENT:-simd}

if [ ! -x "$SINKRUN" ]; then
	make build >&2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# Which BLAS PyTorch runs on: the libraries mapped after a matmul.
"$PYTHON" - <<'PY' >"$out/blas.txt" 2>&1 || true
import torch
torch.set_num_threads(2)
torch.ones(256, 256) @ torch.ones(256, 256)
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.lower() or "mkl" in l.lower()})
print("pytorch %s; BLAS libraries loaded: %s" % (torch.__version__, ", ".join(libs) or "none (built-in kernels)"))
PY

for r in $(seq 1 "$ROUNDS"); do
	"$SINKRUN" bench --json --steps "$STEPS" --threads "$THREADS" --measure=false ${SINKRUN_ARGS:-} >>"$out/a.jsonl"
	echo "round $r/$ROUNDS: sinkrun $(tail -1 "$out/a.jsonl" | "$PYTHON" -c 'import json,sys; print("%.1f ms" % json.load(sys.stdin)["ms_per_step"])')" >&2
	"$PYTHON" bench/torch_ref.py --steps "$STEPS" --threads "$THREADS" >>"$out/b.jsonl"
	echo "round $r/$ROUNDS: pytorch $(tail -1 "$out/b.jsonl" | "$PYTHON" -c 'import json,sys; print("%.1f ms" % json.load(sys.stdin)["ms_per_step"])')" >&2
done

"$PYTHON" - "$out" "$PEAK_GFLOPS" "$ROUNDS" "$STEPS" <<'PY'
import json, statistics, sys
d, peak, rounds, steps = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
a = [json.loads(l) for l in open(d + "/a.jsonl")]
b = [json.loads(l) for l in open(d + "/b.jsonl")]
gf = a[0]["gflop_per_step"]  # same model, same FLOP count for both
ma = statistics.median(x["ms_per_step"] for x in a)
mb = statistics.median(x["ms_per_step"] for x in b)
blas = open(d + "/blas.txt").read().strip()
print("Model: %s, %d parameters (PyTorch: %d), batch %d x %d, %.2f GFLOP per step." % (
    a[0]["model"], a[0]["params"], b[0]["params"], a[0]["batch"], a[0]["context"], gf))
print("sinkrun backend: %s; PyTorch: %s" % (a[0]["backend"], blas))
print("%s rounds, alternating, each the median of %s timed steps.\n" % (rounds, steps))
print("| round | sinkrun ms/step | PyTorch ms/step |")
print("| ---: | ---: | ---: |")
for i, (x, y) in enumerate(zip(a, b), 1):
    print("| %d | %.1f | %.1f |" % (i, x["ms_per_step"], y["ms_per_step"]))
print()
print("| engine | median ms/step | tokens/s | GFLOP/s | %% of %.0f GFLOP/s peak |" % peak)
print("| --- | ---: | ---: | ---: | ---: |")
for name, m in (("sinkrun (" + a[0]["backend"] + ")", ma), ("PyTorch " + b[0]["impl"].split("-", 1)[-1], mb)):
    print("| %s | %.1f | %.0f | %.1f | %.1f%% |" % (name, m, a[0]["batch"] * a[0]["context"] / (m / 1000), gf / (m / 1000), 100 * gf / (m / 1000) / peak))
print("\nratio sinkrun / PyTorch (medians): %.2f" % (ma / mb))
PY
