using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using Xunit;

namespace HessianGeometry.Tests.Models;

/// <summary>Both ends of an operator's spectrum by Lanczos (relative residual 1e-10) against PyTorch's dense eigenvalues.</summary>
internal static class PyTorchSpectrum
{
    /// <summary>
    /// The largest <paramref name="top"/>.Length and smallest <paramref name="bottom"/>.Length eigenvalues of
    /// <paramref name="op"/> equal PyTorch's (largest first; smallest first) to <paramref name="rtol"/>·λ1.
    /// </summary>
    public static void AssertEnds(ILinearOperator op, double[] top, double[] bottom, string label, double rtol = 1e-8)
    {
        var largest = new Lanczos().Solve(op, new EigenSolverOptions { Count = top.Length, Tolerance = 1e-10, MaxOperatorApplications = 2000, Seed = 1 });
        Assert.True(largest.Converged, $"{label}: Lanczos did not converge");
        for (var i = 0; i < top.Length; i++)
            Assert.True(Math.Abs(largest.Eigenvalues[i] - top[i]) <= rtol * top[0], $"{label} λ{i + 1}: {largest.Eigenvalues[i]} vs PyTorch {top[i]}");
        if (bottom.Length == 0)
            return;
        var smallest = new Lanczos().Solve(op, new EigenSolverOptions { Count = bottom.Length, Which = SpectrumEnd.SmallestAlgebraic, Tolerance = 1e-10, MaxOperatorApplications = 2000, Seed = 2 });
        for (var i = 0; i < bottom.Length; i++)
            Assert.True(Math.Abs(smallest.Eigenvalues[i] - bottom[i]) <= rtol * top[0], $"{label} bottom λ{i + 1}: {smallest.Eigenvalues[i]} vs PyTorch {bottom[i]}");
    }
}
