#!/usr/bin/env bash
# Issue #17 goal 4: the authors' pipeline (paper_pipeline.py) and `hessian-geometry analyze --solver exact --top 10
# --alignment --margin` on the same trained 2-H-H-3 ReLU model and three-Gaussian data, one after the other, in one run.
# Usage from the repository root: benchmarks/reference/run_pipeline_goal.sh [hidden=100] [threads=1] [margin-steps=20000]
# REFERENCE_BLAS_DIR: an optimised libblas.so.3 / liblapack.so.3 for the Python reference only (see run_speed_goals.sh).
set -euo pipefail
hidden="${1:-100}" threads="${2:-1}" steps="${3:-20000}"
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
out="$(mktemp -d)"
echo "# $(date -u) load: $(cut -d' ' -f1-3 /proc/loadavg), hidden $hidden, threads $threads, margin steps $steps"
dotnet build src/HessianGeometry.Cli -c Release -v q -nologo > /dev/null
LD_LIBRARY_PATH="${REFERENCE_BLAS_DIR:-}" /usr/bin/python3 benchmarks/reference/paper_pipeline.py --hidden "$hidden" --threads "$threads" --margin-steps "$steps" --out "$out"
start=$(date +%s.%N)
dotnet src/HessianGeometry.Cli/bin/Release/net10.0/hessian-geometry.dll analyze --model "$out/model.safetensors" \
  --arch "mlp:2-$hidden-$hidden-3:relu" --data "$out/data.safetensors" --x-key x --y-key y \
  --solver exact --top 10 --alignment --margin --threads "$threads" --seed 0 --out "$out/report" > "$out/analyze.log"
echo "hessian-geometry-analyze-wall $(echo "$(date +%s.%N) - $start" | bc)"
/usr/bin/python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); c = r.get("complexity") or {}
print("stages", r.get("timingsSeconds")); print("counts", c.get("encodingCountMean"), "/", c.get("encodingCountMax"))' "$out/report/report.json" || true
echo "# $(date -u) load: $(cut -d' ' -f1-3 /proc/loadavg)"
