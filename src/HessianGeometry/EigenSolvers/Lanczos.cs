using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// Thick-restart Lanczos (Lanczos 1950; Wu &amp; Simon 2000, "Thick-restart Lanczos method for large symmetric
/// eigenvalue problems", SIAM J. Matrix Anal. Appl. 22(2)). m steps of A Q_m = Q_m T_m + β_m q_{m+1} e_mᵀ with full
/// reorthogonalisation in float64 build the Krylov basis; the Ritz pairs (θ_i, Q_m y_i) of T_m approximate eigenpairs
/// with residual ‖A Q_m y_i − θ_i Q_m y_i‖ = β_m·|e_mᵀ y_i|. When the basis is full and the k wanted pairs have not
/// converged, the l best Ritz vectors u_i and q_{m+1} are kept; in that basis A is the arrowhead matrix
/// [[diag(θ), s], [sᵀ, α]] with s_i = β_m·e_mᵀ y_i, and the recurrence continues from q_{m+1}.
/// </summary>
/// <remarks>
/// <para>
/// Convergence is tested after every step from the Ritz estimate β_j·|e_jᵀ y_i| (a small dense eigen-problem, free next
/// to an HVP), so a cycle stops at the first step where the k wanted pairs meet the tolerance. Every product A·q_j is
/// stored, so at the end of a cycle Rayleigh–Ritz uses the exact projection Vᵀ(AV) and the residuals
/// ‖(AV)y − θ·Vy‖ are true residuals, with no extra HVP; if they disagree with the estimates (rounding, a float32 or
/// slightly asymmetric operator) the estimates' threshold is tightened and the solve continues.
/// </para>
/// <para>
/// A single Krylov sequence holds one direction per distinct eigenvalue: it cannot see the second copy of a repeated
/// eigenvalue, nor an eigenvector the start vector missed. So when the wanted pairs first converge, the solve runs a
/// verification cycle (a probe): it keeps the whole Krylov space built so far (as Ritz vectors, up to m − 5 of them),
/// restarts the recurrence from a fresh seeded random vector orthogonal to it, and accepts only after at least five
/// probe steps, once the best Ritz pair outside the wanted set has a residual below a tenth of its gap to the k-th wanted
/// value. The probe thus runs on A deflated by everything already seen: a missed copy is an exact eigenvector of that
/// operator, at its top, while the next eigenvalues, which the first sequence has largely captured, are removed; and
/// λ_{k+1} is already resolved, so nothing is rebuilt. If the probe changes the wanted values (it found a copy), the
/// solve continues and probes again. This is a safeguard, not a proof: an eigenvalue whose start component stays hidden
/// under the probe's residual can still be missed. LOBPCG with a block at least as large as the multiplicity finds
/// repeated eigenvalues by construction.
/// </para>
/// </remarks>
public sealed class Lanczos : IEigenSolver
{
    // The verification probe accepts when it has run at least ProbeMinimumSteps steps and the best pair outside the
    // wanted set has a residual below SeparationRatio times its gap to the k-th wanted value. The minimum lets the
    // probe's Krylov polynomial amplify a missed eigenvalue (start component ~1/√p) before the residual test is
    // believed. Five steps (a degree-4 polynomial) keep the amplification the probe always had; running it on A deflated
    // by the whole first Krylov space makes the check stronger than before at the same length. Shorter probes save
    // products but miss copies of a wanted eigenvalue near the edge of the deflated bulk (LanczosProbeLengthTests
    // measures both sides; docs/solvers.md), so the guarantee for repeated eigenvalues wins.
    private const double SeparationRatio = 0.1;
    internal const int ProbeMinimumSteps = 5;

    private readonly int probeMinimumSteps;

    /// <summary>Thick-restart Lanczos with the verification probe of <see cref="ProbeMinimumSteps"/> steps.</summary>
    public Lanczos()
        : this(ProbeMinimumSteps)
    {
    }

    /// <summary>
    /// A solver whose verification probe runs at least <paramref name="probeMinimumSteps"/> steps: only for measuring
    /// the trade-off between the probe's length and the copies it finds (tests); the public solver always uses five.
    /// </summary>
    internal Lanczos(int probeMinimumSteps)
    {
        Guard.InRange(probeMinimumSteps, 1, 1000, nameof(probeMinimumSteps), "Pass at least one probe step.");
        this.probeMinimumSteps = probeMinimumSteps;
    }

    /// <inheritdoc />
    public string Name => "lanczos";

    /// <summary>
    /// The default Krylov dimension: m = min(p, max(2k + 1, k + 35)). A basis of 35 spare directions lets the k outliers
    /// of a Hessian converge in one cycle (no restart), which is cheapest in HVPs; its memory is <see cref="RequiredBytes"/>.
    /// </summary>
    public static int DefaultKrylovDimension(int count, long dimension) => (int)Math.Min(dimension, Math.Max(2L * count + 1, count + 35L));

    /// <summary>
    /// Peak memory of a solve in bytes: 8·p·(4m + 4(k + 1)) for the float64 basis Q_m and its products A·Q_m, their
    /// concatenation with the kept Ritz vectors at a thick restart, and the k + 1 Ritz vectors with their products.
    /// </summary>
    /// <param name="dimension">p.</param>
    /// <param name="krylovDimension">m.</param>
    /// <param name="count">k.</param>
    public static double RequiredBytes(long dimension, int krylovDimension, int count) =>
        8.0 * dimension * (4.0 * krylovDimension + 4.0 * (count + 1));

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068:CancellationToken parameters must come last", Justification = "Implements IEigenSolver.Solve.")]
    public EigenResult Solve(ILinearOperator op, EigenSolverOptions options, CancellationToken cancellationToken = default,
        IProgress<EigenSolverProgress>? progress = null)
    {
        var run = EigenSolverRun.Begin(Name, op, options);
        var p = run.Dimension;
        var k = run.Count;
        var m = options.KrylovDimension ?? DefaultKrylovDimension(k, p);
        Guard.InRange(m, k + 1, p, "options.KrylovDimension", "Leave it null for the default, or pass a basis size between k + 1 and p.");
        Guard.FitsInMemory(RequiredBytes(p, m, k), options.MemoryBudgetBytes, run.Device,
            $"The Lanczos basis for p = {p} parameters with Krylov dimension m = {m} (k = {k})",
            $"Pass a smaller options.KrylovDimension (at least k + 1 = {k + 1}; a smaller basis restarts more often), use LOBPCG " +
            $"(about {Guard.Bytes(8.0 * p * 16 * k)} for k = {k}) or power iteration, select fewer parameters, or raise options.MemoryBudgetBytes.");
        using var scope = NewDisposeScope();

        Tensor? next = run.StartBlock() is { } block ? block.sum(dim: 1) : run.RandomBlock(1).squeeze(1);
        var kept = zeros(p, 0, dtype: ScalarType.Float64, device: run.Device);
        var keptProducts = zeros(p, 0, dtype: ScalarType.Float64, device: run.Device);
        double[] theta = [];
        double[] coupling = [];
        var estimateTolerance = run.Tolerance;
        var scale = 0.0;
        var cycle = 0;
        // Verification: after the wanted pairs first converge, the solve restarts from a fresh random vector orthogonal
        // to the whole Krylov space built so far (a probe) and accepts only when the best pair outside the wanted set is resolved.
        var probing = false;
        var probeStarting = false;
        double[]? probeReference = null;
        double[] bestValues = [];
        double[] bestResiduals = [];
        Tensor bestVectors = zeros(p, 0, dtype: ScalarType.Float64, device: run.Device);

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var l = (int)kept.shape[1];
            var steps = (int)Math.Min(m - l, run.Remaining);
            if (steps < 1)
                break;
            cycle++;
            var cycleIsProbe = probeStarting;
            probeStarting = false;
            using var cycleScope = NewDisposeScope();
            if (next is null)
            {
                // An invariant subspace ended the last cycle, or a probe starts: continue from a fresh direction.
                next = FreshDirection(run, kept);
            }
            // Coupling of the kept vectors to the first new vector, uᵢᵀ A q = (A uᵢ)ᵀ q: the arrowhead of a thick restart
            // (β·yₘ in exact arithmetic), and exact for a probe vector too.
            coupling = l > 0 ? keptProducts.T.mv(next).cpu().data<double>().ToArray() : [];

            var cycleTheta = theta;
            var cycleCoupling = coupling;
            var cycleProbing = probing;
            var dec = LanczosProcess.Run(op, next, steps, restartOnBreakdown: true, run.Generator, cancellationToken,
                lockedBasis: l > 0 ? kept : null, recordProducts: true,
                afterStep: (alpha, beta, residual) =>
                {
                    if (l + alpha.Count < k + (cycleProbing ? 1 : 0))
                        return false;
                    var (values, vectors) = SmallSymmetricEigen.Decompose(Projected(cycleTheta, cycleCoupling, alpha, beta));
                    scale = Math.Max(scale, values.Max(Math.Abs));
                    var n = values.Length;
                    var ranked = EigenSolverRun.Select(values, run.Which, k + 1);
                    var estimates = ranked.Select(i => Math.Abs(residual * vectors[n - 1, i])).ToArray();
                    var relative = ranked.Take(k).Select((i, j) => EigenSolverRun.Relative(estimates[j], values[i], scale)).ToArray();
                    run.Report(progress, cycle, relative);
                    if (!relative.All(e => e <= estimateTolerance))
                        return false;
                    return !cycleProbing || (alpha.Count >= probeMinimumSteps && Separated(run, values, ranked, estimates, scale));
                });
            next.Dispose();
            next = null;

            var basis = l > 0 ? cat([kept, dec.Basis], 1) : dec.Basis;
            var products = l > 0 ? cat([keptProducts, dec.Products!], 1) : dec.Products!;
            // Rayleigh–Ritz with the exact projection Vᵀ(AV) from the stored products: it holds for any basis, so it
            // stays right after a probe restart, and it sees rounding that the recurrence coefficients do not.
            var (ritzValues, ritzVectors) = SmallSymmetricEigen.Decompose(EigenSolverRun.ToArray(basis.T.mm(products)));
            var size = ritzValues.Length;
            scale = Math.Max(scale, ritzValues.Max(Math.Abs));

            // True residuals ‖(AQ)y − θ·Qy‖ of the wanted Ritz pairs and the best one after them.
            var ranked = EigenSolverRun.Select(ritzValues, run.Which, k + 1);
            var y = run.Columns(ritzVectors, ranked);
            var x = basis.mm(y);
            var ax = products.mm(y);
            var lambda = ranked.Select(i => ritzValues[i]).ToArray();
            var residualNorms = (ax - x * tensor(lambda, dtype: ScalarType.Float64, device: run.Device).unsqueeze(0))
                .norm(0, false).cpu().data<double>().ToArray();
            var wantedCount = Math.Min(k, ranked.Length);
            var relative = lambda.Take(wantedCount).Select((v, i) => EigenSolverRun.Relative(residualNorms[i], v, scale)).ToArray();
            bestVectors.Dispose();
            bestVectors = x.narrow(1, 0, wantedCount).MoveToOuterDisposeScope();
            bestValues = lambda.Take(wantedCount).ToArray();
            bestResiduals = residualNorms.Take(wantedCount).ToArray();
            run.Report(progress, cycle, relative);
            var converged = wantedCount == k && run.AllConverged(relative, k);
            if (converged && probing && Separated(run, ritzValues, ranked, residualNorms, scale))
            {
                // Accept unless the probe changed the wanted values (it found a copy of a repeated eigenvalue, or a
                // pair the first Krylov sequence had missed): then probe again.
                if (probeReference is not null && SameValues(probeReference, bestValues, run.Tolerance))
                    break;
                probeReference = bestValues;
                StartProbe(basis, products, ritzValues, ritzVectors);
                continue;
            }
            if (converged && !probing)
            {
                probing = true;
                probeReference = bestValues;
                StartProbe(basis, products, ritzValues, ritzVectors);
                continue;
            }
            if (run.Remaining < 1)
                break;

            if (cycleIsProbe)
            {
                ContinueAfterProbe(basis, products, ritzValues, ritzVectors, x, dec.NextVector, wantedCount, relative, converged);
                continue;
            }

            // Thick restart (Wu & Simon): keep the l best Ritz vectors, continue from the residual direction q_{m+1}.
            Keep(basis, products, ritzValues, ritzVectors, EigenSolverRun.Select(ritzValues, run.Which, Math.Min(size, k + (m - k) / 2)));
            next = dec.NextVector?.MoveToOuterDisposeScope();
            if (dec.Alpha.Length < steps)
            {
                // The cycle stopped early on the Ritz estimates but the true residuals disagree (rounding, a float32 or
                // slightly asymmetric operator): ask the estimates for more before stopping early again.
                estimateTolerance = Math.Max(estimateTolerance / 10, 1e-15);
            }
        }

        return run.Finish(bestValues, bestVectors, bestResiduals, scale, cycle);

        // The probe keeps the whole Krylov space built so far (as Ritz vectors, so the projection stays diagonal), as far
        // as the basis leaves room for the probe's minimum steps: it then runs on A deflated by everything already seen.
        void StartProbe(Tensor basis, Tensor products, double[] ritzValues, double[,] ritzVectors)
        {
            Keep(basis, products, ritzValues, ritzVectors, EigenSolverRun.Select(ritzValues, run.Which, Math.Min(ritzValues.Length, Math.Max(k, m - probeMinimumSteps))));
            next = null;
            probeStarting = true;
        }

        // A probe that did not simply confirm the result leaves Ritz vectors of [kept, probe] whose residuals have two
        // directions: the probe's next vector q and the first sequence's next vector, which no later recurrence visits.
        // Pairs whose residual off q is within the tolerance are kept for a thick restart from q; if a wanted pair is not
        // among them, only the converged pairs are kept and the recurrence restarts from the unconverged wanted vectors.
        void ContinueAfterProbe(Tensor basis, Tensor products, double[] ritzValues, double[,] ritzVectors, Tensor wantedVectors, Tensor? probeNext,
            int wantedCount, double[] relative, bool converged)
        {
            if (!converged || probeReference is null || !SameValues(probeReference, bestValues, run.Tolerance))
                probeReference = null;
            var order = EigenSolverRun.Select(ritzValues, run.Which, ritzValues.Length);
            var y = run.Columns(ritzVectors, order);
            var values = order.Select(i => ritzValues[i]).ToArray();
            var residuals = products.mm(y) - basis.mm(y) * tensor(values, dtype: ScalarType.Float64, device: run.Device).unsqueeze(0);
            var total = residuals.norm(0, false).cpu().data<double>().ToArray();
            var offNext = probeNext is null ? total
                : (residuals - probeNext.unsqueeze(1) * probeNext.unsqueeze(0).mm(residuals)).norm(0, false).cpu().data<double>().ToArray();
            bool Within(double[] r, int j) => EigenSolverRun.Relative(r[j], values[j], scale) <= run.Tolerance;
            var limit = Math.Min(order.Length, k + (m - k) / 2);
            if (probeNext is not null && Enumerable.Range(0, wantedCount).All(j => Within(offNext, j)))
            {
                Keep(basis, products, ritzValues, ritzVectors, Enumerable.Range(0, order.Length).Where(j => Within(offNext, j)).Take(limit).Select(j => order[j]).ToArray());
                next = probeNext.MoveToOuterDisposeScope();
                return;
            }
            Keep(basis, products, ritzValues, ritzVectors, Enumerable.Range(0, order.Length).Where(j => Within(total, j)).Take(Math.Min(limit, m - 1)).Select(j => order[j]).ToArray());
            var converging = Enumerable.Range(0, wantedCount).Where(i => !(relative[i] <= run.Tolerance)).Select(i => (long)i).ToArray();
            next = converging.Length > 0
                ? wantedVectors.index_select(1, tensor(converging, dtype: ScalarType.Int64, device: run.Device)).sum(1).MoveToOuterDisposeScope()
                : probeNext?.MoveToOuterDisposeScope();
        }

        void Keep(Tensor basis, Tensor products, double[] ritzValues, double[,] ritzVectors, int[] keep)
        {
            var yKeep = run.Columns(ritzVectors, keep);
            kept.Dispose();
            keptProducts.Dispose();
            kept = basis.mm(yKeep).MoveToOuterDisposeScope();
            keptProducts = products.mm(yKeep).MoveToOuterDisposeScope();
            theta = keep.Select(i => ritzValues[i]).ToArray();
        }
    }

    /// <summary>
    /// Whether the best pair outside the wanted k is resolved: its residual is below a tenth of its gap to the k-th
    /// wanted value (or it ties with it to the tolerance), so it cannot belong to the wanted set.
    /// </summary>
    private static bool Separated(EigenSolverRun run, double[] values, int[] ranked, double[] residuals, double scale)
    {
        var k = run.Count;
        if (ranked.Length <= k)
            return true;
        var worstWanted = values[ranked[k - 1]];
        var candidate = values[ranked[k]];
        var gap = Math.Abs(Score(run.Which, worstWanted) - Score(run.Which, candidate));
        var floor = run.Tolerance * Math.Max(Math.Abs(candidate), EigenSolverRun.ZeroEigenvalueRatio * scale);
        return residuals[k] <= Math.Max(SeparationRatio * gap, floor);
    }

    private static double Score(SpectrumEnd which, double value) => which switch
    {
        SpectrumEnd.LargestAlgebraic => value,
        SpectrumEnd.SmallestAlgebraic => -value,
        _ => Math.Abs(value),
    };

    // Compared as sorted sets: under largest magnitude, +λ and −λ may swap places between probes without any change.
    private static bool SameValues(double[] before, double[] after, double tolerance) =>
        before.Length == after.Length && before.Order().Zip(after.Order())
            .All(pair => Math.Abs(pair.First - pair.Second) <= 10 * tolerance * Math.Max(Math.Abs(pair.First), double.Epsilon));

    /// <summary>A seeded Gaussian vector orthogonal to the kept basis, normalised.</summary>
    private static Tensor FreshDirection(EigenSolverRun run, Tensor kept)
    {
        var q = run.RandomBlock(1).squeeze(1);
        LanczosProcess.Orthogonalise(q, kept, null, 0);
        return q.div_(q.norm());
    }

    /// <summary>
    /// The projected matrix in the basis [kept Ritz vectors, new Lanczos vectors]: diag(θ) with the arrowhead coupling s
    /// to the first new vector, followed by the tridiagonal (α, β) of the new steps.
    /// </summary>
    private static double[,] Projected(double[] theta, double[] coupling, IReadOnlyList<double> alpha, IReadOnlyList<double> beta)
    {
        var l = theta.Length;
        var n = l + alpha.Count;
        var t = new double[n, n];
        for (var i = 0; i < l; i++)
        {
            t[i, i] = theta[i];
            t[i, l] = coupling[i];
            t[l, i] = coupling[i];
        }
        for (var j = 0; j < alpha.Count; j++)
        {
            t[l + j, l + j] = alpha[j];
            if (j < alpha.Count - 1)
            {
                t[l + j, l + j + 1] = beta[j];
                t[l + j + 1, l + j] = beta[j];
            }
        }
        return t;
    }
}
