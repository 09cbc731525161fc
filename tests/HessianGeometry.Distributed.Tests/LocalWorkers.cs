using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// Several worker silos in this process on free localhost ports, started with the public <see cref="ShardWorker"/>
/// (the first is the primary of localhost development clustering), and a client connected to them.
/// </summary>
internal sealed class LocalWorkers : IAsyncDisposable
{
    private readonly List<IHost?> hosts = [];

    private LocalWorkers(string clusterId) => ClusterId = clusterId;

    public string ClusterId { get; }

    public IReadOnlyList<IPEndPoint> Gateways { get; private set; } = [];

    public static async Task<LocalWorkers> StartAsync(TestProblem problem, IEnumerable<string> shards, string? modelPath = null, IReadOnlyDictionary<int, string>? modelPerWorker = null)
    {
        var workers = new LocalWorkers("hg-test-" + Guid.NewGuid().ToString("N")[..8]);
        var gateways = new List<IPEndPoint>();
        IPEndPoint? primary = null;
        var index = 0;
        try
        {
            foreach (var shard in shards)
            {
                var siloPort = FreePort();
                var gatewayPort = FreePort();
                var options = new WorkerOptions
                {
                    ModelPath = modelPerWorker is not null && modelPerWorker.TryGetValue(index, out var m) ? m : modelPath ?? problem.ModelPath,
                    Arch = problem.ModelArch,
                    DataPath = problem.DataPath,
                    Shard = ShardSpec.Parse(shard),
                    SiloPort = siloPort,
                    GatewayPort = gatewayPort,
                    Primary = primary,
                    ClusterId = workers.ClusterId,
                    ServiceId = workers.ClusterId,
                };
                workers.hosts.Add(await ShardWorker.StartAsync(options));
                primary ??= new IPEndPoint(IPAddress.Loopback, siloPort);
                gateways.Add(new IPEndPoint(IPAddress.Loopback, gatewayPort));
                index++;
            }
        }
        catch
        {
            await workers.DisposeAsync();
            throw;
        }
        workers.Gateways = gateways;
        return workers;
    }

    public Task<HessianCluster> ConnectAsync(Func<ClusterOptions, ClusterOptions>? configure = null)
    {
        var options = new ClusterOptions { Gateways = Gateways, ClusterId = ClusterId, ServiceId = ClusterId, ProductTimeout = TimeSpan.FromSeconds(30) };
        return HessianCluster.ConnectAsync(configure?.Invoke(options) ?? options);
    }

    /// <summary>Stops worker <paramref name="index"/> (a graceful silo shutdown, as a worker whose process ends).</summary>
    public async Task StopAsync(int index)
    {
        if (hosts[index] is { } host)
        {
            hosts[index] = null;
            await host.StopAsync(TimeSpan.FromSeconds(20));
            host.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Secondaries first, the primary (membership) last.
        for (var i = hosts.Count - 1; i >= 0; i--)
        {
            try
            {
                await StopAsync(i);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
