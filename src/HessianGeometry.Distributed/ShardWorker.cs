using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HessianGeometry.Distributed;

/// <summary>Starts a worker: an Orleans silo that loads the model and its shard and serves curvature products for it.</summary>
public static class ShardWorker
{
    /// <summary>Starts a silo serving <see cref="WorkerOptions.Shard"/>; returns once the silo is up and the shard is loaded.</summary>
    /// <param name="options">Model, data, shard and ports.</param>
    /// <param name="log">Where the worker logs (null: nowhere).</param>
    /// <param name="ct">Cancels the start.</param>
    /// <returns>The running host; stop and dispose it to end the worker.</returns>
    public static Task<IHost> StartAsync(WorkerOptions options, ILogger? log = null, CancellationToken ct = default) =>
        throw new NotImplementedException();
}
