using HessianGeometry.Analysis;
using HessianGeometry.Operators;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// An analysis leaves the model exactly as it found it (parameter objects, values bit for bit, .grad, train/eval mode),
/// whether it finishes, fails, or is cancelled in the middle of an eigen-solve.
/// </summary>
public sealed class ModelStateTests
{
    /// <summary>
    /// A float32 3-6-3 model with dropout, analysed in float64 (through twin parameters swapped into the modules during
    /// forward passes), in mixed mode: dropout in training mode, the last layer in eval. The first weight has a .grad.
    /// </summary>
    private static (Sequential Model, Tensor X, Tensor Y) MixedModeFloat32Model()
    {
        var (_, x, y) = TestModels.Tiny();
        torch.manual_seed(21);
        var model = nn.Sequential(("0", nn.Linear(3, 6)), ("1", nn.Dropout(0.3)), ("2", nn.Tanh()), ("3", nn.Linear(6, 3)));
        model.train();
        ((nn.Module)model[3]).eval();
        var first = model.parameters().First();
        first.grad = full_like(first, 0.25f);
        return (model, x.to(ScalarType.Float32), y);
    }

    [Theory]
    [InlineData("lanczos")]
    [InlineData("lobpcg")]
    [InlineData("power")]
    public void CancellationInTheMiddleOfASolve_ThrowsOperationCanceled_AndLeavesTheModelExactlyAsItWas(string solver)
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = MixedModeFloat32Model();
        var before = ModelState.Of(model);
        using var cts = new CancellationTokenSource();
        var solverReports = 0;
        var stagesAfterCancel = new List<string>();
        var progress = new InlineProgress<AnalysisProgress>(p =>
        {
            if (cts.IsCancellationRequested)
                stagesAfterCancel.Add(p.Stage);
            else if (p.Stage == "eigenpairs" && p.Message.StartsWith(solver, StringComparison.Ordinal) && ++solverReports == 2)
                cts.Cancel();
        });
        var plan = HessianAnalysis.For(model).WithData(x, y, batchSize: 8).SwitchToEvalMode().UseSolver(solver)
            .TopEigenpairs(3, relativeTolerance: 1e-10).WithTrace().Build();

        Assert.ThrowsAny<OperationCanceledException>(() => plan.AnalyzeMinimum(cts.Token, progress));

        Assert.Equal(2, solverReports);
        Assert.Empty(stagesAfterCancel);
        before.AssertUnchanged(model);
        // The modules hold the original parameters again (not the float64 twins) and compute with them.
        Assert.Same(model.parameters().First(), ((Linear)model[0]).weight);
        Assert.Equal(ScalarType.Float32, ((Linear)model[3]).weight!.dtype);
    }

    [Fact]
    public void AnalysisThatFailsPartWay_LeavesTheModelExactlyAsItWas()
    {
        using var scope = NewDisposeScope();
        var (_, x, y) = TestModels.Tiny();
        x[10].zero_();
        var model = new KinkModel(Kink.UndefinedGradient);
        model.train();
        var weight = model.parameters().First();
        weight.grad = full_like(weight, -1.5);
        var before = ModelState.Of(model);

        var error = Assert.Throws<ArithmeticException>(() =>
            HessianAnalysis.For(model).WithData(x, y, batchSize: 8).SwitchToEvalMode().CheckDeterminism(false).TopEigenpairs(2).AnalyzeMinimum());

        Assert.Contains("batch 1", error.Message, StringComparison.Ordinal);
        before.AssertUnchanged(model);
    }

    [Fact]
    public void SwitchToEvalMode_AnalysesTheEvalModel_AndRestoresEveryModulesOwnMode()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = MixedModeFloat32Model();
        var before = ModelState.Of(model);

        // The determinism check (on by default) would refuse active dropout, so success shows the analysis ran in eval.
        var switched = HessianAnalysis.For(model).WithData(x, y).SwitchToEvalMode().TopEigenpairs(2).WithTrace().Seed(3).AnalyzeMinimum();
        before.AssertUnchanged(model);

        model.eval();
        var evaluated = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(2).WithTrace().Seed(3).AnalyzeMinimum();
        Assert.Equal(evaluated.Eigenvalues, switched.Eigenvalues);
        Assert.Equal(evaluated.Trace, switched.Trace);
    }

    [Fact]
    public void OperatorProductsGradientsAndChecks_NeverWriteTheModelsGradients()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = TestModels.Tiny();
        var weight = model.parameters().First();
        weight.grad = full_like(weight, 0.5);
        var before = ModelState.Of(model);

        using (var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, batchSize: 10),
            options: new LossHessianOptions { CheckDeterministic = true }))
        {
            op.Apply(ones(op.Dimension, dtype: op.DType));
            op.ApplyBlock(ones(op.Dimension, 2, dtype: op.DType));
            op.Gradient();
            op.Loss();
        }

        before.AssertUnchanged(model);
    }

    [Fact]
    public void SolverProgress_ArrivesOnTheAnalysisThread_BeforeAnalyzeMinimumReturns()
    {
        // Progress<T> would post reports to the thread pool: they could then arrive after the analysis returned, out of
        // order, and a handler that cancels could not stop the solve it was told about.
        using var scope = NewDisposeScope();
        var (model, x, y) = TestModels.Tiny();
        var analysisThread = Environment.CurrentManagedThreadId;
        var threads = new List<int>();
        HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(2).AnalyzeMinimum(CancellationToken.None,
            new InlineProgress<AnalysisProgress>(p =>
            {
                if (p.Stage == "eigenpairs" && p.Message.StartsWith("lanczos", StringComparison.Ordinal))
                    threads.Add(Environment.CurrentManagedThreadId);
            }));
        var reportsAtReturn = threads.Count;
        Thread.Sleep(50);
        Assert.NotEqual(0, reportsAtReturn);
        Assert.Equal(reportsAtReturn, threads.Count);
        Assert.All(threads, t => Assert.Equal(analysisThread, t));
    }

    private sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
