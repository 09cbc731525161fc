"""PyTorch reference for gradient and HVP times of the model fixtures (residual CNN, attention classifier, plain CNN).

The models and data are those of tests/HessianGeometry.Tests/fixtures/generate_model_fixtures.py (imported from
there; untrained weights, since times do not depend on the values): the whole data set as one batch, mean
cross-entropy, eval mode (BatchNorm uses running statistics). Times are medians of --repeats runs on --threads
threads, after 3 warm-up runs, all functions of a model called in turn in every run (printed as median / minimum;
ratios as the median of the per-run ratios / the ratio of the minima):

    gradient        torch.autograd.grad(loss(model(x), y), params)
    HVP             double backward, graph recomputed: g = grad(loss, params, create_graph=True); grad(g, params, v)
    HVP cached      double backward on a kept create_graph gradient (the second grad only)
    streamed        --batch B > 0 adds the streamed pair: the same gradient and recomputed HVP summed over mini-batches
                    of B rows (each batch's loss weighted by its share of n), what HessianGeometry's Streamed mode does

    nice -n 10 /usr/bin/python3 benchmarks/reference/pytorch_models_hvp.py [--repeats 30] [--threads 1] [--mkldnn off]
        [--batch 16] [--models residual_cnn,attention] [--torchscript] [--clock thread]

--mkldnn off sets torch.backends.mkldnn.enabled = False (oneDNN off, as HessianGeometry runs while an operator is
alive; docs/convolutions.md).

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


CLOCK = time.perf_counter


def interleaved(fns, repeats):
    """Times of each function over `repeats` rounds, the functions called one after the other in every round, so that
    an HVP and its gradient see the same load of a shared machine (3 warm-up rounds first). CLOCK is the wall clock, or
    with --clock thread this thread's CPU time (time.thread_time: the same CLOCK_THREAD_CPUTIME_ID as HessianGeometry's
    "Interleaved CPU ratio"; with one thread, CPU autograd runs on the calling thread)."""
    for _ in range(3):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = CLOCK()
            fn()
            times[i].append(1e3 * (CLOCK() - start))
    return times


def run(name, build, dtype, repeats, batch, torchscript):
    model, x, y = build()
    if torchscript:
        # The committed fixture HessianGeometry loads (TorchScript, trained weights) instead of the eager module.
        suffix = "_f32" if dtype == torch.float32 else ""
        model = torch.jit.load(os.path.join(ROOT, "tests", "HessianGeometry.Tests", "fixtures", "models", f"{name}{suffix}.pt"))
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
    tol = 1e-4 if dtype == torch.float32 else 1e-9  # float32: summation order differs between the paths
    assert (a - b).norm() <= tol * a.norm()

    n = x.shape[0]
    batches = [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)] if batch > 0 else []

    def gradient_streamed():
        total = [torch.zeros_like(t) for t in params]
        for xb, yb in batches:
            for t, gb in zip(total, torch.autograd.grad(F.cross_entropy(model(xb), yb) * (xb.shape[0] / n), params)):
                t += gb
        return total

    def hvp_streamed():
        total = [torch.zeros_like(t) for t in params]
        for xb, yb in batches:
            grads = torch.autograd.grad(F.cross_entropy(model(xb), yb) * (xb.shape[0] / n), params, create_graph=True)
            for t, hb in zip(total, torch.autograd.grad(grads, params, v)):
                t += hb
        return total

    if batches:
        c = torch.cat([t.flatten() for t in hvp_streamed()])
        assert (a - c).norm() <= tol * a.norm()

    fns = [gradient, hvp, hvp_cached] + ([gradient_streamed, hvp_streamed] if batches else [])
    times = interleaved(fns, repeats)
    dt = "float64" if dtype == torch.float64 else "float32"

    def cell(i):
        return f"{statistics.median(times[i]):.2f} / {min(times[i]):.2f} ms"

    def ratio(i, base):
        per_round = [h / g for h, g in zip(times[i], times[base])]
        return f"{statistics.median(per_round):.2f} / {min(times[i]) / min(times[base]):.2f}"

    line = f"| {name} | {p} | {n} | {dt} | {cell(0)} | {cell(1)} | {ratio(1, 0)} | {cell(2)} | {ratio(2, 0)} |"
    if batches:
        line += f" {cell(3)} | {cell(4)} | {ratio(4, 3)} |"
    print(line, flush=True)


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
    parser.add_argument("--mkldnn", choices=("on", "off"), default="on")
    parser.add_argument("--batch", type=int, default=0, help="mini-batch rows of the streamed pair (0: leave it out)")
    parser.add_argument("--models", default="residual_cnn,attention,plain_cnn")
    parser.add_argument("--torchscript", action="store_true",
                        help="time the committed TorchScript fixtures (NAME.pt, NAME_f32.pt) instead of the eager modules")
    parser.add_argument("--clock", choices=("wall", "thread"), default="wall",
                        help="wall clock, or this thread's CPU time (robust to other processes on a shared machine)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.thread_time if args.clock == "thread" else time.perf_counter
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = args.mkldnn == "on"
    print(f"PyTorch {torch.__version__}, CPU {cpu_name()}, {torch.get_num_threads()} thread(s), "
          f"oneDNN {'on' if torch.backends.mkldnn.enabled else 'off'}, "
          f"{'TorchScript fixtures' if args.torchscript else 'eager modules'}, {args.clock} clock, median / minimum of {args.repeats} runs")
    header = "| Model | p | n | dtype | gradient | HVP | HVP / gradient | HVP cached | HVP cached / gradient |"
    if args.batch > 0:
        header += f" gradient, batches of {args.batch} | HVP, batches of {args.batch} | streamed HVP / gradient |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    builders = {"residual_cnn": fixtures.build_residual_cnn, "attention": fixtures.build_attention,
                "plain_cnn": fixtures.build_plain_cnn}
    for name in args.models.split(","):
        for dtype in (torch.float64, torch.float32):
            run(name, builders[name], dtype, args.repeats, args.batch, args.torchscript)


if __name__ == "__main__":
    main()
