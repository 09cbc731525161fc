using System.Text.Json.Serialization;

namespace HessianGeometry.Analysis;

/// <summary>
/// diag(H) in flat-parameter order (<see cref="Operators.ParameterSpace"/>) with per-entry standard errors: inline up to
/// <see cref="DiagonalOptions.DefaultInlineLimit"/> entries, otherwise in a safetensors file (tensors "diagonal" and
/// "standardError", float64, shape [p]) named by <see cref="File"/>.
/// </summary>
public sealed record DiagonalSection
{
    /// <summary>"exact" or "hutchinson".</summary>
    public string Method { get; init; } = string.Empty;

    /// <summary>p, the number of entries.</summary>
    public long Parameters { get; init; }

    /// <summary>The diagonal inline, or null when it is in <see cref="File"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double[]? Values { get; init; }

    /// <summary>Per-entry standard errors inline (all 0 when exact), or null when they are in <see cref="File"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double[]? StandardErrors { get; init; }

    /// <summary>File name of the safetensors file (in <see cref="DiagonalOptions.OutputDirectory"/>, next to the report for the CLI), or null when inline.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? File { get; init; }

    /// <summary>The full path the file was written to (not serialised: the report names the file only).</summary>
    [JsonIgnore]
    public string? FilePath { get; init; }

    /// <summary>Probes averaged (0 when exact).</summary>
    public int Probes { get; init; }

    /// <summary>Products spent on the probes (shared with the trace and the block traces estimated from them).</summary>
    public long OperatorApplications { get; init; }

    /// <summary>Σ_i diag_i, equal to tr(H) (exact when the diagonal is).</summary>
    public double Sum { get; init; }

    /// <summary>Why the exact diagonal was not used under <see cref="DiagonalMethod.Auto"/>, or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Note { get; init; }
}
