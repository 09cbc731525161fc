"""Reference for goal 4 of issue #17: a re-implementation of the authors' complete pipeline, timed stage by stage.

Sabanayagam, Behrens, Adomaityte, Dawid (2025), "Unveiling the Hessian's Connection to the Decision Boundary", as
their scripts do it: the exact Hessian by a per-row autograd loop (one backward of each gradient entry, create_graph
gradient built once), NumPy eigh, the alignment loop over all p eigenvectors (paper_alignment_loop.py), ε from 5 random
directions and the counts, and the margin along v_1 by SGD on x (lr 0.01, weight decay 1e-3, 20,000 steps, lr × 0.1
after 5,000, start N(0, I), objective (c² − 1)²). float64 throughout.

    OMP_NUM_THREADS=1 /usr/bin/python3 benchmarks/reference/paper_pipeline.py --hidden 100 --out DIR [--margin-steps 20000]

It first writes DIR/model.safetensors (the nn.Sequential state dict, 2-H-H-3 ReLU, trained with full-batch Adam,
lr 1e-2, 2,000 steps, seed 0) and DIR/data.safetensors (x, y: the 300-point three-Gaussian set), so that
`hessian-geometry analyze --model DIR/model.safetensors --arch mlp:2-H-H-3:relu --data DIR/data.safetensors
--solver exact --alignment --margin` runs on the same model (run_pipeline_goal.sh times both in one run).
Prints "<stage> <seconds>" lines and the counts.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "HessianGeometry.Tests", "fixtures"))
from generate_fixtures import write_safetensors  # noqa: E402


def three_gaussians(seed=0):
    g = torch.Generator().manual_seed(seed)
    means = torch.tensor([[2.0, -1.0], [-2.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    stds = torch.tensor([[0.5, 0.5], [0.5, 1.0], [0.5, 0.5]], dtype=torch.float64)
    y = torch.arange(3).repeat_interleave(100)
    return means[y] + stds[y] * torch.randn(300, 2, generator=g, dtype=torch.float64), y


def trained_model(hidden, x, y, steps=2000, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                                torch.nn.ReLU(), torch.nn.Linear(hidden, 3)).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


def hessian_per_row(model, x, y):
    params = list(model.parameters())
    grad = torch.cat([g.reshape(-1) for g in torch.autograd.grad(F.cross_entropy(model(x), y), params, create_graph=True)])
    p = grad.numel()
    h = torch.empty(p, p, dtype=torch.float64)
    for i in range(p):
        row = torch.autograd.grad(grad[i], params, retain_graph=True)
        h[i] = torch.cat([r.reshape(-1) for r in row])
    return h


def per_sample_gradients(model, x):
    params = list(model.parameters())
    rows = []
    for j in range(x.shape[0]):
        out = model(x[j:j + 1])
        rows.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(F.cross_entropy(out, out.argmax(1)), params)]))
    return torch.stack(rows)


def alignment_statistics(g, vectors):
    norms = g.norm(dim=1)
    k = vectors.shape[1]
    mean_abs, max_abs = np.empty(k), np.empty(k)
    for i in range(k):
        v = vectors[:, i]
        cos = (g @ v).abs() / (norms * v.norm())
        mean_abs[i], max_abs[i] = cos.mean().item(), cos.max().item()
    return mean_abs, max_abs


def margin_sgd(model, v1, steps, seed=0):
    params = list(model.parameters())
    torch.manual_seed(seed)
    xb = torch.randn(1, 2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([xb], lr=0.01, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5000, gamma=0.1)
    for _ in range(steps):
        opt.zero_grad()
        out = model(xb)
        g = torch.cat([q.reshape(-1) for q in torch.autograd.grad(F.cross_entropy(out, out.argmax(1)), params, create_graph=True)])
        c = g @ v1 / (g.norm() * v1.norm())
        ((c * c - 1) ** 2).backward()
        opt.step()
        sched.step()
    return xb.detach()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--out", required=True)
    parser.add_argument("--margin-steps", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save-hessian", action="store_true",
                        help="after timing, write OUT/hessian.f64 (the symmetrised matrix NumPy decomposed, raw little-endian "
                             "float64, row-major) and OUT/eigenvalues.f64 (NumPy's, ascending) for DenseEigenDecompositionBenchmarks "
                             "(HG_EIGH_MATRIX / HG_EIGH_VALUES): goal 3 on the same matrix")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    x, y = three_gaussians()
    model = trained_model(args.hidden, x, y)
    write_safetensors(os.path.join(args.out, "model.safetensors"), {k: v.detach().clone() for k, v in model.state_dict().items()},
                      {"spec": f"mlp:2-{args.hidden}-{args.hidden}-3:relu"})
    write_safetensors(os.path.join(args.out, "data.safetensors"), {"x": x, "y": y})
    p = sum(q.numel() for q in model.parameters())
    print(f"# torch {torch.__version__}, numpy {np.__version__}, threads {torch.get_num_threads()}, p = {p}, n = {x.shape[0]}", flush=True)
    total = time.perf_counter()
    start = time.perf_counter()
    h = hessian_per_row(model, x, y)
    print(f"hessian-per-row {time.perf_counter() - start:.3f}", flush=True)
    start = time.perf_counter()
    symmetric = ((h + h.T) / 2).numpy()
    values, vectors = np.linalg.eigh(symmetric)
    print(f"numpy-eigh {time.perf_counter() - start:.3f}", flush=True)
    if args.save_hessian:
        pause = time.perf_counter()
        np.ascontiguousarray(symmetric, dtype="<f8").tofile(os.path.join(args.out, "hessian.f64"))
        np.ascontiguousarray(values, dtype="<f8").tofile(os.path.join(args.out, "eigenvalues.f64"))
        total += time.perf_counter() - pause
    del symmetric
    start = time.perf_counter()
    vectors = torch.from_numpy(vectors[:, ::-1].copy())
    g = per_sample_gradients(model, x)
    mean_abs, max_abs = alignment_statistics(g, vectors)
    random = torch.randn(p, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    eps_mean, eps_max = (float(s.mean()) for s in alignment_statistics(g, random))
    count_mean, count_max = int((mean_abs > eps_mean).sum()), int((max_abs > eps_max).sum())
    print(f"alignment-and-counts {time.perf_counter() - start:.3f}", flush=True)
    start = time.perf_counter()
    margin_sgd(model, vectors[:, 0], args.margin_steps)
    print(f"margin-sgd {time.perf_counter() - start:.3f}", flush=True)
    print(f"total {time.perf_counter() - total:.3f}", flush=True)
    print(f"# counts (own random ε {eps_mean:.4g} / {eps_max:.4g}): {count_mean} / {count_max}; lambda_max {values[-1]:.6g}", flush=True)


if __name__ == "__main__":
    main()
