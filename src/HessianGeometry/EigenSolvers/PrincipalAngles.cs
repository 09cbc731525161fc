using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// Principal angles between two subspaces given by orthonormal bases A [p, k] and B [p, m] (Björck and Golub 1973): the
/// cosines are the singular values of AᵀB, descending. They do not depend on which bases were chosen, so a degenerate
/// eigenvalue cluster inside either subspace does not change them; only a cluster cut by the subspace's edge does.
/// </summary>
public static class PrincipalAngles
{
    /// <summary>cos θ_1 ≥ … ≥ cos θ_min(k,m) ≥ 0, clamped to [0, 1] against round-off.</summary>
    /// <param name="a">Orthonormal columns [p, k].</param>
    /// <param name="b">Orthonormal columns [p, m].</param>
    public static double[] Cosines(Tensor a, Tensor b)
    {
        Guard.NotNull(a, nameof(a));
        Guard.NotNull(b, nameof(b));
        if (a.dim() != 2 || b.dim() != 2 || a.shape[0] != b.shape[0])
            throw new ArgumentException($"Bases must be matrices with the same number of rows but have shapes [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}].", nameof(b));
        using var scope = NewDisposeScope();
        var product = a.to(ScalarType.Float64).T.matmul(b.to(ScalarType.Float64));
        return linalg.svdvals(product).clamp(0.0, 1.0).cpu().data<double>().ToArray();
    }

    /// <summary>(1/k) Σ cos² θ_i = ‖AᵀB‖²_F / k: 1 for equal subspaces, k/p on average for random ones.</summary>
    public static double MeanSquaredCosine(IReadOnlyList<double> cosines)
    {
        Guard.NotNull(cosines, nameof(cosines));
        return cosines.Count == 0 ? 0 : cosines.Sum(c => c * c) / cosines.Count;
    }
}
