#!/usr/bin/env bash
# Issue #17 goal 3 with the range-revealing route: libtorch eigh, the certified range-revealing decomposition and
# DenseSpectrum's full route (DenseEigenDecompositionBenchmarks, one problem), then NumPy eigh on the same matrix,
# NumPy again before and after so that a change of load shows. Usage, from the repository root:
#   REFERENCE_BLAS_DIR=/work/openblas/root/usr/lib/x86_64-linux-gnu/openblas-pthread \
#     benchmarks/reference/run_range_eigh.sh [p=2853] [threads=1]
# p is 1315, 2853 or 10703 (the paper's 2-100-100-3 model; about 15 minutes on a quiet machine, mostly eigh).
set -euo pipefail
py() { LD_LIBRARY_PATH="${REFERENCE_BLAS_DIR:-}" /usr/bin/python3 "$@"; }
p="${1:-2853}" threads="${2:-1}"
export HG_BENCH_MIN_P="$p" HG_BENCH_MAX_P="$p" HG_BENCH_THREADS="$threads"
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
echo "# $(date -u) load: $(cut -d' ' -f1-3 /proc/loadavg), p $p, threads $threads"
if [ -f "${TMPDIR:-/tmp}/hg-eigh-$p.f64" ]; then py benchmarks/reference/numpy_eigh.py --repeats 1 --p "$p"; fi
dotnet run -c Release --project benchmarks/HessianGeometry.Benchmarks -- --threads "$threads" \
  --filter '*DenseEigenDecomposition*LibtorchEigh*' '*DenseEigenDecomposition*RangeRevealing*' '*DenseEigenDecomposition*DenseSpectrumFull*'
echo "# $(date -u) load: $(cut -d' ' -f1-3 /proc/loadavg)"
py benchmarks/reference/numpy_eigh.py --repeats 2 --p "$p"
echo "# $(date -u) load: $(cut -d' ' -f1-3 /proc/loadavg)"
