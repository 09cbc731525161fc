using System.Globalization;
using HessianGeometry.Analysis;
using Spectre.Console;
using static HessianGeometry.Cli.Reporting.Numbers;

namespace HessianGeometry.Cli.Reporting;

/// <summary>A compact Spectre.Console table of the headline numbers of a <see cref="MinimumReport"/>, for the terminal.</summary>
public static class ConsoleSummary
{
    /// <summary>Most eigenvalues listed in the table.</summary>
    public const int EigenvaluesShown = 5;

    /// <summary>The summary table; print it with <c>AnsiConsole.Write</c>.</summary>
    public static Table Render(MinimumReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var r = report;
        var table = new Table().Border(TableBorder.Rounded).Title(r.Label is null ? "Hessian geometry" : $"Hessian geometry — {Markup.Escape(r.Label)}");
        table.AddColumn("quantity");
        table.AddColumn(new TableColumn("value").LeftAligned());

        Row(table, "parameters p / samples n", $"{Format(r.Parameters)} / {Format(r.Samples)}");
        Row(table, "loss / accuracy", $"{Format(r.Loss)} / {Percent(r.Accuracy)}");
        // Every spectral row below describes the analysed matrix; say which when it is not the Hessian.
        var matrix = r.Curvature is null or "hessian" ? "H" : r.Curvature switch { "ggn" => "GGN", "fisher" => "F", "empirical-fisher" => "F_emp", _ => r.Curvature };
        if (matrix != "H")
            Row(table, "curvature analysed", $"{r.Curvature} (eigenvalues, trace and bounds are the {matrix}'s, not the Hessian's)");
        if (r.Eigenvalues is { } top)
        {
            var shown = string.Join(", ", top.Take(EigenvaluesShown).Select(Format)) + (top.Length > EigenvaluesShown ? ", …" : string.Empty);
            var converged = r.EigenpairsConverged == false ? " (not converged)" : string.Empty;
            Row(table, $"top eigenvalues ({Text(r.Solver)})", shown + converged);
        }
        if (r.BottomEigenvalues is { Length: > 0 } bottom)
            Row(table, "λmin", Format(bottom[0]));
        if (r.Trace is not null)
            Row(table, $"tr({matrix}) ({Text(r.TraceMethod)})", PlusMinus(r.Trace, r.TraceStandardError) + (r.Traces is { ReachedTarget: false } ? " (target not reached)" : string.Empty));
        if (r.WolkowiczStyan is { } ws)
            Row(table, "Wolkowicz–Styan λmax ∈ / λmin ∈",
                $"[{Format(ws.LambdaMaxLower)}, {Format(ws.LambdaMaxUpper)}] / [{Format(ws.LambdaMinLower)}, {Format(ws.LambdaMinUpper)}]");
        if ((r.HesdType ?? r.Hesd?.Type) is { } type)
            Row(table, "HESD type", r.Hesd is { } h ? $"{type} (C_t = {Format(h.Ct)}, K_h05 = {Format(h.Kh05)})" : type);
        if (r.Epsilon is { } eps)
            Row(table, "ε (mean / max)", $"{Format(eps.Mean)} / {Format(eps.Max)}");
        if (r.EncodingEigenvectors is { } encoding)
            Row(table, "eigenvectors encoding the boundary", encoding.Length.ToString(CultureInfo.InvariantCulture));
        if (r.ComplexityMean is not null || r.ComplexityMax is not null)
        {
            var bound = r.Complexity is { IsLowerBound: true } ? " (lower bounds)" : string.Empty;
            Row(table, "complexity G (mean / max)", $"{Format(r.ComplexityMean)} / {Format(r.ComplexityMax)}{bound}");
            if (ComplexityDependenceText.Basis(r.Complexity) is { } basis)
                Row(table, "G counts (mean / max)", basis);
            if (ComplexityDependenceText.Saturation(r.Complexity) is { } saturation)
                Row(table, "saturated inputs", saturation);
        }
        if (r.Margin is not null)
            Row(table, "margin", Format(r.Margin));
        var seconds = r.TimingsSeconds.TryGetValue("total", out var total) ? total : r.TimingsSeconds.Values.Sum();
        Row(table, matrix == "H" ? "Hessian-vector products / time" : "curvature-vector products / time", $"{Format(r.HvpCount)} / {Seconds(seconds)}");
        // A stage that ran out of budget still gives numbers; the warning says they missed their target.
        foreach (var warning in r.BudgetWarnings)
            Row(table, "warning: budget ran out", warning);
        if (r.MarginDetails is { OnBoundary: false } margin)
            Row(table, "warning: margin", MarginWarning(margin));
        return table;
    }

    // Values are plain text: brackets in intervals must not be read as Spectre markup.
    private static void Row(Table table, string quantity, string value) => table.AddRow(new Text(quantity), new Text(value));

    private static string Text(string? value) => string.IsNullOrEmpty(value) ? Missing : value;

    /// <summary>The warning for a margin whose boundary point could not be projected onto the decision boundary.</summary>
    public static string MarginWarning(MarginSection margin) =>
        $"x_b is not on the decision boundary (logit gap {margin.LogitGap.ToString("G3", CultureInfo.InvariantCulture)} after the projection failed); " +
        "the margin is measured to where the alignment optimisation stopped.";
}
