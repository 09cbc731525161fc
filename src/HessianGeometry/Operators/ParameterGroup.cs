namespace HessianGeometry.Operators;

/// <summary>
/// One module's parameters inside a <see cref="ParameterSpace"/>: its name, the parameters it holds and the coordinates
/// of the flat vector θ they occupy (one range per parameter, merged where adjacent). A group's diagonal block of a
/// curvature matrix is <see cref="SubmatrixOperator"/>; see <see cref="ParameterGroups.ByModule"/> for the grouping rule.
/// </summary>
/// <param name="Name">The module name, e.g. <c>0</c> or <c>features.conv1</c>.</param>
/// <param name="ParameterNames">The parameters of the group, in flat-vector order (e.g. <c>0.weight</c>, <c>0.bias</c>).</param>
/// <param name="Ranges">Coordinate ranges [Start, Start + Length) of θ, ascending and disjoint.</param>
public sealed record ParameterGroup(string Name, IReadOnlyList<string> ParameterNames, IReadOnlyList<(long Start, long Length)> Ranges)
{
    /// <summary>Number of scalar parameters in the group (the dimension of its diagonal block).</summary>
    public long Size => Ranges.Sum(r => r.Length);
}
