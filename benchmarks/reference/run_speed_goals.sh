#!/usr/bin/env bash
# Issue #17 speed goals, measured side by side in one run: the PyTorch/NumPy references and the .NET suites, on the
# same thread count, one after the other, references both before and after the .NET suites (so that a change of load
# shows up as a difference between the two reference runs). Usage, from the repository root:
#   benchmarks/reference/run_speed_goals.sh [threads=1] [hidden=100]
# hidden 100 is the paper's model (p = 10,703); hidden 50 (p = 2,853) finishes in minutes on a loaded machine.
# REFERENCE_BLAS_DIR: a directory with an optimised libblas.so.3 / liblapack.so.3 for the Python references only
# (Debian's python3-torch and NumPy link the reference netlib BLAS), e.g. OpenBLAS unpacked from
# `apt-get download libopenblas0-pthread; dpkg -x *.deb root` → root/usr/lib/x86_64-linux-gnu/openblas-pthread.
set -euo pipefail
py() { LD_LIBRARY_PATH="${REFERENCE_BLAS_DIR:-}" /usr/bin/python3 "$@"; }
threads="${1:-1}" hidden="${2:-100}"
p=$(( 2 * hidden + hidden + hidden * hidden + hidden + 3 * hidden + 3 ))
export HG_BENCH_MAX_P="$p"
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
echo "# $(date -u) load: $(cut -d' ' -f1-3 /proc/loadavg), threads $threads"
py benchmarks/reference/paper_alignment_loop.py --threads "$threads" --repeats 1 --p-hidden "$hidden"
dotnet run -c Release --project benchmarks/HessianGeometry.Benchmarks -- --threads "$threads" --filter '*AllEigenvectorAlignment*' '*DenseEigenDecomposition*'
py benchmarks/reference/numpy_eigh.py --repeats 2
py benchmarks/reference/paper_alignment_loop.py --threads "$threads" --repeats 1 --p-hidden "$hidden"
echo "# $(date -u) load: $(cut -d' ' -f1-3 /proc/loadavg)"
