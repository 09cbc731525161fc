using System.Net;

namespace HessianGeometry.Distributed;

/// <summary>How a client reaches the workers and how long it waits for them.</summary>
public sealed record ClusterOptions
{
    /// <summary>Gateway endpoints of one or more workers (each worker's <see cref="WorkerOptions.GatewayPort"/>); may be empty with <see cref="ConfigureClient"/>.</summary>
    public required IReadOnlyList<IPEndPoint> Gateways { get; init; }

    /// <summary>Orleans cluster id; must equal the workers'.</summary>
    public string ClusterId { get; init; } = "hessian-geometry";

    /// <summary>Orleans service id; must equal the workers'.</summary>
    public string ServiceId { get; init; } = "hessian-geometry";

    /// <summary>
    /// How long one shard's part of one product (or loss, gradient, shard load) may take before the worker is treated as
    /// failed and the shard is retried on another worker.
    /// </summary>
    public TimeSpan ProductTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Largest payload of one grain call, in bytes: vectors and blocks above it travel in chunks (Orleans refuses
    /// messages above its MaxMessageBodySize, 100 MB by default).
    /// </summary>
    public int MaxChunkBytes { get; init; } = 8 << 20;

    /// <summary>How many other workers a failed shard call is retried on before <see cref="ClusterShardException"/>.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>
    /// Replaces UseStaticClustering(Gateways): configure the client's membership provider yourself (the same one the
    /// workers use, e.g. UseAdoNetClustering). Null: the static gateway list. ClusterId and ServiceId are still applied.
    /// </summary>
    public Action<Orleans.Hosting.IClientBuilder>? ConfigureClient { get; init; }
}
