using System.Globalization;
using System.Text;
using HessianGeometry.Analysis;
using static HessianGeometry.Cli.Reporting.Numbers;

namespace HessianGeometry.Cli.Reporting;

/// <summary>The report.md sections of the per-layer analysis and the Hessian diagonal.</summary>
internal static class LayersMarkdown
{
    public static void Write(StringBuilder md, MinimumReport r)
    {
        if (r.Layers is { Count: > 0 } layers)
        {
            md.AppendLine("## Per layer").AppendLine();
            md.AppendLine("| layer | parameters | top eigenvalues of its block | tr(H_ll) ± SE |");
            md.AppendLine("|---|---|---|---|");
            foreach (var l in layers)
            {
                var converged = l.EigenvaluesConverged ? string.Empty : " (not converged)";
                md.AppendLine(CultureInfo.InvariantCulture, $"| {l.Name} | {Format(l.Parameters)} | {Vector(l.Eigenvalues)}{converged} | {PlusMinus(l.Trace, l.TraceStandardError)} |");
            }
            md.AppendLine().AppendLine("Block traces share the probes of the whole-model trace and sum to it; see docs/per-layer.md.").AppendLine();
        }
        if (r.Diagonal is { } d)
        {
            md.AppendLine("## Hessian diagonal").AppendLine();
            var where = d.File is { } file ? $"in `{file}`" : "inline in report.json";
            var probes = d.Probes > 0 ? $", {d.Probes} probes" : string.Empty;
            md.AppendLine(CultureInfo.InvariantCulture, $"{Format(d.Parameters)} entries ({d.Method}{probes}), {where}; Σ diag = {Format(d.Sum)}.").AppendLine();
            if (d.Note is { } note)
                md.AppendLine(note).AppendLine();
        }
    }
}
