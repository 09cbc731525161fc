using HessianGeometry.Analysis;
using HessianGeometry.Geometry;
using HessianGeometry.Interop;
using HessianGeometry.Operators;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Tests.Geometry;

/// <summary>
/// Regression pin for the complete boundary-complexity count (all p eigenvectors of the exact Hessian) on a committed
/// trained 2-16-16-3 ReLU MLP on the paper's three-Gaussian mixture (fixtures/three_gaussians_relu.safetensors,
/// p = 371, n = 150). The reference is written here from the definitions in docs/geometry.md: explicit per-sample
/// gradients by plain autograd (<see cref="GeometryReferences.ExplicitGradients"/>), then one loop over eigenvectors
/// and inputs computing |cos(g(x_j), v_i)|, its mean and max, and the counts above ε. Any faster route (GEMM alignment,
/// structural Hessian, another eigen-solver) must keep these counts.
/// </summary>
public sealed class CompleteComplexityPinTests(ITestOutputHelper output)
{
    private const string FixtureName = "three_gaussians_relu.safetensors";

    /// <summary>m_i closer than this to ε could flip with rounding; the fixture is chosen so that none are.</summary>
    private const double ThresholdClearance = 1e-9;

    private sealed record Problem(Sequential Model, Tensor X, Tensor Y);

    private static Problem Load()
    {
        var file = SafetensorsFile.Read(Interop.Fixtures.PathOf(FixtureName));
        var model = MlpSpec.Parse(file.Metadata["spec"]).Build(ScalarType.Float64);
        StateDictLoader.Load(model, file, prefix: "model.");
        return new Problem(model, file.LoadTensor("data.x"), file.LoadTensor("data.y"));
    }

    /// <summary>Eigenvectors of the HVP-built exact Hessian, symmetrised as the analysis does, largest eigenvalue first: [p, p] float64.</summary>
    private static (double[] Values, Tensor Vectors) ExactEigenvectors(LossHessianOperator op)
    {
        using var scope = NewDisposeScope();
        var h = op.ToDense();
        var (values, vectors) = linalg.eigh(((h + h.T) / 2).contiguous());
        return (values.flip(0).data<double>().ToArray(), vectors.flip(1).contiguous().MoveToOuterDisposeScope());
    }

    /// <summary>The definition, one eigenvector and one input at a time: m_i = mean_j |cos|, m_i^max = max_j |cos|.</summary>
    private static (double[] Mean, double[] Max) LoopStatistics(Tensor gradients, Tensor vectors)
    {
        var n = (int)gradients.shape[0];
        var p = (int)gradients.shape[1];
        var k = (int)vectors.shape[1];
        var g = gradients.contiguous().data<double>().ToArray();
        var v = vectors.T.contiguous().data<double>().ToArray(); // row i = eigenvector i
        var mean = new double[k];
        var max = new double[k];
        var gNorms = new double[n];
        for (var j = 0; j < n; j++)
        {
            double s = 0;
            for (var t = 0; t < p; t++)
                s += g[j * p + t] * g[j * p + t];
            gNorms[j] = Math.Sqrt(s);
        }
        for (var i = 0; i < k; i++)
        {
            double vv = 0;
            for (var t = 0; t < p; t++)
                vv += v[i * p + t] * v[i * p + t];
            var vNorm = Math.Sqrt(vv);
            double sum = 0, largest = 0;
            for (var j = 0; j < n; j++)
            {
                double dot = 0;
                for (var t = 0; t < p; t++)
                    dot += g[j * p + t] * v[i * p + t];
                var cos = Math.Abs(dot) / (gNorms[j] * vNorm);
                sum += cos;
                largest = Math.Max(largest, cos);
            }
            mean[i] = sum / n;
            max[i] = largest;
        }
        return (mean, max);
    }

    private static int[] Above(double[] statistic, double epsilon) =>
        Enumerable.Range(0, statistic.Length).Where(i => statistic[i] > epsilon).ToArray();

    private static double Clearance(double[] statistic, double epsilon) => statistic.Min(m => Math.Abs(m - epsilon));

    [Fact]
    public void Fixture_IsTheTrainedThreeGaussianModel()
    {
        using var scope = NewDisposeScope();
        var problem = Load();
        Assert.Equal([150L, 2L], problem.X.shape);
        Assert.Equal(371L, problem.Model.parameters().Sum(q => q.numel()));
        using var _ = no_grad();
        var accuracy = problem.Model.call(problem.X).argmax(1).eq(problem.Y).to(ScalarType.Float64).mean().item<double>();
        Assert.Equal(1.0, accuracy);
    }

    [Fact]
    public void CompleteCount_OfTheAnalysis_EqualsTheDefinitionLoop()
    {
        using var scope = NewDisposeScope();
        var problem = Load();
        var report = HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y).UseExactHessian().TopEigenpairs(3)
            .WithAlignment().WithBoundaryComplexity().Seed(0).AnalyzeMinimum();
        var complexity = report.Complexity!;
        var epsilon = report.Epsilon!;
        Assert.False(complexity.IsLowerBound);
        Assert.Equal(371, complexity.EigenvectorsConsidered);

        using var op = new LossHessianOperator(problem.Model, LossFunction.CrossEntropy, DataSource.FromTensors(problem.X, problem.Y));
        var (_, vectors) = ExactEigenvectors(op);
        var gradients = GeometryReferences.ExplicitGradients(problem.Model, problem.X);
        var (mean, max) = LoopStatistics(gradients, vectors);
        output.WriteLine($"ε = {epsilon.Mean:G6} / {epsilon.Max:G6}; loop counts {Above(mean, epsilon.Mean).Length} (mean) / {Above(max, epsilon.Max).Length} (max); " +
            $"analysis {complexity.EncodingCountMean} / {complexity.EncodingCountMax}; clearance {Clearance(mean, epsilon.Mean):G3} / {Clearance(max, epsilon.Max):G3}");
        Assert.True(Clearance(mean, epsilon.Mean) > ThresholdClearance, "an m_i lies within rounding of ε; the pin would be fragile");
        Assert.True(Clearance(max, epsilon.Max) > ThresholdClearance, "a max statistic lies within rounding of ε; the pin would be fragile");
        Assert.Equal(Above(mean, epsilon.Mean).Length, complexity.EncodingCountMean);
        Assert.Equal(Above(max, epsilon.Max).Length, complexity.EncodingCountMax);
        Assert.Equal(Above(mean, epsilon.Mean), complexity.EncodingEigenvectors);
    }

    [Theory]
    [InlineData(0.03)]
    [InlineData(0.05)]
    [InlineData(0.2)]
    public void CompleteCount_OfTheMeasure_EqualsTheDefinitionLoop_ForExplicitEpsilon(double epsilon)
    {
        using var scope = NewDisposeScope();
        var problem = Load();
        using var op = new LossHessianOperator(problem.Model, LossFunction.CrossEntropy, DataSource.FromTensors(problem.X, problem.Y));
        var (_, vectors) = ExactEigenvectors(op);
        var gradients = GeometryReferences.ExplicitGradients(problem.Model, problem.X);
        var (mean, max) = LoopStatistics(gradients, vectors);
        Assert.True(Clearance(mean, epsilon) > ThresholdClearance && Clearance(max, epsilon) > ThresholdClearance, "ε lies within rounding of a statistic");

        using var alignment = AlignmentAnalyzer.Compute(op.Risk, problem.X, vectors);
        var measured = BoundaryComplexityMeasure.Compute(alignment, op.Dimension, eigenvectorsAreComplete: true, EpsilonBaseline.FromValue(epsilon));
        using var gemm = AlignmentMatrix.Compute(op.Risk, problem.X, vectors, columnBlock: 100);
        var viaGemm = BoundaryComplexityMeasure.Compute(gemm, op.Dimension, eigenvectorsAreComplete: true, EpsilonBaseline.FromValue(epsilon));
        Assert.Equal(Above(mean, epsilon), viaGemm.EncodingIndicesMean);
        Assert.Equal(Above(max, epsilon), viaGemm.EncodingIndicesMax);
        output.WriteLine($"ε = {epsilon}: loop {Above(mean, epsilon).Length} / {Above(max, epsilon).Length}, measure {measured.EncodingCountMean} / {measured.EncodingCountMax}");
        Assert.Equal(Above(mean, epsilon), measured.EncodingIndicesMean);
        Assert.Equal(Above(max, epsilon), measured.EncodingIndicesMax);
        Assert.InRange(Above(mean, epsilon).Length, 1, 370);
    }
}
