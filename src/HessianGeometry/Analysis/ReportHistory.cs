namespace HessianGeometry.Analysis;

/// <summary>
/// Reports accumulated over a training run (the paper shows the top eigenvectors encode the decision boundary during
/// training too): add one per analysed epoch, then read series such as λ_1 or G over epochs.
/// </summary>
public sealed class ReportHistory
{
    private readonly List<(int Epoch, MinimumReport Report)> entries = [];

    /// <summary>The reports in the order added.</summary>
    public IReadOnlyList<(int Epoch, MinimumReport Report)> Entries => entries;

    /// <summary>Adds the report measured after <paramref name="epoch"/>.</summary>
    public void Add(int epoch, MinimumReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (entries.Count > 0 && epoch <= entries[^1].Epoch)
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"Epochs must increase; the last one added was {entries[^1].Epoch}.");
        entries.Add((epoch, report));
    }

    /// <summary>Runs <paramref name="plan"/> on the model's current parameters and records the report.</summary>
    public MinimumReport Analyze(int epoch, HessianAnalysisPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var report = plan.AnalyzeMinimum(cancellationToken) with { Label = $"epoch {epoch}" };
        Add(epoch, report);
        return report;
    }

    /// <summary>A series over epochs, e.g. <c>Series(r =&gt; r.Eigenvalues?[0])</c> for λ_1.</summary>
    public IReadOnlyList<(int Epoch, double? Value)> Series(Func<MinimumReport, double?> select)
    {
        ArgumentNullException.ThrowIfNull(select);
        return entries.Select(e => (e.Epoch, select(e.Report))).ToList();
    }
}
