using System.Globalization;
using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// A range-revealing dense symmetric eigen-decomposition for numerically low-rank matrices such as the exact Hessian of
/// a ReLU network (docs/solvers.md, "Range-revealing decomposition"). An adaptive randomized range finder (Halko,
/// Martinsson and Tropp 2011, §4.4) grows an orthonormal basis Q of the range of A from seeded Gaussian blocks
/// Y = AΩ, each projected against Q twice (CGS2); the r×r projection B = QᵀAQ is decomposed with <c>linalg.eigh</c>
/// (Rayleigh–Ritz), giving the range pairs (X = QU, Λ); the orthonormal complement of X (Householder QR) carries the
/// eigenvalue 0. The result is accepted only with a certificate computed directly, in row blocks:
/// ‖E‖_F = ‖A − XΛXᵀ‖_F ≤ τ‖A‖_F with τ = p·u (u = 2⁻⁵³, the normwise backward-error level LAPACK's syevd guarantees).
/// Then A = XΛXᵀ + E exactly, so by Weyl every eigenvalue of A lies within ‖E‖₂ ≤ ‖E‖_F of a reported one, and every
/// null-space vector n has ‖An‖₂ = ‖En‖₂ ≤ ‖E‖_F (reported as its residual, flagged as a bound). Cost O(p²r) instead of
/// O(p³): a win when r ≪ p.
/// </summary>
public static class RangeRevealingEigh
{
    /// <summary>Smallest p at which <see cref="EigendecompositionMethod.Auto"/> tries this route (below it <c>linalg.eigh</c> takes well under a second).</summary>
    public const int MinimumDimension = 1000;

    /// <summary>The route gives up (and <see cref="EigendecompositionMethod.Auto"/> falls back to <c>linalg.eigh</c>) once r exceeds this fraction of p.</summary>
    public const double MaxRankFraction = 0.25;

    /// <summary>u = 2⁻⁵³, the unit roundoff of float64.</summary>
    public const double UnitRoundoff = 1.1102230246251565e-16;

    /// <summary>τ = p·u, the certificate's relative level: ‖A − XΛXᵀ‖_F ≤ τ‖A‖_F.</summary>
    /// <param name="dimension">p.</param>
    public static double Tolerance(long dimension) => dimension * UnitRoundoff;

    // Rows of E = A − XΛXᵀ formed at a time: bounds the extra memory of the certificate to RowBlock·p numbers.
    private const int RowBlock = 512;

    /// <summary>
    /// Decomposes the symmetric float64 matrix <paramref name="a"/> [p, p], or says why it will not: the range exceeded
    /// <paramref name="maxRankFraction"/>·p, or the certificate failed. Deterministic for a given <paramref name="seed"/>.
    /// </summary>
    internal static RangeRevealingOutcome TryDecompose(Tensor a, long seed = 0, double maxRankFraction = MaxRankFraction, CancellationToken cancellationToken = default)
    {
        var p = a.shape[0];
        var tau = Tolerance(p);
        using var scope = NewDisposeScope();
        var normA = a.norm().item<double>();
        if (normA == 0)
        {
            var identity = eye(p, dtype: ScalarType.Float64, device: a.device).MoveToOuterDisposeScope();
            return new RangeRevealingOutcome(new double[p], identity, new double[p], Enumerable.Repeat(true, (int)p).ToArray(), 0, 0, tau, null);
        }
        var target = tau * normA;
        var block = (int)Math.Clamp(p / 32, 8, 128);
        var rankLimit = (long)(maxRankFraction * p);
        var generator = RandomVectors.CreateGenerator(seed);
        var q = empty(p, 0, dtype: ScalarType.Float64, device: a.device);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var blockScope = NewDisposeScope();
            var y = a.mm(RandomVectors.Gaussian(p, block, generator, ScalarType.Float64, a.device));
            y = ProjectOut(ProjectOut(y, q), q);
            // E‖Mω‖² = ‖M‖²_F for Gaussian ω: the block estimates ‖(I − QQᵀ)A‖_F, which bounds ‖E‖_F within √2.
            var estimate = y.norm().item<double>() / Math.Sqrt(block);
            if (estimate <= target / 2)
                break;
            var (u, s, vh) = linalg.svd(y, fullMatrices: false);
            // A direction of eigenvalue λ shows as a singular value ≈ |λ|√b; noise of Frobenius norm η as values ≈ η.
            var kept = (s > target / 4).sum().item<long>();
            if (kept == 0)
                break;
            var fresh = ProjectOut(u.narrow(1, 0, kept), q);
            var (orthonormal, _) = linalg.qr(fresh, linalg.QRMode.Reduced);
            var previous = q;
            q = cat([q, orthonormal], 1).MoveToOuterDisposeScope();
            previous.Dispose();
            if (q.shape[1] > rankLimit)
                return Fallback(tau, (int)q.shape[1], $"the range exceeded {maxRankFraction.ToString("0.##", CultureInfo.InvariantCulture)}·p = {rankLimit} columns, where the full decomposition costs less");
            if (kept < block)
                break; // the residual had fewer than b significant directions: all of them are in Q now
        }

        var r = (int)q.shape[1];
        var aq = a.mm(q);
        var projected = q.T.mm(aq);
        var (lambda, ritz) = linalg.eigh((projected + projected.T) / 2);
        var x = q.mm(ritz);
        var rangeResiduals = (aq.mm(ritz) - x * lambda.unsqueeze(0)).norm(0);
        var error = CertificateNorm(a, x, lambda);
        var relative = error / normA;
        if (!(relative <= tau))
            return Fallback(tau, r, $"the certificate ‖A − XΛXᵀ‖_F / ‖A‖_F = {relative:E2} exceeded τ = p·u = {tau:E2} (r = {r})", relative);

        var values = lambda.cpu().data<double>().ToArray();
        var residuals = rangeResiduals.cpu().data<double>().ToArray();
        var negative = values.Count(v => v < 0);
        var vectors = Assemble(x, negative);
        var nullCount = (int)p - r;
        var allValues = values.Take(negative).Concat(new double[nullCount]).Concat(values.Skip(negative)).ToArray();
        var allResiduals = residuals.Take(negative).Concat(Enumerable.Repeat(error, nullCount)).Concat(residuals.Skip(negative)).ToArray();
        var isBound = Enumerable.Repeat(false, negative).Concat(Enumerable.Repeat(true, nullCount)).Concat(Enumerable.Repeat(false, r - negative)).ToArray();
        return new RangeRevealingOutcome(allValues, vectors.MoveToOuterDisposeScope(), allResiduals, isBound, r, relative, tau, null);
    }

    private static RangeRevealingOutcome Fallback(double tau, int rank, string reason, double relative = double.NaN) =>
        new([], null, [], [], rank, relative, tau, reason);

    private static Tensor ProjectOut(Tensor y, Tensor q) => q.shape[1] == 0 ? y : y - q.mm(q.T.mm(y));

    // ‖A − XΛXᵀ‖_F formed entry by entry in row blocks: subtracting squared norms (‖A‖²_F − ‖Λ‖²) would cancel to noise.
    private static double CertificateNorm(Tensor a, Tensor x, Tensor lambda)
    {
        var p = a.shape[0];
        var scaled = x * lambda.unsqueeze(0);
        var sumOfSquares = 0.0;
        for (long start = 0; start < p; start += RowBlock)
        {
            using var rowScope = NewDisposeScope();
            var rows = Math.Min(RowBlock, p - start);
            var difference = addmm(a.narrow(0, start, rows), scaled.narrow(0, start, rows), x.T, beta: 1, alpha: -1);
            var norm = difference.norm().item<double>();
            sumOfSquares += norm * norm;
        }
        return Math.Sqrt(sumOfSquares);
    }

    // Columns [X₋ | N | X₊]: the range pairs with λ < 0, the null-space basis (λ = 0), those with λ ≥ 0, so the
    // eigenvalues ascend. N comes from the complete Householder QR of X; the permutation runs in place, row block by row
    // block, so only one p×p tensor is allocated.
    private static Tensor Assemble(Tensor x, int negative)
    {
        var p = x.shape[0];
        var r = x.shape[1];
        if (r == 0)
            return eye(p, dtype: ScalarType.Float64, device: x.device);
        var (full, triangular) = linalg.qr(x, linalg.QRMode.Complete);
        triangular.Dispose();
        full.narrow(1, 0, r).copy_(x);
        if (r == p)
            return full;
        var order = Enumerable.Range(0, negative).Concat(Enumerable.Range((int)r, (int)(p - r))).Concat(Enumerable.Range(negative, (int)r - negative)).Select(i => (long)i).ToArray();
        using var permutation = tensor(order, dtype: ScalarType.Int64, device: x.device);
        for (long start = 0; start < p; start += RowBlock)
        {
            using var rowScope = NewDisposeScope();
            var rows = full.narrow(0, start, Math.Min(RowBlock, p - start));
            rows.copy_(rows.index_select(1, permutation));
        }
        return full;
    }
}
