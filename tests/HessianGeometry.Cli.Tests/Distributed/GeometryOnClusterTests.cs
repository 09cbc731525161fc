using System.Text.Json;

namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>
/// <c>analyze --cluster --alignment --margin --sample-margins</c> against two real worker processes: the geometry sections
/// equal the local analysis to 1e-12, and the transport line says their per-sample rows came from the workers.
/// </summary>
[Collection(WorkerProcessTests.Name)]
public sealed class GeometryOnClusterTests(TwoWorkerFixture fixture) : IClassFixture<TwoWorkerFixture>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void GeometryStages_OnTwoWorkerProcesses_EqualTheLocalAnalysis_To1e12()
    {
        string[] analysis = ["--arch", ClusterProblem.Arch, "--solver", "lanczos", "--top", "3", "--seed", "5", "--alignment", "--margin", "--sample-margins"];
        var localOut = temp.File("local");
        Assert.Equal(0, Program.Main(["analyze", "--model", fixture.Problem.Model, "--data", fixture.Problem.Data, "--x-key", "x", "--y-key", "y",
            .. analysis, "--out", localOut]));

        var clusterOut = temp.File("cluster");
        using var client = CliProcess.Start("analyze --cluster (geometry)",
            ["analyze", "--model", fixture.Problem.Model, "--cluster", fixture.Cluster.Gateways, .. analysis, "--out", clusterOut]);
        Assert.True(client.WaitForExit(AnalyzeOnClusterTests.AnalysisTimeout), $"analyze --cluster did not finish within {AnalyzeOnClusterTests.AnalysisTimeout}.\n{client.Output}\n{fixture.Cluster.Output}");
        Assert.True(client.ExitCode == 0, $"exit code {client.ExitCode}\n{client.Output}\n{fixture.Cluster.Output}");

        using var local = AnalyzeOnClusterTests.Report(localOut);
        using var remote = AnalyzeOnClusterTests.Report(clusterOut);
        ReportComparison.AssertSameAnalysis(local, remote, 1e-12);
        var compared = 0;
        foreach (var section in new[] { "alignment", "alignmentSummary", "complexity", "marginDetails", "sampleMargins", "sampleMarginDetails" })
        {
            Assert.True(local.RootElement.TryGetProperty(section, out var expected) && expected.ValueKind != JsonValueKind.Null, $"The local report has no {section}.");
            Assert.True(remote.RootElement.TryGetProperty(section, out var actual), $"The cluster report has no {section}.");
            // Per-sample margins are roots found by bisection to a logit-gap tolerance of 1e-12·(1 + max|z|); a worker's
            // batch of other inputs rounds each step differently, so the root moves within that resolution (seen: 7e-12
            // relative on a distance). Everything computed in closed form is held to 1e-12.
            var tolerance = section.StartsWith("sampleMargin", StringComparison.Ordinal) ? 1e-9 : 1e-12;
            Same(expected, actual, section, tolerance, ref compared);
        }
        Assert.True(compared > 100, $"Only {compared} numbers compared.");
        // The console wraps long lines; report.md keeps the transport note on one line.
        Assert.Contains("per-sample geometry on the workers", System.Text.RegularExpressions.Regex.Replace(client.Output, @"\s+", " "), StringComparison.Ordinal);
        Assert.Contains("per-sample geometry on the workers", File.ReadAllText(Path.Combine(clusterOut, "report.md")), StringComparison.Ordinal);
    }

    /// <summary>Every number equal to <paramref name="tolerance"/> (relative, at least absolute), everything else exactly.</summary>
    private static void Same(JsonElement expected, JsonElement actual, string path, double tolerance, ref int compared)
    {
        Assert.True(expected.ValueKind == actual.ValueKind, $"{path}: {expected.ValueKind} vs {actual.ValueKind}.");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in expected.EnumerateObject())
                {
                    Assert.True(actual.TryGetProperty(property.Name, out var other), $"{path}.{property.Name} is missing from the cluster report.");
                    Same(property.Value, other, $"{path}.{property.Name}", tolerance, ref compared);
                }
                break;
            case JsonValueKind.Array:
                Assert.True(expected.GetArrayLength() == actual.GetArrayLength(), $"{path}: {expected.GetArrayLength()} vs {actual.GetArrayLength()} elements.");
                var i = 0;
                foreach (var (e, a) in expected.EnumerateArray().Zip(actual.EnumerateArray()))
                    Same(e, a, $"{path}[{i++}]", tolerance, ref compared);
                break;
            case JsonValueKind.Number:
                var (x, y) = (expected.GetDouble(), actual.GetDouble());
                Assert.True(Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x)), $"{path}: {x:R} vs {y:R}.");
                compared++;
                break;
            default:
                Assert.True(expected.GetRawText() == actual.GetRawText(), $"{path}: {expected.GetRawText()} vs {actual.GetRawText()}.");
                break;
        }
    }
}
