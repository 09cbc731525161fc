using HessianGeometry.Analysis;
using HessianGeometry.Cli.Reporting;

namespace HessianGeometry.Cli.Tests.Reporting;

public sealed class MarkdownReportTests
{
    private static readonly string Full = MarkdownReport.Write(SampleReports.Full());

    [Theory]
    [InlineData("## Model and data")]
    [InlineData("## Eigenvalues")]
    [InlineData("## Trace")]
    [InlineData("## Wolkowicz–Styan bounds")]
    [InlineData("## Spectral density and HESD type")]
    [InlineData("## Alignment with the decision boundary")]
    [InlineData("## Boundary complexity")]
    [InlineData("## Margin")]
    [InlineData("## Cost")]
    public void Write_WithEverySectionSet_HasEverySection(string heading) => Assert.Contains(heading, Full, StringComparison.Ordinal);

    [Theory]
    [InlineData("| parameters p | 10,503 |")]
    [InlineData("| samples n | 300 |")]
    [InlineData("| loss L(θ) | 0.0421337 |")]
    [InlineData("| training accuracy | 99 % |")]
    [InlineData("| 1 | 52.1 | 1.5E-07 |")]
    [InlineData("| 3 | 12.7 | 3.5E-06 | 2.75591E-07 |")]
    [InlineData("| p | -0.42 | 1E-08 |")]
    [InlineData("| tr(H) | 123.456 ± 2.5 | hutchinson |")]
    [InlineData("| tr(H²) | 3901.77 ± 40.25 | hutchinson |")]
    [InlineData("| λmax | 0.0176998 | 62.4508 | 52.1 | yes |")]
    [InlineData("| λmin | -62.4273 | 0.00580873 | -0.42 | yes |")]
    [InlineData("| HESD type | MainlyPositive |")]
    [InlineData("| C_t = λmin / λmax | -0.00806142 |")]
    [InlineData("| 0.0731994 |")]
    [InlineData("ε (mean variant) = 0.0123987, ε (max variant) = 0.0456123; random baseline over 64 Gaussian directions, seed 42.")]
    [InlineData("| 1 | 52.1 | 0.613742 | yes | 0.79871 | yes |")]
    [InlineData("| 4 | 3.3 | 0.01 | no | 0.01 | no |")]
    [InlineData("Eigenvectors encoding the boundary (mean variant, i counted from 1): 1, 2, 3.")]
    [InlineData("| mean \\|A_i\\| | 3 | 5 | 0.000285633 |")]
    [InlineData("**G is a lower bound**: only the top k = 5 of p = 10,503 eigenvectors")]
    [InlineData("| margin | 1.23456 |")]
    [InlineData("| x_b | (0.25, -0.4) |")]
    [InlineData("| \\|A(x_b)\\| after optimisation | 0.987654 |")]
    [InlineData("| logit gap at x_b (≈ 0 on the boundary) | 0.00314159 |")]
    [InlineData("| optimisation steps | 87 |")]
    [InlineData("| class change on segment x_t^max–x_t^min | (0.1, -0.35) |")]
    [InlineData("| eigenpairs | 1.234 s | 120 |")]
    [InlineData("| margin | 0.5 s | 0 |")]
    [InlineData("| **total** | 8.984 s | 1,220 |")]
    [InlineData("_gauss3 2-100-100-3 relu_")]
    public void Write_WithEverySectionSet_ShowsTheKeyNumbers(string expected) => Assert.Contains(expected, Full, StringComparison.Ordinal);

    [Fact]
    public void Write_WhenBudgetsRanOut_WarnsAtTheTop_AndInTheSections()
    {
        var full = SampleReports.Full();
        var report = full with
        {
            BottomEigenpairs = full.BottomEigenpairs! with { Converged = false, ConvergedPairs = [true, false, false] },
            Traces = full.Traces! with { ReachedTarget = false },
        };
        var markdown = MarkdownReport.Write(report);
        Assert.Contains("> **Warning — budget ran out.** Bottom eigenpairs: 1 of 3 converged", markdown, StringComparison.Ordinal);
        Assert.Contains("> **Warning — budget ran out.** Trace: hutchinson used all 300 probes", markdown, StringComparison.Ordinal);
        Assert.Contains("accuracy target **not reached**", markdown, StringComparison.Ordinal);
        Assert.True(markdown.IndexOf("Warning", StringComparison.Ordinal) < markdown.IndexOf("## Eigenvalues", StringComparison.Ordinal), "warnings come before the sections");
        Assert.DoesNotContain("Warning", Full, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_ShowsTheMarginPointsWithTheirInputIndices()
    {
        var report = SampleReports.Full();
        Assert.Contains($"(#{report.MarginDetails!.NearestMaxIndex})", Full, StringComparison.Ordinal);
        Assert.Contains($"(#{report.MarginDetails.NearestMinIndex})", Full, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_WithNotes_ListsThemAfterTheSummary_AndWithoutNotesHasNoNotesSection()
    {
        var withNotes = MarkdownReport.Write(SampleReports.Full(), ["Labels 'y' were int32 and were converted to int64."]);
        Assert.Contains("## Notes\n\n- Labels 'y' were int32 and were converted to int64.\n", withNotes.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.True(withNotes.IndexOf("## Notes", StringComparison.Ordinal) > withNotes.IndexOf("## Model and data", StringComparison.Ordinal));
        Assert.True(withNotes.IndexOf("## Notes", StringComparison.Ordinal) < withNotes.IndexOf("## Eigenvalues", StringComparison.Ordinal));
        Assert.DoesNotContain("## Notes", Full, StringComparison.Ordinal);
        Assert.Equal(Full, MarkdownReport.Write(SampleReports.Full(), []));
    }

    [Fact]
    public void Write_WithEverySectionNull_WritesOnlyTheSummaryAndCost()
    {
        var markdown = MarkdownReport.Write(new MinimumReport());
        Assert.Contains("## Model and data", markdown, StringComparison.Ordinal);
        Assert.Contains("## Cost", markdown, StringComparison.Ordinal);
        Assert.Contains("| training accuracy | — |", markdown, StringComparison.Ordinal);
        foreach (var heading in new[] { "## Eigenvalues", "## Trace", "## Wolkowicz", "## Spectral", "## Alignment", "## Boundary complexity", "## Margin" })
            Assert.DoesNotContain(heading, markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_WithPartialSections_DoesNotCrashAndMarksMissingValues()
    {
        var report = new MinimumReport
        {
            TopEigenpairs = new EigenpairsSection { Eigenvalues = [2, 1], Requested = 2, Converged = true },
            AlignmentSummary = new AlignmentSection { MeanAbsAlignment = [0.3] },
            Complexity = new ComplexitySection { ComplexityMean = 0.001, EigenvectorsConsidered = 1 },
            MarginDetails = new MarginSection { Margin = 0.75, OnBoundary = true },
            Traces = new TraceSection { Method = HessianGeometry.Spectrum.TraceMethod.HutchPlusPlus, Trace = 5, TraceStandardError = 0.5, ReachedTarget = true },
        };
        var markdown = MarkdownReport.Write(report);
        Assert.Contains("| 2 | 1 | — | — |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 1 | 2 | 0.3 | — | — | — |", markdown, StringComparison.Ordinal);
        Assert.Contains("| mean \\|A_i\\| | 0 | 1 | 0.001 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| margin | 0.75 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| tr(H) | 5 ± 0.5 | hutch++ |", markdown, StringComparison.Ordinal);
        Assert.Contains("| tr(H²) | — | hutch++ |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_LongEigenvalueLists_AreCappedWithANote()
    {
        var values = Enumerable.Range(0, 80).Select(i => 100.0 - i).ToArray();
        var markdown = MarkdownReport.Write(new MinimumReport { TopEigenpairs = new EigenpairsSection { Eigenvalues = values, Requested = values.Length, Converged = true } });
        Assert.Contains($"| {MarkdownReport.MaximumRows} | 51 |", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain($"| {MarkdownReport.MaximumRows + 1} | 50 |", markdown, StringComparison.Ordinal);
        Assert.Contains($"(first {MarkdownReport.MaximumRows} of 80 shown", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_EveryTableRowHasAsManyCellsAsItsHeader()
    {
        // Pipes inside cells (|A_i|) must be escaped, or Markdown renderers split the cell.
        int? columns = null;
        foreach (var line in Full.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            if (!line.StartsWith('|'))
            {
                columns = null;
                continue;
            }
            var cells = System.Text.RegularExpressions.Regex.Split(line.Trim('|'), @"(?<!\\)\|").Length;
            columns ??= cells;
            Assert.True(columns == cells, $"row '{line}' has {cells} cells, its table {columns}");
        }
    }

    [Fact]
    public void Write_UsesTheInvariantCultureWhateverTheCurrentCulture()
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal(Full, MarkdownReport.Write(SampleReports.Full()));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Write_WhenTheMarginPointIsOffTheBoundary_WarnsThatTheMarginIsMeasuredToTheOptimisedPoint()
    {
        var full = SampleReports.Full();
        var off = full with { MarginDetails = full.MarginDetails! with { OnBoundary = false, LogitGap = 0.25 } };
        var on = full with { MarginDetails = full.MarginDetails! with { OnBoundary = true } };

        Assert.Contains("**Warning — margin.** x_b is not on the decision boundary (logit gap 0.25", MarkdownReport.Write(off), StringComparison.Ordinal);
        Assert.DoesNotContain("Warning — margin", MarkdownReport.Write(on), StringComparison.Ordinal);
    }
}
