#!/usr/bin/env bash
# Issue #17 goals 1, 3, 4 (and 5 for eigh) side by side in one run, as ratios: each Python reference runs before AND
# after the .NET suites, so that a change of load shows up as a difference between its two runs; the load average is
# printed between steps. Usage, from the repository root (build first: dotnet build benchmarks/HessianGeometry.Benchmarks
# -c Release; dotnet build src/HessianGeometry.Cli -c Release):
#   benchmarks/reference/run_issue17_side_by_side.sh [hidden=100] [threads=1] [margin-steps=20000]
# hidden 100 is the paper's model (p = 10,703); hidden 50 (p = 2,853) finishes in minutes on a loaded machine.
# REFERENCE_BLAS_DIR: an optimised libblas.so.3 / liblapack.so.3 for the Python references only (see run_speed_goals.sh).
# Steps: (1) authors' alignment loop; (2) the .NET suites AllEigenvectorAlignment, DenseEigenDecomposition (1 and 2
# threads, or EIGH_THREADS="1" on a loaded machine, where 2 threads are 30-100x slower; MKL with the vendor check
# bypassed, the library default on AMD) and PaperPipeline, at this p only;
# (3) NumPy/SciPy eigh on the matrix step 2 wrote; (4) DenseEigenDecomposition again with MKL's default kernels
# (HESSIANGEOMETRY_MKL_VENDOR_CHECK=keep); (5) NumPy eigh again; (6) the authors' pipeline (paper_pipeline.py), `analyze
# --solver exact --top 10 --alignment --margin` on the model it wrote, the pipeline again, analyze again; (7) alignment loop again.
set -uo pipefail
. "$(dirname "$0")/issue17_analyze.sh"
py() { LD_LIBRARY_PATH="${REFERENCE_BLAS_DIR:-}" /usr/bin/python3 "$@"; }
load() { echo "# $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) — $*"; }
hidden="${1:-100}" threads="${2:-1}" steps="${3:-20000}"
p=$(( 2 * hidden + hidden + hidden * hidden + hidden + 3 * hidden + 3 ))
export HG_BENCH_MIN_P="$p" HG_BENCH_MAX_P="$p"
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
bench="benchmarks/HessianGeometry.Benchmarks/bin/Release/net10.0/HessianGeometry.Benchmarks.dll"
cli="src/HessianGeometry.Cli/bin/Release/net10.0/hessian-geometry.dll"
out="$(mktemp -d)"
load "start: p = $p, threads $threads, margin steps $steps, output $out"
py benchmarks/reference/paper_alignment_loop.py --threads "$threads" --repeats 1 --p-hidden "$hidden"
load "(2) .NET suites"
HG_BENCH_THREADS="${EIGH_THREADS:-1,2}" dotnet "$bench" --threads "$threads" --filter '*AllEigenvectorAlignment*' '*DenseEigenDecomposition*' '*PaperPipeline*' 2>&1 | grep -E '^\||^// (HessianGeometry|LEAK)|Exception'
load "(3) NumPy eigh"
py benchmarks/reference/numpy_eigh.py --repeats 1 | grep -E "^#|^$p "
load "(4) DenseEigenDecomposition, MKL default kernels"
HESSIANGEOMETRY_MKL_VENDOR_CHECK=keep HG_BENCH_THREADS="$threads" dotnet "$bench" --threads "$threads" --filter '*DenseEigenDecomposition*' 2>&1 | grep -E '^\||Exception'
load "(5) NumPy eigh again"
py benchmarks/reference/numpy_eigh.py --repeats 1 | grep -E "^$p "
load "(6.1) authors' pipeline"
py benchmarks/reference/paper_pipeline.py --hidden "$hidden" --threads "$threads" --margin-steps "$steps" --out "$out"
for round in 1 2; do
  load "(6.$round) analyze --solver exact --top 10 --alignment --margin"
  analyze_paper_model "$cli" "$out" "$hidden" "$threads"
  if [ "$round" = 1 ]; then
    load "(6.2) authors' pipeline again"
    py benchmarks/reference/paper_pipeline.py --hidden "$hidden" --threads "$threads" --margin-steps "$steps" --out "$out.2"
  fi
done
load "(7) alignment loop again"
py benchmarks/reference/paper_alignment_loop.py --threads "$threads" --repeats 1 --p-hidden "$hidden"
load "end"
