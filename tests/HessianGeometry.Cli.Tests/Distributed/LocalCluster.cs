using HessianGeometry.Cli.Commands;

namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>
/// W worker processes on localhost serving shards 0/W … W−1/W of one data file, on free ports, with development
/// clustering (worker 0 is the primary). Dispose kills every worker still running.
/// </summary>
internal sealed class LocalCluster : IDisposable
{
    /// <summary>
    /// A worker loads libtorch, the model and its shard and starts a silo: seconds on an idle machine, much longer on the
    /// shared 2-core one under load. Generous, but bounded: a worker that never gets ready fails the test with its output.
    /// </summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(4);

    private readonly List<CliProcess> workers = [];

    private LocalCluster()
    {
    }

    public IReadOnlyList<CliProcess> Workers => workers;

    /// <summary>The --cluster value: every worker's gateway.</summary>
    public string Gateways { get; private set; } = string.Empty;

    public static LocalCluster Start(ClusterProblem problem, int count)
    {
        var cluster = new LocalCluster();
        try
        {
            var ports = FreePorts.Take(2 * count);
            var primarySilo = ports[0];
            var gateways = new List<string>();
            for (var i = 0; i < count; i++)
            {
                var (silo, gateway) = (ports[2 * i], ports[2 * i + 1]);
                gateways.Add($"127.0.0.1:{gateway}");
                List<string> args =
                [
                    "worker", "--silo-port", $"{silo}", "--gateway-port", $"{gateway}", "--model", problem.Model, "--arch", ClusterProblem.Arch,
                    "--data", problem.Data, "--x-key", "x", "--y-key", "y", "--shard", $"{i}/{count}",
                ];
                if (i > 0)
                    args.AddRange(["--primary", $"127.0.0.1:{primarySilo}"]);
                cluster.workers.Add(CliProcess.Start($"worker {i}/{count}", [.. args]));
                // The primary holds the membership table: the others join it, so it must serve first.
                if (i == 0)
                    cluster.WaitReady(cluster.workers[0]);
            }
            foreach (var worker in cluster.workers.Skip(1))
                cluster.WaitReady(worker);
            cluster.Gateways = string.Join(",", gateways);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var worker in workers)
            worker.Dispose();
    }

    /// <summary>All workers' output, for failure messages.</summary>
    public string Output => string.Join("\n", workers.Select(w => $"--- {w.Name} ---\n{w.Output}"));

    private void WaitReady(CliProcess worker)
    {
        if (!worker.WaitForLine(WorkerCommand.ReadyPrefix, ReadyTimeout))
            throw new TimeoutException($"{worker.Name} did not print '{WorkerCommand.ReadyPrefix}' within {ReadyTimeout.TotalMinutes} min " +
                $"(exited: {worker.HasExited}).\n{Output}");
    }
}
