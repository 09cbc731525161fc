using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// Power iteration with Hotelling deflation (Hotelling 1933, "Analysis of a complex of statistical variables into
/// principal components"): x ← Bx/‖Bx‖ converges to the eigenvector of B of largest |μ| at the rate |μ_2/μ_1| per
/// step; after a pair (μ_i, v_i) converges, B_{i+1} = B_i − μ_i v_i v_iᵀ moves it to zero and the next run finds the
/// next one. Iterates are also re-orthogonalised against the found vectors, which keeps rounding from re-introducing them.
/// </summary>
/// <remarks>
/// B depends on the end asked for, through <see cref="ShiftedOperator"/>: largest magnitude uses B = A; largest
/// algebraic uses B = A − σI and smallest algebraic B = σI − A, with σ = −‖A‖ and +‖A‖ by default so that B ⪰ 0 and
/// its largest-magnitude eigenvalues are the wanted ones (‖A‖ is estimated by a few power steps, counted as HVPs).
/// A pair is accepted when its residual ‖Ax − λx‖/|λ| meets the tolerance, never on the change of λ alone.
/// Power iteration is simple and needs one vector of memory, but it needs many HVPs when eigenvalues cluster; a run
/// that ends on the budget returns the pairs it has, possibly fewer than k.
/// </remarks>
public sealed class PowerIteration : IEigenSolver
{
    private const int MaxNormEstimateSteps = 50;

    /// <summary>Creates the solver.</summary>
    /// <param name="shift">
    /// σ for the algebraic ends (B = A − σI for largest, σI − A for smallest). It should make B positive semi-definite:
    /// σ ≤ λ_min for largest, σ ≥ λ_max for smallest. Null estimates it from ‖A‖. Ignored for largest magnitude.
    /// </param>
    public PowerIteration(double? shift = null)
    {
        if (shift is { } s && !double.IsFinite(s))
            throw new ArgumentOutOfRangeException(nameof(shift), s, $"shift must be finite but was {s}. Pass a finite σ or null to estimate it.");
        Shift = shift;
    }

    /// <summary>The fixed shift σ, or null to estimate it from ‖A‖.</summary>
    public double? Shift { get; }

    /// <inheritdoc />
    public string Name => "power";

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068:CancellationToken parameters must come last", Justification = "Implements IEigenSolver.Solve.")]
    public EigenResult Solve(ILinearOperator op, EigenSolverOptions options, CancellationToken cancellationToken = default,
        IProgress<EigenSolverProgress>? progress = null)
    {
        var run = EigenSolverRun.Begin(Name, op, options);
        var k = run.Count;
        using var scope = NewDisposeScope();
        var starts = run.StartBlock();
        var iterations = 0;
        var scale = 0.0;

        // B = s·(A − σI); an eigenvalue μ of B is λ = σ + s·μ of A.
        double sign = run.Which == SpectrumEnd.SmallestAlgebraic ? -1 : 1;
        var sigma = 0.0;
        Tensor? warmStart = null;
        if (run.Which != SpectrumEnd.LargestMagnitude)
        {
            if (Shift is { } fixedShift)
            {
                sigma = fixedShift;
            }
            else
            {
                var (norm, rayleigh, vector) = EstimateNorm(run, cancellationToken, ref iterations);
                scale = norm;
                sigma = -sign * norm;
                // The estimate's vector is already close to the dominant eigenvector; it is a good start when that
                // eigenvalue lies at the wanted end.
                if (sign * rayleigh > 0)
                    warmStart = vector;
            }
        }
        ILinearOperator b = run.Which == SpectrumEnd.LargestMagnitude ? op : new ShiftedOperator(op, sign * sigma, sign);

        // Accepted pairs: vectors and their products A·v (kept so the final Rayleigh–Ritz needs no extra HVP).
        var found = new List<Tensor>();
        var foundProducts = new List<Tensor>();
        var shifted = new List<double>();
        double[] eigenvalues = [];
        double[] residuals = [];
        Tensor? vectors = null;
        for (var i = 0; i < k; i++)
        {
            var x = starts is not null && starts.shape[1] > i ? starts[.., i].clone()
                : i == 0 && warmStart is not null ? warmStart.clone()
                : run.RandomBlock(1).squeeze(1);
            x = Normalised(run, x, found);
            var accepted = false;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (run.Remaining < 1)
                    break;
                using var stepScope = NewDisposeScope();
                iterations++;
                var bx = b.Apply(x.to(op.DType)).to(ScalarType.Float64);
                var mu = bx.dot(x).item<double>();
                if (!double.IsFinite(mu))
                    throw new ArithmeticException($"The operator produced a non-finite Rayleigh quotient ({mu}) in power iteration. Check the model and data for NaN/Inf.");
                // A·x = s·B·x + σ·x, since B = s·(A − σI) with s = ±1.
                var ax = bx * sign + x * sigma;
                // Rayleigh–Ritz over [v_1 … v_{i−1}, x]: each accepted v_j is only accurate to the tolerance, and x,
                // kept orthogonal to it, inherits that error; rotating within the span removes it, so the residuals
                // below keep falling instead of stalling at tol·‖A‖/gap.
                var (values, ritzVectors, ritzProducts, norms) = RayleighRitz([.. found, x], [.. foundProducts, ax], run);
                scale = Math.Max(scale, values.Max(Math.Abs));
                var relative = values.Select((v, j) => EigenSolverRun.Relative(norms[j], v, scale)).ToArray();
                run.Report(progress, iterations, relative);
                vectors?.Dispose();
                vectors = ritzVectors.MoveToOuterDisposeScope();
                eigenvalues = values;
                residuals = norms;
                if (relative.All(r => r <= run.Tolerance))
                {
                    found.ForEach(t => t.Dispose());
                    foundProducts.ForEach(t => t.Dispose());
                    found = [.. Enumerable.Range(0, values.Length).Select(j => vectors[.., j].clone().MoveToOuterDisposeScope())];
                    foundProducts = [.. Enumerable.Range(0, values.Length).Select(j => ritzProducts[.., j].clone().MoveToOuterDisposeScope())];
                    shifted = [.. values.Select(v => sign * (v - sigma))];
                    accepted = true;
                    break;
                }
                // Hotelling deflation B − Σ μ_j v_j v_jᵀ, then re-orthogonalisation against the found vectors.
                for (var j = 0; j < found.Count; j++)
                    bx.AddScaledInPlace(found[j], -(shifted[j] * found[j].dot(x).item<double>()));
                var next = Normalised(run, bx, found);
                x.Dispose();
                x = next.MoveToOuterDisposeScope();
            }
            x.Dispose();
            if (!accepted)
                break;
        }

        vectors ??= zeros(run.Dimension, 0, dtype: ScalarType.Float64, device: run.Device);
        return run.Finish(eigenvalues, vectors, residuals, scale, iterations);
    }

    /// <summary>Ritz pairs of A on span(S) from S and AS; the residual norms ‖A·Sz − θ·Sz‖ use the given products.</summary>
    private static (double[] Values, Tensor Vectors, Tensor Products, double[] ResidualNorms) RayleighRitz(Tensor[] basis, Tensor[] products, EigenSolverRun run)
    {
        using var scope = NewDisposeScope();
        var s = stack(basis, 1);
        var a = stack(products, 1);
        var (values, z) = SmallSymmetricEigen.Decompose(EigenSolverRun.ToArray(s.T.mm(a)));
        var zt = run.Columns(z, [.. Enumerable.Range(0, values.Length)]);
        var vectors = s.mm(zt);
        var vectorProducts = a.mm(zt);
        var norms = (vectorProducts - vectors * tensor(values, dtype: ScalarType.Float64, device: run.Device).unsqueeze(0)).norm(0, false).cpu().data<double>().ToArray();
        return (values, vectors.MoveToOuterDisposeScope(), vectorProducts.MoveToOuterDisposeScope(), norms);
    }

    /// <summary>x orthogonalised (twice) against the found vectors and normalised; a fresh random vector if nothing is left.</summary>
    private static Tensor Normalised(EigenSolverRun run, Tensor x, List<Tensor> found)
    {
        using var scope = NewDisposeScope();
        var locked = found.Count > 0 ? stack(found, 1) : null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var y = x.clone();
            LanczosProcess.Orthogonalise(y, locked, null, 0);
            var norm = y.norm().item<double>();
            if (norm > 1e-12 * Math.Max(x.norm().item<double>(), double.Epsilon) && norm > 0)
                return y.DivideInPlace(norm).MoveToOuterDisposeScope();
            // x lies in the found subspace (or the null space of the deflated B): continue from a random direction.
            x = run.RandomBlock(1).squeeze(1);
        }
        throw new InvalidOperationException("Power iteration could not find a direction orthogonal to the converged eigenvectors.");
    }

    /// <summary>‖A‖ from power steps on A: ‖Ax‖ for unit x rises to ‖A‖; stops when it changes by less than 1%.</summary>
    private static (double Norm, double Rayleigh, Tensor Vector) EstimateNorm(EigenSolverRun run, CancellationToken cancellationToken, ref int iterations)
    {
        var op = run.Operator;
        var x = run.StartBlock() is { } s ? s[.., 0].clone() : run.RandomBlock(1).squeeze(1);
        x.div_(x.norm());
        double norm = 0, rayleigh = 0;
        for (var step = 0; step < MaxNormEstimateSteps && run.Remaining > 1; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var stepScope = NewDisposeScope();
            iterations++;
            var ax = op.Apply(x.to(op.DType)).to(ScalarType.Float64);
            rayleigh = ax.dot(x).item<double>();
            var previous = norm;
            norm = ax.norm().item<double>();
            if (!double.IsFinite(norm))
                throw new ArithmeticException("The operator produced NaN or Inf while power iteration estimated ‖A‖. Check the model and data for NaN/Inf.");
            if (norm == 0)
                break;
            x.Dispose();
            x = ax.DivideInPlace(norm).MoveToOuterDisposeScope();
            if (step >= 2 && Math.Abs(norm - previous) <= 1e-2 * norm)
                break;
        }
        return (norm, rayleigh, x);
    }
}
