using HessianGeometry.Analysis;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// The cluster analysis against the single-process analysis of the same model and data file, in float64: reports equal
/// to 1e-12 for 1, 2 and 3 shards and uneven shard sizes, for the Hessian and the GGN; loss, gradient and products of
/// the distributed operator against the local ones.
/// </summary>
public class DistributedAnalysisTests
{
    private const double Tolerance = 1e-12;

    public static TheoryData<string[]> Shardings => new()
    {
        new[] { "0/1" },
        new[] { "0/2", "1/2" },
        new[] { "0/3", "1/3", "2/3" },
        // Uneven, from two partitions: 23 samples as [0, 11), [11, 17), [17, 23).
        new[] { "0/2", "2/4", "3/4" },
    };

    [Theory]
    [MemberData(nameof(Shardings))]
    public async Task AnalyzeMinimum_OnCluster_EqualsSingleProcess_ForHessianAndGgn(string[] shards)
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, shards);
        await using var cluster = await workers.ConnectAsync();
        Assert.Equal(shards.Length, cluster.Shards.Count);
        Assert.Equal(problem.X.shape[0], cluster.Shards.Sum(s => s.Length));

        foreach (var kind in new[] { CurvatureKind.Hessian, CurvatureKind.Ggn })
        {
            var local = Configure(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y), kind).AnalyzeMinimum();
            var remote = await Task.Run(() => Configure(HessianAnalysis.For(problem.Model).OnCluster(cluster), kind).AnalyzeMinimum());
            var compared = ReportComparison.AssertEqual(local, remote, Tolerance);
            Assert.True(compared > 20, $"Only {compared} numbers compared.");
            Assert.Equal(local.TopEigenpairs!.Eigenvalues.Length, remote.TopEigenpairs!.Eigenvalues.Length);
        }
        var transport = cluster.Transport;
        Assert.True(transport.Products > 0);
        Assert.True(transport.BytesPerProduct > 0);
    }

    [Fact]
    public async Task LossGradientAndBlockProducts_EqualTheLocalOperator_WithChunkedPayloads()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/3", "1/3", "2/3"]);
        // 64-byte chunks: a vector of 43 float64 values (344 bytes) travels in 6 chunks each way.
        await using var cluster = await workers.ConnectAsync(o => o with { MaxChunkBytes = 64 });
        using var scope = NewDisposeScope();
        using var risk = new EmpiricalRisk(problem.Model, LossFunction.CrossEntropy, DataSource.FromTensors(problem.X, problem.Y), options: new EmpiricalRiskOptions { AnalysisDType = ScalarType.Float64 });
        foreach (var kind in new[] { CurvatureKind.Hessian, CurvatureKind.Ggn, CurvatureKind.EmpiricalFisher })
        {
            using var localOp = CurvatureOperators.Create(risk, kind);
            using var remoteOp = cluster.CreateOperator(risk, kind);
            var (localLoss, localAccuracy) = localOp.LossAndAccuracy();
            var (remoteLoss, remoteAccuracy) = remoteOp.LossAndAccuracy();
            Assert.Equal(localLoss, remoteLoss, Tolerance);
            Assert.Equal(localAccuracy!.Value, remoteAccuracy!.Value, Tolerance);
            AssertClose(localOp.Gradient(), remoteOp.Gradient());
            var gen = new TorchSharp.torch.Generator(5);
            var v = randn(risk.Dimension, dtype: ScalarType.Float64, generator: gen);
            var block = randn(risk.Dimension, 4, dtype: ScalarType.Float64, generator: gen);
            AssertClose(localOp.Apply(v), remoteOp.Apply(v));
            AssertClose(localOp.ApplyBlock(block), remoteOp.ApplyBlock(block));
        }
        var t = cluster.Transport;
        var p = problem.Model.parameters().Sum(x => x.numel());
        Assert.Equal(3 * (1 + 4), t.Products); // three curvatures × (one vector + a block of four): vectors, as the operator counts them
        // Each product: one payload of p (or 4p) float64 values to each of 3 shards and one back, in 64-byte chunks.
        Assert.Equal(3 * 8 * p * (1 + 4) * 3, t.BytesSent);
        Assert.True(t.Chunks >= 2 * 3 * 6 * (8 * p / 64), $"{t.Chunks} chunks.");
    }

    [Fact]
    public async Task Float32Analysis_OnCluster_MatchesSingleProcess()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2"]);
        await using var cluster = await workers.ConnectAsync();
        var local = HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y).WithPrecision(ScalarType.Float32).TopEigenpairs(2).Seed(1).AnalyzeMinimum();
        var remote = await Task.Run(() => HessianAnalysis.For(problem.Model).OnCluster(cluster).WithPrecision(ScalarType.Float32).TopEigenpairs(2).Seed(1).AnalyzeMinimum());
        // float32 products summed per shard and combined in float64 round differently from one float32 sum.
        Assert.Equal(local.TopEigenpairs!.Eigenvalues[0], remote.TopEigenpairs!.Eigenvalues[0], 1e-4 * Math.Abs(local.TopEigenpairs.Eigenvalues[0]));
        Assert.Equal(local.Model!.Loss, remote.Model!.Loss, 1e-6);
    }

    [Fact]
    public async Task Float32Geometry_OnCluster_MatchesSingleProcess()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2"]);
        await using var cluster = await workers.ConnectAsync();
        HessianAnalysisBuilder Configure(HessianAnalysisBuilder b) =>
            b.WithPrecision(ScalarType.Float32).TopEigenpairs(3, 1e-5).WithAlignment().WithBoundaryComplexity(randomDirections: 4).WithMargin().Seed(5);
        var local = Configure(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y)).AnalyzeMinimum();
        var remote = await Task.Run(() => Configure(HessianAnalysis.For(problem.Model).OnCluster(cluster)).AnalyzeMinimum());

        Assert.Equal("Float32", remote.Precision);
        // Per-sample rows are float32 on both sides; the eigenvectors they are taken against come from float32 products
        // summed per shard (rounded differently), so agreement is to float32's resolution, not bitwise.
        var scale = local.Eigenvalues![0];
        for (var i = 0; i < 3; i++)
            Assert.Equal(local.Eigenvalues[i], remote.Eigenvalues![i], 1e-4 * scale);
        Assert.Equal(local.Alignment!.Length, remote.Alignment!.Length);
        for (var j = 0; j < local.Alignment.Length; j++)
        {
            for (var i = 0; i < 3; i++)
                Assert.Equal(Math.Abs(local.Alignment[j][i]), Math.Abs(remote.Alignment[j][i]), 1e-3);
        }
        // G = (eigenvectors whose mean |alignment| clears ε) / p: float32 rounding may move one of them across ε, no more.
        var p = problem.Model.parameters().Sum(t => t.numel());
        Assert.Equal(local.ComplexityMean!.Value, remote.ComplexityMean!.Value, 1.0 / p + 1e-12);
        Assert.Equal(local.Margin!.Value, remote.Margin!.Value, 1e-3 * Math.Max(1, Math.Abs(local.Margin.Value)));
        Assert.True(cluster.Transport.GeometryCalls > 0);
    }

    internal static HessianAnalysisBuilder Configure(HessianAnalysisBuilder builder, CurvatureKind kind) =>
        builder
            .WithCurvature(kind)
            .TopEigenpairs(3, 1e-10)
            .BottomEigenpairs(2, 1e-10)
            .WithTrace(new TraceOptions { ClosedForm = false, MaxProbes = 24, MinProbes = 24 })
            .WithSpectralDensity(new SpectralDensityOptions { Runs = 2, Steps = 12, GridPoints = 200 })
            .PerLayer(2)
            .WithBoundaryComplexity(randomDirections: 4)
            .Seed(11);

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var scale = Math.Max(1.0, expected.abs().max().item<double>());
        var diff = (expected - actual).abs().max().item<double>();
        Assert.True(diff <= Tolerance * scale, $"max |difference| {diff:G3} (scale {scale:G3}).");
    }
}
