using System.Text.Json.Nodes;
using HessianGeometry.Analysis;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// Same seed → byte-identical report on a cluster (every stage, the spectral density included) and in one process; the
/// decomposition stage's second operator and the Monte-Carlo Fisher on the cluster against one process to 1e-12.
/// </summary>
public class ClusterDeterminismTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public async Task SameSeed_ClusterRuns_GiveByteIdenticalJson_WithEveryClusterStage()
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "2/4", "3/4"]);
        await using var cluster = await workers.ConnectAsync();
        foreach (var (kind, runs) in new[] { (CurvatureKind.Hessian, 3), (CurvatureKind.Fisher, 2) })
        {
            // Several runs: the last-bit difference this guards against came from the address of a managed buffer, which
            // changes from run to run, and showed in about half of the pairs before the fix.
            var reports = new List<string>();
            for (var r = 0; r < runs; r++)
                reports.Add(await Task.Run(() => JsonWithoutTimings(EveryStage(HessianAnalysis.For(problem.Model).OnCluster(cluster), kind).AnalyzeMinimum())));
            Assert.Contains("\"spectralDensity\"", reports[0], StringComparison.Ordinal);
            Assert.Contains("\"decomposition\"", reports[0], StringComparison.Ordinal);
            for (var r = 1; r < runs; r++)
                Assert.True(reports[0] == reports[r], $"{kind}: run {r} differs from run 0 at {FirstDifference(reports[0], reports[r])}.");
        }
    }

    [Fact]
    public void SameSeed_SingleProcessRunsInOneProcess_GiveByteIdenticalJson()
    {
        using var problem = new TestProblem();
        foreach (var kind in new[] { CurvatureKind.Hessian, CurvatureKind.Fisher })
        {
            var first = JsonWithoutTimings(EveryStage(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y), kind).AnalyzeMinimum());
            var second = JsonWithoutTimings(EveryStage(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y), kind).AnalyzeMinimum());
            Assert.True(first == second, $"{kind}: second run differs at {FirstDifference(first, second)}.");
        }
    }

    [Theory]
    [InlineData(CurvatureKind.Hessian)]
    [InlineData(CurvatureKind.Fisher)]
    public async Task Decomposition_OnCluster_RunsItsSecondOperatorOnTheWorkers_AndEqualsSingleProcess(CurvatureKind kind)
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, ["0/2", "2/4", "3/4"]);
        await using var cluster = await workers.ConnectAsync();
        var local = Decomposition(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y), kind).AnalyzeMinimum();
        var before = cluster.Transport.Products;
        var remote = await Task.Run(() => Decomposition(HessianAnalysis.For(problem.Model).OnCluster(cluster), kind).AnalyzeMinimum());
        var section = remote.Decomposition!;
        // The GGN (and, for the Fisher, the Hessian) is not the analysed operator: it must come from the cluster too.
        Assert.Contains("Orleans", section.GgnEngine, StringComparison.Ordinal);
        Assert.True(section.GgnProducts > 0);
        Assert.True(cluster.Transport.Products - before >= section.HessianProducts + section.GgnProducts,
            $"{cluster.Transport.Products - before} products on the cluster for {section.HessianProducts} H and {section.GgnProducts} GGN products of the decomposition.");
        var compared = ReportComparison.AssertEqual(local, remote with { Decomposition = section with { GgnEngine = local.Decomposition!.GgnEngine } }, Tolerance);
        Assert.True(compared > 20, $"Only {compared} numbers compared.");
    }

    public static TheoryData<string[]> FisherShardings => new()
    {
        new[] { "0/1" },
        new[] { "0/3", "1/3", "2/3" },
        new[] { "0/2", "2/4", "3/4" },
    };

    [Theory]
    [MemberData(nameof(FisherShardings))]
    public async Task MonteCarloFisher_OnCluster_EqualsSingleProcess_ForAnyShardingAndBatchSize(string[] shards)
    {
        using var problem = new TestProblem();
        await using var workers = await LocalWorkers.StartAsync(problem, shards);
        await using var cluster = await workers.ConnectAsync();
        using var scope = NewDisposeScope();
        var gen = new TorchSharp.torch.Generator(5);
        var block = randn(problem.Model.parameters().Sum(p => p.numel()), 4, dtype: ScalarType.Float64, generator: gen);
        Tensor? reference = null;
        foreach (var batchSize in new int?[] { null, 4, 7 })
        {
            // The single-process reference with its own batching: the draws may not depend on the batch size either.
            using var risk = new EmpiricalRisk(problem.Model, LossFunction.CrossEntropy, DataSource.FromTensors(problem.X, problem.Y, batchSize), options: new EmpiricalRiskOptions { AnalysisDType = ScalarType.Float64 });
            var options = new CurvatureOptions { FisherSamples = 3, Seed = 21 };
            using var localOp = CurvatureOperators.Create(risk, CurvatureKind.Fisher, options);
            using var remoteOp = cluster.CreateOperator(risk, CurvatureKind.Fisher, options);
            var local = localOp.ApplyBlock(block);
            reference ??= local.clone();
            AssertClose(reference, local, $"single process, batch size {batchSize?.ToString() ?? "all"} against one batch");
            AssertClose(local, remoteOp.ApplyBlock(block), $"cluster {string.Join(",", shards)}, batch size {batchSize?.ToString() ?? "all"}");
        }

        var single = FisherAnalysis(HessianAnalysis.For(problem.Model).WithData(problem.X, problem.Y, 5)).AnalyzeMinimum();
        var distributed = await Task.Run(() => FisherAnalysis(HessianAnalysis.For(problem.Model).OnCluster(cluster, 5)).AnalyzeMinimum());
        Assert.True(ReportComparison.AssertEqual(single, distributed, Tolerance) > 20);
    }

    private static HessianAnalysisBuilder EveryStage(HessianAnalysisBuilder builder, CurvatureKind kind) =>
        builder
            .WithCurvature(kind, kind == CurvatureKind.Fisher ? 2 : null)
            .TopEigenpairs(3, 1e-10)
            .BottomEigenpairs(2, 1e-10)
            .WithTrace(new TraceOptions { ClosedForm = false, MaxProbes = 24, MinProbes = 24 })
            .WithSpectralDensity(new SpectralDensityOptions { Runs = 2, Steps = 12, GridPoints = 200 })
            .PerLayer(2)
            .WithBoundaryComplexity(randomDirections: 4)
            .WithDecomposition()
            .Seed(3);

    private static HessianAnalysisBuilder Decomposition(HessianAnalysisBuilder builder, CurvatureKind kind) =>
        builder.WithCurvature(kind, kind == CurvatureKind.Fisher ? 2 : null).TopEigenpairs(3, 1e-10).WithDecomposition().Seed(5);

    private static HessianAnalysisBuilder FisherAnalysis(HessianAnalysisBuilder builder) =>
        builder
            .WithCurvature(CurvatureKind.Fisher, 3)
            .TopEigenpairs(3, 1e-10)
            .WithTrace(new TraceOptions { ClosedForm = false, MaxProbes = 16, MinProbes = 16 })
            .WithSpectralDensity(new SpectralDensityOptions { Runs = 1, Steps = 10, GridPoints = 100 })
            .Seed(9);

    /// <summary>The report's JSON without its timings ("timings", "timingsSeconds": wall-clock times are the only thing allowed to differ).</summary>
    private static string JsonWithoutTimings(MinimumReport report)
    {
        var node = JsonNode.Parse(MinimumReportJson.Serialize(report))!;
        RemoveTimings(node);
        return node.ToJsonString();
    }

    private static void RemoveTimings(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(kv => kv.Key).Where(k => k is "timings" or "timingsSeconds").ToList())
                    o.Remove(key);
                foreach (var (_, value) in o)
                    RemoveTimings(value);
                break;
            case JsonArray a:
                foreach (var item in a)
                    RemoveTimings(item);
                break;
        }
    }

    private static string FirstDifference(string a, string b)
    {
        var i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i])
            i++;
        return $"character {i}: …{a[Math.Max(0, i - 80)..Math.Min(a.Length, i + 40)]}… vs …{b[Math.Max(0, i - 80)..Math.Min(b.Length, i + 40)]}…";
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        var scale = Math.Max(1.0, expected.abs().max().item<double>());
        var diff = (expected - actual).abs().max().item<double>();
        Assert.True(diff <= Tolerance * scale, $"{what}: max |difference| {diff:G3} (scale {scale:G3}).");
    }
}
