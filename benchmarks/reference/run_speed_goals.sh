#!/usr/bin/env bash
# Issue #17 speed goals, measured side by side in one run: the PyTorch/NumPy references and the .NET suites, on the
# same thread count, one after the other, references both before and after the .NET suites (so that a change of load
# shows up as a difference between the two reference runs). Usage, from the repository root:
#   benchmarks/reference/run_speed_goals.sh [threads]   (default 1)
set -euo pipefail
threads="${1:-1}"
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
echo "# $(date -u) load: $(cut -d' ' -f1-3 /proc/loadavg), threads $threads"
/usr/bin/python3 benchmarks/reference/paper_alignment_loop.py --threads "$threads" --repeats 2
dotnet run -c Release --project benchmarks/HessianGeometry.Benchmarks -- --threads "$threads" --filter '*AllEigenvectorAlignment*'
/usr/bin/python3 benchmarks/reference/paper_alignment_loop.py --threads "$threads" --repeats 2
echo "# $(date -u) load: $(cut -d' ' -f1-3 /proc/loadavg)"
