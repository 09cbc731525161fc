namespace HessianGeometry.Distributed.Grains;

/// <summary>Places a grain on the silo its key names, or on a random live silo when that one is gone.</summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
internal sealed class ShardPlacementStrategy : PlacementStrategy
{
    public static ShardPlacementStrategy Instance { get; } = new();
}
