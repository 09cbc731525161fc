using System.Text.Json;

namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>Compares the numbers of two report.json files of the same analysis (local and on a cluster).</summary>
internal static class ReportComparison
{
    /// <summary>
    /// Samples and parameters equal; loss, accuracy, eigenvalues (top and bottom) and the trace within
    /// <paramref name="tolerance"/> relative to the largest |eigenvalue| (the scale of every spectral number here).
    /// </summary>
    public static void AssertSameAnalysis(JsonDocument expected, JsonDocument actual, double tolerance)
    {
        var e = expected.RootElement;
        var a = actual.RootElement;
        Assert.Equal(e.GetProperty("samples").GetInt64(), a.GetProperty("samples").GetInt64());
        Assert.Equal(e.GetProperty("parameters").GetInt64(), a.GetProperty("parameters").GetInt64());
        AssertClose("loss", e.GetProperty("loss").GetDouble(), a.GetProperty("loss").GetDouble(), tolerance * Math.Abs(e.GetProperty("loss").GetDouble()));
        Assert.Equal(e.GetProperty("accuracy").GetDouble(), a.GetProperty("accuracy").GetDouble());
        var top = Values(e, "eigenvalues");
        var scale = top.Max(Math.Abs);
        Assert.True(scale > 0, "the reference has no nonzero eigenvalue to compare against");
        foreach (var field in new[] { "eigenvalues", "bottomEigenvalues" })
        {
            var (want, got) = (Values(e, field), Values(a, field));
            Assert.Equal(want.Length, got.Length);
            for (var i = 0; i < want.Length; i++)
                AssertClose($"{field}[{i}]", want[i], got[i], tolerance * scale);
        }
        if (e.TryGetProperty("trace", out var trace) && trace.ValueKind == JsonValueKind.Number)
            AssertClose("trace", trace.GetDouble(), a.GetProperty("trace").GetDouble(), tolerance * scale);
    }

    /// <summary>The eigenvalues of a report (top, bottom): empty when the field is absent.</summary>
    public static double[] Values(JsonElement root, string field) =>
        root.TryGetProperty(field, out var values) && values.ValueKind == JsonValueKind.Array
            ? values.EnumerateArray().Select(v => v.GetDouble()).ToArray()
            : [];

    private static void AssertClose(string what, double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: {actual:R} on the cluster vs {expected:R} locally (|Δ| = {Math.Abs(expected - actual):E2} > {tolerance:E2})");
}
