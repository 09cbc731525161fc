namespace HessianGeometry.Analysis;

/// <summary>One parameter group (module) of the per-layer analysis: its size, the top eigenvalues of its diagonal block H_ll and tr(H_ll).</summary>
public sealed record LayerSection
{
    /// <summary>The module name (parameter names up to the last dot, see <see cref="Operators.ParameterGroups.ByModule"/>).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Number of scalar parameters in the group, the dimension of its block.</summary>
    public long Parameters { get; init; }

    /// <summary>The parameters of the group, e.g. ["0.weight", "0.bias"].</summary>
    public IReadOnlyList<string> ParameterNames { get; init; } = [];

    /// <summary>Largest eigenvalues of H_ll, descending (empty when none were asked for).</summary>
    public double[] Eigenvalues { get; init; } = [];

    /// <summary>True when every block eigenvalue met the tolerance (dense blocks: always).</summary>
    public bool EigenvaluesConverged { get; init; } = true;

    /// <summary>"dense" (materialised block) or the eigen-solver's name; null when no eigenvalues were asked for.</summary>
    public string? EigenvalueMethod { get; init; }

    /// <summary>Products the block's eigenvalues cost.</summary>
    public long EigenvalueOperatorApplications { get; init; }

    /// <summary>tr(H_ll): exact, or Hutchinson from the probes of the whole-model trace.</summary>
    public double Trace { get; init; }

    /// <summary>Standard error of <see cref="Trace"/> (0 when exact).</summary>
    public double TraceStandardError { get; init; }

    /// <summary>"exact" (from the exact diagonal or dense Hessian) or "hutchinson".</summary>
    public string TraceMethod { get; init; } = "hutchinson";
}
