using HessianGeometry.Analysis;
using HessianGeometry.Cli.Reporting;
using Spectre.Console;

namespace HessianGeometry.Cli.Tests.Reporting;

public sealed class ConsoleSummaryTests
{
    [Theory]
    [InlineData("10,503 / 300")]
    [InlineData("0.0421337 / 99 %")]
    [InlineData("52.1, 30.4, 12.7, 3.3, 1.2")]
    [InlineData("-0.42")]
    [InlineData("123.456 ± 2.5")]
    [InlineData("[0.0176998, 62.4508] / [-62.4273, 0.00580873]")]
    [InlineData("MainlyPositive (C_t = -0.00806142, K_h05 = 0.0731994)")]
    [InlineData("0.0123987 / 0.0456123")]
    [InlineData("0.000285633 / 0.000285633 (lower bounds)")]
    [InlineData("1.23456")]
    [InlineData("1,220 / 8.984 s")]
    public void Render_WithEverySectionSet_ShowsTheHeadlineNumbers(string expected) =>
        Assert.Contains(expected, Print(SampleReports.Full()), StringComparison.Ordinal);

    [Fact]
    public void Render_WithEverySectionNull_ShowsOnlyTheAlwaysPresentRows()
    {
        var text = Print(new MinimumReport());
        Assert.Contains("parameters p / samples n", text, StringComparison.Ordinal);
        Assert.Contains("Hessian-vector products / time", text, StringComparison.Ordinal);
        Assert.DoesNotContain("HESD", text, StringComparison.Ordinal);
        Assert.DoesNotContain("margin", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WithUnconvergedEigenpairs_SaysSo()
    {
        var text = Print(new MinimumReport { TopEigenpairs = new EigenpairsSection { Eigenvalues = [1, 2], Requested = 2, Converged = false, Solver = "lobpcg" } });
        Assert.Contains("(not converged)", text, StringComparison.Ordinal);
        Assert.Contains("top eigenvalues (lobpcg)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WhenBudgetsRanOut_PrintsAWarningLinePerStage()
    {
        var report = SampleReports.Full() with
        {
            TopEigenpairs = SampleReports.Full().TopEigenpairs! with { Converged = false, ConvergedPairs = [true, true, false, false, false] },
            Traces = SampleReports.Full().Traces! with { ReachedTarget = false },
        };
        var text = Print(report);
        Assert.Contains("warning: budget ran out", text, StringComparison.Ordinal);
        Assert.Contains("Top eigenpairs: 2 of 5 converged", text, StringComparison.Ordinal);
        Assert.Contains("Trace: hutchinson used all 300 probes", text, StringComparison.Ordinal);
        Assert.Contains("(target not reached)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_OfAGgnAnalysis_NamesTheMatrixTheSpectralRowsDescribe()
    {
        var full = SampleReports.Full();
        var ggn = Print(full with { Options = full.Options with { Curvature = HessianGeometry.Operators.CurvatureKind.Ggn } });
        Assert.Contains("curvature analysed", ggn, StringComparison.Ordinal);
        Assert.Contains("tr(GGN)", ggn, StringComparison.Ordinal);
        Assert.Contains("curvature-vector products", ggn, StringComparison.Ordinal);
        var hessian = Print(full);
        Assert.DoesNotContain("curvature analysed", hessian, StringComparison.Ordinal);
        Assert.Contains("tr(H)", hessian, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WhenEveryTargetWasMet_PrintsNoWarning() =>
        Assert.DoesNotContain("warning", Print(SampleReports.Full()), StringComparison.Ordinal);

    private static string Print(MinimumReport report)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 200;
        console.Write(ConsoleSummary.Render(report));
        return writer.ToString();
    }
}
