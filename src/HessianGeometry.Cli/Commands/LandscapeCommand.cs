using System.CommandLine;
using System.Globalization;
using HessianGeometry.Analysis;
using HessianGeometry.Cli.Loading;
using HessianGeometry.Landscapes;
using HessianGeometry.Operators;
using HessianGeometry.Plotting;
using Spectre.Console;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Commands;

/// <summary>
/// <c>hessian-geometry landscape</c>: the loss (and accuracy) of a trained model on a 1-D or 2-D grid along top Hessian
/// eigenvectors, filter-normalised random directions, the segment or plane through other models, or the PCA directions
/// of a trajectory of checkpoints; writes landscape.json and PNGs (docs/landscapes.md).
/// </summary>
internal static class LandscapeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The model (as for analyze): TorchScript, or a state dict with --arch. Model A for interpolate; the final point for pca.", Required = true };
        var arch = new Option<string?>("--arch") { Description = "Architecture of state dicts (also used for --other, --third and --checkpoints), mlp:IN-H1-...-OUT:ACT." };
        var precision = new Option<string>("--precision") { Description = "float64 or float32: the dtype the loss is computed in.", DefaultValueFactory = _ => "float64" };
        var data = new Option<string>("--data") { Description = "Data (safetensors).", Required = true };
        var xKey = new Option<string>("--x-key") { Description = "Name of the inputs tensor in --data.", DefaultValueFactory = _ => "x_train" };
        var yKey = new Option<string>("--y-key") { Description = "Name of the targets tensor in --data.", DefaultValueFactory = _ => "y_train" };
        var loss = new Option<string>("--loss") { Description = $"Loss: {CliLoss.Names}.", DefaultValueFactory = _ => "ce" };
        var directions = new Option<string>("--directions") { Description = "eigen (top Hessian eigenvectors), random (filter-normalised), interpolate (segment to --other, or plane with --third) or pca (of --checkpoints).", Required = true };
        var dims = new Option<int?>("--dims") { Description = "1 (a curve, the default) or 2 (a surface). interpolate: 1 with --other, 2 with --third (the default follows them)." };
        var other = new Option<string?>("--other") { Description = "interpolate: model B." };
        var third = new Option<string?>("--third") { Description = "interpolate: model C (the plane through the three models)." };
        var checkpoints = new Option<string?>("--checkpoints") { Description = "pca: a folder of checkpoint files (in file-name order) or a comma-separated list, oldest first; --model is the final point." };
        var steps = new Option<int>("--steps") { Description = "Points per axis (odd, so the centre is a grid point).", DefaultValueFactory = _ => 25 };
        var span = new Option<double?>("--span") { Description = "eigen/random/pca: largest distance ‖θ − θ*‖ per axis (default 1). interpolate: margin beyond the models as a fraction of their distance (default 0.5)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the random directions and the eigensolver's start vector.", DefaultValueFactory = _ => 0 };
        var batchSize = new Option<int?>("--batch-size") { Description = "Mini-batch size of each loss evaluation (default: one batch)." };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        var outDir = new Option<string>("--out") { Description = "Output folder for landscape.json and the PNGs.", DefaultValueFactory = _ => "landscape" };
        var curvature = new Option<string>("--curvature") { Description = "eigen: the matrix whose top eigenvectors span the landscape: hessian, ggn, fisher (Monte-Carlo) or empirical-fisher. The quadratic model always uses the Hessian's curvature vᵀHv along each.", DefaultValueFactory = _ => "hessian" };
        var fisherSamples = new Option<int>("--fisher-samples") { Description = "Labels drawn per input for --curvature fisher.", DefaultValueFactory = _ => 1 };
        var threads = TorchThreads.CreateOption();
        var command = new Command("landscape", "Loss landscape of a trained model along eigenvectors, filter-normalised random directions, paths between models or a trajectory's PCA directions.")
        {
            model, arch, precision, data, xKey, yKey, loss, directions, dims, other, third, checkpoints, steps, span, seed, batchSize, device, outDir, threads,
            curvature, fisherSamples,
        };
        command.SetAction((parse, ct) => Task.FromResult(ExitCodes.Run(() =>
        {
            TorchThreads.Apply(parse.GetValue(threads));
            return Execute(new Arguments(parse.GetValue(model)!, parse.GetValue(arch), parse.GetValue(precision)!, parse.GetValue(data)!, parse.GetValue(xKey)!,
                parse.GetValue(yKey)!, parse.GetValue(loss)!, parse.GetValue(directions)!, parse.GetValue(dims), parse.GetValue(other), parse.GetValue(third),
                parse.GetValue(checkpoints), parse.GetValue(steps), parse.GetValue(span), parse.GetValue(seed), parse.GetValue(batchSize), parse.GetValue(device)!,
                parse.GetValue(outDir)!) { Curvature = parse.GetValue(curvature)!, FisherSamples = parse.GetValue(fisherSamples) }, ct);
        })));
        return command;
    }

    private sealed record Arguments(string Model, string? Arch, string Precision, string Data, string XKey, string YKey, string Loss, string Directions, int? Dims,
        string? Other, string? Third, string? Checkpoints, int Steps, double? Span, int Seed, int? BatchSize, string Device, string Out)
    {
        public string Curvature { get; init; } = "hessian";

        public int FisherSamples { get; init; } = 1;
    }

    private static int Execute(Arguments a, CancellationToken ct)
    {
        var kind = a.Directions.Trim().ToLowerInvariant();
        CheckCombination(a, kind);
        var target = CommandOptions.ParseDevice(a.Device);
        var dtype = CommandOptions.ParsePrecision(a.Precision) == AnalysisPrecision.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var cliLoss = CliLoss.Parse(a.Loss);
        var lossFunction = cliLoss.Function;
        if (a.BatchSize is < 1)
            throw new ArgumentException($"--batch-size must be at least 1 but was {a.BatchSize}.");
        var options = new LandscapeGridOptions { Steps = a.Steps, Span = a.Span ?? (kind == "interpolate" ? 0.5 : 1.0) };
        if (!double.IsFinite(options.Span) || options.Span < 0 || (kind != "interpolate" && options.Span == 0))
            throw new ArgumentException($"--span must be a positive number but was {options.Span.ToString(CultureInfo.InvariantCulture)}.");
        if (a.Steps < 3 || a.Steps % 2 == 0)
            throw new ArgumentException($"--steps must be an odd number ≥ 3 (so the centre is a grid point) but was {a.Steps}; pass e.g. 25.");

        using var scope = NewDisposeScope();
        using var inputs = ModelAndData.Load(a.Model, a.Arch, a.Data, a.XKey, a.YKey, cliLoss, target);
        foreach (var note in inputs.Notes)
            AnsiConsole.MarkupLine($"[grey]note:[/] {Markup.Escape(note)}");
        using var risk = new EmpiricalRisk(inputs.Net, lossFunction, DataSource.FromTensors(inputs.X, inputs.Y, a.BatchSize),
            options: new EmpiricalRiskOptions { AnalysisDType = dtype });
        using var directions = BuildDirections(a, kind, risk, target, ct);
        AnsiConsole.MarkupLine($"Evaluating the loss on a {string.Join(" × ", Enumerable.Repeat(options.Steps, directions.Count))} grid ({Markup.Escape(string.Join(", ", directions.Names))}) over n = {risk.SampleCount} samples, p = {risk.Dimension} parameters.");
        var lastPercent = -1;
        var progress = new SynchronousProgress<LandscapeProgress>(p =>
        {
            var percent = 100 * p.Completed / p.Total;
            if (percent / 10 == lastPercent / 10 && p.Completed != p.Total)
                return;
            lastPercent = percent;
            AnsiConsole.MarkupLine($"[grey]  {p.Completed}/{p.Total} points[/]");
        });
        var result = LossLandscape.Evaluate(risk, directions, options, progress, ct);
        var files = LandscapeWriter.Write(result, a.Out);
        Summarise(result);
        AnsiConsole.MarkupLine($"Wrote {string.Join(", ", files.Select(f => Markup.Escape(f)))} in {a.Out}.");
        return ExitCodes.Success;
    }

    private static void CheckCombination(Arguments a, string kind)
    {
        if (kind is not ("eigen" or "random" or "interpolate" or "pca"))
            throw new ArgumentException($"--directions must be eigen, random, interpolate or pca but was '{a.Directions}'.");
        if (a.Dims is not (null or 1 or 2))
            throw new ArgumentException($"--dims must be 1 or 2 but was {a.Dims}.");
        if (kind != "interpolate" && (a.Other is not null || a.Third is not null))
            throw new ArgumentException("--other and --third are for --directions interpolate only.");
        if (kind != "pca" && a.Checkpoints is not null)
            throw new ArgumentException("--checkpoints is for --directions pca only.");
        if (kind == "interpolate")
        {
            if (a.Other is null)
                throw new ArgumentException("--directions interpolate needs --other (model B), and --third (model C) for the plane through three models.");
            if (a.Third is not null && a.Dims == 1)
                throw new ArgumentException("--third gives the 2-D plane through three models: drop --dims 1 or pass --dims 2.");
            if (a.Third is null && a.Dims == 2)
                throw new ArgumentException("A 2-D interpolation is the plane through three models: pass --third (model C).");
        }
        if (kind != "eigen" && CurvatureOperators.Parse(a.Curvature) != CurvatureKind.Hessian)
            throw new ArgumentException($"--curvature {a.Curvature} chooses whose eigenvectors span the landscape: it is for --directions eigen only.");
        if (a.FisherSamples < 1)
            throw new ArgumentException($"--fisher-samples must be at least 1 but was {a.FisherSamples}.");
        if (kind == "pca" && a.Checkpoints is null)
            throw new ArgumentException("--directions pca needs --checkpoints: a folder of checkpoint files or a comma-separated list, oldest first (--model is the final point).");
    }

    private static LandscapeDirections BuildDirections(Arguments a, string kind, EmpiricalRisk risk, Device device, CancellationToken ct)
    {
        var count = a.Dims ?? (a.Third is null ? 1 : 2);
        switch (kind)
        {
            case "eigen":
                return EigenvectorDirections.FromCurvature(risk, CurvatureOperators.Parse(a.Curvature), count, a.Seed, a.FisherSamples, cancellationToken: ct);
            case "random":
                return FilterNormalizedDirections.Create(risk.AnalysisParameters, count, a.Seed);
            case "interpolate":
            {
                using var scope = NewDisposeScope();
                var b = OtherModel(a.Other!, a.Arch, risk, device, "--other");
                return a.Third is null
                    ? ModelInterpolation.Segment(risk.AnalysisParameters, b)
                    : ModelInterpolation.Plane(risk.AnalysisParameters, b, OtherModel(a.Third, a.Arch, risk, device, "--third"));
            }
            default:
            {
                using var scope = NewDisposeScope();
                var files = CheckpointFiles(a.Checkpoints!, a.Model);
                var points = files.Select(f => OtherModel(f, a.Arch, risk, device, $"checkpoint '{Path.GetFileName(f)}'")).ToList();
                points.Add(risk.AnalysisParameters.GetValues().to(ScalarType.Float64));
                var names = files.Select(Path.GetFileName).Append("final (--model)").ToList();
                return TrajectoryPca.Create(points, count, names!);
            }
        }
    }

    private static Tensor OtherModel(string path, string? arch, EmpiricalRisk risk, Device device, string what)
    {
        using var loaded = ModelLoader.Load(path, arch, device);
        return ParameterVectors.FromModule(loaded.Module, risk.Parameters, what);
    }

    /// <summary>The checkpoint files in training order: a folder's files by name, or a comma-separated list as given; --model itself is left out.</summary>
    private static List<string> CheckpointFiles(string spec, string model)
    {
        List<string> files;
        if (Directory.Exists(spec))
            files = Directory.GetFiles(spec).Order(StringComparer.Ordinal).ToList();
        else
            files = spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (var f in files.Where(f => !File.Exists(f)))
            throw new FileNotFoundException($"Checkpoint '{f}' does not exist. Pass a folder of checkpoints or a comma-separated list of files.", f);
        files = files.Where(f => !string.Equals(Path.GetFullPath(f), Path.GetFullPath(model), StringComparison.Ordinal)).ToList();
        if (files.Count == 0)
            throw new ArgumentException($"--checkpoints '{spec}' holds no checkpoint besides --model; pass the earlier checkpoints of the training run.");
        return files;
    }

    private static void Summarise(LandscapeResult result)
    {
        var accuracy = result.CenterAccuracy is { } acc ? $", accuracy {acc:P1}" : string.Empty;
        AnsiConsole.MarkupLine($"Centre loss {result.CenterLoss.ToString("G6", CultureInfo.InvariantCulture)}{accuracy}; loss range " +
            $"{result.Loss.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Min().ToString("G4", CultureInfo.InvariantCulture)} … " +
            $"{result.Loss.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max().ToString("G4", CultureInfo.InvariantCulture)} over {result.Evaluations} evaluations in {result.WallTime.TotalSeconds:F1} s.");
        foreach (var q in result.QuadraticModel ?? [])
        {
            static string Side(double? d) => d is { } v ? $"|α| = {v.ToString("G3", CultureInfo.InvariantCulture)}" : "nowhere in the span";
            AnsiConsole.MarkupLine($"  {Markup.Escape(q.Direction)}: λ = {q.Eigenvalue.ToString("G4", CultureInfo.InvariantCulture)}; the quadratic model is off by > {q.Threshold:P0} at {Side(q.DepartureNegative)} (α < 0) and {Side(q.DeparturePositive)} (α > 0).");
        }
        foreach (var anchor in result.Anchors.Where(a => a.Loss is not null))
            AnsiConsole.MarkupLine($"  {Markup.Escape(anchor.Name)}: loss {anchor.Loss!.Value.ToString("G6", CultureInfo.InvariantCulture)}");
        foreach (var note in result.Notes)
            AnsiConsole.MarkupLine($"[grey]note:[/] {Markup.Escape(note)}");
    }
}
