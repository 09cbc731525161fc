using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Testing;

/// <summary>A symmetric matrix A = Q diag(λ) Qᵀ with chosen eigenvalues and a seeded random orthogonal Q.</summary>
public sealed class KnownSpectrum : IDisposable
{
    private KnownSpectrum(double[] eigenvalues, Tensor eigenvectors, Tensor matrix)
    {
        Eigenvalues = eigenvalues;
        Eigenvectors = eigenvectors;
        Matrix = matrix;
        Operator = new DenseOperator(matrix);
    }

    /// <summary>The eigenvalues in the order given.</summary>
    public double[] Eigenvalues { get; }

    /// <summary>Q: column j is the eigenvector of <see cref="Eigenvalues"/>[j].</summary>
    public Tensor Eigenvectors { get; }

    /// <summary>The dense matrix (float64).</summary>
    public Tensor Matrix { get; }

    /// <summary>The matrix as an operator.</summary>
    public DenseOperator Operator { get; }

    /// <summary>Eigenvalues sorted descending.</summary>
    public double[] Descending => Eigenvalues.OrderByDescending(v => v).ToArray();

    /// <summary>Builds Q diag(λ) Qᵀ in float64 (or <paramref name="dtype"/>).</summary>
    public static KnownSpectrum Create(double[] eigenvalues, long seed, ScalarType dtype = ScalarType.Float64)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var p = eigenvalues.Length;
        var gaussian = randn(p, p, dtype: ScalarType.Float64, generator: generator);
        var (q, r) = linalg.qr(gaussian);
        // Fix signs so Q is a deterministic function of the seed.
        q = q * r.diagonal().sign().unsqueeze(0);
        var lambda = tensor(eigenvalues, dtype: ScalarType.Float64);
        var a = q.mm(diag(lambda)).mm(q.T);
        a = (a + a.T) / 2;
        return new KnownSpectrum(eigenvalues, q.to(dtype).DetachFromDisposeScope(), a.to(dtype).DetachFromDisposeScope());
    }

    /// <summary>A diagonal-as-dense matrix (Q = I).</summary>
    public static DiagonalOperator Diagonal(params double[] eigenvalues) => new(tensor(eigenvalues, dtype: ScalarType.Float64));

    /// <summary>"Few outliers + bulk": <paramref name="outliers"/> large eigenvalues over a bulk near zero of both signs.</summary>
    public static double[] OutliersPlusBulk(int p, double[] outliers, double bulkScale, long seed)
    {
        var rng = new Random((int)seed);
        var values = new double[p];
        for (var i = 0; i < p; i++)
            values[i] = i < outliers.Length ? outliers[i] : bulkScale * (rng.NextDouble() * 2 - 1) * Math.Pow(rng.NextDouble(), 3);
        return values;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Operator.Dispose();
        Eigenvectors.Dispose();
        Matrix.Dispose();
    }
}
