using HessianGeometry.Operators;
using HessianGeometry.Operators.Engines;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Operators;

/// <summary>
/// The empirical Fisher against explicit per-sample gradients taken one sample at a time, and the Monte-Carlo Fisher
/// converging to the (PyTorch-referenced) GGN as the label samples k grow, at the rate 1/√k of an unbiased estimate.
/// </summary>
public sealed class FisherOperatorTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("mlp_tanh_ce", null)]
    [InlineData("mlp_tanh_ce", 6)]
    [InlineData("mlp_tanh_mse", null)]
    public void EmpiricalFisher_IsTheMeanOfPerSampleGradientOuterProducts(string fixture, int? batchSize)
    {
        using var scope = NewDisposeScope();
        var (model, data, loss, file) = GgnOperatorTests.LoadMlp(fixture, batchSize);
        using var risk = new EmpiricalRisk(model, loss, data);
        using var fisher = CurvatureOperators.Create(risk, CurvatureKind.EmpiricalFisher);
        Assert.IsType<EmpiricalFisherEngine>(fisher.CurvatureEngine);
        var dense = ExactHessian.Compute(fisher);

        // Independent path: the gradient of each sample's own loss, from a risk over that one sample.
        var x = file.LoadTensor("data.x");
        var y = file.LoadTensor("data.y");
        var n = x.shape[0];
        var reference = zeros(risk.Dimension, risk.Dimension, dtype: ScalarType.Float64);
        for (long i = 0; i < n; i++)
        {
            using var one = new EmpiricalRisk(model, loss, DataSource.FromTensors(x.narrow(0, i, 1), y.narrow(0, i, 1)));
            var g = one.Gradient();
            reference.add_(outer(g, g));
        }
        reference.div_(n);
        output.WriteLine($"{fixture}: max rel. error {GgnOperatorTests.MaxRelative(dense, reference):G3}");
        Assertions.RelativelyClose(dense, reference, 1e-10, $"{fixture}: empirical Fisher");
    }

    [Theory]
    [InlineData("mlp_tanh_ce")]
    [InlineData("mlp_tanh_mse")]
    public void MonteCarloFisher_ConvergesToTheGgnAtTheRateOneOverRootK(string fixture)
    {
        using var scope = NewDisposeScope();
        var (model, data, loss, _) = GgnOperatorTests.LoadMlp(fixture);
        var ggn = GgnOperatorTests.ReferenceGgn(fixture);
        using var risk = new EmpiricalRisk(model, loss, data);

        double SquaredError(int k, long seed)
        {
            using var inner = NewDisposeScope();
            using var fisher = CurvatureOperators.Create(risk, CurvatureKind.Fisher, new CurvatureOptions { FisherSamples = k, Seed = seed });
            var dense = ExactHessian.Compute(fisher);
            Assert.True(linalg.eigvalsh((dense + dense.T) / 2)[0].item<double>() >= -1e-12 * dense.abs().max().item<double>(), "the MC Fisher must be PSD");
            return (dense - ggn).square().sum().item<double>();
        }

        // V = E‖F₁ − G‖²_F, estimated from 16 independent single-sample Fishers; then E‖F_k − G‖²_F = V/k for an unbiased estimate.
        const int seeds = 16;
        var v = Enumerable.Range(0, seeds).Select(s => SquaredError(1, 100 + s)).Average();
        var ggnNorm = ggn.square().sum().item<double>();
        output.WriteLine($"{fixture}: ‖G‖²_F = {ggnNorm:G4}, V = E‖F₁ − G‖²_F ≈ {v:G4}");
        foreach (var k in new[] { 4, 32, 256, 1024 })
        {
            // Three seeds per k: one draw of ‖F_k − G‖² still fluctuates by a factor of about 2 (few dominant directions).
            var error = Enumerable.Range(0, 3).Select(s => SquaredError(k, 1000 * k + s)).Average();
            var ratio = error * k / v;
            output.WriteLine($"  k = {k,4}: ‖F_k − G‖_F / ‖G‖_F = {Math.Sqrt(error / ggnNorm):G3}, k·‖F_k − G‖²/V = {ratio:F2} (1 expected)");
            // ‖F_k − G‖²_F sums many squared entries, so it concentrates near V/k; a biased estimate would plateau and fail the upper bound.
            Assert.InRange(ratio, 0.25, 4.0);
        }
    }

    [Fact]
    public void MonteCarloFisher_IsOneFixedMatrix_WhenStreamed_AndDependsOnTheSeed()
    {
        using var scope = NewDisposeScope();
        var (model, data, loss, _) = GgnOperatorTests.LoadMlp("mlp_tanh_ce", batchSize: 5);
        using var risk = new EmpiricalRisk(model, loss, data);
        using var a = CurvatureOperators.Create(risk, CurvatureKind.Fisher, new CurvatureOptions { FisherSamples = 2, Seed = 3, CheckDeterministic = true });
        using var b = CurvatureOperators.Create(risk, CurvatureKind.Fisher, new CurvatureOptions { FisherSamples = 2, Seed = 4 });
        Assert.False(a.IsGraphCached);
        var fa = ExactHessian.Compute(a);
        Assertions.RelativelyClose(fa, fa.T, 1e-12, "streamed MC Fisher symmetry");
        Assertions.RelativelyClose(ExactHessian.Compute(a), fa, 0, "the same seed redraws the same labels");
        Assert.True(GgnOperatorTests.MaxRelative(ExactHessian.Compute(b), fa) > 1e-3, "another seed draws other labels");
        Assert.Throws<ArgumentOutOfRangeException>(() => CurvatureOperators.Create(risk, CurvatureKind.Fisher, new CurvatureOptions { FisherSamples = 0 }));
    }

    [Theory]
    [InlineData("mlp_tanh_ce")]
    [InlineData("mlp_tanh_mse")]
    public void MonteCarloFisher_DrawsDependOnlyOnSeedAndSample_NotOnTheBatchSize(string fixture)
    {
        using var scope = NewDisposeScope();
        Tensor Fisher(int? batchSize, long seed)
        {
            var (model, data, loss, _) = GgnOperatorTests.LoadMlp(fixture, batchSize);
            using var risk = new EmpiricalRisk(model, loss, data);
            using var fisher = CurvatureOperators.Create(risk, CurvatureKind.Fisher, new CurvatureOptions { FisherSamples = 3, Seed = seed });
            return ExactHessian.Compute(fisher);
        }

        var whole = Fisher(null, 8);
        foreach (var batchSize in new int?[] { 1, 5, 7 })
            Assertions.RelativelyClose(Fisher(batchSize, 8), whole, 1e-12, $"{fixture}: MC Fisher with batch size {batchSize} against one batch");
        // The draws are random: another seed gives another matrix.
        Assert.True(GgnOperatorTests.MaxRelative(Fisher(5, 9), whole) > 1e-3, "another seed draws other labels");
    }
}
