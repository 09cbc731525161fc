using HessianGeometry.Analysis;
using Spectre.Console;

namespace HessianGeometry.Cli.Commands;

/// <summary>Runs an analysis under a Spectre.Console progress display (plain lines when output is redirected).</summary>
internal static class AnalysisProgressDisplay
{
    public static MinimumReport Run(HessianAnalysisPlan plan, CancellationToken ct)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var last = string.Empty;
            return plan.AnalyzeMinimum(ct, new SynchronousProgress<AnalysisProgress>(p =>
            {
                if (p.Stage != last)
                {
                    last = p.Stage;
                    AnsiConsole.WriteLine($"  [{p.StageIndex + 1}/{p.StageCount}] {p.Stage}");
                }
            }));
        }
        MinimumReport? report = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("analysis", maxValue: 1.0);
                report = plan.AnalyzeMinimum(ct, new SynchronousProgress<AnalysisProgress>(p =>
                {
                    task.Description = $"analysis: {Markup.Escape(p.Stage)}";
                    task.Value = p.Fraction;
                }));
                task.Value = 1.0;
            });
        return report!;
    }
}
