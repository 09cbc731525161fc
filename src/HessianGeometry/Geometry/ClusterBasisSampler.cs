using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// Alignments of a degenerate cluster's eigenvectors in other, uniformly (Haar) random orthonormal bases of the same
/// eigenspace, computed from the alignment in the given basis without touching the model.
/// </summary>
/// <remarks>
/// <para>
/// With the cluster's unit eigenvectors V_C (p × s) and their alignments A_C (n × s), a new basis V_C Q (Q orthogonal
/// s × s) has alignments A_C Q: ⟨g, V_C q⟩ / (‖g‖ ‖V_C q‖) = Σ_l A_l q_l because ‖V_C q‖ = 1.
/// </para>
/// <para>
/// A Haar Q costs O(s³) to draw, too much for a bulk of 10,000 near-zero eigenvalues. Only the m = min(n, s)
/// dimensions of the row space of A_C matter: with A_Cᵀ = W R (reduced QR, W s × m), B = [W W⊥] (orthogonal) and a Haar
/// K, Q = B Kᵀ is Haar too, and A_C Q = [Rᵀ 0] Kᵀ = Rᵀ F ᵀ with F = the first m columns of K. Those are the Q-factor of
/// the first m columns of the Gaussian matrix whose QR gives K (with the signs of R's diagonal made positive), so a draw
/// costs O(s · n · m).
/// </para>
/// </remarks>
public static class ClusterBasisSampler
{
    /// <summary>
    /// The seed of draw <paramref name="draw"/> for the cluster whose smallest member position is
    /// <paramref name="firstIndex"/>: distinct clusters and draws get distinct streams from one user seed.
    /// </summary>
    public static long DrawSeed(long seed, int firstIndex, int draw) => unchecked((seed * 1_000_003L + firstIndex) * 1_009L + draw);

    /// <summary>
    /// A_C Q for one random basis: float64 [n, s].
    /// </summary>
    /// <param name="clusterAlignment">A_C, float64 [n, s]: the alignments of the cluster's eigenvectors in the given basis.</param>
    /// <param name="seed">Seeds the draw; the same seed gives the same basis bit for bit.</param>
    public static Tensor RotatedAlignment(Tensor clusterAlignment, long seed)
    {
        var (r, f) = Factors(clusterAlignment, seed);
        using var scope = NewDisposeScope();
        return r.T.mm(f.T).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The explicit rotation Q (s × s, orthogonal) behind <see cref="RotatedAlignment"/> for the same seed, so that
    /// A_C Q equals it and V_C Q is the rotated basis. O(s³): meant for tests and small clusters.
    /// </summary>
    /// <param name="clusterAlignment">A_C, float64 [n, s].</param>
    /// <param name="seed">The seed given to <see cref="RotatedAlignment"/>.</param>
    public static Tensor Rotation(Tensor clusterAlignment, long seed)
    {
        Check(clusterAlignment);
        using var scope = NewDisposeScope();
        var a = clusterAlignment.to(ScalarType.Float64).cpu();
        var s = a.shape[1];
        var (b, _) = linalg.qr(a.T, linalg.QRMode.Complete);
        var k = HaarColumns(s, s, Math.Min(a.shape[0], s), seed);
        return b.mm(k.T).MoveToOuterDisposeScope();
    }

    private static (Tensor R, Tensor F) Factors(Tensor clusterAlignment, long seed)
    {
        Check(clusterAlignment);
        using var scope = NewDisposeScope();
        var a = clusterAlignment.to(ScalarType.Float64).cpu();
        var n = a.shape[0];
        var s = a.shape[1];
        var m = Math.Min(n, s);
        var (_, r) = linalg.qr(a.T, linalg.QRMode.Reduced);
        var f = HaarColumns(s, m, m, seed);
        return (r.MoveToOuterDisposeScope(), f.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The first <paramref name="columns"/> columns of a Haar s × s orthogonal matrix: the Q-factor, with R's diagonal made
    /// positive, of a Gaussian matrix whose first <paramref name="leading"/> columns are drawn first (so the leading
    /// columns are the same whether or not the rest is drawn).
    /// </summary>
    private static Tensor HaarColumns(long s, long columns, long leading, long seed)
    {
        var generator = RandomVectors.CreateGenerator(seed);
        var first = randn(leading, s, dtype: ScalarType.Float64, generator: generator).T;
        var gaussian = columns > leading
            ? cat([first, randn(columns - leading, s, dtype: ScalarType.Float64, generator: generator).T], 1)
            : first;
        var (q, r) = linalg.qr(gaussian, linalg.QRMode.Reduced);
        var signs = r.diagonal().sign();
        signs = where(signs == 0, ones_like(signs), signs);
        return q * signs.unsqueeze(0);
    }

    private static void Check(Tensor clusterAlignment)
    {
        Guard.Valid(clusterAlignment, nameof(clusterAlignment));
        if (clusterAlignment.dim() != 2 || clusterAlignment.shape[0] < 1 || clusterAlignment.shape[1] < 1)
            throw new ArgumentException($"The cluster alignment must have shape [n, s] with n, s ≥ 1 but has shape {Guard.Shape(clusterAlignment)}.", nameof(clusterAlignment));
    }
}
