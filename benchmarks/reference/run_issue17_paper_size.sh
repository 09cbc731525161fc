#!/usr/bin/env bash
# Issue #17 goals 1, 3 and 4 at the paper's size (2-100-100-3 ReLU, p = 10,703), side by side in one run on a quiet
# machine (about 10 minutes at load < 1; build first: dotnet build benchmarks/HessianGeometry.Benchmarks -c Release;
# dotnet build src/HessianGeometry.Cli -c Release). Usage, from the repository root:
#   REFERENCE_BLAS_DIR=… benchmarks/reference/run_issue17_paper_size.sh [threads=1] [margin-steps=20000]
# REFERENCE_BLAS_DIR: an optimised libblas.so.3 / liblapack.so.3 for the Python references only (run_speed_goals.sh).
# Steps: (1) the authors' alignment loop; (2) AllEigenvectorAlignmentBenchmarks (goal 1); (3) the authors' pipeline
# (paper_pipeline.py: per-row Hessian, NumPy eigh, alignment and counts, SGD margin), which also writes its Hessian and
# NumPy's eigenvalues; (4) `analyze --solver exact --top 10 --alignment --margin` on the model it wrote, twice (goal 4);
# (5) the range-revealing decomposition of the pipeline's own Hessian, validated against NumPy's eigenvalues (goal 3:
# same matrix, same run); (6) the alignment loop again.
set -uo pipefail
. "$(dirname "$0")/issue17_analyze.sh"
py() { LD_LIBRARY_PATH="${REFERENCE_BLAS_DIR:-}" /usr/bin/python3 "$@"; }
load() { echo "# $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) — $*"; }
threads="${1:-1}" steps="${2:-20000}" hidden=100 p=10703
export HG_BENCH_MIN_P="$p" HG_BENCH_MAX_P="$p" HG_BENCH_THREADS="$threads"
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
bench="benchmarks/HessianGeometry.Benchmarks/bin/Release/net10.0/HessianGeometry.Benchmarks.dll"
cli="src/HessianGeometry.Cli/bin/Release/net10.0/hessian-geometry.dll"
out="$(mktemp -d)"
table() { grep -E '^\||Exception|refusing'; }
load "start: p = $p, threads $threads, margin steps $steps, output $out"
load "(1) authors' alignment loop"
py benchmarks/reference/paper_alignment_loop.py --threads "$threads" --repeats 1 --p-hidden "$hidden"
load "(2) AllEigenvectorAlignmentBenchmarks"
dotnet "$bench" --threads "$threads" --filter '*AllEigenvectorAlignment*' 2>&1 | table
load "(3) authors' pipeline"
py benchmarks/reference/paper_pipeline.py --hidden "$hidden" --threads "$threads" --margin-steps "$steps" --out "$out" --save-hessian
for round in 1 2; do
  load "(4.$round) analyze --solver exact --top 10 --alignment --margin"
  analyze_paper_model "$cli" "$out" "$hidden" "$threads"
done
load "(5) range-revealing decomposition of the pipeline's Hessian"
HG_EIGH_MATRIX="$out/hessian.f64" HG_EIGH_VALUES="$out/eigenvalues.f64" dotnet "$bench" --threads "$threads" \
  --filter '*DenseEigenDecomposition*RangeRevealing*' 2>&1 | table
load "(6) alignment loop again"
py benchmarks/reference/paper_alignment_loop.py --threads "$threads" --repeats 1 --p-hidden "$hidden"
load "end"
rm -f "$out/hessian.f64"
