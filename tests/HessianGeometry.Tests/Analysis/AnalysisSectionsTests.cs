using HessianGeometry.Analysis;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

/// <summary>The report's sections carry the solvers' and estimators' evidence, and budgets that run out say so.</summary>
public sealed class AnalysisSectionsTests
{
    [Fact]
    public void EigenpairsSections_CarryTheFullEvidence_ForBothEnds()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(3).BottomEigenpairs(2).AnalyzeMinimum();
        foreach (var (section, count, stage) in new[] { (report.TopEigenpairs!, 3, "eigenpairs"), (report.BottomEigenpairs!, 2, "bottom-eigenpairs") })
        {
            Assert.Equal("lanczos", section.Solver);
            Assert.Equal(count, section.Requested);
            Assert.Equal(count, section.RelativeResiduals.Length);
            Assert.Equal(count, section.ConvergedPairs.Length);
            // The flags follow from the relative residuals and the tolerance, pair by pair.
            for (var i = 0; i < count; i++)
                Assert.Equal(section.RelativeResiduals[i] <= AnalysisDefaults.Tolerance, section.ConvergedPairs[i]);
            Assert.Equal(section.ConvergedPairs.All(c => c), section.Converged);
            Assert.True(section.Iterations >= 1);
            Assert.Equal(report.HvpCounts[stage], section.OperatorApplications);
            for (var i = 0; i < count; i++)
                Assert.Equal(section.ResidualNorms[i] / Math.Abs(section.Eigenvalues[i]), section.RelativeResiduals[i], 1e-12);
        }
        Assert.Equal(SpectrumEnd.SmallestAlgebraic, report.BottomEigenpairs!.Which);
        var unconverged = new[] { report.TopEigenpairs!, report.BottomEigenpairs }.Count(s => !s.Converged);
        Assert.Equal(unconverged, report.BudgetWarnings.Count);
    }

    [Fact]
    public void ExactSolver_DecomposesOnce_AndServesEigenpairsTracesAndComplexity()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).UseSolver(EigenSolverKind.Exact).TopEigenpairs(4).BottomEigenpairs(51)
            .WithTrace().WithBoundaryComplexity().AnalyzeMinimum();
        Assert.Equal(["loss", "exact-hessian", "alignment", "complexity"], report.Timings.Stages.Select(s => s.Stage));
        // The MLP's H is assembled from its structure and checked with one product; nothing else in the spectral stages costs a product.
        Assert.Equal(1, report.HvpCounts["exact-hessian"]);
        Assert.Equal(1, report.TopEigenpairs!.OperatorApplications);
        Assert.Contains("structural MLP Hessian", report.TopEigenpairs.MatrixBuild);
        Assert.Equal(report.TopEigenpairs.MatrixBuild, report.BottomEigenpairs!.MatrixBuild);
        Assert.Equal(1, report.TopEigenpairs.Iterations);
        Assert.Equal("exact", report.Solver);
        Assert.Equal(51, report.BottomEigenpairs!.Eigenvalues.Length);
        Assert.Equal(51, report.BottomEigenpairs.ConvergedPairs.Length);
        // Every eigenvalue is there, so the traces follow from them.
        Assert.Equal(report.BottomEigenpairs.Eigenvalues.Sum(), report.Trace!.Value, 1e-9);
        Assert.Equal(report.BottomEigenpairs.Eigenvalues.Select(l => l * l).Sum(), report.TraceOfSquare!.Value, 1e-9);
        Assert.Equal(TraceMethod.Exact, report.Traces!.Method);
        Assert.True(report.Traces.ReachedTarget);
        Assert.Equal(report.TopEigenpairs.Eigenvalues[0], report.BottomEigenpairs.Eigenvalues[^1], 1e-12);
        Assert.False(report.Complexity!.IsLowerBound);
        Assert.Equal(51, report.Complexity.EigenvectorsConsidered);
    }

    [Fact]
    public void HutchPlusPlus_FromTheFluentApi_EstimatesTheTraceOnly_AndSaysWhy()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).WithTrace(new TraceOptions { Method = TraceMethod.HutchPlusPlus, MaxProbes = 30, ClosedForm = false }).Seed(3).AnalyzeMinimum();
        var exact = ExactTrace(model, x, y);
        Assert.Equal("hutch++", report.TraceMethod);
        Assert.Equal(TraceMethod.HutchPlusPlus, report.Traces!.Method);
        Assert.Equal(30, report.Traces.OperatorApplications);
        Assert.Equal(30, report.HvpCounts["trace"]);
        Assert.True(Math.Abs(report.Trace!.Value - exact) <= 4 * report.TraceStandardError!.Value + 1e-9 * Math.Abs(exact),
            $"Hutch++ {report.Trace} ± {report.TraceStandardError} vs exact {exact}");
        Assert.Null(report.TraceOfSquare);
        Assert.Null(report.WolkowiczStyan);
        Assert.Contains("Wolkowicz", report.Traces.Note!, StringComparison.Ordinal);
    }

    [Fact]
    public void TraceMethodNames_AreTheDocumentedOnes()
    {
        var names = Enum.GetValues<TraceMethod>().Select(TraceSection.NameOf).ToArray();
        Assert.Equal(["hutchinson", "hutch++", "exact", "exact-closed-form"], names);
    }

    [Fact]
    public void ExhaustedBudgets_AreReported_AsNotConvergedAndTargetNotReached_WithWarnings()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(6, 1e-12).MaxOperatorApplications(8)
            .WithTrace(new TraceOptions { RelativeStandardError = 1e-9, MinProbes = 4, MaxProbes = 8, BlockSize = 4, ClosedForm = false }).AnalyzeMinimum();
        var top = report.TopEigenpairs!;
        Assert.False(top.Converged);
        Assert.False(report.EigenpairsConverged);
        Assert.True(top.OperatorApplications <= 8, $"{top.OperatorApplications} HVPs over the budget of 8");
        Assert.False(report.Traces!.ReachedTarget);
        Assert.Equal(8, report.Traces.Probes);
        Assert.Equal(2, report.BudgetWarnings.Count);
        Assert.Contains(report.BudgetWarnings, w => w.StartsWith("Top eigenpairs", StringComparison.Ordinal) && w.Contains("budget 8", StringComparison.Ordinal));
        Assert.Contains(report.BudgetWarnings, w => w.StartsWith("Trace", StringComparison.Ordinal) && w.Contains("8 probes", StringComparison.Ordinal));
    }

    /// <summary>
    /// The margin stage in float32 still fails inside the geometry layer (MarginEstimator.PrepareEigenvector calls
    /// item&lt;double&gt;() on a float32 norm), which the operator/geometry refactoring owns; this test turns on with that fix.
    /// </summary>
    [Fact]
    public void Float32Analysis_Margin_MatchesFloat64()
    {
        using var scope = NewDisposeScope();
        var (model, x, y, configure) = Float32Setup();
        var single = configure(ScalarType.Float32).WithMargin(new MarginOptions { MaxSteps = 200, Restarts = 1 }).AnalyzeMinimum();
        var reference = configure(ScalarType.Float64).WithMargin(new MarginOptions { MaxSteps = 200, Restarts = 1 }).AnalyzeMinimum();
        Assert.Equal(reference.MarginDetails!.NearestMaxIndex, single.MarginDetails!.NearestMaxIndex);
        Assert.True(Math.Abs(single.Margin!.Value - reference.Margin!.Value) <= 0.05 * reference.Margin.Value + 1e-3,
            $"margin {single.Margin} vs {reference.Margin}");
        GC.KeepAlive((model, x, y));
    }

    /// <summary>
    /// The float32 path (issue #13: WithPrecision(Float32) and WithPrecision(null) on a float32 model threw "Double is not
    /// compatible with Float32" from the loss stage). Every stage but the margin runs in float32 and is checked against a
    /// float64 run with the same seed (so the same probes and start vectors): eigenvalues to 1e-3·|λ_1|, traces to 1e-3
    /// relative, mean alignments to 1e-2 absolute, the loss to 1e-5; float32 products round at about 6e-8 relative, so
    /// these bounds leave room for the solvers' accumulated rounding but catch a wrong dtype path.
    /// </summary>
    [Fact]
    public void Float32Analysis_WithEveryStage_MatchesFloat64_ToFloat32Accuracy()
    {
        using var scope = NewDisposeScope();
        var (_, _, _, configure) = Float32Setup();
        var single = configure(ScalarType.Float32).AnalyzeMinimum();
        var model32 = configure(null).AnalyzeMinimum();
        var reference = configure(ScalarType.Float64).AnalyzeMinimum();

        Assert.Equal("Float32", single.Precision);
        Assert.Equal("Float32", model32.Precision);
        Assert.Equal("Float64", reference.Precision);
        Assert.Equal(single.Eigenvalues, model32.Eigenvalues);
        const double Relative = 1e-3;
        var scale = Math.Abs(reference.Eigenvalues![0]);
        Assert.Equal(reference.Loss, single.Loss, 1e-5 * Math.Max(1, reference.Loss));
        Assert.Equal(reference.Accuracy, single.Accuracy);
        for (var i = 0; i < 3; i++)
            Assert.True(Math.Abs(single.Eigenvalues![i] - reference.Eigenvalues[i]) <= Relative * scale, $"λ_{i + 1}: {single.Eigenvalues[i]} vs {reference.Eigenvalues[i]}");
        Assert.True(Math.Abs(single.BottomEigenvalues![0] - reference.BottomEigenvalues![0]) <= Relative * scale,
            $"λ_min: {single.BottomEigenvalues[0]} vs {reference.BottomEigenvalues[0]}");
        Assert.True(Math.Abs(single.Trace!.Value - reference.Trace!.Value) <= Relative * Math.Abs(reference.Trace.Value) + 1e-6 * scale,
            $"tr(H): {single.Trace} vs {reference.Trace}");
        Assert.True(Math.Abs(single.TraceOfSquare!.Value - reference.TraceOfSquare!.Value) <= Relative * reference.TraceOfSquare.Value,
            $"tr(H²): {single.TraceOfSquare} vs {reference.TraceOfSquare}");
        Assert.Equal(reference.HesdType, single.HesdType);
        for (var i = 0; i < 3; i++)
            Assert.True(Math.Abs(single.MeanAbsAlignment![i] - reference.MeanAbsAlignment![i]) <= 1e-2, $"m_{i + 1}: {single.MeanAbsAlignment[i]} vs {reference.MeanAbsAlignment[i]}");
        Assert.Equal(reference.Complexity!.EigenvectorsConsidered, single.Complexity!.EigenvectorsConsidered);
        Assert.True(Math.Abs(single.Complexity.EncodingCountMean - reference.Complexity.EncodingCountMean) <= 1,
            $"encoding count {single.Complexity.EncodingCountMean} vs {reference.Complexity.EncodingCountMean}");
    }

    /// <summary>The trained fixture's weights in a float32 model, and a configuration of every stage but the margin at a given precision.</summary>
    private static (TorchSharp.Modules.Sequential Model, Tensor X, Tensor Y, Func<ScalarType?, HessianAnalysisBuilder> Configure) Float32Setup()
    {
        var (trained, x, y) = AnalysisFixture.Trained();
        var model = HessianGeometry.Testing.TinyModels.Mlp([2, 8, 3], "tanh", 3, ScalarType.Float32);
        using (no_grad())
        {
            foreach (var (target, source) in model.parameters().Zip(trained.parameters()))
                target.copy_(source.to(ScalarType.Float32));
        }
        model.eval();
        var x32 = x.to(ScalarType.Float32);
        HessianAnalysisBuilder Configure(ScalarType? precision) => HessianAnalysis.For(model).WithData(x32, y).WithPrecision(precision)
            .TopEigenpairs(3, 1e-4).BottomEigenpairs(1, 1e-3).WithTrace(new TraceOptions { MaxProbes = 40, RelativeStandardError = 0 })
            .WithSpectralDensity(new SpectralDensityOptions { GridPoints = 200, Steps = 30 }).WithAlignment().WithBoundaryComplexity().Seed(4);
        return (model, x32, y, Configure);
    }

    private static double ExactTrace(TorchSharp.Modules.Sequential model, Tensor x, Tensor y)
    {
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y),
            options: new LossHessianOptions { AnalysisDType = ScalarType.Float64 });
        return op.ToDense().diagonal().sum().item<double>();
    }
}
