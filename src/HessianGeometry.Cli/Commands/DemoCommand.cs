using System.CommandLine;
using System.Diagnostics;
using HessianGeometry.Analysis;
using HessianGeometry.Cli.Datasets;
using HessianGeometry.Cli.Reporting;
using HessianGeometry.Cli.Training;
using Spectre.Console;

namespace HessianGeometry.Cli.Commands;

/// <summary>
/// <c>hessian-geometry demo</c>: trains a 2-100-100-C ReLU MLP on a built-in data set and runs the full analysis.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = $"Built-in data set: {string.Join(", ", BuiltInDatasets.Names)}.", DefaultValueFactory = _ => "gauss3" };
        var outDir = new Option<string>("--out") { Description = "Output folder for report.json, report.md and plots.", DefaultValueFactory = _ => "hessian-report" };
        var seed = new Option<int>("--seed") { Description = "Seed for data, initial weights and every random draw of the analysis.", DefaultValueFactory = _ => 0 };
        var epochs = new Option<int>("--epochs") { Description = "Full-batch Adam epochs.", DefaultValueFactory = _ => 2000 };
        var threads = TorchThreads.CreateOption();
        var command = new Command("demo", "Train a small MLP on a built-in data set and report the Hessian geometry of its minimum.") { dataset, outDir, seed, epochs, threads };
        command.SetAction((parse, ct) => Task.FromResult(ExitCodes.Run(() =>
        {
            TorchThreads.Apply(parse.GetValue(threads));
            return Execute(parse.GetValue(dataset)!, parse.GetValue(outDir)!, parse.GetValue(seed), parse.GetValue(epochs), ct);
        })));
        return command;
    }

    private static int Execute(string datasetName, string outDir, int seed, int epochs, CancellationToken ct)
    {
        if (epochs < 1)
            throw new ArgumentException($"--epochs must be at least 1 but was {epochs}.");
        var clock = Stopwatch.StartNew();
        using var data = BuiltInDatasets.Load(datasetName, seed);
        int[] sizes = [(int)data.Dimension, 100, 100, data.Classes];
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(data.Name)}[/]: {data.Count} points, {data.Dimension} features, {data.Classes} classes; model {string.Join("-", sizes)} ReLU.");
        using var model = MlpFactory.Create(sizes, "relu", seed);
        var training = Train(model, data, new TrainingOptions { Epochs = epochs, Seed = seed }, ct);
        AnsiConsole.MarkupLine($"Trained {training.Epochs} epochs in {training.Elapsed.TotalSeconds:F1} s: loss {training.Loss:G3}, accuracy {100 * training.Accuracy:F1} %.");

        var plan = HessianAnalysis.For(model)
            .WithData(data.X, data.Y)
            .TopEigenpairs(20)
            .BottomEigenpairs(3)
            .WithTrace()
            .WithSpectralDensity()
            .WithAlignment()
            .WithBoundaryComplexity()
            .WithMargin()
            .WithDecomposition()
            .WithSampleMargins()
            .Seed(seed)
            .WithLabel($"demo {data.Name}")
            .Build();
        var report = AnalysisProgressDisplay.Run(plan, ct);
        AnsiConsole.Write(ConsoleSummary.Render(report));
        foreach (var line in DecompositionSummary.Lines(report))
            AnsiConsole.WriteLine(line);
        var files = ReportWriter.Write(report, outDir, model, data.X, data.Y).Concat(DemoFiles.Write(outDir, model, data));
        AnsiConsole.MarkupLine($"Wrote {string.Join(", ", files.Select(f => Markup.Escape(f)))} in {clock.Elapsed.TotalSeconds:F1} s.");
        return ExitCodes.Success;
    }

    private static TrainingResult Train(TorchSharp.Modules.Sequential model, Dataset data, TrainingOptions options, CancellationToken ct)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return MlpTrainer.Train(model, data.X, data.Y, options, null, ct);
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: options.Epochs);
                result = MlpTrainer.Train(model, data.X, data.Y, options, new SynchronousProgress<TrainingProgress>(p =>
                {
                    task.Value = p.Epoch;
                    task.Description = $"training (loss {p.Loss:G3})";
                }), ct);
                task.Value = options.Epochs;
            });
        return result!;
    }
}
