using HessianGeometry.Internal;
using HessianGeometry.Spectrum;

namespace HessianGeometry.Analysis;

/// <summary>
/// Options of the Hessian diagonal (<see cref="HessianAnalysisBuilder.WithDiagonal(DiagonalOptions)"/>). Up to
/// <see cref="DefaultInlineLimit"/> parameters the values are written into the report; above it into a safetensors
/// file in <see cref="OutputDirectory"/>, which the report names.
/// </summary>
public sealed record DiagonalOptions
{
    /// <summary>Diagonals of up to this many entries are written inline in the report.</summary>
    public const int DefaultInlineLimit = 1_000_000;

    /// <summary>Exact, stochastic, or exact when available (default).</summary>
    public DiagonalMethod Method { get; init; } = DiagonalMethod.Auto;

    /// <summary>
    /// The probes when the analysis estimates no trace (with <c>WithTrace()</c> and Hutchinson, the trace's probes serve
    /// the diagonal too). Default: exactly 100 probes; the per-entry error shrinks as 1/√probes.
    /// </summary>
    public TraceOptions Probes { get; init; } = new() { RelativeStandardError = 0, MinProbes = 100, MaxProbes = 100 };

    /// <summary>Folder of the safetensors file for diagonals above the inline limit (null: the current directory). The CLI passes --out, next to report.json.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>File name of the safetensors file (default "diagonal.safetensors"); an existing file is replaced.</summary>
    public string FileName { get; init; } = "diagonal.safetensors";

    /// <summary>Largest diagonal written inline (internal knob so tests reach the file path without a huge model).</summary>
    internal int InlineLimit { get; init; } = DefaultInlineLimit;

    internal void Validate()
    {
        Guard.Defined(Method, "DiagonalOptions.Method");
        Guard.NotNull(Probes, "DiagonalOptions.Probes");
        Probes.Validate();
        Guard.NotNull(FileName, "DiagonalOptions.FileName");
        if (FileName.Length == 0 || FileName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || FileName != Path.GetFileName(FileName))
            throw new ArgumentException($"DiagonalOptions.FileName must be a plain file name but was '{FileName}'. Put the folder in OutputDirectory.", "FileName");
        Guard.InRange(InlineLimit, 0, int.MaxValue, "InlineLimit");
    }
}
