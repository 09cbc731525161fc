using System.Text.Json;
using HessianGeometry.Analysis;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

public sealed class AnalysisOptionsTests
{
    [Fact]
    public void Defaults_AreDefinedOnce_AndTheSolverOptionsAgree()
    {
        var options = new AnalysisOptions();
        var solver = new EigenSolverOptions();
        Assert.Equal(AnalysisDefaults.MaxOperatorApplications, solver.MaxOperatorApplications);
        Assert.Equal(AnalysisDefaults.Tolerance, solver.Tolerance);
        Assert.Equal(AnalysisDefaults.MaxOperatorApplications, options.TopEigenpairs.MaxOperatorApplications);
        Assert.Equal(AnalysisDefaults.MaxOperatorApplications, options.BottomEigenpairs.MaxOperatorApplications);
        Assert.Equal(AnalysisDefaults.Tolerance, options.TopEigenpairs.Tolerance);
        Assert.Equal(AnalysisDefaults.Solver, options.Solver.Kind);
        Assert.Equal(AnalysisDefaults.Precision, options.Precision);
        Assert.Equal(AnalysisDefaults.ExactMemoryBudgetBytes, options.ExactMemoryBudgetBytes);
        var legacy = new AnalysisSettings();
        Assert.Equal(AnalysisDefaults.MaxOperatorApplications, legacy.MaxOperatorApplications);
        Assert.Equal(EigenSolverFactory.NameOf(AnalysisDefaults.Solver), legacy.Solver);
    }

    [Fact]
    public void TopEigenpairsTolerance_LeavesTheBottomTolerance_AndEachEndHasItsOwn()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 2, 3, seed: 1);
        var model = TinyModels.Mlp([2, 4, 3], "tanh", seed: 1);
        var plan = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(3, 1e-9).BottomEigenpairs(2).Build();
        Assert.Equal(1e-9, plan.Options.TopEigenpairs.Tolerance);
        Assert.Equal(AnalysisDefaults.Tolerance, plan.Options.BottomEigenpairs.Tolerance);

        var both = HessianAnalysis.For(model).WithData(x, y).BottomEigenpairs(2, 1e-4).TopEigenpairs(3, 1e-8).Build();
        Assert.Equal(1e-4, both.Options.BottomEigenpairs.Tolerance);
        Assert.Equal(1e-8, both.Options.TopEigenpairs.Tolerance);
        Assert.Equal(2, both.Options.BottomEigenpairs.Count);

        var budgets = HessianAnalysis.For(model).WithData(x, y).MaxOperatorApplications(300).TopEigenpairs(3, null, 700).BottomEigenpairs(2).Build();
        Assert.Equal(700, budgets.Options.TopEigenpairs.MaxOperatorApplications);
        Assert.Equal(300, budgets.Options.BottomEigenpairs.MaxOperatorApplications);
        Assert.Equal(AnalysisDefaults.Tolerance, budgets.Options.TopEigenpairs.Tolerance);
    }

    [Theory]
    [InlineData("lanczos", EigenSolverKind.Lanczos)]
    [InlineData("LOBPCG", EigenSolverKind.Lobpcg)]
    [InlineData(" power ", EigenSolverKind.Power)]
    [InlineData("exact", EigenSolverKind.Exact)]
    public void UseSolver_ByName_ParsesIntoTheKind(string name, EigenSolverKind kind)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 2, 3, seed: 1);
        var model = TinyModels.Mlp([2, 4, 3], "tanh", seed: 1);
        var plan = HessianAnalysis.For(model).WithData(x, y).UseSolver(name).TopEigenpairs(2).Build();
        Assert.Equal(kind, plan.Options.Solver.Kind);
        Assert.Equal(kind == EigenSolverKind.Exact, plan.Options.Solver.IsExact);
        Assert.Equal(EigenSolverFactory.NameOf(kind), plan.Settings.Solver);
    }

    [Fact]
    public void UseExactHessian_ChoosesTheExactSolver()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 2, 3, seed: 1);
        var model = TinyModels.Mlp([2, 4, 3], "tanh", seed: 1);
        var plan = HessianAnalysis.For(model).WithData(x, y).UseSolver("power").UseExactHessian(memoryBudgetBytes: 1 << 20).TopEigenpairs(2).Build();
        Assert.True(plan.Options.Solver.IsExact);
        Assert.Equal(1 << 20, plan.Options.ExactMemoryBudgetBytes);
        Assert.True(plan.Settings.ExactHessian);
    }

    [Fact]
    public void HutchPlusPlus_WithTooSmallABudget_IsRefusedAtBuild()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 2, 3, seed: 1);
        var model = TinyModels.Mlp([2, 4, 3], "tanh", seed: 1);
        var builder = HessianAnalysis.For(model).WithData(x, y).WithTrace(new TraceOptions { Method = TraceMethod.HutchPlusPlus, MaxProbes = 5, MinProbes = 2 });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => builder.Build());
        Assert.Contains("MaxProbes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExactTraceMethod_WithoutTheExactSolver_IsRefusedAtBuild()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 2, 3, seed: 1);
        var model = TinyModels.Mlp([2, 4, 3], "tanh", seed: 1);
        var builder = HessianAnalysis.For(model).WithData(x, y).WithTrace(new TraceOptions { Method = TraceMethod.Exact });
        var error = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("UseExactHessian()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_RecordsTheOptionsVerbatim_WithFiltersAndSolversByName()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var plan = HessianAnalysis.For(model).WithData(x, y).WithParameters(name => name.StartsWith('2') || name.StartsWith('0'))
            .UseSolver(new PowerIteration()).TopEigenpairs(2, 1e-5).Seed(9).Build();
        var report = plan.AnalyzeMinimum();
        Assert.Equal(plan.Options, report.Options);
        using var doc = JsonDocument.Parse(MinimumReportJson.Serialize(report));
        var options = doc.RootElement.GetProperty("options");
        Assert.Equal("custom filter", options.GetProperty("parameterSelection").GetString());
        Assert.Equal("power", options.GetProperty("solver").GetProperty("name").GetString());
        Assert.True(options.GetProperty("solver").GetProperty("isCustom").GetBoolean());
        Assert.Equal(1e-5, options.GetProperty("topEigenpairs").GetProperty("tolerance").GetDouble());
        Assert.Equal("Float64", options.GetProperty("precision").GetString());
        Assert.Equal(9, options.GetProperty("seed").GetInt64());
        Assert.False(options.TryGetProperty("parameterFilter", out _));
    }
}
