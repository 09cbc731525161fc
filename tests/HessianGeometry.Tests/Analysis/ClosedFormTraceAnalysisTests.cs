using HessianGeometry.Analysis;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

/// <summary>The trace stage's closed form for one-hidden-layer networks, against the dense double-backward Hessian.</summary>
public sealed class ClosedFormTraceAnalysisTests
{
    private static void Close(double expected, double actual, double tolerance, string what)
    {
        var relative = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(relative <= tolerance, $"{what}: {actual:R} vs {expected:R}, relative error {relative:G3} > {tolerance:G1}.");
    }

    [Fact]
    public void OneHiddenLayerTanh_ReportsTheDenseTraces_AndExactWolkowiczStyanBounds_WithoutProducts()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y, batchSize: 32).WithTrace().Seed(5).AnalyzeMinimum();

        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y), null, new LossHessianOptions { Engine = HvpEngine.DoubleBackward });
        var dense = op.ToDense();
        var (trace, traceOfSquare) = ExactTraces.FromMatrix(dense);
        var t = report.Traces!;
        Assert.Equal(TraceMethod.ExactClosedForm, t.Method);
        Assert.Equal("exact-closed-form", report.TraceMethod);
        Close(trace, t.Trace, 1e-10, "tr(H)");
        Close(traceOfSquare, t.TraceOfSquare!.Value, 1e-10, "tr(H²)");
        Assert.Equal(0, t.TraceStandardError);
        Assert.Equal(0, t.TraceOfSquareStandardError);
        Assert.Equal(0, t.OperatorApplications);
        Assert.True(t.ReachedTarget);
        Assert.Contains("Linear(2→8) → Tanh → Linear(8→3)", t.Note);
        Assert.Equal(0, report.Timings!.Stages.Single(s => s.Stage == "trace").OperatorApplications);

        var ws = report.WolkowiczStyan!;
        Assert.False(ws.FromEstimates);
        var fromDenseTraces = WolkowiczStyan.FromTraces(op.Dimension, trace, traceOfSquare);
        Close(fromDenseTraces.LambdaMaxUpper, ws.LambdaMaxUpper, 1e-9, "λmax upper bound");
        Close(fromDenseTraces.LambdaMaxLower, ws.LambdaMaxLower, 1e-9, "λmax lower bound");
        Close(fromDenseTraces.LambdaMinLower, ws.LambdaMinLower, 1e-9, "λmin lower bound");
        Close(fromDenseTraces.LambdaMinUpper, ws.LambdaMinUpper, 1e-9, "λmin upper bound");
        // The centred dense computation agrees too, and the bounds hold for the dense spectrum.
        var fromMatrix = WolkowiczStyan.FromMatrix(dense);
        Close(fromMatrix.LambdaMaxUpper, ws.LambdaMaxUpper, 1e-8, "λmax upper bound vs FromMatrix");
        var eigenvalues = linalg.eigvalsh(dense);
        var (lambdaMin, lambdaMax) = (eigenvalues[0].item<double>(), eigenvalues[-1].item<double>());
        Assert.InRange(lambdaMax, ws.LambdaMaxLower - 1e-12, ws.LambdaMaxUpper + 1e-12);
        Assert.InRange(lambdaMin, ws.LambdaMinLower - 1e-12, ws.LambdaMinUpper + 1e-12);
    }

    [Fact]
    public void ClosedFormOff_KeepsHutchinson()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).WithTrace(new TraceOptions { ClosedForm = false, MaxProbes = 20 }).Seed(5).AnalyzeMinimum();
        Assert.Equal(TraceMethod.Hutchinson, report.Traces!.Method);
        Assert.True(report.Traces.OperatorApplications > 0);
        Assert.True(report.WolkowiczStyan!.FromEstimates);
    }

    [Fact]
    public void TwoHiddenLayers_FallBackToHutchinson()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(40, 2, 3, seed: 81);
        var model = TinyModels.Mlp([2, 5, 4, 3], "tanh", seed: 82);
        var report = HessianAnalysis.For(model).WithData(x, y).WithTrace(new TraceOptions { MaxProbes = 12 }).Seed(5).AnalyzeMinimum();
        Assert.Equal(TraceMethod.Hutchinson, report.Traces!.Method);
    }

    [Fact]
    public void ClosedFormRequested_ForTwoHiddenLayers_SaysWhy()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(40, 2, 3, seed: 83);
        var model = TinyModels.Mlp([2, 5, 4, 3], "tanh", seed: 84);
        var plan = HessianAnalysis.For(model).WithData(x, y).WithTrace(new TraceOptions { Method = TraceMethod.ExactClosedForm }).Build();
        var error = Assert.Throws<NotSupportedException>(() => plan.AnalyzeMinimum());
        Assert.Contains("one hidden layer", error.Message);
    }

    [Fact]
    public void HutchPlusPlusRequested_OnOneHiddenLayer_GetsBothExactTraces()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).WithTrace(new TraceOptions { Method = TraceMethod.HutchPlusPlus, MaxProbes = 30 }).AnalyzeMinimum();
        Assert.Equal(TraceMethod.ExactClosedForm, report.Traces!.Method);
        Assert.NotNull(report.Traces.TraceOfSquare);
        Assert.NotNull(report.WolkowiczStyan);
    }

    [Fact]
    public void ManySamplesFewInputs_TheEstimateIsCheaper_SoTheClosedFormIsNotChosenUnlessRequired()
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(17);
        var model = TorchSharp.torch.nn.Sequential(("0", TorchSharp.torch.nn.Linear(2, 64, dtype: ScalarType.Float64)), ("1", TorchSharp.torch.nn.Tanh()), ("2", TorchSharp.torch.nn.Linear(64, 3, dtype: ScalarType.Float64)));
        model.eval();
        var x = randn(3000, 2, dtype: ScalarType.Float64, generator: generator);
        var y = randint(0, 3, 3000, dtype: ScalarType.Int64, generator: generator);
        // n²(h² + ch + d) ≈ 3.9e10 against 10 probes of n·p ≈ 1.2e6 each: the closed form would cost thousands of products.
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0)
            .WithTrace(new TraceOptions { MaxProbes = 10, MinProbes = 10, RelativeStandardError = 0 }).Seed(1).AnalyzeMinimum();
        Assert.Equal(TraceMethod.Hutchinson, report.Traces!.Method);
        Assert.Equal(10, report.Traces.OperatorApplications);
    }
}
