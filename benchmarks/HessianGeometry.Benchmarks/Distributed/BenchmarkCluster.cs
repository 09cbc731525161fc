using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using HessianGeometry.Distributed;
using HessianGeometry.Interop;
using Microsoft.Extensions.Hosting;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.Distributed;

/// <summary>
/// Worker silos hosted in this process (or, with HG_CLUSTER_WORKERS=processes, <c>hessian-geometry worker</c> child
/// processes) for <see cref="ClusterProductBenchmarks"/>: a one-shard cluster and a two-shard cluster over the same
/// files, each with its own client. They are started once per problem (BenchmarkDotNet calls
/// [GlobalSetup] once per case) and stopped by Program.cs after the run, every step under a time limit so that a silo
/// that does not start or stop fails the run instead of hanging it.
/// </summary>
internal sealed class BenchmarkCluster
{
    /// <summary>Start or connect; minutes on the loaded 2-core machine, seconds otherwise.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(3);

    private static readonly ConcurrentDictionary<string, BenchmarkCluster> Running = new();

    private readonly List<IHost> silos = [];
    private readonly List<WorkerProcess> processes = [];

    /// <summary>HG_CLUSTER_WORKERS=processes: the workers run as <c>hessian-geometry worker</c> child processes instead of silos in this process.</summary>
    public static bool UseProcesses => string.Equals(Environment.GetEnvironmentVariable("HG_CLUSTER_WORKERS"), "processes", StringComparison.OrdinalIgnoreCase);

    private BenchmarkCluster(string folder) => Folder = folder;

    /// <summary>model.safetensors and data.safetensors (keys x, y), which the silos read.</summary>
    public string Folder { get; }

    /// <summary>Client of the one-silo cluster (shard 0/1).</summary>
    public HessianCluster OneShard { get; private set; } = null!;

    /// <summary>Client of the two-silo cluster (shards 0/2 and 1/2).</summary>
    public HessianCluster TwoShards { get; private set; } = null!;

    /// <summary>The clusters for <paramref name="key"/>, started on first use from the model and data that <paramref name="write"/> saves.</summary>
    public static BenchmarkCluster For(string key, Action<string, string> write) =>
        Running.GetOrAdd(key, _ => Start(write));

    /// <summary>Disconnects every client and stops every silo (each bounded by the step timeout).</summary>
    public static void StopAll()
    {
        foreach (var (key, cluster) in Running)
        {
            Running.TryRemove(key, out _);
            cluster.Stop();
        }
    }

    private static BenchmarkCluster Start(Action<string, string> write)
    {
        var cluster = new BenchmarkCluster(Directory.CreateTempSubdirectory("hg-bench-cluster-").FullName);
        try
        {
            var model = Path.Combine(cluster.Folder, "model.safetensors");
            var data = Path.Combine(cluster.Folder, "data.safetensors");
            write(model, data);
            var ports = FreePorts(6);
            WorkerOptions Worker(int shard, int count, int port, IPEndPoint? primary, string id) => new()
            {
                ModelPath = model, Arch = ClusterProductBenchmarks.Arch, DataPath = data, XKey = "x", YKey = "y", Shard = new ShardSpec(shard, count),
                SiloPort = ports[port], GatewayPort = ports[port + 1], Primary = primary, ClusterId = id, ServiceId = id,
            };
            if (UseProcesses)
            {
                // The CLI's workers use the default cluster and service ids; the two clusters are told apart by their primaries.
                var cli = WorkerProcess.FindCli();
                string[] Args(int shard, int count, int port, int? primary) =>
                    [.. new[] { "--silo-port", $"{ports[port]}", "--gateway-port", $"{ports[port + 1]}", "--model", model, "--arch", ClusterProductBenchmarks.Arch,
                        "--data", data, "--x-key", "x", "--y-key", "y", "--shard", $"{shard}/{count}" },
                     .. primary is { } p ? new[] { "--primary", $"127.0.0.1:{ports[p]}" } : []];
                cluster.processes.Add(WorkerProcess.Start(cli, StepTimeout, Args(0, 1, 0, null)));
                cluster.processes.Add(WorkerProcess.Start(cli, StepTimeout, Args(0, 2, 2, null)));
                cluster.processes.Add(WorkerProcess.Start(cli, StepTimeout, Args(1, 2, 4, 2)));
                cluster.OneShard = Wait(HessianCluster.ConnectAsync(Client("hessian-geometry", ports[1])));
                cluster.TwoShards = Wait(HessianCluster.ConnectAsync(Client("hessian-geometry", ports[3], ports[5])));
                return cluster;
            }
            cluster.silos.Add(Wait(ShardWorker.StartAsync(Worker(0, 1, 0, null, "bench-one"))));
            cluster.silos.Add(Wait(ShardWorker.StartAsync(Worker(0, 2, 2, null, "bench-two"))));
            cluster.silos.Add(Wait(ShardWorker.StartAsync(Worker(1, 2, 4, new IPEndPoint(IPAddress.Loopback, ports[2]), "bench-two"))));
            cluster.OneShard = Wait(HessianCluster.ConnectAsync(Client("bench-one", ports[1])));
            cluster.TwoShards = Wait(HessianCluster.ConnectAsync(Client("bench-two", ports[3], ports[5])));
            return cluster;
        }
        catch
        {
            cluster.Stop();
            throw;
        }
    }

    private static ClusterOptions Client(string id, params int[] gateways) => new()
    {
        Gateways = gateways.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToList(),
        ClusterId = id,
        ServiceId = id,
    };

    private void Stop()
    {
        foreach (var client in new[] { OneShard, TwoShards }.Where(c => c is not null))
            Wait(client.DisposeAsync().AsTask(), throwOnTimeout: false);
        foreach (var silo in silos)
        {
            Wait(silo.StopAsync(), throwOnTimeout: false);
            silo.Dispose();
        }
        silos.Clear();
        foreach (var process in processes)
            process.Dispose();
        processes.Clear();
        Directory.Delete(Folder, recursive: true);
    }

    private static T Wait<T>(Task<T> task)
    {
        Wait((Task)task);
        return task.Result;
    }

    private static void Wait(Task task, bool throwOnTimeout = true)
    {
        if (!task.Wait(StepTimeout) && throwOnTimeout)
            throw new TimeoutException($"A benchmark silo or client did not start within {StepTimeout.TotalMinutes} min.");
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    /// <summary>Writes a state dict and a data set the silos read.</summary>
    public static void Save(string modelPath, nn.Module model, string dataPath, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        SafetensorsWriter.Write(modelPath, model.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter.detach()));
        SafetensorsWriter.Write(dataPath, new Dictionary<string, Tensor> { ["x"] = x.contiguous(), ["y"] = y.contiguous() });
    }
}
