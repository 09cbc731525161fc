"""Reference for goal 1 of issue #17: the authors' all-p alignment loop, written in PyTorch from the paper's description.

Sabanayagam, Behrens, Adomaityte, Dawid (2025), "Unveiling the Hessian's Connection to the Decision Boundary": for every
Hessian eigenvector v_i (all p of them) and every training input x, A_i(x) = cos(g(x), v_i) with g(x) the gradient of
the loss at the predicted label; m_i = mean_x |A_i(x)| and max_x |A_i(x)|. As in their pipeline the per-sample
gradients are taken one input at a time by autograd, and the eigenvectors are visited in a Python loop (each visit
vectorised over the inputs: one matrix-vector product, which is the generous version of the loop).

Also times the equivalent single product G·V (torch.mm), the yardstick of "GEMM-times".

    OMP_NUM_THREADS=1 /usr/bin/python3 benchmarks/reference/paper_alignment_loop.py [--threads 1] [--repeats 2] [--p-hidden 100]

Model 2-H-H-3 ReLU in float64 (H = 100: p = 10,703) with seeded weights; n = 150 three-Gaussian inputs; V a seeded
Gaussian p×p matrix with unit columns (the cost does not depend on which orthonormal basis it is). Prints one line
per measurement: "<name> <median seconds> <min seconds>".
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def model_and_data(hidden, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, 3)).double().eval()
    g = torch.Generator().manual_seed(seed + 1)
    means = torch.tensor([[2.0, -1.0], [-2.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    stds = torch.tensor([[0.5, 0.5], [0.5, 1.0], [0.5, 0.5]], dtype=torch.float64)
    y = torch.arange(150) % 3
    x = means[y] + stds[y] * torch.randn(150, 2, generator=g, dtype=torch.float64)
    return model, x


def per_sample_gradients(model, x):
    params = list(model.parameters())
    rows = []
    for j in range(x.shape[0]):
        out = model(x[j:j + 1])
        loss = F.cross_entropy(out, out.argmax(1))
        grads = torch.autograd.grad(loss, params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


def alignment_loop(model, x, vectors):
    """The authors' procedure: gradients per input, then one eigenvector at a time."""
    g = per_sample_gradients(model, x)
    norms = g.norm(dim=1)
    p = vectors.shape[1]
    mean_abs = torch.empty(p, dtype=torch.float64)
    max_abs = torch.empty(p, dtype=torch.float64)
    for i in range(p):
        v = vectors[:, i]
        cos = (g @ v).abs() / (norms * v.norm())
        mean_abs[i] = cos.mean()
        max_abs[i] = cos.max()
    return mean_abs, max_abs


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--p-hidden", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, x = model_and_data(args.p_hidden)
    p = sum(q.numel() for q in model.parameters())
    vectors = torch.randn(p, p, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    vectors /= vectors.norm(dim=0, keepdim=True)
    g = per_sample_gradients(model, x)
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}, p = {p}, n = {x.shape[0]}", flush=True)
    med, low = timed(lambda: per_sample_gradients(model, x), args.repeats)
    print(f"per-sample-gradients {med:.3f} {low:.3f}", flush=True)
    med, low = timed(lambda: g @ vectors, args.repeats)
    print(f"gemm-G-V {med:.3f} {low:.3f}", flush=True)
    med, low = timed(lambda: alignment_loop(model, x, vectors), args.repeats)
    print(f"authors-alignment-loop {med:.3f} {low:.3f}", flush=True)


if __name__ == "__main__":
    main()
