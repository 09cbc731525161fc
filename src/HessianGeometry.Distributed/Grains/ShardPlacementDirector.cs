using Orleans.Runtime.Placement;

namespace HessianGeometry.Distributed.Grains;

/// <summary>
/// Puts "…|silo" grains on the named silo while it is compatible (alive), else on a random compatible silo: a shard whose
/// worker died is then loaded by another worker from the shared data file.
/// </summary>
internal sealed class ShardPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        if (silos.Length == 0)
            throw new OrleansException($"No silo can host {target.GrainIdentity}.");
        var wanted = GrainKeys.SiloOf(target.GrainIdentity.Key.ToString() ?? string.Empty);
        var match = silos.FirstOrDefault(s => s.ToParsableString() == wanted);
        return Task.FromResult(match ?? silos[Random.Shared.Next(silos.Length)]);
    }
}
