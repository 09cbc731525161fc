"""PyTorch reference for the HVP / gradient ratios of HvpBenchmarks (docs/benchmarks.md, "PyTorch reference").

Runs the same problems as benchmarks/HessianGeometry.Benchmarks/Operators/HvpBenchmarks.cs with PyTorch's own
double-backward HVP, on one thread, float32, and prints a Markdown table of median times and ratios.

    /usr/bin/python3 benchmarks/reference/pytorch_hvp.py [--repeats 30] [--threads 1]

Needs Debian's python3-torch (apt install python3-torch); nothing in the .NET build or tests depends on it.
The data are Gaussian blobs like TinyModels.Blobs but not bit-identical: timings do not depend on the values.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 256


def mlp(sizes, seed):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers).eval()


def blobs(n, d, c, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, c, (n,), generator=g)
    centres = 3 * torch.randn(c, d, generator=g)
    return centres[y] + torch.randn(n, d, generator=g), y


def median_ms(fn, repeats):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def run(sizes, n, repeats):
    model = mlp(sizes, 0)
    x, y = blobs(n, sizes[0], sizes[-1], 0)
    params = [p for p in model.parameters()]
    v = [torch.randn_like(p) for p in params]
    batches = list(zip(x.split(BATCH), y.split(BATCH)))

    def loss_of(xb, yb):
        # Mean over the whole data set, so the batches' gradients add up to the full-data gradient.
        return F.cross_entropy(model(xb), yb, reduction="sum") / n

    def gradient_one_batch():
        return torch.autograd.grad(loss_of(x, y), params)

    grads = torch.autograd.grad(loss_of(x, y), params, create_graph=True)

    def hvp_cached():
        return torch.autograd.grad(grads, params, v, retain_graph=True)

    def hvp_recomputed():
        g = torch.autograd.grad(loss_of(x, y), params, create_graph=True)
        return torch.autograd.grad(g, params, v)

    def gradient_streamed():
        total = [torch.zeros_like(p) for p in params]
        for xb, yb in batches:
            for t, g in zip(total, torch.autograd.grad(loss_of(xb, yb), params)):
                t.add_(g)
        return total

    def hvp_streamed():
        total = [torch.zeros_like(p) for p in params]
        for xb, yb in batches:
            g = torch.autograd.grad(loss_of(xb, yb), params, create_graph=True)
            for t, h in zip(total, torch.autograd.grad(g, params, v)):
                t.add_(h)
        return total

    # The variants must agree before they are timed.
    reference = torch.cat([h.flatten() for h in hvp_cached()])
    for fn in (hvp_recomputed, hvp_streamed):
        other = torch.cat([h.flatten() for h in fn()])
        assert (other - reference).norm() <= 1e-4 * reference.norm(), fn.__name__

    name = "-".join(map(str, sizes)) + f"/{n}"
    g1 = median_ms(gradient_one_batch, repeats)
    gs = median_ms(gradient_streamed, repeats)
    rows = [
        ("one batch", "gradient, one batch", g1, g1),
        ("one batch", "HVP, cached graph", median_ms(hvp_cached, repeats), g1),
        ("one batch", "HVP, one batch recomputed", median_ms(hvp_recomputed, repeats), g1),
        ("streamed", "gradient, streamed", gs, gs),
        ("streamed", "HVP, streamed", median_ms(hvp_streamed, repeats), gs),
    ]
    for category, method, ms, base in rows:
        print(f"| {name} | {category} | {method} | {ms:.3f} ms | {ms / base:.2f} |", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s), float32, median of {args.repeats}")
    print("| Problem | Category | Method | Time | Ratio |")
    print("|---|---|---|---|---|")
    for sizes, n in (([4, 32, 32, 3], 512), ([2, 256, 256, 2], 1000), ([2, 256, 256, 2], 4096)):
        run(sizes, n, args.repeats)


if __name__ == "__main__":
    main()
