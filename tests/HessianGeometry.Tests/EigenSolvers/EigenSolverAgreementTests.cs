using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.EigenSolvers;

/// <summary>
/// The three solvers against MathNet's dense symmetric eigen-decomposition (and so against each other) on the spectra
/// the issue names. Solver tolerance 1e-8 (power: 1e-7, it needs O(1/gap) iterations per digit); eigenvalues must
/// match to 10× the tolerance, residuals recomputed with the dense matrix to 10× the tolerance.
/// </summary>
public sealed class EigenSolverAgreementTests
{
    public static TheoryData<string, string, SpectrumEnd, int> Cases()
    {
        var data = new TheoryData<string, string, SpectrumEnd, int>();
        foreach (var solver in EigenSolverFactory.Names)
        {
            data.Add(solver, "repeated-diagonal", SpectrumEnd.LargestAlgebraic, 5);
            data.Add(solver, "clustered-diagonal", SpectrumEnd.LargestAlgebraic, 3);
            data.Add(solver, "clustered-diagonal", SpectrumEnd.SmallestAlgebraic, 2);
            data.Add(solver, "random-indefinite", SpectrumEnd.LargestAlgebraic, 3);
            data.Add(solver, "random-indefinite", SpectrumEnd.SmallestAlgebraic, 3);
            data.Add(solver, "random-indefinite", SpectrumEnd.LargestMagnitude, 3);
            data.Add(solver, "outliers-plus-bulk", SpectrumEnd.LargestAlgebraic, 5);
            data.Add(solver, "outliers-plus-bulk", SpectrumEnd.LargestMagnitude, 4);
            data.Add(solver, "mlp-hessian", SpectrumEnd.LargestAlgebraic, 3);
            data.Add(solver, "mlp-hessian", SpectrumEnd.SmallestAlgebraic, 2);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Solver_MatchesDenseEigendecomposition(string solverName, string problem, SpectrumEnd which, int k)
    {
        using var scope = NewDisposeScope();
        var (op, matrix) = Problem(problem);
        var solver = EigenSolverFactory.Create(solverName);
        var tolerance = solverName == "power" ? 1e-7 : 1e-8;
        var options = new EigenSolverOptions { Count = k, Which = which, Tolerance = tolerance, Seed = 11, MaxOperatorApplications = 20_000 };
        using var result = solver.Solve(op, options);
        var expected = DenseEigen.Expected(DenseEigen.Eigenvalues(matrix), which, k);
        DenseEigen.AssertMatches(result, matrix, expected, valueTolerance: 10 * tolerance, residualTolerance: 10 * tolerance);
        Assert.Equal(which, result.Which);
        Assert.Equal(solverName, result.Solver);
        (op as IDisposable)?.Dispose();
    }

    /// <summary>
    /// λ = +5 and −5 lead the spectrum by magnitude. Lanczos (whose Krylov space holds both ends) and LOBPCG (which
    /// solves both ends) return both; power iteration cannot separate |λ_1| = |λ_2| (the iterate oscillates between the
    /// two eigenvectors), and must say so rather than return a wrong pair.
    /// </summary>
    [Theory]
    [InlineData("lanczos")]
    [InlineData("lobpcg")]
    [InlineData("power")]
    public void PlusMinusPair_LargestMagnitude(string solverName)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(12);
        var values = new double[] { 5, -5, 3, -2.5 }.Concat(Enumerable.Range(0, 76).Select(_ => -1 + 2 * rng.NextDouble())).ToArray();
        using var spectrum = KnownSpectrum.Create(values, seed: 13);
        var options = new EigenSolverOptions { Count = 2, Which = SpectrumEnd.LargestMagnitude, Tolerance = 1e-8, Seed = 14, MaxOperatorApplications = 3000 };
        using var result = EigenSolverFactory.Create(solverName).Solve(spectrum.Operator, options);
        if (solverName == "power")
        {
            Assert.False(result.Converged);
            return;
        }
        Assert.Equal(5, Math.Abs(result.Eigenvalues[0]), 6);
        Assert.Equal(new[] { -5.0, 5.0 }, result.Eigenvalues.Order().Select(v => Math.Round(v, 6)));
        DenseEigen.AssertMatches(result, spectrum.Matrix, result.Eigenvalues.Select(v => 5.0 * Math.Sign(v)).ToArray(), 1e-7, 1e-7);
    }

    /// <summary>The seeded test problems: an operator and its dense matrix (float64).</summary>
    internal static (ILinearOperator Op, Tensor Matrix) Problem(string name)
    {
        switch (name)
        {
            case "repeated-diagonal":
            {
                // 10 three times and 9 twice: single-vector Lanczos must find the copies (probe restart), LOBPCG and
                // power find them by construction. The bulk fills [−3, 5].
                var rng = new Random(1);
                var values = new double[] { 10, 10, 10, 9, 9 }.Concat(Enumerable.Range(0, 115).Select(_ => -3 + 8 * rng.NextDouble())).ToArray();
                var op = KnownSpectrum.Diagonal(values);
                return (op, diag(op.Diagonal));
            }
            case "clustered-diagonal":
            {
                // Clusters with 2% gaps at both ends.
                var rng = new Random(2);
                var values = new double[] { 6, 5.88, 5.76, -6, -5.88 }.Concat(Enumerable.Range(0, 95).Select(_ => -4 + 8 * rng.NextDouble())).ToArray();
                var op = KnownSpectrum.Diagonal(values);
                return (op, diag(op.Diagonal));
            }
            case "random-indefinite":
            {
                var g = randn(120, 120, dtype: ScalarType.Float64, generator: new Generator(3));
                var a = (g + g.T) / 2;
                return (new DenseOperator(a), a);
            }
            case "outliers-plus-bulk":
            {
                var spectrum = KnownSpectrum.Create(KnownSpectrum.OutliersPlusBulk(200, [50, 30, 20, 12, 8, -7], 1.0, seed: 4), seed: 5);
                return (spectrum.Operator, spectrum.Matrix);
            }
            case "mlp-hessian":
            {
                // A 155-parameter tanh MLP on 60 blob points; its exact Hessian is indefinite.
                var (x, y) = TinyModels.Blobs(60, 3, 3, seed: 6);
                var model = TinyModels.Mlp([3, 10, 8, 3], "tanh", seed: 7);
                var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
                return (op, op.ToDense());
            }
            default:
                throw new ArgumentException($"Unknown problem {name}.", nameof(name));
        }
    }
}
