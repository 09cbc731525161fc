using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.EigenSolvers;

/// <summary>What every solver promises: option checks, errors, cancellation, budgets, reproducibility, progress, memory.</summary>
public sealed class EigenSolverContractTests
{
    public static TheoryData<string> Solvers() => [.. EigenSolverFactory.Names];

    private static DiagonalOperator Diagonal50() => KnownSpectrum.Diagonal([.. Enumerable.Range(1, 50).Select(i => (double)i)]);

    [Theory]
    [MemberData(nameof(Solvers))]
    public void CountAtLeastDimension_Throws_AndPointsToTheExactHessian(string solver)
    {
        using var scope = NewDisposeScope();
        using var op = Diagonal50();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => EigenSolverFactory.Create(solver).Solve(op, new EigenSolverOptions { Count = 50 }));
        Assert.Contains("exact Hessian", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => EigenSolverFactory.Create(solver).Solve(op, new EigenSolverOptions { Count = 0 }));
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void NonPositiveToleranceOrBudget_Throws(string solver)
    {
        using var scope = NewDisposeScope();
        using var op = Diagonal50();
        var s = EigenSolverFactory.Create(solver);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Solve(op, new EigenSolverOptions { Tolerance = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Solve(op, new EigenSolverOptions { Tolerance = -1e-6 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Solve(op, new EigenSolverOptions { Tolerance = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Solve(op, new EigenSolverOptions { MaxOperatorApplications = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Solve(op, new EigenSolverOptions { Which = (SpectrumEnd)7 }));
        Assert.Equal(0, op.ApplicationCount);
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void StartVectorsOfWrongShape_Throw(string solver)
    {
        using var scope = NewDisposeScope();
        using var op = Diagonal50();
        var s = EigenSolverFactory.Create(solver);
        foreach (var shape in new[] { new long[] { 49 }, [50, 3], [50, 2, 1], [2, 50] })
        {
            var error = Assert.Throws<ArgumentException>(() => s.Solve(op, new EigenSolverOptions { Count = 2, StartVectors = ones(shape, dtype: ScalarType.Float64) }));
            Assert.Contains("shape", error.Message, StringComparison.Ordinal);
        }
        Assert.Equal(0, op.ApplicationCount);
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void RankDeficientOrNonFiniteStartVectors_Throw(string solver)
    {
        using var scope = NewDisposeScope();
        using var op = Diagonal50();
        var s = EigenSolverFactory.Create(solver);
        var v = randn(50, dtype: ScalarType.Float64, generator: new Generator(1));
        var twice = stack([v, v * 2], 1);
        Assert.Contains("rank-deficient", Assert.Throws<ArgumentException>(() => s.Solve(op, new EigenSolverOptions { Count = 2, StartVectors = twice })).Message, StringComparison.Ordinal);
        Assert.Contains("rank-deficient", Assert.Throws<ArgumentException>(() => s.Solve(op, new EigenSolverOptions { Count = 2, StartVectors = zeros(50, dtype: ScalarType.Float64) })).Message, StringComparison.Ordinal);
        var withNaN = v.clone();
        withNaN[3] = double.NaN;
        Assert.Throws<ArgumentException>(() => s.Solve(op, new EigenSolverOptions { Count = 1, StartVectors = withNaN }));
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void NonSymmetricOperator_Throws(string solver)
    {
        using var scope = NewDisposeScope();
        using var op = new DenseOperator(triu(ones(10, 10, dtype: ScalarType.Float64)), symmetric: false);
        Assert.Throws<ArgumentException>(() => EigenSolverFactory.Create(solver).Solve(op, new EigenSolverOptions()));
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void OperatorProducingNaN_RaisesArithmeticException(string solver)
    {
        using var scope = NewDisposeScope();
        using var inner = Diagonal50();
        var op = new NaNAfter(inner, applications: 4);
        Assert.Throws<ArithmeticException>(() => EigenSolverFactory.Create(solver).Solve(op, new EigenSolverOptions { Count = 2 }));
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void CancelledToken_RaisesOperationCanceled(string solver)
    {
        using var scope = NewDisposeScope();
        using var op = Diagonal50();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => EigenSolverFactory.Create(solver).Solve(op, new EigenSolverOptions { Count = 2 }, cancelled.Token));

        // Cancelled from the progress callback, i.e. in the middle of the solve.
        using var midway = new CancellationTokenSource();
        var progress = new SynchronousProgress(_ => midway.Cancel());
        Assert.ThrowsAny<OperationCanceledException>(() =>
            EigenSolverFactory.Create(solver).Solve(op, new EigenSolverOptions { Count = 2, Tolerance = 1e-12 }, midway.Token, progress));
    }

    /// <summary>A budget of 6 applications cannot converge 3 pairs: the result says so and carries what was found.</summary>
    [Theory]
    [MemberData(nameof(Solvers))]
    public void TinyBudget_ReturnsPartialResults_WithConvergedFalse(string solver)
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(KnownSpectrum.OutliersPlusBulk(100, [10, 9.5, 9], 1.0, seed: 2), seed: 3);
        using var result = EigenSolverFactory.Create(solver).Solve(spectrum.Operator, new EigenSolverOptions { Count = 3, MaxOperatorApplications = 6, Seed = 4 });
        Assert.False(result.Converged);
        Assert.Contains(false, result.ConvergedPairs);
        Assert.InRange(result.OperatorApplications, 1, 6);
        Assert.InRange(result.Eigenvalues.Length, 1, 3);
        Assert.Equal(result.Eigenvalues.Length, result.ResidualNorms.Length);
        Assert.Equal(result.Eigenvalues.Length, result.RelativeResiduals.Length);
        Assert.Equal(result.Eigenvalues.Length, result.ConvergedPairs.Length);
        Assert.Equal(new long[] { 100, result.Eigenvalues.Length }, result.Eigenvectors.shape);
        Assert.All(result.Eigenvalues, v => Assert.InRange(v, -11.0, 11.0));
        // The reported residuals are the true ones for the vectors returned.
        var v = result.Eigenvectors;
        var residuals = (spectrum.Matrix.mm(v) - v * tensor(result.Eigenvalues, dtype: ScalarType.Float64).unsqueeze(0)).norm(0, false).data<double>().ToArray();
        for (var i = 0; i < residuals.Length; i++)
            Assert.Equal(residuals[i], result.ResidualNorms[i], 1e-9);
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void SameSeed_GivesBitwiseIdenticalResults(string solver)
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(KnownSpectrum.OutliersPlusBulk(80, [10, 7, 5], 1.0, seed: 5), seed: 6);
        var options = new EigenSolverOptions { Count = 3, Seed = 42, Tolerance = 1e-7 };
        using var first = EigenSolverFactory.Create(solver).Solve(spectrum.Operator, options);
        using var second = EigenSolverFactory.Create(solver).Solve(spectrum.Operator, options);
        Assert.Equal(first.Eigenvalues, second.Eigenvalues);
        Assert.Equal(first.ResidualNorms, second.ResidualNorms);
        Assert.Equal(first.OperatorApplications, second.OperatorApplications);
        Assert.True(first.Eigenvectors.eq(second.Eigenvectors).all().item<bool>());
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void StartVectorsAtTheAnswer_AreUsed(string solver)
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create([.. Enumerable.Range(0, 60).Select(i => 1.0 + i)], seed: 7);
        var top = spectrum.Eigenvectors.narrow(1, 57, 3);
        var options = new EigenSolverOptions { Count = 3, Tolerance = 1e-8, StartVectors = top };
        using var started = EigenSolverFactory.Create(solver).Solve(spectrum.Operator, options);
        using var cold = EigenSolverFactory.Create(solver).Solve(spectrum.Operator, options with { StartVectors = null });
        DenseEigen.AssertMatches(started, spectrum.Matrix, [60, 59, 58], 1e-7, 1e-7);
        Assert.True(started.OperatorApplications < cold.OperatorApplications, $"{started.OperatorApplications} applications from the answer vs {cold.OperatorApplications} cold.");
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void Progress_IsReported_AndApplicationsMatchTheOperatorCount(string solver)
    {
        using var scope = NewDisposeScope();
        using var spectrum = KnownSpectrum.Create(KnownSpectrum.OutliersPlusBulk(80, [10, 7, 5], 1.0, seed: 8), seed: 9);
        var reports = new List<EigenSolverProgress>();
        var before = spectrum.Operator.ApplicationCount;
        using var result = EigenSolverFactory.Create(solver).Solve(spectrum.Operator, new EigenSolverOptions { Count = 2, Seed = 1 }, default, new SynchronousProgress(reports.Add));
        Assert.Equal(spectrum.Operator.ApplicationCount - before, result.OperatorApplications);
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.Equal(solver, r.Solver));
        Assert.True(reports[^1].OperatorApplications <= result.OperatorApplications);
        Assert.True(reports.Zip(reports.Skip(1)).All(pair => pair.First.OperatorApplications <= pair.Second.OperatorApplications));
        Assert.True(result.WallTime > TimeSpan.Zero);
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void Solve_LeavesNoLiveTensorsOnceTheResultIsDisposed(string solver)
    {
        using var spectrum = KnownSpectrum.Create(KnownSpectrum.OutliersPlusBulk(60, [10, 7], 1.0, seed: 10), seed: 11);
        using var outer = NewDisposeScope();
        using (EigenSolverFactory.Create(solver).Solve(spectrum.Operator, new EigenSolverOptions { Count = 2, Seed = 1 }))
        {
        }
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (EigenSolverFactory.Create(solver).Solve(spectrum.Operator, new EigenSolverOptions { Count = 2, Seed = 1 }))
        {
        }
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Factory_CreatesEachSolverByName_CaseInsensitive_AndRejectsUnknownNames()
    {
        Assert.IsType<Lanczos>(EigenSolverFactory.Create("Lanczos"));
        Assert.IsType<Lobpcg>(EigenSolverFactory.Create("LOBPCG"));
        Assert.IsType<PowerIteration>(EigenSolverFactory.Create(" power "));
        Assert.All(EigenSolverFactory.Names, name => Assert.Equal(name, EigenSolverFactory.Create(name).Name));
        Assert.Contains("lanczos", Assert.Throws<ArgumentException>(() => EigenSolverFactory.Create("arnoldi")).Message, StringComparison.Ordinal);
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, too late for these checks).</summary>
    private sealed class SynchronousProgress(Action<EigenSolverProgress> report) : IProgress<EigenSolverProgress>
    {
        public void Report(EigenSolverProgress value) => report(value);
    }

    /// <summary>An operator that starts returning NaN after a number of applications, as a diverging model would.</summary>
    private sealed class NaNAfter(ILinearOperator inner, int applications) : LinearOperator
    {
        private int calls;

        public override long Dimension => inner.Dimension;

        public override ScalarType DType => inner.DType;

        public override Device Device => inner.Device;

        protected override Tensor ApplyCore(Tensor vector)
        {
            var result = inner.Apply(vector);
            return ++calls > applications ? result.fill_(double.NaN) : result;
        }

        protected override Tensor ApplyBlockCore(Tensor block)
        {
            var result = inner.ApplyBlock(block);
            calls += (int)block.shape[1];
            return calls > applications ? result.fill_(double.NaN) : result;
        }
    }
}
