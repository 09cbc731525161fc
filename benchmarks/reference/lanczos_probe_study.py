#!/usr/bin/env python3
"""NumPy model of HessianGeometry's Lanczos (first Krylov sequence + verification probe) on the dense Hessians of the
three model fixtures, for the probe-length study in docs/solvers.md ("Products against ARPACK").

    nice /usr/bin/python3 benchmarks/reference/lanczos_probe_study.py [--seeds 16]

It is a model, not the library: a first sequence with full reorthogonalisation that stops when the Ritz estimates of
the top five meet tol·|θ| (as Lanczos.cs and ARPACK's dsconv do), then a probe that keeps the whole Krylov space and
accepts after at least `smin` steps when the five true residuals meet the tolerance and the sixth pair's residual is
below a tenth of its gap. Planted copy: A = H + (λ4 − μ) z zᵀ with z the eigenvector of the eigenvalue μ nearest 0, so
λ4 is doubled and in the top five. Rows: first-sequence stop C·tol; probe start cos φ·q_next + sin φ·r (φ = 90°: a
fresh random vector orthogonal to the Krylov space, as the library does; φ < 90° mixes in the first sequence's next
Lanczos vector so the probe also continues it); products on H (min/median/max over seeds; 99 added when 30 probe steps
do not converge) and copies missed (a wrong top five accepted). Dense Hessians are cached in $TMPDIR.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "tests", "HessianGeometry.Tests", "fixtures")
sys.path.insert(0, FIXTURES)
from generate_fixtures import read_safetensors  # noqa: E402

K, TOL = 5, 1e-6


def dense_hessian(name):
    cache = os.path.join(tempfile.gettempdir(), f"hg_{name}_hessian.npy")
    if os.path.exists(cache):
        return np.load(cache)
    model = torch.jit.load(os.path.join(FIXTURES, "models", f"{name}.pt"))
    model.eval()
    data = read_safetensors(os.path.join(FIXTURES, "models", f"{name}_data.safetensors"))
    data = data[0] if isinstance(data, tuple) else data
    params = [p for _, p in model.named_parameters()]
    grads = torch.autograd.grad(F.cross_entropy(model(data["x"].double()), data["y"]), params, create_graph=True)
    sizes, shapes = [p.numel() for p in params], [p.shape for p in params]
    n = sum(sizes)
    h, e = np.empty((n, n)), torch.zeros(n, dtype=torch.float64)
    for i in range(n):
        e[i] = 1
        hv = torch.autograd.grad(grads, params, [c.reshape(s) for c, s in zip(e.split(sizes), shapes)], retain_graph=True)
        h[i] = torch.cat([t.reshape(-1) for t in hv]).numpy()
        e[i] = 0
    h = 0.5 * (h + h.T)
    np.save(cache, h)
    return h


def orth(v, q):
    for _ in range(2):  # twice is enough
        if q.shape[1]:
            v = v - q @ (q.T @ v)
    return v


def ritz(q, aq):
    t = q.T @ aq
    th, y = np.linalg.eigh(0.5 * (t + t.T))
    idx = np.argsort(-th)
    return th[idx], y[:, idx]


def first_sequence(a, b, tol, m=40):
    n = a.shape[0]
    q, aq, v = np.zeros((n, 0)), np.zeros((n, 0)), b / np.linalg.norm(b)
    for j in range(m):
        q, aq = np.column_stack([q, v]), np.column_stack([aq, a @ v])
        w = orth(aq[:, -1], q)
        beta = np.linalg.norm(w)
        if q.shape[1] >= K:
            th, y = ritz(q, aq)
            if np.all(beta * np.abs(y[-1, :K]) / np.abs(th[:K]) <= tol):
                return q, aq, w / beta, j + 1
        v = w / beta
    return q, aq, w / beta, m


def probe(a, q, aq, nxt, smin, rng, phi, smax=30):
    th0, y0 = ritz(q, aq)
    u, au = q @ y0, aq @ y0
    r = orth(rng.standard_normal(a.shape[0]), np.column_stack([u, nxt]))
    v = np.cos(phi) * nxt + np.sin(phi) * r / np.linalg.norm(r)
    p, ap = np.zeros((a.shape[0], 0)), np.zeros((a.shape[0], 0))
    for s in range(1, smax + 1):
        p, ap = np.column_stack([p, v]), np.column_stack([ap, a @ v])
        basis, products = np.column_stack([u, p]), np.column_stack([au, ap])
        w = orth(ap[:, -1], basis)
        th, y = ritz(basis, products)
        x = basis @ y[:, :K + 1]
        res = np.linalg.norm(products @ y[:, :K + 1] - x * th[:K + 1], axis=0)
        if s >= smin and np.all(res[:K] / np.abs(th[:K]) <= TOL) and res[K] <= max(0.1 * (th[K - 1] - th[K]), TOL * abs(th[K])):
            return s, th[:K]
        v = w / np.linalg.norm(w)
    return None, th[:K]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [(1, 90, 5), (1, 90, 4), (1, 90, 3), (3, 45, 4), (3, 60, 4), (3, 45, 3), (10, 45, 4)]
    print("| Fixture | first stop | probe start φ | probe steps | products on H (min/median/max) | λ4 copies missed |")
    print("|---|---|---|---|---|---|")
    for name in ("residual_cnn", "attention", "plain_cnn"):
        h = dense_hessian(name)
        lam, vec = np.linalg.eigh(h)
        lam, vec = lam[::-1], vec[:, ::-1]
        z = np.argmin(np.abs(lam))
        planted = h + (lam[3] - lam[z]) * np.outer(vec[:, z], vec[:, z])
        truth = np.sort(np.linalg.eigvalsh(planted))[::-1][:K]
        for c, phi_deg, smin in rows:
            phi = np.deg2rad(phi_deg)
            totals, missed = [], 0
            for seed in range(args.seeds):
                for a, is_planted in ((h, False), (planted, True)):
                    q, aq, nxt, j = first_sequence(a, np.random.default_rng(1000 + seed).standard_normal(a.shape[0]), c * TOL)
                    s, vals = probe(a, q, aq, nxt, smin, np.random.default_rng(5000 + seed), phi)
                    if not is_planted:
                        totals.append(j + (s or 99))
                    elif s is not None and np.max(np.abs(np.sort(vals) - np.sort(truth)) / np.abs(truth)) > 1e-5:
                        missed += 1
            print(f"| {name} | {c}·tol | {phi_deg}° | ≥ {smin} | {min(totals)}/{int(np.median(totals))}/{max(totals)} | "
                  f"{missed}/{args.seeds} |", flush=True)


if __name__ == "__main__":
    main()
