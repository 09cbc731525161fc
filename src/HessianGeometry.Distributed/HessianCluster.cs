using HessianGeometry.Distributed.Client;
using HessianGeometry.Distributed.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using OrleansClusterOptions = Orleans.Configuration.ClusterOptions;

namespace HessianGeometry.Distributed;

/// <summary>
/// A client connection to the workers: which shards they hold (checked to cover the data exactly once), and the
/// transport counters of everything summed over them. Every sum over the shards is taken in float64 in shard order, so
/// the same inputs give bitwise the same result; a shard whose worker fails is retried on the next worker that can load
/// it, and when none can, the whole call fails with <see cref="ClusterShardException"/> (never a partial sum).
/// </summary>
public sealed partial class HessianCluster : IAsyncDisposable
{
    private readonly IHost? host;
    private readonly IClusterClient client;
    private readonly IReadOnlyList<ShardRoute> routes;
    private readonly TransportCounters counters = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IShardGrain> answered = new(StringComparer.Ordinal);

    private HessianCluster(ClusterOptions options, IHost? host, IClusterClient client, IReadOnlyList<ShardRoute> routes, ShardDescription description)
    {
        Description = description;
        Options = options;
        this.host = host;
        this.client = client;
        this.routes = routes;
        Shards = routes.Select(r => r.Info).ToList();
    }

    /// <summary>Connects, lists the workers and checks that their shards cover the data exactly once with one model.</summary>
    /// <exception cref="ClusterShardException">A gap or overlap in the shards, or workers with different models or data.</exception>
    public static async Task<HessianCluster> ConnectAsync(ClusterOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if ((options.Gateways is null || options.Gateways.Count == 0) && options.ConfigureClient is null)
            throw new ArgumentException("ClusterOptions.Gateways is empty: pass the gateway endpoint (host:port) of at least one worker.", nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxChunkBytes, 64, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxRetries, nameof(options));
        if (options.ProductTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), options.ProductTimeout, "ProductTimeout must be positive.");
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(c =>
        {
            if (options.ConfigureClient is { } configure)
                configure(c);
            else
                c.UseStaticClustering(options.Gateways!.ToArray());
            c.Configure<OrleansClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            // The client's own timeout per shard call is ProductTimeout; Orleans' must not fire first.
            c.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = options.ProductTimeout + TimeSpan.FromSeconds(30));
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(ct).ConfigureAwait(false);
            return await AttachAsync(options, host, host.Services.GetRequiredService<IClusterClient>(), ct).ConfigureAwait(false);
        }
        catch
        {
            await StopAsync(host).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Uses a client that is already connected and owned by someone else (Orleans' in-process test cluster host, whose
    /// silos are not reachable through TCP gateways); disposing the result leaves that client running.
    /// <see cref="ClusterOptions.Gateways"/> and <see cref="ClusterOptions.ConfigureClient"/> are not used.
    /// </summary>
    internal static Task<HessianCluster> ConnectAsync(IClusterClient client, ClusterOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        return AttachAsync(options, null, client, ct);
    }

    private static async Task<HessianCluster> AttachAsync(ClusterOptions options, IHost? host, IClusterClient client, CancellationToken ct)
    {
        var silos = await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true, ct).ConfigureAwait(false);
        var addresses = silos.Keys.Select(s => s.ToParsableString()).Order(StringComparer.Ordinal).ToList();
        var descriptions = await Task.WhenAll(addresses.Select(async a =>
        {
            try
            {
                return await client.GetGrain<IWorkerInfoGrain>(GrainKeys.Worker(a)).Describe(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new ClusterShardException(null, a, $"Worker {a} did not describe its shard: {ex.Message}", ex);
            }
        })).ConfigureAwait(false);
        return new HessianCluster(options, host, client, ShardCoverage.Check(descriptions), descriptions[0]);
    }

    /// <summary>One worker's description: the data file and keys every worker reads.</summary>
    internal ShardDescription Description { get; }

    /// <summary>The options this client connected with.</summary>
    public ClusterOptions Options { get; }

    /// <summary>The shards in sample order (empty shards, when n &lt; N, are left out).</summary>
    public IReadOnlyList<ShardInfo> Shards { get; }

    /// <summary>n, the samples of the whole data file.</summary>
    public long TotalSamples => Shards[0].TotalSamples;

    /// <summary>Payload bytes, products, chunks and retries so far.</summary>
    public TransportStatistics Transport => counters.Snapshot();

    /// <summary>
    /// The curvature operator of <paramref name="kind"/> over the cluster, for <paramref name="risk"/>'s configuration
    /// (loss, precision, parameters, batch size) — what <see cref="ClusterAnalysisExtensions.OnCluster"/> gives an
    /// analysis; for benchmarks and custom solvers. The risk must run over the cluster's n samples (its products are never
    /// computed locally).
    /// </summary>
    public Operators.CurvatureOperator CreateOperator(Operators.EmpiricalRisk risk, Operators.CurvatureKind kind, Operators.CurvatureOptions? options = null, CancellationToken ct = default) =>
        new ClusterOperatorFactory(this).Create(risk, kind, options ?? new Operators.CurvatureOptions(), ct);

    /// <summary>Closes the client connection (the workers keep running); a client passed in by its owner stays open.</summary>
    public async ValueTask DisposeAsync()
    {
        if (host is not null)
            await StopAsync(host).ConfigureAwait(false);
    }

    /// <summary>Builds (or finds) every shard's operator for <paramref name="config"/>; all must agree on p.</summary>
    internal async Task<PreparedOperator[]> PrepareAsync(OperatorConfig config, CancellationToken ct) =>
        await Task.WhenAll(routes.Select(r => Call(r, (g, t) => g.Prepare(config, t), ct))).ConfigureAwait(false);

    /// <summary>The mean loss and accuracy: Σ_s (Σ_{i∈s} ℓ_i) / n, summed in shard order.</summary>
    internal async Task<(double Loss, double? Accuracy)> LossAndAccuracyAsync(OperatorConfig config, CancellationToken ct)
    {
        var sums = await Task.WhenAll(routes.Select(r => Call(r, (g, t) => g.LossSums(config, t), ct))).ConfigureAwait(false);
        var total = 0.0;
        long correct = 0;
        foreach (var s in sums)
        {
            total += s.LossSum;
            correct += s.Correct;
        }
        var n = (double)TotalSamples;
        return (total / n, sums.All(s => s.Classification) ? correct / n : null);
    }

    /// <summary>
    /// Σ_s (n_s/n) · M_s where M_s is shard s's mean product with <paramref name="rows"/> (k rows of p raw values) or, with
    /// <paramref name="gradient"/>, its mean gradient; in float64, in shard order.
    /// </summary>
    internal async Task<double[]> WeightedSumAsync(OperatorConfig config, byte[] rows, int columns, long length, bool gradient, CancellationToken ct)
    {
        if (!gradient)
            counters.Products(columns);
        var parts = await Task.WhenAll(routes.Select(r => Call(r, (g, t) => ProductOn(g, config, rows, columns, gradient, t), ct))).ConfigureAwait(false);
        var sum = new double[length];
        for (var s = 0; s < routes.Count; s++)
            Payload.AddScaled(sum, parts[s], config.Float64, routes[s].Weight);
        return sum;
    }

    private async Task<byte[]> ProductOn(IShardGrain grain, OperatorConfig config, byte[] rows, int columns, bool gradient, CancellationToken ct)
    {
        var chunk = Options.MaxChunkBytes;
        var request = new ProductRequest { Columns = columns, MaxChunkBytes = chunk, Gradient = gradient };
        if (gradient)
        {
            // nothing to send
        }
        else if (rows.Length <= chunk)
        {
            request = request with { Inline = rows };
            counters.Sent(rows.Length);
        }
        else
        {
            var id = Guid.NewGuid();
            for (long offset = 0; offset < rows.LongLength; offset += chunk)
            {
                ct.ThrowIfCancellationRequested();
                var piece = rows.AsSpan((int)offset, (int)Math.Min(chunk, rows.LongLength - offset)).ToArray();
                await grain.Upload(id, rows.LongLength, offset, piece).ConfigureAwait(false);
                counters.Sent(piece.Length);
            }
            request = request with { Transfer = id };
        }
        var reply = await grain.Apply(config, request, ct).ConfigureAwait(false);
        if (reply.Inline is { } inline)
        {
            counters.Received(inline.Length);
            return inline;
        }
        var result = new byte[reply.TotalBytes];
        for (long offset = 0; offset < result.LongLength; offset += chunk)
        {
            ct.ThrowIfCancellationRequested();
            var piece = await grain.Download(reply.Transfer, offset, chunk).ConfigureAwait(false);
            piece.CopyTo(result, offset);
            counters.Received(piece.Length);
        }
        await grain.Release(reply.Transfer).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Asks every shard grain that has answered (the first workers and any that took a shard over) to dispose its operator
    /// for <paramref name="config"/>, without waiting: the next operator has another <see cref="OperatorConfig.Instance"/>,
    /// and a worker that is gone has nothing left to release.
    /// </summary>
    internal void ReleaseOperators(OperatorConfig config)
    {
        foreach (var grain in answered.Values)
            _ = ReleaseQuietly(grain, config);
    }

    private static async Task ReleaseQuietly(IShardGrain grain, OperatorConfig config)
    {
        try
        {
            await grain.ReleaseOperator(config).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Best effort by design (see ReleaseOperators).
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> for one shard on its first worker; on a failure or timeout, on the next (at most
    /// MaxRetries more); then fails naming the shard. The caller's cancellation is passed to the worker and never retried.
    /// </summary>
    private async Task<T> Call<T>(ShardRoute route, Func<IShardGrain, CancellationToken, Task<T>> call, CancellationToken ct)
    {
        Exception? last = null;
        string? lastWorker = null;
        var attempts = Math.Min(route.Candidates.Count, Options.MaxRetries + 1);
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            var worker = route.Candidates[attempt];
            if (attempt > 0)
                counters.Retry();
            counters.ShardCall();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(Options.ProductTimeout);
            try
            {
                var key = GrainKeys.Shard(route.Info.Shard, worker);
                var grain = client.GetGrain<IShardGrain>(key);
                var result = await call(grain, timeout.Token).ConfigureAwait(false);
                answered.TryAdd(key, grain);
                return result;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && IsWorkerFailure(ex))
            {
                last = ex is OperationCanceledException ? new TimeoutException($"No answer within {Options.ProductTimeout}.", ex) : ex;
                lastWorker = worker;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && ex is not ClusterShardException)
            {
                throw new ClusterShardException(route.Info.Shard, worker, $"The computation of shard {route.Info.Shard} failed on worker {worker}: {ex.Message}", ex);
            }
        }
        throw new ClusterShardException(route.Info.Shard, lastWorker,
            $"No worker could compute shard {route.Info.Shard} (samples [{route.Info.Start}, {route.Info.Start + route.Info.Length})): {attempts} worker(s) tried, the last ({lastWorker}) failed with {last?.GetType().Name}: {last?.Message} " +
            "No partial sum was used. Restart the worker or add another, then rerun.", last!);
    }

    /// <summary>Failures of the worker or the network (retried elsewhere), as opposed to errors in the computation (not retried).</summary>
    private static bool IsWorkerFailure(Exception ex) => ex is OrleansException or TimeoutException or OperationCanceledException
        or System.Net.Sockets.SocketException or IOException or ObjectDisposedException
        || (ex is InvalidOperationException && ex.Message.Contains("restarted", StringComparison.Ordinal));

    private static async Task StopAsync(IHost host)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await host.StopAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            host.Dispose();
        }
    }
}
