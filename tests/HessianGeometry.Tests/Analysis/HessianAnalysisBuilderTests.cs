using HessianGeometry.Analysis;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

public sealed class HessianAnalysisBuilderTests
{
    public static TheoryData<string, string> InconsistentConfigurations => new()
    {
        { "no-data", "WithData" },
        { "alignment-without-eigenpairs", "TopEigenpairs" },
        { "margin-without-eigenpairs", "TopEigenpairs" },
        { "negative-top", "non-negative" },
        { "zero-tolerance", "tolerance" },
        { "epsilon-out-of-range", "(0, 1)" },
        { "zero-budget", "maxOperatorApplications" },
        { "alignment-with-batch-sequence", "in memory" },
        { "alignment-with-custom-loss", "LossReduction.None" },
        { "exact-solver-but-exact-forbidden", "UseExactHessian(false)" },
        { "unknown-solver", "lanczos" },
        { "float16-precision", "Float32, Float64" },
        { "more-eigenpairs-than-parameters", "UseExactHessian()" },
        { "empty-parameter-selection", "selection is empty" },
    };

    [Theory]
    [MemberData(nameof(InconsistentConfigurations))]
    public void Build_RejectsInconsistentConfiguration_WithMessageSayingWhatToChange(string scenario, string expectedInMessage)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 2, 3, seed: 1);
        var model = TinyModels.Mlp([2, 4, 3], "tanh", seed: 1);
        var ex = Assert.ThrowsAny<Exception>(() => Configure(scenario, model, x, y).Build());
        Assert.True(ex is ArgumentException or InvalidOperationException, $"{scenario}: unexpected {ex.GetType().Name}");
        Assert.Contains(expectedInMessage, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_FreezesSettings_IntoThePlan()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 2, 3, seed: 1);
        var model = TinyModels.Mlp([2, 4, 3], "tanh", seed: 1);
        var builder = HessianAnalysis.For(model).WithData(x, y, batchSize: 7).TopEigenpairs(4, 1e-7).WithTrace().Seed(42);
        var plan = builder.Build();
        builder.TopEigenpairs(9).Seed(1);
        Assert.Equal(4, plan.Settings.TopEigenpairs);
        Assert.Equal(1e-7, plan.Settings.Tolerance);
        Assert.Equal(42, plan.Settings.Seed);
        Assert.Equal(7, plan.Settings.BatchSize);
        Assert.True(plan.Settings.Trace);
        Assert.False(plan.Settings.Alignment);
    }

    private static HessianAnalysisBuilder Configure(string scenario, TorchSharp.Modules.Sequential model, Tensor x, Tensor y)
    {
        var b = HessianAnalysis.For(model);
        switch (scenario)
        {
            case "no-data":
                return b.TopEigenpairs(2);
            case "alignment-without-eigenpairs":
                return b.WithData(x, y).WithAlignment();
            case "margin-without-eigenpairs":
                return b.WithData(x, y).WithMargin();
            case "negative-top":
                return b.WithData(x, y).TopEigenpairs(-1);
            case "zero-tolerance":
                return b.WithData(x, y).TopEigenpairs(2, 0);
            case "epsilon-out-of-range":
                return b.WithData(x, y).TopEigenpairs(2).WithBoundaryComplexity(1.5);
            case "zero-budget":
                return b.WithData(x, y).TopEigenpairs(2).MaxOperatorApplications(0);
            case "alignment-with-batch-sequence":
                return b.WithData(DataSource.FromBatches([(x, y)])).TopEigenpairs(2).WithAlignment();
            case "alignment-with-custom-loss":
                return b.WithData(x, y).WithLoss(LossFunction.Custom("mean-ce", (o, t) => nn.functional.cross_entropy(o, t), LossReduction.Mean)).TopEigenpairs(2).WithAlignment();
            case "exact-solver-but-exact-forbidden":
                return b.WithData(x, y).UseSolver("exact").UseExactHessian(false).TopEigenpairs(2);
            case "unknown-solver":
                return b.WithData(x, y).UseSolver("arnoldi");
            case "more-eigenpairs-than-parameters":
                return b.WithData(x, y).TopEigenpairs(100);
            case "empty-parameter-selection":
                return b.WithData(x, y).WithParameters(name => name == "nothing").TopEigenpairs(1);
            case "float16-precision":
                return b.WithData(x, y).WithPrecision(ScalarType.Float16);
            default:
                throw new ArgumentException(scenario);
        }
    }
}
