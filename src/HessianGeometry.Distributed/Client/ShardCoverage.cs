using HessianGeometry.Distributed.Grains;

namespace HessianGeometry.Distributed.Client;

/// <summary>
/// Turns the workers' descriptions into shards that cover the data exactly once: one file, one model, every sample in
/// exactly one shard (replicas of a shard are fine and become retry targets), or a <see cref="ClusterShardException"/>
/// that says what is missing or doubled.
/// </summary>
internal static class ShardCoverage
{
    public static IReadOnlyList<ShardRoute> Check(IReadOnlyList<ShardDescription> workers)
    {
        if (workers.Count == 0)
            throw new ClusterShardException(null, null, "The cluster has no workers. Start at least one worker (hessian-geometry worker … --shard 0/1) and connect to its gateway.");
        var first = workers[0];
        foreach (var w in workers)
        {
            if (w.TotalSamples != first.TotalSamples || w.DataPath != first.DataPath || w.XKey != first.XKey || w.YKey != first.YKey)
            {
                throw new ClusterShardException(new ShardSpec(w.Index, w.Count), w.Worker,
                    $"Worker {w.Worker} (shard {w.Index}/{w.Count}) reads {w.DataPath} [{w.XKey}, {w.YKey}] with {w.TotalSamples} samples, but worker {first.Worker} reads {first.DataPath} [{first.XKey}, {first.YKey}] with {first.TotalSamples}. Start every worker on the same data file and keys.");
            }
            if (w.ModelHash != first.ModelHash)
            {
                throw new ClusterShardException(new ShardSpec(w.Index, w.Count), w.Worker,
                    $"Worker {w.Worker} (shard {w.Index}/{w.Count}) has a different model (weights hash {w.ModelHash[..12]}…) than worker {first.Worker} ({first.ModelHash[..12]}…). Start every worker on the same model file.");
            }
        }
        var routes = new List<ShardRoute>();
        var allWorkers = workers.Select(w => w.Worker).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var group in workers.GroupBy(w => (w.Start, w.Length)).OrderBy(g => g.Key.Start).ThenBy(g => g.Key.Length))
        {
            var replicas = group.Select(w => w.Worker).Distinct().Order(StringComparer.Ordinal).ToList();
            var d = group.First();
            var hashes = group.Select(w => w.DataHash).Distinct().ToList();
            if (hashes.Count > 1)
                throw new ClusterShardException(new ShardSpec(d.Index, d.Count), replicas[1], $"The workers holding shard {d.Index}/{d.Count} read different data for it. Start every worker on the same data file.");
            var info = new ShardInfo(new ShardSpec(d.Index, d.Count), d.Start, d.Length, d.TotalSamples, d.ParameterCount, d.ModelHash, d.DataHash, replicas[0], replicas);
            routes.Add(new ShardRoute(info, replicas.Concat(allWorkers.Except(replicas)).ToList()));
        }
        long next = 0;
        foreach (var r in routes)
        {
            var s = r.Info;
            if (s.Start > next)
                throw new ClusterShardException(null, null, $"No worker holds samples [{next}, {s.Start}) of the {s.TotalSamples} in the data file (a gap before shard {s.Shard} on {s.Worker}). Start a worker for the missing shard.");
            if (s.Start < next)
                throw new ClusterShardException(s.Shard, s.Worker, $"The samples [{s.Start}, {s.Start + s.Length}) of shard {s.Shard} on {s.Worker} overlap another shard that already covers samples up to {next}: those samples would count twice. Give every worker a shard of one partition (i/N with the same N, or ranges that do not overlap).");
            next = s.Start + s.Length;
        }
        if (next != first.TotalSamples)
            throw new ClusterShardException(null, null, $"No worker holds samples [{next}, {first.TotalSamples}) of the data file. Start a worker for the missing shard.");
        return routes.Where(r => r.Info.Length > 0).ToList();
    }
}
