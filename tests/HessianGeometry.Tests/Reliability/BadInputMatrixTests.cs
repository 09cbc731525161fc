using System.Text.Json;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// Runs every row of <see cref="BadInputMatrix"/>: the bad input must raise exactly the row's .NET exception type, with
/// a message that contains the row's fragments, and the process must survive. Rows that would reach a native abort
/// without the library's checks run in a child process, which must exit normally.
/// </summary>
public sealed class BadInputMatrixTests
{
    public static TheoryData<string> Rows() => [.. BadInputMatrix.All.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Rows))]
    public void BadInput_RaisesADotNetException_SayingWhatIsWrongAndHowToFixIt(string row)
    {
        var bad = BadInputMatrix.Find(row);
        var (type, message) = bad.Isolation == Isolation.InProcess ? RunHere(bad) : RunInChild(bad);
        Assert.True(type == bad.Expected.FullName, $"Row '{row}' raised {type ?? "nothing"} instead of {bad.Expected.FullName}: {message}");
        foreach (var fragment in bad.Fragments)
            Assert.True(message!.Contains(fragment, StringComparison.Ordinal), $"Row '{row}': the message does not mention \"{fragment}\":\n{message}");
    }

    [Fact]
    public void Matrix_CoversEveryAreaOfTheIssue_AndIsolatesTheAbortProneRows()
    {
        var areas = BadInputMatrix.All.Select(c => c.Area).Distinct().ToList();
        Assert.Equal(["NaN or Inf", "training mode / randomness", "parameters", "labels / inputs / data", "memory budget", "solver options", "cancellation", "safetensors files"], areas);
        Assert.Equal(BadInputMatrix.All.Count, BadInputMatrix.All.Select(c => c.Name).Distinct().Count());
        Assert.Contains(BadInputMatrix.All, c => c.Name == "parameter-not-used-by-the-loss" && c.Isolation == Isolation.ChildProcess);
    }

    [Fact]
    public void ChildProcess_ReportsANativeAbort_AsANonZeroExitCode()
    {
        // The harness itself must be able to fail: a child that aborts inside torch.autograd.grad (an unused input with
        // allow_unused = false, the error TorchSharp does not translate) exits with SIGABRT and prints no result.
        var run = ChildProcess.Run(TimeSpan.FromMinutes(2), "abort-inside-autograd");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Empty(run.Results);
    }

    internal static (string? Type, string? Message) RunHere(BadInputCase bad)
    {
        using var scope = NewDisposeScope();
        try
        {
            bad.Run();
            return (null, "the call returned normally");
        }
        catch (Exception ex)
        {
            return (ex.GetType().FullName, ex.Message);
        }
    }

    private static (string? Type, string? Message) RunInChild(BadInputCase bad)
    {
        var result = ChildProcess.Run(TimeSpan.FromMinutes(2), "bad-input", bad.Name).Single();
        return (result.GetProperty("type").GetString(), result.GetProperty("message").GetString());
    }
}
