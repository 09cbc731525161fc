namespace HessianGeometry.Distributed.Grains;

/// <summary>Grain keys that name the silo they should run on ("…|silo"), read by <see cref="ShardPlacementDirector"/>.</summary>
internal static class GrainKeys
{
    public const char Separator = '|';

    public static string Shard(ShardSpec shard, string silo) => $"{shard}{Separator}{silo}";

    public static string Worker(string silo) => $"worker{Separator}{silo}";

    public static string SiloOf(string key)
    {
        var at = key.IndexOf(Separator, StringComparison.Ordinal);
        return at < 0 ? string.Empty : key[(at + 1)..];
    }

    public static ShardSpec ShardOf(string key)
    {
        var at = key.IndexOf(Separator, StringComparison.Ordinal);
        return ShardSpec.Parse(at < 0 ? key : key[..at]);
    }
}
