namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>
/// The tests that start worker processes run alone, after the parallel ones: on the shared 2-core machine, workers that
/// start next to a dozen other tests take minutes instead of seconds.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WorkerProcessTests
{
    public const string Name = "worker processes";
}
