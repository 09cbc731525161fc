using System.Text.Json.Nodes;
using HessianGeometry.Analysis;
using Xunit;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// Compares two reports field by field through their JSON: every number to a relative tolerance (scaled by the largest
/// magnitude of its array or 1), every other value exactly; timings, engine notes and the engine name are skipped
/// (they say where the products ran, which is what differs).
/// </summary>
internal static class ReportComparison
{
    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase) { "timings", "timingsSeconds", "engineNote", "note", "hvpEngine", "libraryVersion", "createdUtc", "created" };

    /// <summary>
    /// Solver counters that may differ by a step between the cluster and one process: a residual that sits at the
    /// tolerance crosses it one iteration earlier or later when the products differ in the last bit.
    /// </summary>
    private static readonly HashSet<string> Counters = new(StringComparer.OrdinalIgnoreCase) { "iterations", "operatorApplications" };

    public static int AssertEqual(MinimumReport expected, MinimumReport actual, double tolerance)
    {
        var a = JsonNode.Parse(MinimumReportJson.Serialize(expected));
        var b = JsonNode.Parse(MinimumReportJson.Serialize(actual));
        var compared = 0;
        var failures = new List<string>();
        Walk(a, b, "$", tolerance, ref compared, failures);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        return compared;
    }

    private static void Walk(JsonNode? a, JsonNode? b, string path, double tolerance, ref int compared, List<string> failures)
    {
        if (a is null || b is null)
        {
            Assert.True(a is null && b is null, $"{path}: one report has it, the other not ({a?.ToJsonString()} vs {b?.ToJsonString()}).");
            return;
        }
        switch (a)
        {
            case JsonObject oa:
                var ob = Assert.IsType<JsonObject>(b);
                foreach (var (key, value) in oa)
                {
                    if (Skipped.Contains(key))
                        continue;
                    Assert.True(ob.ContainsKey(key), $"{path}.{key} is missing from the second report.");
                    Walk(value, ob[key], $"{path}.{key}", tolerance, ref compared, failures);
                }
                Assert.Equal(oa.Count(kv => !Skipped.Contains(kv.Key)), ob.Count(kv => !Skipped.Contains(kv.Key)));
                break;
            case JsonArray xa:
                var xb = Assert.IsType<JsonArray>(b);
                Assert.True(xa.Count == xb.Count, $"{path}: {xa.Count} vs {xb.Count} elements.");
                var scale = Math.Max(1.0, xa.Select(Number).Where(v => v is not null).Select(v => Math.Abs(v!.Value)).DefaultIfEmpty(0).Max());
                for (var i = 0; i < xa.Count; i++)
                {
                    if (Number(xa[i]) is { } va && Number(xb[i]) is { } vb)
                    {
                        if (!(Math.Abs(va - vb) <= tolerance * scale))
                            failures.Add($"{path}[{i}]: {va:R} vs {vb:R} (tolerance {tolerance} × {scale:G3}).");
                        compared++;
                    }
                    else
                    {
                        Walk(xa[i], xb[i], $"{path}[{i}]", tolerance, ref compared, failures);
                    }
                }
                break;
            default:
                if (Number(a) is { } x && Number(b) is { } y)
                {
                    var counter = tolerance > 0 && Counters.Contains(path[(path.LastIndexOf('.') + 1)..]);
                    if (!(Math.Abs(x - y) <= (counter ? 2 * Math.Max(1, Math.Abs(x) / 20) : tolerance * Math.Max(1.0, Math.Abs(x)))))
                        failures.Add($"{path}: {x:R} vs {y:R} (tolerance {tolerance}).");
                    compared++;
                }
                else
                {
                    if (a.ToJsonString() != b.ToJsonString())
                        failures.Add($"{path}: {a.ToJsonString()} vs {b.ToJsonString()}.");
                }
                break;
        }
    }

    private static double? Number(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;
}
