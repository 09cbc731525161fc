using System.Globalization;
using System.Text;
using HessianGeometry.Analysis;
using static HessianGeometry.Cli.Reporting.Numbers;

namespace HessianGeometry.Cli.Reporting;

/// <summary>
/// Turns a <see cref="MinimumReport"/> into a readable Markdown document (report.md): one section per measured
/// quantity, each a table, and sections the analysis did not request are left out.
/// </summary>
public static class MarkdownReport
{
    /// <summary>Most rows an eigenvector table shows; the JSON report has them all.</summary>
    public const int MaximumRows = 50;

    /// <summary>The Markdown text of the report.</summary>
    public static string Write(MinimumReport report) => Write(report, []);

    /// <summary>The Markdown text of the report, with a "Notes" section for how the inputs were read (when there are any).</summary>
    /// <param name="report">The analysis report.</param>
    /// <param name="notes">Sentences about the inputs (e.g. a label conversion) that the report itself does not record.</param>
    public static string Write(MinimumReport report, IReadOnlyList<string> notes)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(notes);
        var md = new StringBuilder();
        md.AppendLine("# Hessian geometry report").AppendLine();
        if (report.Label is { } label)
            md.AppendLine(CultureInfo.InvariantCulture, $"_{label}_").AppendLine();
        Summary(md, report);
        Notes(md, notes);
        Warnings(md, report);
        Eigenvalues(md, report);
        Trace(md, report);
        LayersMarkdown.Write(md, report);
        WolkowiczStyan(md, report);
        Density(md, report);
        Alignment(md, report);
        Complexity(md, report);
        Margin(md, report);
        DecompositionMarkdown.Append(md, report);
        Cost(md, report);
        return md.ToString();
    }

    private static void Notes(StringBuilder md, IReadOnlyList<string> notes)
    {
        if (notes.Count == 0)
            return;
        md.AppendLine("## Notes").AppendLine();
        foreach (var note in notes)
            md.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        md.AppendLine();
    }

    private static void Summary(StringBuilder md, MinimumReport r)
    {
        md.AppendLine("## Model and data").AppendLine();
        Table(md, ["quantity", "value"],
        [
            ["parameters p", Format(r.Parameters)],
            ["samples n", Format(r.Samples)],
            ["loss function", Text(r.LossFunction)],
            ["loss L(θ)", Format(r.Loss)],
            ["training accuracy", Percent(r.Accuracy)],
            ["precision", Text(r.Precision)],
            ["eigen-solver", Text(r.Solver ?? r.Settings.Solver)],
            ["seed", r.Settings.Seed.ToString(CultureInfo.InvariantCulture)],
            ["exact Hessian", YesNo(r.Settings.ExactHessian)],
            ["curvature analysed", Text(r.Curvature)],
            ["curvature-vector products", Text(r.Settings.HvpEngine switch { "AnalyticMlp" => "analytic MLP R-operator", "DoubleBackward" => "double backward", var engine => engine })],
            ["library version", Text(r.LibraryVersion)],
            ["report schema", r.SchemaVersion.ToString(CultureInfo.InvariantCulture)],
        ]);
    }

    // A stage that ran out of budget still reports valid numbers, but the reader must know they miss their target.
    private static void Warnings(StringBuilder md, MinimumReport r)
    {
        foreach (var warning in r.BudgetWarnings)
            md.AppendLine(CultureInfo.InvariantCulture, $"> **Warning — budget ran out.** {warning}").AppendLine();
        if (r.MarginDetails is { OnBoundary: false } margin)
            md.AppendLine(CultureInfo.InvariantCulture, $"> **Warning — margin.** {ConsoleSummary.MarginWarning(margin)}").AppendLine();
    }

    private static void Eigenvalues(StringBuilder md, MinimumReport r)
    {
        if (r.Eigenvalues is null && r.BottomEigenvalues is null)
            return;
        md.AppendLine("## Eigenvalues").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Solver {Text(r.Solver ?? r.Settings.Solver)}, relative tolerance {Format(r.Settings.Tolerance)}; all top eigenpairs converged: {YesNo(r.EigenpairsConverged)}{Cost(r.TopEigenpairs)}. Residual ‖H v_i − λ_i v_i‖; relative residual divides by |λ_i|.");
        md.AppendLine();
        if ((r.TopEigenpairs ?? r.BottomEigenpairs) is { Eigendecomposition: { } route } dense)
        {
            // The exact solver's route decides what the bulk eigenpairs mean (computed, or an arbitrary null-space basis with bounds).
            var build = string.IsNullOrEmpty(dense.MatrixBuild) ? string.Empty : $"Exact matrix: {Text(dense.MatrixBuild)}. ";
            var rank = route.Rank is { } k && route.RelativeError is { } e
                ? string.Create(CultureInfo.InvariantCulture, $", rank {k}, certificate ‖A − XΛXᵀ‖_F/‖A‖_F = {Format(e)} ≤ {Format(route.Tolerance)}")
                : string.Empty;
            var note = string.IsNullOrEmpty(route.Note) ? string.Empty : $" {Text(route.Note.TrimEnd('.'))}.";
            md.AppendLine(CultureInfo.InvariantCulture, $"{build}Decomposition: {Text(route.Route)} ({route.Threads} thread(s){rank}).{note}").AppendLine();
        }
        if (r.Eigenvalues is { } top)
            EigenTable(md, "λ_i", top, r.ResidualNorms, i => (i + 1).ToString(CultureInfo.InvariantCulture));
        if (r.BottomEigenvalues is { } bottom)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"Smallest eigenvalues (λ_p is the smallest); all converged: {YesNo(r.BottomEigenpairs?.Converged)}{Cost(r.BottomEigenpairs)}:").AppendLine();
            EigenTable(md, "λ", bottom, r.BottomResidualNorms, i => i == 0 ? "p" : $"p−{i}");
        }
    }

    private static string Cost(EigenpairsSection? section) => section is null || section.Iterations == 0
        ? string.Empty
        : string.Create(CultureInfo.InvariantCulture, $" ({section.Iterations} iterations, {Format(section.OperatorApplications)} Hessian-vector products)");

    private static void EigenTable(StringBuilder md, string header, double[] values, double[]? residuals, Func<int, string> index)
    {
        var rows = new List<string[]>();
        for (var i = 0; i < Math.Min(values.Length, MaximumRows); i++)
        {
            double? residual = residuals is not null && i < residuals.Length ? residuals[i] : null;
            double? relative = residual is { } res && values[i] != 0 ? res / Math.Abs(values[i]) : null;
            rows.Add([index(i), Format(values[i]), Format(residual), Format(relative)]);
        }
        Table(md, ["i", header, "residual", "relative residual"], rows);
        Truncated(md, values.Length);
    }

    private static void Trace(StringBuilder md, MinimumReport r)
    {
        if (r.Trace is null && r.TraceOfSquare is null)
            return;
        md.AppendLine("## Trace").AppendLine();
        var rows = new List<string[]>
        {
            new[] { "tr(H)", PlusMinus(r.Trace, r.TraceStandardError), Text(r.TraceMethod) },
            new[] { "tr(H²)", PlusMinus(r.TraceOfSquare, r.TraceOfSquareStandardError), Text(r.TraceMethod) },
        };
        if (r.Trace is { } trace && r.Parameters > 0)
            rows.Add(["mean eigenvalue tr(H)/p", Format(trace / r.Parameters), Text(r.TraceMethod)]);
        Table(md, ["quantity", "value ± standard error", "method"], rows);
        if (r.Traces is { } t)
        {
            var target = t.ReachedTarget ? "reached" : "**not reached** (the error bars are wider than asked)";
            md.AppendLine(CultureInfo.InvariantCulture, $"{Format(t.OperatorApplications)} Hessian-vector products, {t.Probes} probes; accuracy target {target}.").AppendLine();
            if (t.Note is { } note)
                md.AppendLine(note).AppendLine();
        }
    }

    private static void WolkowiczStyan(StringBuilder md, MinimumReport r)
    {
        if (r.WolkowiczStyan is not { } ws)
            return;
        md.AppendLine("## Wolkowicz–Styan bounds").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"From the traces alone (Wolkowicz & Styan 1980): m = tr(H)/p = {Format(ws.Mean)}, s² = tr(H²)/p − m², s = {Format(ws.StandardDeviation)}; m + s/√(p−1) ≤ λmax ≤ m + s√(p−1) and m − s√(p−1) ≤ λmin ≤ m − s/√(p−1).");
        if (ws.FromEstimates)
            md.AppendLine().AppendLine("The traces are stochastic estimates, so the bounds carry their error bars.");
        md.AppendLine();
        double? lambdaMax = r.Eigenvalues is { Length: > 0 } top ? top[0] : null;
        double? lambdaMin = r.BottomEigenvalues is { Length: > 0 } bottom ? bottom[0] : null;
        Table(md, ["eigenvalue", "lower bound", "upper bound", "computed", "inside"],
        [
            ["λmax", Format(ws.LambdaMaxLower), Format(ws.LambdaMaxUpper), Format(lambdaMax), Inside(lambdaMax, ws.LambdaMaxLower, ws.LambdaMaxUpper)],
            ["λmin", Format(ws.LambdaMinLower), Format(ws.LambdaMinUpper), Format(lambdaMin), Inside(lambdaMin, ws.LambdaMinLower, ws.LambdaMinUpper)],
        ]);
    }

    private static void Density(StringBuilder md, MinimumReport r)
    {
        if (r.Hesd is null && r.HesdType is null && r.SpectralDensity is null)
            return;
        md.AppendLine("## Spectral density and HESD type").AppendLine();
        var rows = new List<string[]> { new[] { "HESD type", Text(r.HesdType ?? r.Hesd?.Type) } };
        if (r.Hesd is { } hesd)
        {
            rows.Add(["C_t = λmin / λmax", Format(hesd.Ct)]);
            rows.Add(["K_h05 = |Σ_{λ<0} |λw|^½ / Σ_{λ>0} (λw)^½|", Format(hesd.Kh05)]);
            rows.Add(["spectral mass near zero", Format(hesd.NearZeroMass)]);
        }
        if (r.SpectralDensity is { } density)
        {
            rows.Add(["SLQ runs", density.Nodes.Length.ToString(CultureInfo.InvariantCulture)]);
            rows.Add(["Gaussian kernel variance σ²", Format(density.Variance)]);
            if (density.Grid.Length > 0)
                rows.Add(["grid", $"[{Format(density.Grid[0])}, {Format(density.Grid[^1])}], {density.Grid.Length} points"]);
        }
        Table(md, ["quantity", "value"], rows);
    }

    private static void Alignment(StringBuilder md, MinimumReport r)
    {
        if (r.MeanAbsAlignment is null && r.MaxAbsAlignment is null && r.Epsilon is null)
            return;
        md.AppendLine("## Alignment with the decision boundary").AppendLine();
        md.AppendLine("A_i(x) = cos(∇_θ ℓ(x), v_i); m_i is the mean (or max) of |A_i(x_j)| over the inputs. Eigenvectors with m_i > ε encode the decision boundary.");
        md.AppendLine();
        if (r.Epsilon is { } eps)
        {
            var how = eps.Method == "random-baseline"
                ? $"random baseline over {eps.Directions} Gaussian directions, seed {eps.Seed}"
                : Text(eps.Method);
            md.AppendLine(CultureInfo.InvariantCulture, $"ε (mean variant) = {Format(eps.Mean)}, ε (max variant) = {Format(eps.Max)}; {how}.");
            md.AppendLine();
        }
        var count = Math.Max(r.MeanAbsAlignment?.Length ?? 0, r.MaxAbsAlignment?.Length ?? 0);
        if (count > 0)
        {
            var rows = new List<string[]>();
            for (var i = 0; i < Math.Min(count, MaximumRows); i++)
            {
                double? lambda = r.Eigenvalues is { } top && i < top.Length ? top[i] : null;
                double? mean = r.MeanAbsAlignment is { } m && i < m.Length ? m[i] : null;
                double? max = r.MaxAbsAlignment is { } x && i < x.Length ? x[i] : null;
                rows.Add([(i + 1).ToString(CultureInfo.InvariantCulture), Format(lambda), Format(mean), Above(mean, r.Epsilon?.Mean), Format(max), Above(max, r.Epsilon?.Max)]);
            }
            Table(md, ["i", "λ_i", "m_i (mean |A_i|)", "> ε", "m_i (max |A_i|)", "> ε"], rows);
            Truncated(md, count);
        }
        if (r.EncodingEigenvectors is { } encoding)
        {
            var list = encoding.Length == 0 ? "none" : string.Join(", ", encoding.Select(i => (i + 1).ToString(CultureInfo.InvariantCulture)));
            md.AppendLine(CultureInfo.InvariantCulture, $"Eigenvectors encoding the boundary (mean variant, i counted from 1): {list}.").AppendLine();
        }
    }

    private static void Complexity(StringBuilder md, MinimumReport r)
    {
        if (r.ComplexityMean is null && r.ComplexityMax is null && r.Complexity is null)
            return;
        md.AppendLine("## Boundary complexity").AppendLine();
        md.AppendLine("G = #{i : m_i > ε} / p, the fraction of Hessian eigenvectors that encode the decision boundary.").AppendLine();
        var c = r.Complexity;
        Table(md, ["variant", "eigenvectors with m_i > ε", "eigenvectors examined", "G"],
        [
            ["mean |A_i|", c is null ? Missing : c.EncodingCountMean.ToString(CultureInfo.InvariantCulture), c is null ? Missing : c.EigenvectorsConsidered.ToString(CultureInfo.InvariantCulture), Format(r.ComplexityMean)],
            ["max |A_i|", c is null ? Missing : c.EncodingCountMax.ToString(CultureInfo.InvariantCulture), c is null ? Missing : c.EigenvectorsConsidered.ToString(CultureInfo.InvariantCulture), Format(r.ComplexityMax)],
        ]);
        if (c is { IsLowerBound: true })
            md.AppendLine(CultureInfo.InvariantCulture,
                $"**G is a lower bound**: only the top k = {c.EigenvectorsConsidered} of p = {Format(r.Parameters)} eigenvectors were examined, so aligned eigenvectors beyond them are not counted.").AppendLine();
        ComplexityDependenceText.Markdown(md, c);
    }

    private static void Margin(StringBuilder md, MinimumReport r)
    {
        if (r.Margin is null && r.MarginDetails is null && r.BoundaryPoint is null)
            return;
        md.AppendLine("## Margin").AppendLine();
        md.AppendLine("x_b is optimised onto the decision boundary from the inputs most aligned with v_1 (x_t^max) and least aligned (x_t^min); margin = min(‖x_t^max − x_b‖, ‖x_t^min − x_b‖).").AppendLine();
        var rows = new List<string[]>
        {
            new[] { "margin", Format(r.Margin) },
            new[] { "x_b", Vector(r.BoundaryPoint) },
        };
        if (r.MarginDetails is { } m)
        {
            rows.Add(["x_t^max (input index)", $"{Vector(m.NearestMaxPoint)} (#{m.NearestMaxIndex})"]);
            rows.Add(["x_t^min (input index)", $"{Vector(m.NearestMinPoint)} (#{m.NearestMinIndex})"]);
            rows.Add(["|A(x_b)| after optimisation", Format(m.FinalAbsAlignment)]);
            rows.Add(["logit gap at x_b (≈ 0 on the boundary)", Format(m.LogitGap)]);
            rows.Add(["optimisation steps", m.Steps.ToString(CultureInfo.InvariantCulture)]);
            rows.Add(["class change on segment x_t^max–x_t^min", m.BisectionPoint is null ? "none found" : Vector(m.BisectionPoint)]);
            rows.Add(["‖x_b − class-change point‖", Format(m.DistanceToBisectionPoint)]);
        }
        Table(md, ["quantity", "value"], rows);
    }

    private static void Cost(StringBuilder md, MinimumReport r)
    {
        md.AppendLine("## Cost").AppendLine();
        // A stage called "total" (if the analysis records one) is the total row, not a stage to add up.
        static bool IsTotal(string stage) => string.Equals(stage, "total", StringComparison.OrdinalIgnoreCase);
        var stages = r.TimingsSeconds.Keys.Concat(r.HvpCounts.Keys).Where(s => !IsTotal(s)).Distinct(StringComparer.Ordinal).ToList();
        var rows = stages.Select(stage => new[]
        {
            Text(stage),
            r.TimingsSeconds.TryGetValue(stage, out var seconds) ? Seconds(seconds) : Missing,
            r.HvpCounts.TryGetValue(stage, out var hvps) ? Format(hvps) : Missing,
        }).ToList();
        var recordedTotal = r.TimingsSeconds.Where(t => IsTotal(t.Key)).Select(t => (double?)t.Value).FirstOrDefault();
        var totalSeconds = recordedTotal ?? (r.TimingsSeconds.Count == 0 ? null : r.TimingsSeconds.Values.Sum());
        rows.Add(["**total**", totalSeconds is { } total ? Seconds(total) : Missing, Format(r.HvpCount)]);
        Table(md, ["stage", "wall time", "Hessian-vector products"], rows);
    }

    private static string Inside(double? value, double lower, double upper) => value is { } v ? (v >= lower && v <= upper ? "yes" : "no") : Missing;

    private static string Above(double? value, double? epsilon) => value is { } v && epsilon is { } e ? (v > e ? "yes" : "no") : Missing;

    private static string Text(string? value) => string.IsNullOrEmpty(value) ? Missing : value;

    private static void Truncated(StringBuilder md, int count)
    {
        if (count > MaximumRows)
            md.AppendLine(CultureInfo.InvariantCulture, $"(first {MaximumRows} of {count} shown; report.json has all)").AppendLine();
    }

    private static void Table(StringBuilder md, string[] header, IEnumerable<string[]> rows)
    {
        md.Append("| ").AppendJoin(" | ", header.Select(Escape)).AppendLine(" |");
        md.Append('|').AppendJoin('|', header.Select(_ => "---")).AppendLine("|");
        foreach (var row in rows)
            md.Append("| ").AppendJoin(" | ", row.Select(Escape)).AppendLine(" |");
        md.AppendLine();
    }

    // A pipe inside a cell would end the cell.
    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal);
}
