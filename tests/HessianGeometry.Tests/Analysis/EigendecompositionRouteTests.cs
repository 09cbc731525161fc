using HessianGeometry.Analysis;
using HessianGeometry.Internal;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

/// <summary>The report says how the exact solver's dense decomposition ran (routine, threads, MKL kernels); iterative solvers leave it null.</summary>
public sealed class EigendecompositionRouteTests
{
    [Fact]
    public void ExactAnalysis_RecordsTheRoute_ThreadsAndMklPath_AndTheJsonKeepsThem()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).UseSolver("exact").TopEigenpairs(2).BottomEigenpairs(1).AnalyzeMinimum();

        var route = report.TopEigenpairs!.Eigendecomposition;
        Assert.NotNull(route);
        Assert.Contains("linalg.eigh", route.Route, StringComparison.Ordinal);
        Assert.Equal(get_num_threads(), route.Threads);
        Assert.Equal(MklCodePath.Status, route.MklCodePath);
        Assert.Equal(route, report.BottomEigenpairs!.Eigendecomposition);

        var json = MinimumReportJson.Serialize(report);
        Assert.Contains("\"eigendecomposition\"", json, StringComparison.Ordinal);
        Assert.Contains("\"mklCodePath\"", json, StringComparison.Ordinal);
        Assert.Equal(route, MinimumReportJson.Deserialize(json).TopEigenpairs!.Eigendecomposition);
    }

    [Fact]
    public void IterativeSolver_LeavesTheRouteNull()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).UseSolver("lanczos").TopEigenpairs(2).AnalyzeMinimum();
        Assert.Null(report.TopEigenpairs!.Eigendecomposition);
    }
}
