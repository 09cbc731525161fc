using System.Globalization;
using System.Text;
using HessianGeometry.Analysis;

namespace HessianGeometry.Cli.Reporting;

/// <summary>
/// Words for what the boundary complexity depends on (degenerate eigenvalue clusters, saturated inputs), shared by the
/// console summary and the Markdown report.
/// </summary>
internal static class ComplexityDependenceText
{
    /// <summary>"well-defined a / b; degenerate part …", or null when the report has no degeneracy data.</summary>
    public static string? Basis(ComplexitySection? c)
    {
        if (c?.Degeneracy is not { } d)
            return null;
        var spread = d.BasisDependent
            ? $"basis-dependent: {d.ClusteredEigenvalues} eigenvalues in {d.ClusterCount} degenerate clusters; over {d.BasisDraws} random bases {Range(d.BasisCountMean.Min, d.BasisCountMean.Max)} / {Range(d.BasisCountMax.Min, d.BasisCountMax.Max)}"
            : $"not basis-dependent ({d.ClusterCount} degenerate clusters, none counted)";
        return Invariant($"well-defined part {d.WellDefinedCountMean} / {d.WellDefinedCountMax}; {spread}");
    }

    /// <summary>"k float32- / m float64-saturated inputs; G without them …", or null.</summary>
    public static string? Saturation(ComplexitySection? c)
    {
        if (c?.Saturation is not { } s)
            return null;
        var f32 = s.SinglePrecision;
        var f64 = s.DoublePrecisionNaive;
        return Invariant($"{f32.SaturatedCount} of {s.InputCount} inputs below float32, {f64.SaturatedCount} below naive float64; counts without them {f32.EncodingCountMean} / {f32.EncodingCountMax} and {f64.EncodingCountMean} / {f64.EncodingCountMax}");
    }

    /// <summary>The Markdown paragraphs and cluster table for the complexity section.</summary>
    public static void Markdown(StringBuilder md, ComplexitySection? c)
    {
        if (c?.Degeneracy is { } d)
        {
            md.AppendLine(Invariant($"**Basis dependence.** Eigenvalues within c·(u·p·‖H‖ + residuals) of a neighbour (here {d.BaseTolerance:G3} + residuals up to {d.LargestResidual:G3}) form degenerate clusters, whose eigenvectors are any orthonormal basis of the cluster's eigenspace. ")
                + Invariant($"Well-defined part of the count (isolated eigenvalues, {d.IsolatedEigenvalues} of them): {d.WellDefinedCountMean} (mean) / {d.WellDefinedCountMax} (max); cluster members counted in this basis: {d.DegenerateCountMean} / {d.DegenerateCountMax}. ")
                + Invariant($"Over {d.BasisDraws} random bases of the clusters the total count ranges {Range(d.BasisCountMean.Min, d.BasisCountMean.Max)} (mean variant, mean {d.BasisCountMean.Mean:G4}) and {Range(d.BasisCountMax.Min, d.BasisCountMax.Max)} (max variant, mean {d.BasisCountMax.Mean:G4}); ")
                + (d.BasisDependent ? "**G is basis-dependent**." : "G does not depend on the basis.")).AppendLine();
            var rows = d.Clusters.Concat(d.OtherClusters is { } o ? [o] : []).Select(k => new[]
            {
                k.ClusterCount == 1 ? Invariant($"{k.Size}") : Invariant($"{k.Size} ({k.ClusterCount} clusters)"),
                Invariant($"[{k.SmallestEigenvalue:G3}, {k.LargestEigenvalue:G3}]") + (k.StraddlesCutoff ? " (continues past the computed pairs)" : string.Empty),
                Invariant($"{k.GradientEnergyShare:G3}"),
                Invariant($"{k.MeanCosineShare:G3}"),
                Invariant($"{k.CountMean} / {k.CountMax}"),
                Invariant($"{k.BasisCountMean.Mean:G4} [{k.BasisCountMean.Min}, {k.BasisCountMean.Max}] / {k.BasisCountMax.Mean:G4} [{k.BasisCountMax.Min}, {k.BasisCountMax.Max}]"),
            }).ToList();
            if (rows.Count > 0)
            {
                md.AppendLine("| cluster size | eigenvalues | gradient energy share | mean cos² share | counted (mean / max) | over random bases: mean [min, max] |");
                md.AppendLine("|---|---|---|---|---|---|");
                foreach (var row in rows)
                    md.AppendLine("| " + string.Join(" | ", row) + " |");
                md.AppendLine();
            }
        }
        if (Saturation(c) is { } saturation)
            md.AppendLine($"**Saturated inputs** (‖∂ℓ/∂z‖_∞ below float32's 2⁻²³ or float64's 2⁻⁵², where a pipeline that forms p_t − 1 keeps no digit of the gradient): {saturation}.").AppendLine();
    }

    private static string Range(int min, int max) => min == max ? Invariant($"{min}") : Invariant($"{min}–{max}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
