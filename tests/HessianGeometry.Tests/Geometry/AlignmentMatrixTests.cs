using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HessianGeometry.Tests.Geometry;

/// <summary>
/// The GEMM alignment (<see cref="AlignmentMatrix"/>) against the per-sample loop (explicit gradients from
/// <see cref="ReinforcingGradients.PerSample"/>, one backward per input, dotted with each eigenvector) and against the
/// batched <see cref="AlignmentAnalyzer"/>: float64 to 1e-12, on the Linear fast path, the generic path, parameter
/// subsets, true labels, small and large column blocks, and a float32 analysis.
/// </summary>
public sealed class AlignmentMatrixTests
{
    private const double Float64Tolerance = 1e-12;

    /// <summary>The definition from the library's explicit per-sample gradients: A[j, i] = ⟨g_j, v_i⟩ / (‖g_j‖ ‖v_i‖).</summary>
    private static Tensor LoopAlignment(EmpiricalRisk risk, Tensor x, Tensor vectors, Tensor? labels = null)
    {
        using var scope = NewDisposeScope();
        var g = ReinforcingGradients.PerSample(risk, x, labels).to(ScalarType.Float64);
        var v = vectors.to(ScalarType.Float64);
        var result = zeros(g.shape[0], v.shape[1], dtype: ScalarType.Float64);
        for (long j = 0; j < g.shape[0]; j++)
        {
            var gj = g[j];
            var norm = gj.norm().item<double>();
            for (long i = 0; i < v.shape[1]; i++)
            {
                var vi = v[.., i];
                result[j, i] = gj.dot(vi).item<double>() / (norm * vi.norm().item<double>());
            }
        }
        return result.MoveToOuterDisposeScope();
    }

    private static double MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<double>();

    private static (TorchSharp.Modules.Sequential Model, Tensor X, Tensor Y) Problem(string activation)
    {
        var (x, y) = TinyModels.Blobs(37, 3, 4, seed: 61);
        return (TinyModels.Mlp([3, 7, 5, 4], activation, seed: 62), x, y);
    }

    [Theory]
    [InlineData("tanh", true, 1024, 4096)]
    [InlineData("relu", true, 5, 7)]
    [InlineData("gelu", false, 1024, 4096)]
    [InlineData("sigmoid", false, 8, 3)]
    public void Alignment_EqualsThePerSampleLoop_AndTheBatchedAnalyzer(string activation, bool fast, int batchSize, int columnBlock)
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Problem(activation);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var vectors = linalg.eigh(op.ToDense()).Item2.flip(1);
        var options = new AlignmentOptions { BatchSize = batchSize, UseFastPerSampleNorms = fast, UseFastDirectionalDerivatives = fast };
        Assert.True(ReinforcingGradients.CanUseLinearFastPath(op.Risk));

        using var result = AlignmentMatrix.Compute(op.Risk, x, vectors, options, columnBlock);
        using var batched = AlignmentAnalyzer.Compute(op.Risk, x, vectors, options);
        var loop = LoopAlignment(op.Risk, x, vectors);

        Assert.Equal([37L, op.Dimension], result.Alignment.shape);
        Assert.True(MaxDifference(result.Alignment, loop) <= Float64Tolerance, $"GEMM vs loop: {MaxDifference(result.Alignment, loop):G3}");
        Assert.True(MaxDifference(result.Alignment, batched.Alignment) <= Float64Tolerance, $"GEMM vs analyzer: {MaxDifference(result.Alignment, batched.Alignment):G3}");
        Assert.Equal(batched.MeanAbsAlignment, result.MeanAbsAlignment, (a, b) => Math.Abs(a - b) <= Float64Tolerance);
        Assert.Equal(batched.MaxAbsAlignment, result.MaxAbsAlignment, (a, b) => Math.Abs(a - b) <= Float64Tolerance);
        Assert.Equal(batched.GradientNorms, result.GradientNorms, (a, b) => Math.Abs(a - b) <= Float64Tolerance * Math.Max(1, Math.Abs(a)));
        Assert.Equal(batched.PredictedClasses, result.PredictedClasses);
        Assert.Equal(batched.LogitGaps, result.LogitGaps);
    }

    [Fact]
    public void Alignment_OnAParameterSubset_AndWithTrueLabels_EqualsThePerSampleLoop()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Problem("tanh");
        var space = ParameterSpace.FromModule(model, n => n is "2.weight" or "4.bias" or "0.bias");
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y), space);
        var vectors = GeometryReferences.RandomDirections(op.Dimension, 9, seed: 63);
        using var result = AlignmentMatrix.Compute(op.Risk, x, vectors, new AlignmentOptions { UseTrueLabels = true }, columnBlock: 4);
        var loop = LoopAlignment(op.Risk, x, vectors, y);
        Assert.True(MaxDifference(result.Alignment, loop) <= Float64Tolerance, $"GEMM vs loop: {MaxDifference(result.Alignment, loop):G3}");
    }

    [Fact]
    public void Alignment_OfAModelOffTheFastPath_EqualsThePerSampleLoop()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(21, 3, 3, seed: 64);
        // A LayerNorm is not per-sample-parameter-free, so the chain does not qualify and G comes from per-sample autograd.
        var model = Sequential(("0", Linear(3, 6, dtype: ScalarType.Float64)), ("1", LayerNorm(6, dtype: ScalarType.Float64)), ("2", Tanh()), ("3", Linear(6, 3, dtype: ScalarType.Float64)));
        model.eval();
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        Assert.False(ReinforcingGradients.CanUseLinearFastPath(op.Risk));
        var vectors = GeometryReferences.RandomDirections(op.Dimension, 11, seed: 65);
        using var result = AlignmentMatrix.Compute(op.Risk, x, vectors, columnBlock: 5);
        var loop = LoopAlignment(op.Risk, x, vectors);
        Assert.True(MaxDifference(result.Alignment, loop) <= Float64Tolerance, $"GEMM vs loop: {MaxDifference(result.Alignment, loop):G3}");
    }

    [Fact]
    public void Alignment_OfAFloat32Analysis_AgreesWithTheFloat64LoopToFloat32Precision()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Problem("tanh");
        using var op64 = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        using var op32 = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y), options: new LossHessianOptions { AnalysisDType = ScalarType.Float32 });
        var vectors = GeometryReferences.RandomDirections(op64.Dimension, 13, seed: 66);
        using var result = AlignmentMatrix.Compute(op32.Risk, x, vectors);
        using var batched = AlignmentAnalyzer.Compute(op32.Risk, x, vectors);
        var loop = LoopAlignment(op64.Risk, x, vectors);
        Assert.Equal(ScalarType.Float64, result.Alignment.dtype);
        Assert.True(MaxDifference(result.Alignment, loop) <= 1e-5, $"float32 GEMM vs float64 loop: {MaxDifference(result.Alignment, loop):G3}");
        Assert.True(MaxDifference(result.Alignment, batched.Alignment) <= 1e-5);
    }

    [Fact]
    public void Alignment_IsZero_WhereTheReinforcingGradientVanishes()
    {
        using var scope = NewDisposeScope();
        var layer = Linear(1, 2, dtype: ScalarType.Float64);
        using (no_grad())
        {
            layer.weight!.copy_(tensor(new double[] { 1000, -1000 }).view(2, 1));
            layer.bias!.zero_();
        }
        var model = Sequential(("0", layer));
        model.eval();
        var x = tensor(new double[] { 2, -2, 1e-3 }).view(3, 1);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, tensor(new long[] { 0, 1, 0 })));
        // Not the all-ones direction: Σ_c (p_c − e_c) = 0 makes every softmax gradient orthogonal to it.
        using var result = AlignmentMatrix.Compute(op.Risk, x, arange(1, op.Dimension + 1, dtype: ScalarType.Float64).view(-1, 1));
        Assert.Equal(0.0, result.Alignment[0, 0].item<double>());
        Assert.Equal(0.0, result.Alignment[1, 0].item<double>());
        Assert.NotEqual(0.0, result.Alignment[2, 0].item<double>());
    }

    [Fact]
    public void BadEigenvectors_AreRefusedWithAClearMessage()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Problem("tanh");
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var wrongShape = Assert.Throws<ArgumentException>(() => AlignmentMatrix.Compute(op.Risk, x, ones(op.Dimension + 1, 2, dtype: ScalarType.Float64)));
        Assert.Contains($"[{op.Dimension}, k]", wrongShape.Message);
        var zeroColumn = cat([ones(op.Dimension, 1, dtype: ScalarType.Float64), zeros(op.Dimension, 1, dtype: ScalarType.Float64)], 1);
        Assert.Contains("column is zero", Assert.Throws<ArgumentException>(() => AlignmentMatrix.Compute(op.Risk, x, zeroColumn)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => AlignmentMatrix.Compute(op.Risk, x, ones(op.Dimension, 1, dtype: ScalarType.Float64), columnBlock: 0));
        var withNaN = ones(op.Dimension, 3, dtype: ScalarType.Float64);
        withNaN[5, 2] = double.NaN;
        Assert.Contains("NaN or Inf", Assert.Throws<ArithmeticException>(() => AlignmentMatrix.Compute(op.Risk, x, withNaN, columnBlock: 2)).Message);
        Assert.Contains("floating-point", Assert.Throws<ArgumentException>(() => AlignmentMatrix.Compute(op.Risk, x, ones(op.Dimension, 1, dtype: ScalarType.Int64))).Message);
    }
    [Fact]
    public void ColumnNorms_OfStridedBlocks_EqualTheNormReduction_AlsoForHugeAndNonFiniteColumns()
    {
        using var scope = NewDisposeScope();
        var matrix = randn(37, 53, dtype: ScalarType.Float64, generator: new Generator(11));
        var block = matrix.narrow(1, 7, 20);
        var expected = block.norm(0, keepdim: false);
        Assert.True((AlignmentMatrix.ColumnNorms(block) - expected).abs().max().item<double>() <= 1e-14 * expected.max().item<double>());

        // Squares of 1e200 overflow; the fallback must still give the true norm, not Inf.
        var huge = matrix.narrow(1, 0, 4).clone();
        huge[.., 1] = huge[.., 1] * 1e200;
        var hugeNorms = AlignmentMatrix.ColumnNorms(huge);
        Assert.True(double.IsFinite(hugeNorms[1].item<double>()));
        var trueNorm = matrix[.., 1].norm().item<double>() * 1e200;
        Assert.Equal(1.0, hugeNorms[1].item<double>() / trueNorm, 1e-12);
        Assert.Equal(matrix[.., 0].norm().item<double>(), hugeNorms[0].item<double>(), 1e-12);

        var nan = matrix.narrow(1, 0, 4).clone();
        nan[3, 2] = double.NaN;
        Assert.True(double.IsNaN(AlignmentMatrix.ColumnNorms(nan)[2].item<double>()));

        var single = matrix.narrow(1, 0, 5).to(ScalarType.Float32);
        Assert.True((AlignmentMatrix.ColumnNorms(single) - single.to(ScalarType.Float64).norm(0, keepdim: false)).abs().max().item<double>() <= 1e-12);
    }
}
