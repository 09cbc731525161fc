using Xunit;

namespace HessianGeometry.Tests.Reliability;

/// <summary>Same seed → bitwise-identical eigenvalues, traces, density and alignment on the CPU, within and across processes.</summary>
public sealed class DeterminismTests
{
    [Fact]
    public void SameSeed_TwiceInOneProcess_GivesBitwiseIdenticalResults()
    {
        var first = DeterminismScenario.Run();
        var second = DeterminismScenario.Run();
        AssertBitwiseEqual(first, second, "second run in this process");
    }

    [Fact]
    public void SameSeed_InTwoOtherProcesses_GivesBitwiseTheSameResultsAsHere()
    {
        var here = DeterminismScenario.Run();
        for (var child = 0; child < 2; child++)
        {
            var result = ChildProcess.Run(TimeSpan.FromMinutes(2), "determinism").Single();
            var there = result.EnumerateObject().ToDictionary(q => q.Name, q => q.Value.EnumerateArray().Select(v => v.GetString()!).ToArray());
            AssertBitwiseEqual(here, there, $"child process {child + 1}");
        }
    }

    private static void AssertBitwiseEqual(IReadOnlyDictionary<string, string[]> expected, IReadOnlyDictionary<string, string[]> actual, string which)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (quantity, bits) in expected)
        {
            Assert.NotEmpty(bits);
            Assert.True(bits.SequenceEqual(actual[quantity]), $"{quantity} differs in the {which}: [{string.Join(", ", bits)}] vs [{string.Join(", ", actual[quantity])}]");
        }
    }
}
