using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace HessianGeometry.Benchmarks.Infrastructure;

/// <summary>
/// A summary column showing one <see cref="CaseMetrics"/> value; shown only for classes that record it, and then even when
/// every row has the same value (a column of zeros is the leak check passing).
/// </summary>
public sealed class CaseMetricColumn(string metric, string legend) : IColumn
{
    /// <inheritdoc />
    public string Id => $"{nameof(CaseMetricColumn)}.{metric}";

    /// <inheritdoc />
    public string ColumnName => metric;

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => false;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => legend;

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => CaseMetrics.Get(benchmarkCase, metric) ?? "-";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => CaseMetrics.Get(c, metric) is not null);
}
