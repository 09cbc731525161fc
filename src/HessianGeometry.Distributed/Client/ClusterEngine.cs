using HessianGeometry.Operators;
using HessianGeometry.Operators.Engines;

namespace HessianGeometry.Distributed.Client;

/// <summary>
/// Stands in for the workers' engine on the client: it carries their engine's name into reports, and it cannot prepare
/// a batch here, because the client has no business computing a product locally (that would be a second, silent path).
/// </summary>
internal sealed class ClusterEngine(string name) : ICurvatureEngine
{
    public string Name { get; } = name;

    public IBatchCurvature Prepare(RiskBatch batch) =>
        throw new NotSupportedException("The products of a cluster operator run on the workers; the client does not prepare batches.");
}
