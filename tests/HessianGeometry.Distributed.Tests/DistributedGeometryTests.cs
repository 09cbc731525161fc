using HessianGeometry.Analysis;
using HessianGeometry.Distributed.Client;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// The geometry stages on a cluster: alignment, boundary complexity (with the degeneracy split and the saturation
/// recount, over all p eigenvectors with the exact solver), margin and sample margins take their per-sample rows from
/// the workers and equal the single-process analysis to 1e-12 for 1, 2, 3 and uneven shards; the rows are computed on
/// the workers (a client holding other data gets the workers' answer), with the bytes the transport counts; a worker
/// lost before a geometry call is replaced, and with none left the call fails naming the shard.
/// </summary>
public class DistributedGeometryTests
{
    private const double Tolerance = 1e-12;

    public static TheoryData<string[]> Shardings => DistributedAnalysisTests.Shardings;

    [Theory]
    [MemberData(nameof(Shardings))]
    public async Task GeometryStages_OnCluster_EqualSingleProcess_WithIterativeAndExactSolvers(string[] shards)
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, shards);
        await using var cluster = await workers.ConnectAsync();
        foreach (var exact in new[] { false, true })
        {
            var before = cluster.Transport;
            var local = Configure(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y), exact).AnalyzeMinimum();
            var remote = await Task.Run(() => Configure(HessianAnalysis.For(problem.Model).OnCluster(cluster), exact).AnalyzeMinimum());
            if (exact)
            {
                // One process builds the exact matrix structurally (one pass), the cluster from p products: the route and its
                // product count differ by design (they are not geometry); the matrix, and everything after it, must not.
                Assert.Equal(problem.Model.parameters().Sum(x => x.numel()), remote.TopEigenpairs!.OperatorApplications);
                remote = remote with { TopEigenpairs = remote.TopEigenpairs with { MatrixBuild = local.TopEigenpairs!.MatrixBuild, OperatorApplications = local.TopEigenpairs.OperatorApplications }, Timings = local.Timings };
            }
            var compared = ReportComparison.AssertEqual(local, remote, Tolerance);
            Assert.True(compared > 100, $"Only {compared} numbers compared.");
            // Every geometry section is there (the comparison would pass on two reports that both lack it).
            Assert.NotNull(remote.Alignment);
            Assert.NotNull(remote.Complexity?.Degeneracy);
            Assert.NotNull(remote.Complexity?.Saturation);
            Assert.NotNull(remote.MarginDetails);
            Assert.NotNull(remote.SampleMargins);
            Assert.NotNull(remote.SampleMarginDetails);
            if (exact)
                Assert.Equal(43, remote.Complexity!.EigenvectorsConsidered); // all p eigenvectors, aligned on the workers
            // alignment, ε baseline, saturation scales and its random alignment, margin's two inputs, sample margins and their input shape.
            var t = cluster.Transport;
            Assert.True(t.GeometryCalls - before.GeometryCalls >= 6, $"{t.GeometryCalls - before.GeometryCalls} geometry calls.");
            Assert.True(t.GeometryShardCalls - before.GeometryShardCalls >= 4 * shards.Length, $"{t.GeometryShardCalls - before.GeometryShardCalls} geometry shard calls.");
        }
    }

    [Fact]
    public async Task ReluNetwork_LinearPiecesCountedOnTheWorkers_EqualSingleProcess_OnUnevenShards()
    {
        // A ReLU network's boundary has zero curvature almost everywhere, so the stage counts the linear pieces crossed
        // from every input to its boundary point instead: on a cluster each worker counts its own inputs'.
        using var problem = new TestProblem(samples: 29, seed: 3, arch: "mlp:4-6-3:relu");
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "2/4", "3/4"]);
        await using var cluster = await workers.ConnectAsync();
        var local = Configure(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y), exact: false).AnalyzeMinimum();
        var before = cluster.Transport;
        var remote = await Task.Run(() => Configure(HessianAnalysis.For(problem.Model).OnCluster(cluster), exact: false).AnalyzeMinimum());
        ReportComparison.AssertEqual(local, remote, Tolerance);
        Assert.NotNull(remote.SampleMarginDetails!.PiecesCrossed);
        Assert.Contains(remote.SampleMarginDetails.PiecesCrossed!, c => c is > 0);
        Assert.True(cluster.Transport.GeometryShardCalls - before.GeometryShardCalls >= 7 * 3, "Every geometry request of the run should reach all three shards.");
    }

    [Fact]
    public async Task ClientWithOtherData_GetsTheWorkersRows_SoThePerSampleWorkRunsOnTheWorkers()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2"]);
        await using var cluster = await workers.ConnectAsync();
        using var scope = NewDisposeScope();
        // The client's own inputs are other numbers of the same shape: every per-sample quantity computed on the client
        // would come from them, and every one computed on the workers from the file's.
        var other = randn(problem.X.shape, dtype: problem.X.dtype, generator: new TorchSharp.torch.Generator(123));
        var local = Configure(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y), exact: false).AnalyzeMinimum();
        var decoy = Configure(HessianAnalysis.For(problem.Model).WithData(other, problem.Y), exact: false).AnalyzeMinimum();
        var remote = await Task.Run(() => Configure(HessianAnalysis.For(problem.Model).WithData(other, problem.Y).WithOperatorFactory(new ClusterOperatorFactory(cluster)), exact: false)
            .AnalyzeMinimum());
        ReportComparison.AssertEqual(local, remote, Tolerance);
        Assert.NotEqual(local.AlignmentSummary!.MeanAbsAlignment[0], decoy.AlignmentSummary!.MeanAbsAlignment[0]);
        Assert.NotEqual(local.SampleMargins![0], decoy.SampleMargins![0]);
    }

    [Fact]
    public async Task AlignmentRows_EqualTheLocalGeometry_AndCountTheirBytes_WithChunkedPayloads()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/3", "1/3", "2/3"]);
        // 64-byte chunks: the 3 directions (3·43 float64 = 1,032 bytes) go up in 17 chunks, each shard's rows come down in several.
        await using var cluster = await workers.ConnectAsync(o => o with { MaxChunkBytes = 64 });
        using var scope = NewDisposeScope();
        using var risk = new EmpiricalRisk(problem.Model, LossFunction.CrossEntropy, DataSource.FromTensors(problem.X, problem.Y), options: new EmpiricalRiskOptions { AnalysisDType = ScalarType.Float64 });
        using var op = cluster.CreateOperator(risk, CurvatureKind.Hessian);
        var remote = Assert.IsType<DistributedCurvatureOperator>(op).Geometry;
        var p = risk.Dimension;
        var n = problem.X.shape[0];
        var directions = randn(p, 3, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(4));
        var before = cluster.Transport;
        foreach (var explicitGradients in new[] { false, true })
        {
            // The single-process references: the batched passes, and the explicit gradient matrix used for all p eigenvectors.
            using var expected = explicitGradients
                ? AlignmentMatrix.Compute(risk, problem.X, directions, new AlignmentOptions { BatchSize = 5 })
                : AlignmentAnalyzer.Compute(risk, problem.X, directions, new AlignmentOptions { BatchSize = 5 });
            using var actual = remote.Alignment(directions, new AlignmentOptions { BatchSize = 5 }, explicitGradients, CancellationToken.None);
            AssertClose(expected.Alignment, actual.Alignment);
            AssertClose(expected.MeanAbsAlignment, actual.MeanAbsAlignment);
            AssertClose(expected.MaxAbsAlignment, actual.MaxAbsAlignment);
            AssertClose(expected.GradientNorms, actual.GradientNorms);
            AssertClose(expected.LogitGaps, actual.LogitGaps);
            Assert.Equal(expected.PredictedClasses, actual.PredictedClasses);
        }
        var t = cluster.Transport;
        Assert.Equal(2, t.GeometryCalls - before.GeometryCalls);
        Assert.Equal(2 * 3, t.GeometryShardCalls - before.GeometryShardCalls);
        // Per call: the 3 directions (k·p float64) to each of the 3 shards, and n rows of (k + 3) float64 back in all.
        Assert.Equal(2 * 3 * 3 * p * 8, t.GeometryBytesSent - before.GeometryBytesSent);
        Assert.Equal(2 * n * (3 + 3) * 8, t.GeometryBytesReceived - before.GeometryBytesReceived);
        Assert.Equal(before.BytesSent, t.BytesSent);
        Assert.True(t.Chunks - before.Chunks >= 2 * 3 * (3 * p * 8 / 64), $"{t.Chunks - before.Chunks} chunks.");

        AssertClose(SaturatedInputs.OutputGradientScale(risk, problem.X), remote.OutputGradientScale(new AlignmentOptions(), CancellationToken.None));
        long[] rows = [22, 0, 8, 7, 15, 8];
        AssertClose(risk.PrepareInputs(problem.X).index_select(0, tensor(rows)), remote.InputRows(rows));
        var expectedMargins = SampleMarginEstimator.Estimate(risk, problem.X, new SampleMarginOptions { BatchSize = 4 });
        var actualMargins = remote.SampleMargins(new SampleMarginOptions { BatchSize = 4 }, CancellationToken.None);
        AssertClose(expectedMargins.Distances, actualMargins.Distances);
        AssertClose(expectedMargins.LogitGaps, actualMargins.LogitGaps);
        Assert.Equal(expectedMargins.Status, actualMargins.Status);
        Assert.Equal(expectedMargins.Iterations, actualMargins.Iterations);
        Assert.Equal(expectedMargins.Classes, actualMargins.Classes);
        AssertClose(expectedMargins.BoundaryPoints.SelectMany(x => x).ToArray(), actualMargins.BoundaryPoints.SelectMany(x => x).ToArray());

        // The curvature at the boundary points of some inputs, in the order asked (each shard computes its own inputs').
        int[] valid = [.. Enumerable.Range(0, (int)n).Where(i => expectedMargins.Status[i] == SampleMarginStatus.OnBoundary).Reverse()];
        Assert.True(valid.Length > 10, $"Only {valid.Length} inputs reached the boundary.");
        var expectedCurvatures = BoundaryCurvatureEstimator.Compute(risk, tensor(valid.SelectMany(i => expectedMargins.BoundaryPoints[i]).ToArray()).reshape(valid.Length, 4),
            [.. valid.Select(i => expectedMargins.Classes[i][0])], [.. valid.Select(i => expectedMargins.Classes[i][1])], new SampleMarginOptions());
        var actualCurvatures = remote.CurvatureAtSamples(valid, expectedMargins, new SampleMarginOptions(), CancellationToken.None);
        AssertClose(expectedCurvatures.Select(c => c.Mean).ToArray(), actualCurvatures.Select(c => c.Mean).ToArray());
        AssertClose(expectedCurvatures.SelectMany(c => c.Principal).ToArray(), actualCurvatures.SelectMany(c => c.Principal).ToArray());
        Assert.Equal(expectedCurvatures.Select(c => c.HessianIsZero), actualCurvatures.Select(c => c.HessianIsZero));
        Assert.Equal(expectedCurvatures.Select(c => c.Method), actualCurvatures.Select(c => c.Method));
        // A tanh network has no piecewise-linear activations to count: no count, from any shard, and the reason says why.
        Assert.Null(remote.PiecesCrossed(valid, expectedMargins, 64, out var reason));
        Assert.False(string.IsNullOrEmpty(reason));

        // Bad input fails on the client with the single-process exception, before any worker is asked.
        var calls = cluster.Transport.GeometryCalls;
        Assert.ThrowsAny<ArgumentException>(() => remote.Alignment(directions, new AlignmentOptions { BatchSize = 0 }, false, CancellationToken.None));
        Assert.ThrowsAny<ArgumentException>(() => remote.Alignment(zeros(p, 2, dtype: ScalarType.Float64), new AlignmentOptions(), false, CancellationToken.None));
        Assert.ThrowsAny<ArgumentException>(() => remote.Alignment(directions.narrow(0, 1, p - 1), new AlignmentOptions(), false, CancellationToken.None));
        Assert.ThrowsAny<ArgumentException>(() => remote.SampleMargins(new SampleMarginOptions { BatchSize = 0 }, CancellationToken.None));
        Assert.Equal(calls, cluster.Transport.GeometryCalls);
    }

    [Fact]
    public async Task WorkerGoneBeforeAGeometryCall_ItsShardIsRetriedElsewhere_ThenWithNoneLeftTheCallNamesTheShard()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "1/2"]);
        await using var cluster = await workers.ConnectAsync(o => o with { ProductTimeout = TimeSpan.FromSeconds(10), MaxRetries = 1 });
        using var scope = NewDisposeScope();
        using var risk = new EmpiricalRisk(problem.Model, LossFunction.CrossEntropy, DataSource.FromTensors(problem.X, problem.Y), options: new EmpiricalRiskOptions { AnalysisDType = ScalarType.Float64 });
        using var op = cluster.CreateOperator(risk, CurvatureKind.Hessian);
        var remote = Assert.IsType<DistributedCurvatureOperator>(op).Geometry;
        var directions = randn(risk.Dimension, 2, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(9));
        using var expected = AlignmentAnalyzer.Compute(risk, problem.X, directions);

        // Worker 1 (shard 1/2) leaves: its shard moves to worker 0, which loads those rows from the shared file.
        await workers.StopAsync(1);
        // (Whether the first try fails and is retried, or Orleans re-places the stopped silo's grain at once, the rows must be the same.)
        using (var moved = await Task.Run(() => remote.Alignment(directions, new AlignmentOptions(), false, CancellationToken.None)))
            AssertClose(expected.Alignment, moved.Alignment);

        // No worker left: the geometry call fails naming a shard, never with rows of some shards only.
        await workers.StopAsync(0);
        var ex = await Assert.ThrowsAsync<ClusterShardException>(() => Task.Run(() => remote.SampleMargins(new SampleMarginOptions(), CancellationToken.None)));
        Assert.NotNull(ex.Shard);
        Assert.Contains($"shard {ex.Shard}", ex.Message);
        Assert.Contains("No partial sum", ex.Message);
    }

    internal static HessianAnalysisBuilder Configure(HessianAnalysisBuilder builder, bool exact)
    {
        builder = builder
            .WithCurvature(CurvatureKind.Hessian)
            .TopEigenpairs(3, 1e-10)
            .WithBoundaryComplexity(randomDirections: 4)
            .WithMargin(new MarginOptions { MaxSteps = 200, Restarts = 2 })
            .WithSampleMargins(new SampleMarginOptions { BatchSize = 7 })
            .Seed(13);
        return exact ? builder.UseSolver(EigenSolverKind.Exact) : builder;
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        var e = expected.to(ScalarType.Float64);
        var a = actual.to(ScalarType.Float64);
        var scale = Math.Max(1.0, e.abs().max().item<double>());
        var diff = (e - a).abs().max().item<double>();
        Assert.True(diff <= Tolerance * scale, $"max |difference| {diff:G3} (scale {scale:G3}).");
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = Math.Max(1.0, expected.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max());
        for (var i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i]))
                Assert.True(double.IsNaN(actual[i]), $"[{i}]: NaN vs {actual[i]:R}.");
            else
                Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance * scale, $"[{i}]: {expected[i]:R} vs {actual[i]:R}.");
        }
    }
}
