using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Geometry;

/// <summary>
/// Reinforcing gradients of confidently classified inputs, where 1 − p_ŷ is far below float64's spacing at 1, against
/// the closed form of softmax regression evaluated without cancellation.
/// </summary>
public sealed class SaturatedGradientTests
{
    // x_j = (s_j, 0) on a 2→3 softmax regression with logits (s, 0, −s): ŷ = 0 and 1 − p_0 ≈ e^{−s}. At s ≥ 37 the form
    // p_0 − 1 that F.cross_entropy differentiates is exactly 0 in float64.
    private static readonly double[] Scales = [0.5, 2, 10, 30, 40, 80, 200];

    private static (LossHessianOperator Op, Tensor X) Problem()
    {
        var model = nn.Sequential(("0", nn.Linear(2, 3, dtype: ScalarType.Float64)));
        using (no_grad())
        {
            var linear = (TorchSharp.Modules.Linear)model.children().Single();
            linear.weight!.copy_(tensor(new double[,] { { 1, 0 }, { 0, 0 }, { -1, 0.5 } }));
            linear.bias!.zero_();
        }
        model.eval();
        var x = tensor(Scales.SelectMany(s => new[] { s, 0.0 }).ToArray(), [Scales.Length, 2]);
        var y = zeros(Scales.Length, dtype: ScalarType.Int64);
        return (new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y)), x);
    }

    /// <summary>g(x) for (W, b) flattened as the parameter space orders them: δ ⊗ x, then δ.</summary>
    private static double[] ExpectedGradient(double s)
    {
        double[] z = [s, 0, -s];
        var others = Math.Exp(z[1] - z[0]) + Math.Exp(z[2] - z[0]);
        double[] p = [1 / (1 + others), Math.Exp(z[1] - z[0]) / (1 + others), Math.Exp(z[2] - z[0]) / (1 + others)];
        double[] delta = [-(p[1] + p[2]), p[1], p[2]];
        return [delta[0] * s, 0, delta[1] * s, 0, delta[2] * s, 0, delta[0], delta[1], delta[2]];
    }

    private static double Norm(double[] v) => Math.Sqrt(v.Sum(a => a * a));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Norms_MatchTheClosedForm_DownTo1eMinus80(bool fastPath)
    {
        using var scope = NewDisposeScope();
        var (op, x) = Problem();
        using var _ = op;
        var norms = ReinforcingGradients.Norms(op.Risk, x, options: new AlignmentOptions { UseFastPerSampleNorms = fastPath }).data<double>().ToArray();
        for (var j = 0; j < Scales.Length; j++)
        {
            var expected = Norm(ExpectedGradient(Scales[j]));
            Assert.True(Math.Abs(norms[j] - expected) <= 1e-12 * expected, $"s = {Scales[j]}: ‖g‖ = {norms[j]:G17}, closed form {expected:G17}");
        }
    }

    [Fact]
    public void PerSampleGradients_MatchTheClosedForm()
    {
        using var scope = NewDisposeScope();
        var (op, x) = Problem();
        using var _ = op;
        var g = ReinforcingGradients.PerSample(op.Risk, x);
        for (var j = 0; j < Scales.Length; j++)
        {
            var expected = ExpectedGradient(Scales[j]);
            var actual = g[j].data<double>().ToArray();
            var error = Norm(actual.Zip(expected, (a, b) => a - b).ToArray());
            Assert.True(error <= 1e-12 * Norm(expected), $"s = {Scales[j]}: |g − closed form| = {error:G3}, |g| = {Norm(expected):G3}");
        }
    }

    [Fact]
    public void Alignments_MatchTheClosedFormCosines()
    {
        using var scope = NewDisposeScope();
        var (op, x) = Problem();
        using var _ = op;
        var directions = randn(op.Dimension, 2, dtype: ScalarType.Float64, generator: new Generator(5));
        using var result = AlignmentAnalyzer.Compute(op.Risk, x, directions);
        for (var j = 0; j < Scales.Length; j++)
        {
            var g = ExpectedGradient(Scales[j]);
            for (var i = 0; i < 2; i++)
            {
                var v = directions[.., i].data<double>().ToArray();
                var cosine = g.Zip(v, (a, b) => a * b).Sum() / (Norm(g) * Norm(v));
                var actual = result.Alignment[j, i].item<double>();
                Assert.True(Math.Abs(actual - cosine) <= 1e-12, $"s = {Scales[j]}, direction {i}: A = {actual:G17}, closed form {cosine:G17}");
            }
        }
    }
}
