using System.Globalization;
using HessianGeometry.Analysis;

namespace HessianGeometry.Cli.Reporting;

/// <summary>Console lines for the decomposition H = GGN + R: where the Hessian's outlier eigenvalues come from.</summary>
internal static class DecompositionSummary
{
    /// <summary>A few plain-text lines, or none without a decomposition.</summary>
    public static IReadOnlyList<string> Lines(MinimumReport report, int shown = 5)
    {
        if (report.Decomposition is not { } d)
            return [];
        var t = d.Traces;
        var lines = new List<string>
        {
            $"H = GGN + R, top {d.HessianEigenvalues.Length} eigenvalues ({shown} shown):",
            $"  H   {Values(d.HessianEigenvalues, shown)}",
            $"  GGN {Values(d.GgnEigenvalues, shown)}",
            $"  R   {Values(d.ResidualEigenvalues, shown)} (largest |λ|)",
            $"  principal cosines between the top eigenspaces of H and GGN: {string.Join("  ", d.SubspaceOverlap.Cosines.Take(shown).Select(c => c.ToString("F4", CultureInfo.InvariantCulture)))}",
            string.Create(CultureInfo.InvariantCulture,
                $"  top-{d.SubspaceOverlap.Cosines.Length} eigenspaces of H and GGN: mean cos² = {d.SubspaceOverlap.MeanSquaredCosine:F3}; " +
                $"tr H = {t.Hessian:G4} = tr GGN {t.Ggn:G4} + tr R {t.Residual:G4} ({t.Method})"),
        };
        lines.AddRange(d.Notes.Select(n => "  note: " + n));
        return lines;
    }

    private static string Values(double[] values, int shown) =>
        string.Join("  ", values.Take(shown).Select(v => v.ToString("G4", CultureInfo.InvariantCulture)));
}
