namespace HessianGeometry.Landscapes;

/// <summary>Least-squares polynomial fits of a few dozen points (the cubic and quartic overlays).</summary>
internal static class PolynomialFit
{
    /// <summary>
    /// Coefficients c₀ … c_degree minimising Σ (y_i − Σ c_k x_i^k)² over the finite points, or null with too few of them.
    /// The abscissae are scaled to [−1, 1] before the normal equations are solved (Gaussian elimination with partial
    /// pivoting), which keeps them well conditioned for degree ≤ 4.
    /// </summary>
    public static double[]? LeastSquares(double[] x, double[] y, int degree)
    {
        var points = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(x[i]) && double.IsFinite(y[i])).ToArray();
        if (points.Length < degree + 1)
            return null;
        var scale = points.Max(i => Math.Abs(x[i]));
        if (scale == 0)
            return null;
        var n = degree + 1;
        var a = new double[n, n + 1];
        foreach (var i in points)
        {
            var s = x[i] / scale;
            var powers = new double[2 * n - 1];
            powers[0] = 1;
            for (var k = 1; k < powers.Length; k++)
                powers[k] = powers[k - 1] * s;
            for (var r = 0; r < n; r++)
            {
                for (var c = 0; c < n; c++)
                    a[r, c] += powers[r + c];
                a[r, n] += powers[r] * y[i];
            }
        }
        var solution = Solve(a, n);
        if (solution is null)
            return null;
        for (var k = 0; k < n; k++)
            solution[k] /= Math.Pow(scale, k);
        return solution;
    }

    private static double[]? Solve(double[,] a, int n)
    {
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col]))
                    pivot = r;
            }
            if (Math.Abs(a[pivot, col]) < 1e-300)
                return null;
            for (var c = 0; c <= n; c++)
                (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]);
            for (var r = 0; r < n; r++)
            {
                if (r == col)
                    continue;
                var factor = a[r, col] / a[col, col];
                for (var c = col; c <= n; c++)
                    a[r, c] -= factor * a[col, c];
            }
        }
        var x = new double[n];
        for (var r = 0; r < n; r++)
            x[r] = a[r, n] / a[r, r];
        return x;
    }
}
