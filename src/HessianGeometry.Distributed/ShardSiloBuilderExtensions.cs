using HessianGeometry.Distributed.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace HessianGeometry.Distributed;

/// <summary>
/// Makes any Orleans silo a worker: the services <see cref="ShardWorker"/> registers, without its host, clustering or
/// logging. For silos whose host someone else builds (Orleans' test cluster host, an application that hosts other grains
/// too); membership and endpoints stay the caller's.
/// </summary>
public static class ShardSiloBuilderExtensions
{
    /// <summary>Registers the shard grains, their placement and <paramref name="options"/> (model, data, shard) on this silo.</summary>
    /// <param name="silo">The silo to serve <see cref="WorkerOptions.Shard"/>.</param>
    /// <param name="options">Model, data and shard; the ports, Primary, ClusterId, ServiceId and ConfigureSilo are not used here.</param>
    /// <returns><paramref name="silo"/>.</returns>
    /// <exception cref="FileNotFoundException">The model or data file does not exist on this machine.</exception>
    public static ISiloBuilder AddHessianShard(this ISiloBuilder silo, WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Shard);
        EnsureFilesExist(options);
        silo.Services.AddSingleton(options);
        silo.AddPlacementDirector<ShardPlacementStrategy, ShardPlacementDirector>();
        // Faster failure detection than the defaults: a dead worker's shard moves to another worker sooner.
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(3);
            o.NumMissedProbesLimit = 2;
        });
        return silo;
    }

    /// <summary>Fails before a silo starts when a file it would load later is missing.</summary>
    internal static void EnsureFilesExist(WorkerOptions options)
    {
        foreach (var (path, what) in new[] { (options.ModelPath, "model"), (options.DataPath, "data") })
        {
            if (!File.Exists(path))
                throw new FileNotFoundException($"The {what} file '{path}' does not exist on this machine.", path);
        }
    }
}
