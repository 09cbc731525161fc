using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Internal;

/// <summary>The output of m Lanczos steps: A Q_m ≈ Q_m T_m with T_m tridiagonal (diagonal α, off-diagonal β).</summary>
/// <param name="Alpha">Diagonal of T_m (length m).</param>
/// <param name="Beta">Off-diagonal of T_m (length m − 1), followed by the residual norm β_m as the last entry of <paramref name="Residual"/>.</param>
/// <param name="Basis">Q_m in float64, shape [p, m] (owned by the caller).</param>
/// <param name="Residual">β_m: the norm of the part of A q_m outside the Krylov space.</param>
/// <param name="NextVector">q_{m+1} (float64, [p]) when β_m &gt; 0, else null; used by restarts.</param>
/// <param name="Breakdowns">How many times an invariant subspace was hit and a fresh orthogonal vector was drawn.</param>
/// <param name="Products">
/// When asked for, the raw products A·q_j in float64, shape [p, m] (owned by the caller). Ritz residuals formed from them,
/// ‖(AQ)y − θ·Qy‖, are true residuals: they do not rely on the Lanczos relation, so they also see rounding and asymmetry.
/// </param>
internal sealed record LanczosDecomposition(double[] Alpha, double[] Beta, Tensor Basis, double Residual, Tensor? NextVector, int Breakdowns,
    Tensor? Products = null);

/// <summary>
/// The Lanczos three-term recurrence with full reorthogonalisation ("twice is enough", Giraud et al. 2005), always in
/// float64 so that a float32 operator does not lose orthogonality. Shared by the Lanczos eigen-solver and by
/// stochastic Lanczos quadrature.
/// </summary>
internal static class LanczosProcess
{
    /// <summary>Runs up to <paramref name="steps"/> steps from <paramref name="start"/> (any norm, float64 or not).</summary>
    /// <param name="op">The symmetric operator.</param>
    /// <param name="start">Start vector [p].</param>
    /// <param name="steps">m, the Krylov dimension wanted (≤ p).</param>
    /// <param name="restartOnBreakdown">
    /// On β ≈ 0 continue with a fresh random vector orthogonal to the basis (eigen-solvers); otherwise stop early
    /// (quadrature, where an invariant subspace makes the rule exact).
    /// </param>
    /// <param name="generator">Draws the fresh vectors after a breakdown.</param>
    /// <param name="cancellationToken">Checked once per step.</param>
    /// <param name="lockedBasis">Optional float64 columns [p, r] to stay orthogonal to (thick restarts, deflation).</param>
    /// <param name="recordProducts">Keep every A·q_j (float64) in <see cref="LanczosDecomposition.Products"/>.</param>
    /// <param name="afterStep">
    /// Called after each step that did not break down with (α_1..α_j, β_1..β_{j−1}, β_j); returning true stops the run
    /// there, with β_j as the residual and q_{j+1} as the next vector (eigen-solvers stop as soon as the Ritz pairs converge).
    /// </param>
    public static LanczosDecomposition Run(ILinearOperator op, Tensor start, int steps, bool restartOnBreakdown, Generator generator,
        CancellationToken cancellationToken, Tensor? lockedBasis = null, bool recordProducts = false,
        Func<IReadOnlyList<double>, IReadOnlyList<double>, double, bool>? afterStep = null)
    {
        var p = op.Dimension;
        if (steps < 1 || steps > p)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"The number of Lanczos steps must lie in [1, {p}] but was {steps}.");
        Guard.FitsInMemory(8.0 * p * steps * (recordProducts ? 2 : 1), null, op.Device, $"A Lanczos basis of {steps} vectors over p = {p} parameters (float64)",
            "Use fewer steps (EigenSolverOptions.KrylovDimension, SpectralDensityOptions.Steps) or select fewer parameters.");
        using var scope = NewDisposeScope();
        var device = op.Device;
        var basis = zeros(p, steps, dtype: ScalarType.Float64, device: device);
        var products = recordProducts ? zeros(p, steps, dtype: ScalarType.Float64, device: device) : null;
        var alpha = new List<double>(steps);
        var beta = new List<double>(steps);
        var breakdowns = 0;

        var q = start.to(ScalarType.Float64).to(device).clone();
        Orthogonalise(q, lockedBasis, null, 0);
        var norm = q.norm().item<double>();
        if (!(norm > 0) || !double.IsFinite(norm))
            throw new ArgumentException("The Lanczos start vector is zero, not finite, or lies in the locked subspace. Pass a non-zero start vector (or none).", nameof(start));
        q.DivideInPlace(norm);
        double residual = 0;
        Tensor? next = null;
        for (var j = 0; j < steps; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var stepScope = NewDisposeScope();
            basis[.., j].copy_(q);
            var w = op.Apply(q.to(op.DType)).to(ScalarType.Float64);
            products?[.., j].copy_(w);
            var a = w.dot(q).item<double>();
            alpha.Add(a);
            // Full reorthogonalisation, twice, replaces the three-term subtraction and keeps Q orthonormal to rounding.
            Orthogonalise(w, lockedBasis, basis, j + 1);
            var b = w.norm().item<double>();
            var scale = Math.Max(Math.Abs(a), beta.Count > 0 ? beta[^1] : 0) + double.Epsilon;
            if (b <= 1e-10 * scale || b == 0)
            {
                if (j == steps - 1)
                {
                    residual = 0;
                    break;
                }
                if (!restartOnBreakdown)
                {
                    residual = 0;
                    var used = j + 1;
                    return new LanczosDecomposition(alpha.ToArray(), beta.ToArray(), Escape(basis.narrow(1, 0, used).clone()), 0, null, breakdowns,
                        products is null ? null : Escape(products.narrow(1, 0, used).clone()));
                }
                breakdowns++;
                w = RandomVectors.Gaussian(p, null, generator, ScalarType.Float64, device);
                Orthogonalise(w, lockedBasis, basis, j + 1);
                w.div_(w.norm());
                beta.Add(0.0);
                q = w.MoveToOuterDisposeScope();
                continue;
            }
            w.DivideInPlace(b);
            if (j < steps - 1 && afterStep is not null && afterStep(alpha, beta, b))
            {
                var used = j + 1;
                return new LanczosDecomposition(alpha.ToArray(), beta.ToArray(), Escape(basis.narrow(1, 0, used).clone()), b, Escape(w), breakdowns,
                    products is null ? null : Escape(products.narrow(1, 0, used).clone()));
            }
            if (j < steps - 1)
            {
                beta.Add(b);
                q = w.MoveToOuterDisposeScope();
            }
            else
            {
                residual = b;
                next = w.MoveToOuterDisposeScope();
            }
        }
        next?.MoveToOuterDisposeScope();
        products?.MoveToOuterDisposeScope();
        return new LanczosDecomposition(alpha.ToArray(), beta.ToArray(), basis.MoveToOuterDisposeScope(), residual, next, breakdowns, products);
    }

    // A tensor made inside the per-step scope must pass two scopes (step, then Run's own) to reach the caller.
    private static Tensor Escape(Tensor t) => t.MoveToOuterDisposeScope().MoveToOuterDisposeScope();

    /// <summary>w ← (I − QQᵀ)² w over the locked columns and the first <paramref name="columns"/> basis columns.</summary>
    public static void Orthogonalise(Tensor w, Tensor? locked, Tensor? basis, int columns)
    {
        for (var pass = 0; pass < 2; pass++)
        {
            if (locked is not null && locked.shape[1] > 0)
                w.sub_(locked.mv(locked.T.mv(w)));
            if (basis is not null && columns > 0)
            {
                var q = basis.narrow(1, 0, columns);
                w.sub_(q.mv(q.T.mv(w)));
            }
        }
    }
}
