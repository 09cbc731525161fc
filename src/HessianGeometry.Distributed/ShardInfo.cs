namespace HessianGeometry.Distributed;

/// <summary>One shard of the cluster as its workers describe it.</summary>
/// <param name="Shard">i/N.</param>
/// <param name="Start">First sample index in the data file.</param>
/// <param name="Length">n_shard, the number of samples.</param>
/// <param name="TotalSamples">n, the samples of the whole file.</param>
/// <param name="ParameterCount">The model's trainable parameter count on the worker.</param>
/// <param name="ModelHash">SHA-256 of the worker's model state (names, dtypes, shapes, values).</param>
/// <param name="DataHash">SHA-256 of the shard's rows of the inputs and targets as stored in the file.</param>
/// <param name="Worker">The silo address of the worker that loaded the shard at start.</param>
/// <param name="Replicas">Every worker that loaded this shard at start (the first is <paramref name="Worker"/>).</param>
public sealed record ShardInfo(
    ShardSpec Shard,
    long Start,
    long Length,
    long TotalSamples,
    long ParameterCount,
    string ModelHash,
    string DataHash,
    string Worker,
    IReadOnlyList<string> Replicas)
{
    // The compiler's record printer writes a list as its type name; the replicas are what a log reader needs to see.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"Shard = {Shard}, Start = {Start}, Length = {Length}, TotalSamples = {TotalSamples}, ParameterCount = {ParameterCount}, ModelHash = {ModelHash}, DataHash = {DataHash}, Worker = {Worker}, Replicas = [{string.Join(", ", Replicas)}]");
        return true;
    }
}
