using HessianGeometry.Analysis;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.Extensions.Logging;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

public sealed class AnalyzeMinimumTests
{
    [Fact]
    public void Eigenvalues_MatchDenseDecompositionOfTheExactHessian()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(4).BottomEigenpairs(2).AnalyzeMinimum();

        var reference = DenseSpectrum(model, x, y);
        for (var i = 0; i < 4; i++)
            Assert.Equal(reference[^(i + 1)], report.Eigenvalues![i], 1e-8 * Math.Max(1, Math.Abs(reference[^1])));
        for (var i = 0; i < 2; i++)
            Assert.Equal(reference[i], report.BottomEigenvalues![i], 1e-7 * Math.Max(1, Math.Abs(reference[^1])));
        Assert.True(report.EigenpairsConverged);
        Assert.All(report.ResidualNorms!, r => Assert.True(r <= 1e-6 * Math.Abs(reference[^1]) * 10));
        Assert.Equal(51, report.Parameters);
        Assert.Equal(90, report.Samples);
        Assert.Equal("Float64", report.Precision);
    }

    [Fact]
    public void ExactPath_GivesExactTraces_AndAllEigenvectorsForComplexity()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).UseSolver("exact").TopEigenpairs(5).WithTrace()
            .WithBoundaryComplexity().AnalyzeMinimum();
        var reference = DenseSpectrum(model, x, y);
        Assert.Equal(reference.Sum(), report.Trace!.Value, 1e-10);
        Assert.Equal(reference.Select(l => l * l).Sum(), report.TraceOfSquare!.Value, 1e-10);
        Assert.Equal(0, report.TraceStandardError);
        Assert.Equal("exact", report.TraceMethod);
        Assert.False(report.Complexity!.IsLowerBound);
        Assert.Equal(51, report.Complexity.EigenvectorsConsidered);
        Assert.Equal(report.Complexity.EncodingCountMean / 51.0, report.ComplexityMean!.Value, 12);
        var ws = report.WolkowiczStyan!;
        Assert.InRange(reference[^1], ws.LambdaMaxLower, ws.LambdaMaxUpper);
        Assert.InRange(reference[0], ws.LambdaMinLower, ws.LambdaMinUpper);
    }

    [Fact]
    public void EstimatedTrace_CoversTheExactTrace_WithinFourStandardErrors()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).WithTrace(new HessianGeometry.Spectrum.TraceOptions { ClosedForm = false }).Seed(5).AnalyzeMinimum();
        var exact = DenseSpectrum(model, x, y).Sum();
        Assert.Equal("hutchinson", report.TraceMethod, ignoreCase: true);
        Assert.True(Math.Abs(report.Trace!.Value - exact) <= 4 * report.TraceStandardError!.Value,
            $"trace {report.Trace} ± {report.TraceStandardError} vs exact {exact}");
        Assert.True(report.WolkowiczStyan!.FromEstimates);
    }

    [Fact]
    public void Alignment_InTheReport_EqualsTheAnalyzerOnTheSameEigenvectors()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).UseSolver("exact").TopEigenpairs(3).WithAlignment().AnalyzeMinimum();

        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y),
            options: new LossHessianOptions { AnalysisDType = ScalarType.Float64 });
        var (values, vectors) = linalg.eigh(op.ToDense());
        var top = vectors.narrow(1, vectors.shape[1] - 3, 3).flip(1);
        using var expected = AlignmentAnalyzer.Compute(op.Risk, x, top);
        var rows = report.Alignment!;
        Assert.Equal(90, rows.Length);
        for (var j = 0; j < 90; j++)
        {
            for (var i = 0; i < 3; i++)
            {
                // Eigenvectors are defined up to sign; compare |A|.
                Assert.Equal(Math.Abs(expected.Alignment[j, i].item<double>()), Math.Abs(rows[j][i]), 1e-8);
            }
        }
        Assert.Equal(expected.MeanAbsAlignment, report.MeanAbsAlignment!, (a, b) => Math.Abs(a - b) < 1e-8);
    }

    [Fact]
    public void FullAnalysis_LeavesParametersGradientsAndModesExactlyAsTheyWere()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        model.train();
        ((TorchSharp.torch.nn.Module)model[1]).eval();
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var first = model.parameters().First();
        first.grad = full_like(first, 0.25);
        var modes = model.modules().Select(m => m.training).ToList();

        HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(3).BottomEigenpairs(1).WithTrace().WithSpectralDensity()
            .WithAlignment().WithBoundaryComplexity().WithMargin().AnalyzeMinimum();

        var after = model.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
            Assert.True(after[i].detach().eq(before[i]).all().item<bool>(), $"parameter {i} changed");
        Assert.True(first.grad!.eq(0.25).all().item<bool>(), "gradient changed");
        Assert.Equal(modes, model.modules().Select(m => m.training).ToList());
    }

    [Fact]
    public void Cancellation_ThrowsOperationCanceled_AndRestoresModes()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        model.train();
        using var cts = new CancellationTokenSource();
        var plan = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(3).WithTrace().SwitchToEvalMode().Build();
        var progress = new InlineProgress<AnalysisProgress>(p =>
        {
            if (p.Stage == "trace")
                cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => plan.AnalyzeMinimum(cts.Token, progress));
        Assert.True(model.training);
    }

    [Fact]
    public void Progress_ReportsEveryRequestedStage_InOrder()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var stages = new List<string>();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(2).WithTrace().WithSpectralDensity().WithAlignment()
            .AnalyzeMinimum(CancellationToken.None, new InlineProgress<AnalysisProgress>(p =>
            {
                if (stages.Count == 0 || stages[^1] != p.Stage)
                    stages.Add(p.Stage);
            }));
        Assert.Equal(["loss", "eigenpairs", "trace", "density", "alignment"], stages);
        Assert.Equal(report.HvpCounts.Values.Sum(), report.HvpCount);
        Assert.True(report.HvpCounts["eigenpairs"] > 0);
        Assert.All(["loss", "eigenpairs", "trace", "density", "alignment"], s => Assert.True(report.TimingsSeconds.ContainsKey(s)));
    }

    [Fact]
    public void LossAndAccuracy_MatchADirectEvaluation()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y, batchSize: 32).AnalyzeMinimum();
        using var _ = no_grad();
        var logits = model.call(x);
        Assert.Equal(nn.functional.cross_entropy(logits, y).item<double>(), report.Loss, 12);
        Assert.Equal(logits.argmax(1).eq(y).to(ScalarType.Float64).mean().item<double>(), report.Accuracy!.Value, 12);
    }

    [Fact]
    public void SameSeed_GivesBitwiseIdenticalReports()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var plan = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(3).WithTrace().WithSpectralDensity(new HessianGeometry.Spectrum.SpectralDensityOptions { GridPoints = 200 })
            .WithAlignment().WithBoundaryComplexity().Seed(11).Build();
        var a = plan.AnalyzeMinimum();
        var b = plan.AnalyzeMinimum();
        Assert.Equal(a.Eigenvalues, b.Eigenvalues);
        Assert.Equal(a.Trace, b.Trace);
        Assert.Equal(a.SpectralDensity!.Density, b.SpectralDensity!.Density);
        Assert.Equal(a.MeanAbsAlignment, b.MeanAbsAlignment);
        Assert.Equal(a.Epsilon, b.Epsilon);
    }

    [Fact]
    public void BothEngines_GiveTheSameReport_AndTheReportSaysWhichRan()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        HessianAnalysisBuilder Plan() => HessianAnalysis.For(model).WithData(x, y, batchSize: 64).TopEigenpairs(3).WithTrace().Seed(7);
        var analytic = Plan().AnalyzeMinimum();
        var autograd = Plan().WithHvpEngine(HessianGeometry.Operators.HvpEngine.DoubleBackward).AnalyzeMinimum();
        Assert.Equal("AnalyticMlp", analytic.Settings.HvpEngine);
        Assert.Equal("DoubleBackward", autograd.Settings.HvpEngine);
        for (var i = 0; i < 3; i++)
            Assert.Equal(autograd.Eigenvalues![i], analytic.Eigenvalues![i], 1e-9 * Math.Abs(autograd.Eigenvalues[0]));
        // Same seed, same probes: the Hutchinson estimates differ only by the products' rounding.
        Assert.Equal(autograd.Trace!.Value, analytic.Trace!.Value, 1e-9 * Math.Abs(autograd.Trace.Value));
        Assert.Matches("\"hvpEngine\":\\s*\"AnalyticMlp\"", MinimumReportJson.Serialize(analytic));
    }

    [Fact]
    public void Logger_ReceivesStageMessages()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var logger = new ListLogger();
        HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(2).WithLogger(logger).AnalyzeMinimum();
        Assert.Contains(logger.Messages, m => m.Contains("Stage eigenpairs done", StringComparison.Ordinal));
    }

    [Fact]
    public void ReportHistory_RecordsOneReportPerEpoch_AndRejectsEpochsOutOfOrder()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained(steps: 20);
        var plan = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(1).Build();
        var history = new ReportHistory();
        history.Analyze(20, plan);
        Testing.TinyTraining.CrossEntropyAdam(model, x, y, 100, 0.05);
        model.eval();
        history.Analyze(120, plan);
        var series = history.Series(r => r.Eigenvalues?[0]);
        Assert.Equal([20, 120], series.Select(s => s.Epoch));
        Assert.NotEqual(series[0].Value, series[1].Value);
        Assert.Equal("epoch 120", history.Entries[1].Report.Label);
        Assert.Throws<ArgumentOutOfRangeException>(() => history.Add(100, history.Entries[0].Report));
    }

    private static double[] DenseSpectrum(TorchSharp.Modules.Sequential model, Tensor x, Tensor y)
    {
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y),
            options: new LossHessianOptions { AnalysisDType = ScalarType.Float64 });
        var h = op.ToDense();
        var p = (int)h.shape[0];
        var data = h.data<double>().ToArray();
        var matrix = Matrix<double>.Build.Dense(p, p, (i, j) => data[i * p + j]);
        return matrix.Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).OrderBy(v => v).ToArray();
    }

    private sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
