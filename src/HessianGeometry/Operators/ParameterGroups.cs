using HessianGeometry.Internal;

namespace HessianGeometry.Operators;

/// <summary>
/// Splits a <see cref="ParameterSpace"/> into per-module groups for per-layer analyses.
/// </summary>
public static class ParameterGroups
{
    /// <summary>
    /// Groups the parameters by the module that owns them: the module name of a parameter is its name up to the last
    /// dot (<c>0.weight</c>, <c>0.bias</c> → <c>0</c>; <c>features.conv1.weight</c> → <c>features.conv1</c>); a parameter
    /// owned by the root module (no dot) forms a group named after itself. Names are the ones
    /// <see cref="ParameterSpace.Names"/> holds, so eager modules and TorchScript models (whose names
    /// <c>TorchScriptModel</c> takes from the script, as PyTorch spells them) group alike. Groups are listed in the order
    /// of their first parameter in θ; a group's coordinates need not be contiguous.
    /// </summary>
    /// <param name="space">The parameter space, e.g. <see cref="CurvatureOperator.Parameters"/>.</param>
    public static IReadOnlyList<ParameterGroup> ByModule(ParameterSpace space)
    {
        Guard.NotNull(space, nameof(space));
        var order = new List<string>();
        var members = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < space.Names.Count; i++)
        {
            var module = ModuleOf(space.Names[i]);
            if (!members.TryGetValue(module, out var list))
            {
                members[module] = list = [];
                order.Add(module);
            }
            list.Add(i);
        }
        return order.Select(module => Group(space, module, members[module])).ToList();
    }

    /// <summary>The module part of a parameter name: everything before the last dot, or the whole name when there is none.</summary>
    public static string ModuleOf(string parameterName)
    {
        Guard.NotNull(parameterName, nameof(parameterName));
        var dot = parameterName.LastIndexOf('.');
        return dot > 0 ? parameterName[..dot] : parameterName;
    }

    private static ParameterGroup Group(ParameterSpace space, string module, List<int> indices)
    {
        var ranges = new List<(long Start, long Length)>();
        foreach (var i in indices)
        {
            var start = space.OffsetOf(i);
            var length = space.Shapes[i].Aggregate(1L, (a, b) => a * b);
            if (ranges.Count > 0 && ranges[^1].Start + ranges[^1].Length == start)
                ranges[^1] = (ranges[^1].Start, ranges[^1].Length + length);
            else
                ranges.Add((start, length));
        }
        return new ParameterGroup(module, indices.Select(i => space.Names[i]).ToList(), ranges);
    }
}
