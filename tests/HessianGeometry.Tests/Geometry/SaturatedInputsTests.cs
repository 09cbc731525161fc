using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Geometry;

/// <summary>
/// Saturated inputs on a softmax regression with known 1 − p_t: the output-gradient scale against the closed form, the
/// flagged inputs against a naive float64 cross-entropy gradient (which must have lost its digits exactly there), the
/// largest flagged ‖g‖ against explicit per-sample gradients, and G without them against aligning the kept inputs alone.
/// </summary>
public sealed class SaturatedInputsTests
{
    // Logits (s, 0, −s) for x = (s, 0): ŷ = 0 and 1 − p_0 = (e^{−s} + e^{−2s}) / (1 + e^{−s} + e^{−2s}).
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

    private static double OneMinusP(double s) => (Math.Exp(-s) + Math.Exp(-2 * s)) / (1 + Math.Exp(-s) + Math.Exp(-2 * s));

    [Fact]
    public void OutputGradientScale_IsOneMinusPt()
    {
        using var scope = NewDisposeScope();
        var (op, x) = Problem();
        using var _ = op;
        var scale = SaturatedInputs.OutputGradientScale(op.Risk, x, batchSize: 3);
        for (var j = 0; j < Scales.Length; j++)
            Assert.True(Math.Abs(scale[j] - OneMinusP(Scales[j])) <= 1e-12 * OneMinusP(Scales[j]), $"s = {Scales[j]}: {scale[j]:G17} vs {OneMinusP(Scales[j]):G17}");
    }

    [Fact]
    public void FlaggedInputs_AreThoseANaiveFloat64GradientLoses()
    {
        using var scope = NewDisposeScope();
        var (op, x) = Problem();
        using var _ = op;
        using var directions = AlignmentAnalyzer.Compute(op.Risk, x, eye(9, dtype: ScalarType.Float64).narrow(1, 0, 4));
        var saturation = SaturatedInputs.Measure(op.Risk, x, directions, op.Dimension, EpsilonBaseline.FromValue(0.1));
        Assert.Equal(Scales.Count(s => OneMinusP(s) < EigenvalueClustering.Float32Epsilon), saturation.SinglePrecision.SaturatedCount);
        Assert.Equal(Scales.Count(s => OneMinusP(s) < EigenvalueClustering.Float64Epsilon), saturation.DoublePrecisionNaive.SaturatedCount);
        Assert.Equal(3, saturation.DoublePrecisionNaive.SaturatedCount);

        // The direct reference: per-sample gradients of F.cross_entropy (which forms p_t − 1) against the accurate ones.
        var accurate = ReinforcingGradients.PerSample(op.Risk, x);
        var parameters = op.Risk.AnalysisParameters.Tensors.ToList();
        var largestFlaggedNorm = 0.0;
        for (var j = 0; j < Scales.Length; j++)
        {
            using var step = NewDisposeScope();
            var loss = nn.functional.cross_entropy(op.Risk.Forward(x.narrow(0, j, 1)), zeros(1, dtype: ScalarType.Int64));
            var naive = op.Risk.AnalysisParameters.Flatten(torch.autograd.grad([loss], parameters).ToArray());
            var norm = accurate[j].norm().item<double>();
            var error = (naive - accurate[j]).norm().item<double>() / norm;
            var flagged = saturation.OutputGradientScale[j] < EigenvalueClustering.Float64Epsilon;
            Assert.True(flagged ? error > 0.5 : error < 0.01, $"s = {Scales[j]}: naive relative error {error:G3}, flagged {flagged}");
            if (flagged)
                largestFlaggedNorm = Math.Max(largestFlaggedNorm, norm);
        }
        Assert.Equal(largestFlaggedNorm, saturation.DoublePrecisionNaive.LargestSaturatedGradientNorm, largestFlaggedNorm * 1e-10);
    }

    [Fact]
    public void ComplexityWithoutSaturatedInputs_EqualsAligningTheKeptInputsAlone()
    {
        using var scope = NewDisposeScope();
        var (op, x) = Problem();
        using var _ = op;
        var (basis, _) = linalg.qr(randn(9, 9, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(2)));
        using var alignment = AlignmentAnalyzer.Compute(op.Risk, x, basis);
        var epsilon = BoundaryComplexityMeasure.RandomBaseline(op.Risk, x, directions: 3, seed: 7);
        var saturation = SaturatedInputs.Measure(op.Risk, x, alignment, op.Dimension, epsilon);
        foreach (var level in new[] { saturation.SinglePrecision, saturation.DoublePrecisionNaive })
        {
            var kept = tensor(Enumerable.Range(0, Scales.Length).Where(j => !(saturation.OutputGradientScale[j] < level.Threshold)).Select(j => (long)j).ToArray());
            var xKept = x.index_select(0, kept);
            var keptEpsilon = BoundaryComplexityMeasure.RandomBaseline(op.Risk, xKept, directions: 3, seed: 7);
            using var keptAlignment = AlignmentAnalyzer.Compute(op.Risk, xKept, basis);
            var expected = BoundaryComplexityMeasure.Compute(keptAlignment, op.Dimension, true, keptEpsilon);
            Assert.Equal(keptEpsilon.MeanVariant, level.EpsilonMean, 1e-12);
            Assert.Equal(keptEpsilon.MaxVariant, level.EpsilonMax, 1e-12);
            Assert.Equal(expected.EncodingCountMean, level.EncodingCountMean);
            Assert.Equal(expected.EncodingCountMax, level.EncodingCountMax);
            Assert.Equal(expected.ComplexityMean, level.ComplexityMean);
            Assert.Equal((int)kept.shape[0], level.InputsKept);
        }
        Assert.Equal(3, saturation.SinglePrecision.InputsKept);
    }
}
