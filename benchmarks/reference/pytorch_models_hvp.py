"""PyTorch reference for gradient and HVP times of the model fixtures (residual CNN, attention classifier, plain CNN).

The models and data are those of tests/HessianGeometry.Tests/fixtures/generate_model_fixtures.py (imported from
there; untrained weights, since times do not depend on the values): the whole data set as one batch, mean
cross-entropy, eval mode (BatchNorm uses running statistics). Times are medians of --repeats runs on --threads
threads, after 3 warm-up runs (printed as median / minimum):

    gradient        torch.autograd.grad(loss(model(x), y), params)
    HVP             double backward, graph recomputed: g = grad(loss, params, create_graph=True); grad(g, params, v)
    HVP cached      double backward on a kept create_graph gradient (the second grad only)

    nice -n 10 /usr/bin/python3 benchmarks/reference/pytorch_models_hvp.py [--repeats 30] [--threads 1]

Needs Debian's python3-torch (PyTorch 1.13, reference BLAS); nothing in the .NET build or tests depends on it.
Measured numbers: benchmarks/reference/pytorch_models_hvp.md.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in tests/HessianGeometry.Tests/fixtures (copied to the test output)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "HessianGeometry.Tests", "fixtures"))
import generate_model_fixtures as fixtures  # noqa: E402


def time_ms(fn, repeats):
    """(median, minimum) in ms. The minimum is reported too because the machine these numbers were taken on was shared
    (load average ~10 on 2 cores): the median there includes waiting for a core, the minimum is closer to the cost."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times), 1e3 * min(times)


def run(name, build, dtype, repeats):
    model, x, y = build()
    model = model.to(dtype).eval()
    x = x.to(dtype)
    params = [p for _, p in model.named_parameters()]
    p = sum(t.numel() for t in params)
    g = torch.Generator().manual_seed(0)
    v = [torch.randn(t.shape, generator=g, dtype=torch.float64).to(dtype) for t in params]

    def gradient():
        return torch.autograd.grad(F.cross_entropy(model(x), y), params)

    def hvp():
        grads = torch.autograd.grad(F.cross_entropy(model(x), y), params, create_graph=True)
        return torch.autograd.grad(grads, params, v)

    cached = torch.autograd.grad(F.cross_entropy(model(x), y), params, create_graph=True)

    def hvp_cached():
        return torch.autograd.grad(cached, params, v, retain_graph=True)

    a = torch.cat([t.flatten() for t in hvp()])
    b = torch.cat([t.flatten() for t in hvp_cached()])
    assert (a - b).norm() <= 1e-5 * a.norm()

    tg, mg = time_ms(gradient, repeats)
    th, mh = time_ms(hvp, repeats)
    tc, mc = time_ms(hvp_cached, repeats)
    dt = "float64" if dtype == torch.float64 else "float32"
    print(f"| {name} | {p} | {x.shape[0]} | {dt} | {tg:.2f} / {mg:.2f} ms | {th:.2f} / {mh:.2f} ms | "
          f"{th / tg:.2f} / {mh / mg:.2f} | {tc:.2f} / {mc:.2f} ms | {tc / tg:.2f} / {mc / mg:.2f} |", flush=True)


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"PyTorch {torch.__version__}, CPU {cpu_name()}, {torch.get_num_threads()} thread(s), "
          f"median / minimum of {args.repeats} runs")
    print("| Model | p | n | dtype | gradient | HVP | HVP / gradient | HVP cached | HVP cached / gradient |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, build in (("residual_cnn", fixtures.build_residual_cnn), ("attention", fixtures.build_attention),
                        ("plain_cnn", fixtures.build_plain_cnn)):
        for dtype in (torch.float64, torch.float32):
            run(name, build, dtype, args.repeats)


if __name__ == "__main__":
    main()
