using System.Net;

namespace HessianGeometry.Distributed;

/// <summary>What a worker silo serves: the model file, the data file and its shard, and where the silo listens.</summary>
public sealed record WorkerOptions
{
    /// <summary>A TorchScript file, or a safetensors state dict together with <see cref="Arch"/>.</summary>
    public required string ModelPath { get; init; }

    /// <summary>The "mlp:IN-H-…-OUT:ACT" architecture of a state dict (null for TorchScript, which carries its own).</summary>
    public string? Arch { get; init; }

    /// <summary>The safetensors data file; every worker (and the client) must be able to read the same file.</summary>
    public required string DataPath { get; init; }

    /// <summary>The inputs' tensor name in <see cref="DataPath"/>.</summary>
    public string XKey { get; init; } = "x";

    /// <summary>The targets' tensor name in <see cref="DataPath"/>.</summary>
    public string YKey { get; init; } = "y";

    /// <summary>The shard this worker loads at start (it can load any other shard when a worker holding it fails).</summary>
    public required ShardSpec Shard { get; init; }

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>Client gateway port.</summary>
    public int GatewayPort { get; init; } = 30000;

    /// <summary>The primary silo's silo endpoint; null: this silo is the primary (localhost development clustering).</summary>
    public IPEndPoint? Primary { get; init; }

    /// <summary>
    /// libtorch intra-op threads on each shard's thread (default 1, as the CLI). A thread's OpenMP setting is its own, so
    /// the worker sets it on the thread its products run on; with one thread the same call gives the same bits.
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>Orleans cluster id; client and workers must agree.</summary>
    public string ClusterId { get; init; } = "hessian-geometry";

    /// <summary>Orleans service id; client and workers must agree.</summary>
    public string ServiceId { get; init; } = "hessian-geometry";

    /// <summary>
    /// Replaces localhost development clustering: configure membership and endpoints yourself (e.g. UseAdoNetClustering
    /// or UseRedisClustering and ConfigureEndpoints(advertisedAddress, SiloPort, GatewayPort)) for workers on several
    /// machines. Null: UseLocalhostClustering(SiloPort, GatewayPort, Primary, ServiceId, ClusterId).
    /// </summary>
    public Action<Orleans.Hosting.ISiloBuilder>? ConfigureSilo { get; init; }
}
