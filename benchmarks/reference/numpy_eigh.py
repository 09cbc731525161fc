"""NumPy / SciPy reference for DenseEigenDecompositionBenchmarks (issue #17, goal 3): decomposes the same matrices.

The .NET suite writes each exact Hessian to $TMPDIR/hg-eigh-P.f64 (raw little-endian float64, row-major). This script
times, on the thread count of OMP_NUM_THREADS / OPENBLAS_NUM_THREADS (set them before starting Python):
numpy.linalg.eigh, numpy.linalg.eigvalsh and scipy.linalg.eigh with subset_by_index (the top 20 pairs, driver evr: the
partial route). Prints "<p> <route> <median s> <min s>".

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 benchmarks/reference/numpy_eigh.py [--repeats 3] [--p P]
"""
import argparse
import glob
import os
import statistics
import tempfile
import time

import numpy as np
import scipy.linalg


def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--p", type=int, default=None, help="only the matrix of this dimension (default: every hg-eigh-*.f64)")
    args = parser.parse_args()
    pattern = f"hg-eigh-{args.p}.f64" if args.p else "hg-eigh-*.f64"
    files = sorted(glob.glob(os.path.join(tempfile.gettempdir(), pattern)), key=os.path.getsize)
    print(f"# numpy {np.__version__}, scipy {scipy.__version__}, threads {os.environ.get('OPENBLAS_NUM_THREADS', '?')}", flush=True)
    for path in files:
        a = np.fromfile(path, dtype=np.float64)
        p = int(round(len(a) ** 0.5))
        a = a.reshape(p, p)
        for name, fn in [
            ("numpy-eigh", lambda: np.linalg.eigh(a)),
            ("numpy-eigvalsh", lambda: np.linalg.eigvalsh(a)),
            ("scipy-eigh-top20-evr", lambda: scipy.linalg.eigh(a, subset_by_index=[p - 20, p - 1], driver="evr")),
        ]:
            med, low = timed(fn, args.repeats)
            print(f"{p} {name} {med:.3f} {low:.3f}", flush=True)


if __name__ == "__main__":
    main()
