namespace HessianGeometry.Analysis;

/// <summary>Wall time and Hessian-vector products per stage, in the order the stages ran.</summary>
public sealed record TimingsSection
{
    /// <summary>The stages in order.</summary>
    public IReadOnlyList<StageTiming> Stages { get; init; } = [];

    /// <summary>Total wall time of the stages, in seconds.</summary>
    public double TotalSeconds => Stages.Sum(s => s.Seconds);

    /// <summary>Total Hessian-vector products.</summary>
    public long TotalOperatorApplications => Stages.Sum(s => s.OperatorApplications);

    /// <summary>The section for a list of stage costs.</summary>
    public static TimingsSection From(IEnumerable<StageTiming> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        return new TimingsSection { Stages = stages.ToList() };
    }
}
