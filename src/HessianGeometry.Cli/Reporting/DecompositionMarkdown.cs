using System.Globalization;
using System.Text;
using HessianGeometry.Analysis;

namespace HessianGeometry.Cli.Reporting;

/// <summary>The report.md section of the decomposition H = GGN + R (written only when it was requested).</summary>
internal static class DecompositionMarkdown
{
    public static void Append(StringBuilder md, MinimumReport r)
    {
        if (r.Decomposition is not { } d)
            return;
        md.AppendLine("## Hessian = GGN + residual").AppendLine();
        md.AppendLine("| i | λ_i(H) | λ_i(GGN) | λ_i(R), largest \\|λ\\| | cos θ_i (H vs GGN eigenspaces) |");
        md.AppendLine("|---|---|---|---|---|");
        var k = new[] { d.HessianEigenvalues.Length, d.GgnEigenvalues.Length, d.ResidualEigenvalues.Length, d.SubspaceOverlap.Cosines.Length }.Max();
        for (var i = 0; i < k; i++)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {i + 1} | {At(d.HessianEigenvalues, i)} | {At(d.GgnEigenvalues, i)} | {At(d.ResidualEigenvalues, i)} | {At(d.SubspaceOverlap.Cosines, i)} |");
        var t = d.Traces;
        md.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"Mean cos² of the principal angles: {d.SubspaceOverlap.MeanSquaredCosine:G4}. Trace split ({t.Method}{(t.Probes > 0 ? $", {t.Probes} shared probes" : string.Empty)}): " +
            $"tr H = {t.Hessian:G6} ± {t.HessianStandardError:G2} = tr GGN {t.Ggn:G6} ± {t.GgnStandardError:G2} + tr R {t.Residual:G6} ± {t.ResidualStandardError:G2}. " +
            $"Products: {d.HessianProducts} with H, {d.GgnProducts} with the GGN ({d.GgnEngine}).").AppendLine();
        foreach (var note in d.Notes)
            md.AppendLine(CultureInfo.InvariantCulture, $"> {note}").AppendLine();
    }

    private static string At(double[] values, int i) => i < values.Length ? values[i].ToString("G6", CultureInfo.InvariantCulture) : string.Empty;
}
