using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;

namespace HessianGeometry.Benchmarks.Infrastructure;

/// <summary>
/// Leaves one benchmark method out for one parameter value, with the reason printed at start-up and repeated in
/// docs/benchmarks.md. Used where a case cannot meet its contract in reasonable time (a solver that does not reach the
/// tolerance must not report a time; a loop too slow for a 2-core machine).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class SkippedForAttribute(string parameter, string value, string reason) : Attribute
{
    /// <summary>The [Params] member whose value triggers the skip.</summary>
    public string Parameter { get; } = parameter;

    /// <summary>The value (as BenchmarkDotNet displays it) for which the method is skipped.</summary>
    public string Value { get; } = value;

    /// <summary>Why the case is left out.</summary>
    public string Reason { get; } = reason;

    /// <summary>The skip that applies to a method for the given parameter values, if any.</summary>
    public static SkippedForAttribute? For(MethodInfo method, IReadOnlyDictionary<string, string> parameters) =>
        method.GetCustomAttributes<SkippedForAttribute>()
            .FirstOrDefault(s => parameters.TryGetValue(s.Parameter, out var v) && v == s.Value);

    /// <summary>The skip that applies to a benchmark case, if any.</summary>
    public static SkippedForAttribute? For(BenchmarkCase benchmarkCase) =>
        For(benchmarkCase.Descriptor.WorkloadMethod,
            benchmarkCase.Parameters.Items.ToDictionary(p => p.Name, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? "null"));

    /// <summary>A filter that drops every skipped case and reports it on the console.</summary>
    public static IFilter Filter() => new SimpleFilter(benchmarkCase =>
    {
        var skip = For(benchmarkCase);
        if (skip is null)
            return true;
        Console.WriteLine($"// Skipped {benchmarkCase.Descriptor.Type.Name}.{benchmarkCase.Descriptor.WorkloadMethod.Name} [{benchmarkCase.Parameters.DisplayInfo}]: {skip.Reason}");
        return false;
    });
}
