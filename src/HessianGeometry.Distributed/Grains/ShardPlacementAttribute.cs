using Orleans.Placement;

namespace HessianGeometry.Distributed.Grains;

/// <summary>Marks a grain class for <see cref="ShardPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class ShardPlacementAttribute : PlacementAttribute
{
    public ShardPlacementAttribute()
        : base(ShardPlacementStrategy.Instance)
    {
    }
}
