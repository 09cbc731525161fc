using HessianGeometry.EigenSolvers;
using MathNet.Numerics.LinearAlgebra;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.EigenSolvers;

/// <summary>The independent reference: MathNet's dense symmetric eigen-decomposition in float64, and checks against it.</summary>
internal static class DenseEigen
{
    /// <summary>All eigenvalues of a dense symmetric matrix, ascending.</summary>
    public static double[] Eigenvalues(Tensor matrix)
    {
        var p = (int)matrix.shape[0];
        var flat = matrix.to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        var a = Matrix<double>.Build.Dense(p, p, (i, j) => flat[i * p + j]);
        return a.Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).OrderBy(v => v).ToArray();
    }

    /// <summary>The k eigenvalues the solver should return, in the solver's order.</summary>
    public static double[] Expected(double[] ascending, SpectrumEnd which, int k) => which switch
    {
        SpectrumEnd.LargestAlgebraic => ascending.Reverse().Take(k).ToArray(),
        SpectrumEnd.SmallestAlgebraic => ascending.Take(k).ToArray(),
        _ => ascending.OrderByDescending(Math.Abs).Take(k).ToArray(),
    };

    /// <summary>
    /// Checks a result against the reference: eigenvalues within <paramref name="valueTolerance"/>·max(|λ|, 1e-3·‖A‖),
    /// residuals recomputed with the dense matrix (not the solver's products) within <paramref name="residualTolerance"/>·|λ|,
    /// and orthonormal eigenvectors. The solver's reported residuals must agree with the recomputed ones to
    /// <paramref name="operatorPrecision"/>·‖A‖ (1e-9 for float64 operators; a float32 operator's products carry ~1e-7).
    /// </summary>
    public static void AssertMatches(EigenResult result, Tensor matrix, double[] expected, double valueTolerance, double residualTolerance,
        double operatorPrecision = 1e-9)
    {
        using var scope = NewDisposeScope();
        Assert.True(result.Converged, $"{result.Solver} did not converge: relative residuals {string.Join(", ", result.RelativeResiduals.Select(r => r.ToString("G3")))} after {result.OperatorApplications} applications.");
        Assert.Equal(expected.Length, result.Eigenvalues.Length);
        var norm = expected.Max(Math.Abs);
        for (var i = 0; i < expected.Length; i++)
        {
            var error = Math.Abs(result.Eigenvalues[i] - expected[i]);
            var allowed = valueTolerance * Math.Max(Math.Abs(expected[i]), 1e-3 * norm);
            Assert.True(error <= allowed, $"{result.Solver}: λ[{i}] = {result.Eigenvalues[i]:R}, expected {expected[i]:R} (error {error:G3} > {allowed:G3}).");
        }
        var a = matrix.to(ScalarType.Float64).to(result.Eigenvectors.device);
        var v = result.Eigenvectors;
        Assert.Equal(new long[] { a.shape[0], expected.Length }, v.shape);
        Assert.Equal(ScalarType.Float64, v.dtype);
        var lambda = tensor(result.Eigenvalues, dtype: ScalarType.Float64).to(v.device);
        var residuals = (a.mm(v) - v * lambda.unsqueeze(0)).norm(0, false).cpu().data<double>().ToArray();
        for (var i = 0; i < residuals.Length; i++)
        {
            var allowed = residualTolerance * Math.Max(Math.Abs(result.Eigenvalues[i]), 1e-3 * norm);
            Assert.True(residuals[i] <= allowed, $"{result.Solver}: ‖Av − λv‖ for pair {i} is {residuals[i]:G3} > {allowed:G3}.");
            Assert.True(Math.Abs(residuals[i] - result.ResidualNorms[i]) <= operatorPrecision * norm + 0.01 * residuals[i],
                $"{result.Solver}: reported residual {result.ResidualNorms[i]:G3} disagrees with the recomputed {residuals[i]:G3}.");
        }
        var gramError = (v.T.mm(v) - eye(v.shape[1], dtype: ScalarType.Float64, device: v.device)).abs().max().item<double>();
        Assert.True(gramError <= 1e-8, $"{result.Solver}: eigenvectors are not orthonormal (max |VᵀV − I| = {gramError:G3}).");
    }
}
