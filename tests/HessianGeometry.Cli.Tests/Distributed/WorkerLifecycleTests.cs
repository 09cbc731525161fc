using System.Diagnostics;
using HessianGeometry.Cli.Commands;

namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>A worker runs until SIGTERM (what a service manager or <c>kill</c> sends), then leaves the cluster and exits 0.</summary>
[Collection(WorkerProcessTests.Name)]
public sealed class WorkerLifecycleTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Worker_PrintsReady_ThenStopsOnSigterm_WithExitZero()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return;
        var problem = ClusterProblem.Write(temp.Path, samples: 40, seed: 2);
        var ports = FreePorts.Take(2);
        using var worker = CliProcess.Start("worker 0/1",
            ["worker", "--silo-port", $"{ports[0]}", "--gateway-port", $"{ports[1]}", "--model", problem.Model, "--arch", ClusterProblem.Arch,
             "--data", problem.Data, "--x-key", "x", "--y-key", "y", "--shard", "0/1"]);
        Assert.True(worker.WaitForLine(WorkerCommand.ReadyPrefix, LocalCluster.ReadyTimeout), $"not ready:\n{worker.Output}");
        Assert.Contains("shard 0/1", worker.Output, StringComparison.Ordinal);
        Assert.False(worker.HasExited, "the worker must keep serving until it is stopped");

        using (var kill = Process.Start("kill", ["-TERM", $"{worker.ProcessId}"]))
            kill.WaitForExit();
        Assert.True(worker.WaitForExit(TimeSpan.FromMinutes(2)), $"still running 2 min after SIGTERM:\n{worker.Output}");
        Assert.True(worker.ExitCode == 0, $"exit code {worker.ExitCode}:\n{worker.Output}");
        Assert.Contains("worker stopped.", worker.Output, StringComparison.Ordinal);
    }
}
