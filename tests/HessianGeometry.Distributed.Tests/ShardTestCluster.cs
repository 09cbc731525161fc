using Orleans.TestingHost;

namespace HessianGeometry.Distributed.Tests;

/// <summary>
/// Orleans' in-process test cluster host with one worker per silo: silo i ("Silo_i") serves shard i of the list, registered
/// with <see cref="ShardSiloBuilderExtensions.AddHessianShard"/>; membership, ports and the test client are the host's.
/// </summary>
internal sealed class ShardTestCluster : IAsyncDisposable
{
    private const string SiloNamePrefix = "Silo_";

    private ShardTestCluster(InProcessTestCluster host) => Host = host;

    public InProcessTestCluster Host { get; }

    public static async Task<ShardTestCluster> StartAsync(TestProblem problem, IReadOnlyList<string> shards)
    {
        var specs = shards.Select(ShardSpec.Parse).ToArray();
        var builder = new InProcessTestClusterBuilder((short)specs.Length);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((silo, siloBuilder) => siloBuilder.AddHessianShard(new WorkerOptions
        {
            ModelPath = problem.ModelPath,
            Arch = problem.ModelArch,
            DataPath = problem.DataPath,
            Shard = specs[InstanceOf(silo.SiloName)],
        }));
        var host = builder.Build();
        try
        {
            await host.DeployAsync();
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return new ShardTestCluster(host);
    }

    /// <summary>The silo started as instance <paramref name="instance"/> (the one serving shard <paramref name="instance"/> of the list).</summary>
    public InProcessSiloHandle Silo(int instance) => Host.Silos.Single(s => s.Name == SiloNamePrefix + instance);

    /// <summary>
    /// A <see cref="HessianCluster"/> on the test host's own client (the host's silos talk over its in-process transport,
    /// not TCP gateways, so a client of our own cannot reach them).
    /// </summary>
    public Task<HessianCluster> ConnectAsync() => HessianCluster.ConnectAsync(Host.Client, new ClusterOptions
    {
        Gateways = [],
        ClusterId = Host.Options.ClusterId,
        ServiceId = Host.Options.ServiceId,
        ProductTimeout = TimeSpan.FromSeconds(20),
    });

    public ValueTask DisposeAsync() => Host.DisposeAsync();

    private static int InstanceOf(string siloName) =>
        siloName.StartsWith(SiloNamePrefix, StringComparison.Ordinal) && int.TryParse(siloName.AsSpan(SiloNamePrefix.Length), out var i)
            ? i
            : throw new InvalidOperationException($"Unexpected test silo name '{siloName}': expected '{SiloNamePrefix}<instance>'.");
}
