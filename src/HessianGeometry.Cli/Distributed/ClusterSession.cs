using System.Globalization;
using HessianGeometry.Analysis;
using HessianGeometry.Distributed;
using Spectre.Console;

namespace HessianGeometry.Cli.Distributed;

/// <summary>
/// <c>analyze --cluster</c>: the connection to the workers for one analysis, what the console says about it (the shards
/// when connected, the bytes per product at the end), and its release when the command ends.
/// </summary>
internal sealed class ClusterSession : IDisposable
{
    private readonly HessianCluster cluster;

    private ClusterSession(HessianCluster cluster) => this.cluster = cluster;

    /// <summary>
    /// The cluster options for <c>--cluster</c>, or null for a local analysis. <c>--data</c> and <c>--cluster</c> exclude
    /// each other: a local file next to a cluster would leave it unclear which samples the report describes.
    /// </summary>
    public static ClusterOptions? Options(string? gateways, string? data, double? productTimeoutSeconds)
    {
        if (gateways is null)
        {
            if (productTimeoutSeconds is not null)
                throw new ArgumentException("--product-timeout applies only with --cluster; drop it for a local analysis.");
            return data is null
                ? throw new ArgumentException("Pass --data FILE (the samples to analyse), or --cluster HOST:PORT to analyse on hessian-geometry workers that hold the data.")
                : null;
        }
        if (data is not null)
            throw new ArgumentException("--data and --cluster exclude each other: with --cluster the workers read the data (their --data and --shard). Drop --data.");
        var defaults = new ClusterOptions { Gateways = [] };
        var timeout = defaults.ProductTimeout;
        if (productTimeoutSeconds is { } seconds)
        {
            if (!double.IsFinite(seconds) || seconds <= 0)
                throw new ArgumentException($"--product-timeout must be a positive number of seconds but was {seconds.ToString(CultureInfo.InvariantCulture)}.");
            timeout = TimeSpan.FromSeconds(seconds);
        }
        return defaults with { Gateways = Endpoints.ParseList(gateways, "--cluster"), ProductTimeout = timeout };
    }

    /// <summary>
    /// How long connecting may take. Orleans' client keeps trying an unreachable gateway for minutes; a worker that is up
    /// answers in seconds even on a loaded machine.
    /// </summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Connects (blocking: the commands run synchronously) and lists the shards on the console.</summary>
    public static ClusterSession Connect(ClusterOptions options, CancellationToken ct)
    {
        var gateways = string.Join(", ", options.Gateways);
        AnsiConsole.WriteLine($"Connecting to {gateways} …");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ConnectTimeout);
        HessianCluster cluster;
        try
        {
            cluster = HessianCluster.ConnectAsync(options, timeout.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new ClusterConnectionException(Unreachable(gateways, $"no answer within {ConnectTimeout.TotalSeconds:0} s"), ex);
        }
        catch (Orleans.Runtime.Messaging.ConnectionFailedException ex)
        {
            throw new ClusterConnectionException(Unreachable(gateways, ex.Message), ex);
        }
        var shards = cluster.Shards;
        var first = shards.Count > 0 ? shards[0] : null;
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Cluster: {shards.Count} shard(s) covering {shards.Sum(s => s.Length)} of {first?.TotalSamples ?? 0} samples, model {Short(first?.ModelHash)}."));
        foreach (var shard in shards)
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  shard {shard.Shard.Index}/{shard.Shard.Count}: samples [{shard.Start}, {shard.Start + shard.Length}) on {string.Join(", ", shard.Replicas)}, data {Short(shard.DataHash)}"));
        return new ClusterSession(cluster);
    }

    /// <summary>Makes the builder's data the union of the workers' shards (mini-batches of <paramref name="batchSize"/> on each worker).</summary>
    public void Attach(HessianAnalysisBuilder builder, int? batchSize) => builder.OnCluster(cluster, batchSize);

    /// <summary>One sentence with the measured transport (payload bytes per product), for the console and report.md's notes.</summary>
    public string TransportNote()
    {
        var t = cluster.Transport;
        var retries = t.Retries == 0 ? "no retries" : $"{t.Retries} shard call(s) retried on another worker";
        var geometry = t.GeometryCalls == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $"; per-sample geometry on the workers: {t.GeometryCalls} request(s), {t.GeometryBytesSent:N0} B sent, {t.GeometryBytesReceived:N0} B received");
        return string.Create(CultureInfo.InvariantCulture,
            $"Cluster transport: {t.Products} products over {cluster.Shards.Count} shard(s), {t.BytesPerProduct:N0} bytes per product " +
            $"({t.BytesSent:N0} B sent, {t.BytesReceived:N0} B received in {t.Chunks} payload messages, {t.ShardCalls} shard calls){geometry}, {retries}.");
    }

    private static string Unreachable(string gateways, string reason) =>
        $"No hessian-geometry worker answered at {gateways} ({reason}). Start the workers first and wait for their 'worker ready:' line; " +
        "--cluster takes their --gateway-port, not the silo port.";

    private static string Short(string? hash) => hash is null ? "?" : hash.Length > 12 ? hash[..12] : hash;

    /// <summary>Leaves the cluster (the workers keep running).</summary>
    public void Dispose() => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
