using HessianGeometry.Analysis;
using HessianGeometry.Interop;
using HessianGeometry.Models;
using HessianGeometry.Operators;
using HessianGeometry.Operators.Engines;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

/// <summary>
/// The Monte-Carlo Fisher's draw statistics: the expected number of draws outside the predicted class is
/// k·Σ_i (1 − max_c p_ic) (checked against the model's own softmax), the realised count follows it, and a confident
/// model with too few informative draws gets a budget warning that names the fix — where one draw's top eigenvalue is
/// indeed far below the GGN's.
/// </summary>
public sealed class FisherDrawsTests
{
    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", file);

    private static double ExpectedInformative(nn.Module<Tensor, Tensor> model, Tensor x, int k)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var p = model.call(x).to(ScalarType.Float64).softmax(1);
        return k * (1 - p.amax([1L])).sum().item<double>();
    }

    [Fact]
    public void ConfidentTokenModel_OneDrawPerInput_WarnsAndUndershootsTheGgn()
    {
        using var scope = NewDisposeScope();
        using var model = TorchScriptModel.Load(PathOf("token_cnn.pt"));
        var data = SafetensorsFile.Read(PathOf("token_cnn_data.safetensors"));
        var (ids, y) = (data.LoadTensor("ids"), data.LoadTensor("y"));

        var fisher = HessianAnalysis.For(model).WithData(ids, y).WithCurvature(CurvatureKind.Fisher, fisherSamples: 1).TopEigenpairs(1).Seed(0).AnalyzeMinimum();
        var ggn = HessianAnalysis.For(model).WithData(ids, y).WithCurvature(CurvatureKind.Ggn).TopEigenpairs(1).Seed(0).AnalyzeMinimum();

        var draws = fisher.FisherDraws!;
        Assert.Equal(64, draws.Draws);
        Assert.Equal(ExpectedInformative(model, ids, 1), draws.ExpectedInformativeDraws, 1e-12);
        Assert.True(draws.TooFewInformativeDraws);
        var warning = Assert.Single(fisher.BudgetWarnings, w => w.StartsWith("Monte-Carlo Fisher", StringComparison.Ordinal));
        Assert.Contains("--fisher-samples", warning, StringComparison.Ordinal);
        Assert.Contains("--curvature ggn", warning, StringComparison.Ordinal);
        // What the warning is about: E[F] = GGN, yet this draw's top eigenvalue is a fraction of the GGN's.
        Assert.True(fisher.Eigenvalues![0] < 0.5 * ggn.Eigenvalues![0], $"F: {fisher.Eigenvalues[0]}, GGN: {ggn.Eigenvalues[0]}");
        Assert.Null(ggn.FisherDraws);
        Assert.DoesNotContain(ggn.BudgetWarnings, w => w.StartsWith("Monte-Carlo Fisher", StringComparison.Ordinal));
    }

    [Fact]
    public void ManyDraws_RealisedCountFollowsTheExpectation_AndNoWarning_AnyBatching()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained(steps: 20);
        const int k = 64;
        var expected = ExpectedInformative(model, x, k);
        Assert.True(expected > 100, $"the fixture is meant to be unsure: m = {expected}");

        var oneBatch = HessianAnalysis.For(model).WithData(x, y).WithCurvature(CurvatureKind.Fisher, fisherSamples: k).TopEigenpairs(1).Seed(7).AnalyzeMinimum();
        var batched = HessianAnalysis.For(model).WithData(x, y, batchSize: 16).WithCurvature(CurvatureKind.Fisher, fisherSamples: k).TopEigenpairs(1).Seed(7).AnalyzeMinimum();

        var draws = oneBatch.FisherDraws!;
        Assert.Equal(x.shape[0] * k, draws.Draws);
        Assert.Equal(expected, draws.ExpectedInformativeDraws, 1e-9 * expected);
        // A sum of independent Bernoulli draws: within 5 standard deviations of its mean.
        Assert.InRange(draws.InformativeDraws, expected - 5 * Math.Sqrt(expected), expected + 5 * Math.Sqrt(expected));
        Assert.False(draws.TooFewInformativeDraws);
        Assert.DoesNotContain(oneBatch.BudgetWarnings, w => w.StartsWith("Monte-Carlo Fisher", StringComparison.Ordinal));
        // Draws are keyed by (seed, sample, draw): the same draws for any batch size, counted once however many products ran.
        Assert.Equal(draws.Draws, batched.FisherDraws!.Draws);
        Assert.Equal(draws.InformativeDraws, batched.FisherDraws.InformativeDraws);
        Assert.Equal(draws.ExpectedInformativeDraws, batched.FisherDraws.ExpectedInformativeDraws, 1e-12 * expected);
    }
}
