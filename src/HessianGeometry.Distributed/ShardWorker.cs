using HessianGeometry.Distributed.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace HessianGeometry.Distributed;

/// <summary>Starts a worker: an Orleans silo that loads the model and its shard and serves curvature products for it.</summary>
public static class ShardWorker
{
    /// <summary>Starts a silo serving <see cref="WorkerOptions.Shard"/>; returns once the silo is up and the shard is loaded.</summary>
    /// <param name="options">Model, data, shard and ports.</param>
    /// <param name="log">Where the worker logs (null: nowhere). Orleans' own messages are passed on from Warning up.</param>
    /// <param name="ct">Cancels the start.</param>
    /// <returns>The running host; stop and dispose it to end the worker.</returns>
    /// <exception cref="FileNotFoundException">The model or data file does not exist on this machine.</exception>
    /// <exception cref="ArgumentException">The model or data cannot be read as configured (the message says why).</exception>
    public static async Task<IHost> StartAsync(WorkerOptions options, ILogger? log = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Shard);
        foreach (var (path, what) in new[] { (options.ModelPath, "model"), (options.DataPath, "data") })
        {
            if (!File.Exists(path))
                throw new FileNotFoundException($"The {what} file '{path}' does not exist on this machine.", path);
        }
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (log is not null)
        {
            builder.Logging.AddProvider(new ForwardingLoggerProvider(log));
            builder.Logging.AddFilter("Orleans", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            // Orleans' placement retry pipeline logs every attempt at Information under Polly's category.
            builder.Logging.AddFilter("Polly", LogLevel.Warning);
        }
        builder.UseOrleans(silo =>
        {
            if (options.ConfigureSilo is { } configure)
            {
                silo.Configure<Orleans.Configuration.ClusterOptions>(o =>
                {
                    o.ClusterId = options.ClusterId;
                    o.ServiceId = options.ServiceId;
                });
                configure(silo);
            }
            else
            {
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, options.Primary, options.ServiceId, options.ClusterId);
            }
            silo.Services.AddSingleton(options);
            silo.AddPlacementDirector<ShardPlacementStrategy, ShardPlacementDirector>();
            // Faster failure detection than the defaults: a dead worker's shard moves to another worker sooner.
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(3);
                o.NumMissedProbesLimit = 2;
            });
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(ct).ConfigureAwait(false);
            var self = host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();
            var factory = host.Services.GetRequiredService<IGrainFactory>();
            var shard = await factory.GetGrain<IWorkerInfoGrain>(GrainKeys.Worker(self)).Describe(ct).ConfigureAwait(false);
            log?.LogInformation("Worker {Worker} serves shard {Shard}: samples [{Start}, {End}) of {Total}, {Parameters} parameters, model {ModelHash}.",
                self, options.Shard, shard.Start, shard.Start + shard.Length, shard.TotalSamples, shard.ParameterCount, shard.ModelHash[..12]);
            return host;
        }
        catch
        {
            try
            {
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                host.Dispose();
            }
            throw;
        }
    }
}
