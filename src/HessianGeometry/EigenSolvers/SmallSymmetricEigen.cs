using MathNet.Numerics.LinearAlgebra;

namespace HessianGeometry.EigenSolvers;

/// <summary>
/// Dense eigen-decomposition of the small projected matrices (Lanczos' T, LOBPCG's Gram and Rayleigh–Ritz matrices),
/// done on the CPU in float64 with MathNet's symmetric QL algorithm: deterministic, and cheap next to one HVP.
/// </summary>
internal static class SmallSymmetricEigen
{
    /// <summary>Eigenvalues ascending and the matching orthonormal eigenvectors as columns of a row-major n×n array.</summary>
    public static (double[] Values, double[,] Vectors) Decompose(double[,] matrix)
    {
        var n = matrix.GetLength(0);
        if (n == 0)
            return ([], new double[0, 0]);
        // Symmetrise: rounding in the products leaves a tiny asymmetry the symmetric solver must not see.
        var a = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
                a[i, j] = 0.5 * (matrix[i, j] + matrix[j, i]);
        }
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                if (!double.IsFinite(a[i, j]))
                    throw new ArithmeticException("A projected eigen-problem contains NaN or Inf: the operator's products are not finite. Check the model and data for NaN/Inf, or analyse in float64.");
            }
        }
        var evd = Matrix<double>.Build.DenseOfArray(a).Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Select(c => c.Real).ToArray();
        var order = Enumerable.Range(0, n).OrderBy(i => values[i]).ThenBy(i => i).ToArray();
        var sortedValues = new double[n];
        var vectors = new double[n, n];
        for (var c = 0; c < n; c++)
        {
            sortedValues[c] = values[order[c]];
            for (var r = 0; r < n; r++)
                vectors[r, c] = evd.EigenVectors[r, order[c]];
        }
        return (sortedValues, vectors);
    }
}
