using HessianGeometry.Analysis;
using HessianGeometry.Operators;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// Buffers (batch-norm running statistics and num_batches_tracked) are part of the model an analysis must not change:
/// they come back bit for bit after an analysis that completes, is cancelled, or throws in the middle of a stage.
/// </summary>
public sealed class BatchNormStateTests
{
    /// <summary>3-8-BN-ReLU-3 in training mode with non-trivial running statistics and a .grad on the first weight.</summary>
    private static (Sequential Model, Tensor X, Tensor Y) BatchNormModel(ScalarType dtype)
    {
        var (_, x, y) = TestModels.Tiny();
        torch.manual_seed(5);
        var model = nn.Sequential(("0", nn.Linear(3, 8)), ("1", nn.BatchNorm1d(8)), ("2", nn.ReLU()), ("3", nn.Linear(8, 3)));
        model.to(dtype);
        x = x.to(dtype);
        using (no_grad())
        {
            for (var i = 0; i < 3; i++)
                model.call(x + i);
        }
        model.train();
        var first = model.parameters().First();
        first.grad = full_like(first, 0.125);
        return (model, x, y);
    }

    [Fact]
    public void Snapshot_RestoresBuffersParametersGradientsAndModes_AfterATrainingModeForwardChangedThem()
    {
        using var scope = NewDisposeScope();
        var (model, x, _) = BatchNormModel(ScalarType.Float64);
        var before = ModelState.Of(model);
        using (new ModelStateSnapshot(model))
        {
            // A training-mode forward updates running_mean, running_var and num_batches_tracked.
            model.call(x * 3);
            using (no_grad())
                model.parameters().Last().add_(1.0);
            model.parameters().First().grad = null;
            model.parameters().Last().grad = ones_like(model.parameters().Last());
            model.eval();
            Assert.Throws<Xunit.Sdk.TrueException>(() => before.AssertUnchanged(model));
        }
        before.AssertUnchanged(model);
    }

    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float32)]
    public void CompletedAnalysis_LeavesBuffersBitwiseUnchanged(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = BatchNormModel(dtype);
        var before = ModelState.Of(model);
        var report = HessianAnalysis.For(model).WithData(x, y, batchSize: 10).SwitchToEvalMode().TopEigenpairs(2).WithTrace()
            .WithAlignment().WithMargin().Seed(1).AnalyzeMinimum();
        Assert.NotNull(report.Eigenvalues);
        before.AssertUnchanged(model);
    }

    [Fact]
    public void CancelledAnalysis_LeavesBuffersBitwiseUnchanged()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = BatchNormModel(ScalarType.Float32);
        var before = ModelState.Of(model);
        using var cts = new CancellationTokenSource();
        var progress = new InlineProgress<AnalysisProgress>(p =>
        {
            if (p.Stage == "eigenpairs" && p.Message.Contains("iteration", StringComparison.Ordinal))
                cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            HessianAnalysis.For(model).WithData(x, y, batchSize: 10).SwitchToEvalMode().TopEigenpairs(3, relativeTolerance: 1e-12)
                .AnalyzeMinimum(cts.Token, progress));
        before.AssertUnchanged(model);
    }

    [Fact]
    public void AnalysisThatThrowsMidStage_LeavesBuffersBitwiseUnchanged()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = BatchNormModel(ScalarType.Float64);
        var before = ModelState.Of(model);
        var progress = new InlineProgress<AnalysisProgress>(p =>
        {
            if (p.Stage == "eigenpairs" && p.Message.Contains("iteration", StringComparison.Ordinal))
                throw new InvalidOperationException("handler failed mid-stage");
        });
        var error = Assert.Throws<InvalidOperationException>(() =>
            HessianAnalysis.For(model).WithData(x, y, batchSize: 10).SwitchToEvalMode().TopEigenpairs(3, relativeTolerance: 1e-12)
                .AnalyzeMinimum(CancellationToken.None, progress));
        Assert.Equal("handler failed mid-stage", error.Message);
        before.AssertUnchanged(model);
    }

    private sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
