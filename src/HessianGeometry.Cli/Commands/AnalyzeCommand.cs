using System.CommandLine;
using System.Globalization;
using HessianGeometry.Analysis;
using HessianGeometry.Cli.Distributed;
using HessianGeometry.Cli.Loading;
using HessianGeometry.Cli.Reporting;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Commands;

/// <summary>
/// <c>hessian-geometry analyze</c>: analyses a trained model — a TorchScript file, or a state dict (safetensors or
/// <c>torch.save</c> pickle) plus an <c>mlp:</c> spec — on data from a safetensors file (e.g. written by PyTorch).
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model")
        {
            Description = "The model: a TorchScript file (torch.jit.script(model).save), or a state dict with PyTorch nn.Sequential names " +
                "(safetensors, or torch.save(model.state_dict()) .pt/.pth/.bin) together with --arch. Recognised by content, not extension.",
            Required = true,
        };
        var arch = new Option<string?>("--arch") { Description = "Architecture of a state dict, mlp:IN-H1-...-OUT:ACT with ACT in relu|tanh|gelu|sigmoid. Not for TorchScript files." };
        var precision = new Option<string>("--precision") { Description = "float64 or float32: the dtype the analysis computes in.", DefaultValueFactory = _ => "float64" };
        var data = new Option<string?>("--data") { Description = "Data (safetensors). Required unless --cluster is given." };
        var xKey = new Option<string>("--x-key") { Description = "Name of the inputs tensor in --data.", DefaultValueFactory = _ => "x_train" };
        var yKey = new Option<string>("--y-key") { Description = "Name of the targets tensor in --data.", DefaultValueFactory = _ => "y_train" };
        var loss = new Option<string>("--loss") { Description = $"Loss: {CliLoss.Names}.", DefaultValueFactory = _ => "ce" };
        var top = new Option<int>("--top") { Description = "Number of top eigenpairs.", DefaultValueFactory = _ => 20 };
        var bottom = new Option<int>("--bottom") { Description = "Number of bottom eigenpairs.", DefaultValueFactory = _ => 0 };
        var solver = new Option<string>("--solver") { Description = "lanczos, lobpcg, power or exact.", DefaultValueFactory = _ => "lanczos" };
        var eigendecomposition = new Option<string>("--eigendecomposition")
        {
            Description = "With --solver exact: auto (certified range-revealing route for numerically low-rank Hessians, else LAPACK eigh), full (always eigh) or range (forced; fails when the Hessian is not low-rank).",
            DefaultValueFactory = _ => "auto",
        };
        var trace = new Option<bool>("--trace") { Description = "Estimate tr(H), tr(H²) and the Wolkowicz–Styan bounds." };
        var traceProbes = new Option<int>("--trace-probes") { Description = "Most Hutchinson probes (HVPs) for --trace; it stops earlier at 1% relative standard error.", DefaultValueFactory = _ => new TraceOptions().MaxProbes };
        var density = new Option<bool>("--density") { Description = "Spectral density (SLQ) and HESD type." };
        var alignment = new Option<bool>("--alignment") { Description = "Alignment with the top eigenvectors and boundary complexity." };
        var margin = new Option<bool>("--margin") { Description = "Margin estimate from the top eigenvector." };
        var sampleMargins = new Option<bool>("--sample-margins")
        {
            Description = "Per-sample distances to the decision boundary (DeepFool + bisection), their Spearman correlation with the alignment, and the boundary curvature (turns on the alignment).",
        };
        var epsilon = new Option<string>("--epsilon") { Description = "ε for the complexity count: auto (random baseline) or a value in (0, 1).", DefaultValueFactory = _ => "auto" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Mini-batch size (default: one batch, cached graph)." };
        var seed = new Option<int>("--seed") { Description = "Seed of every random draw.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        var outDir = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "hessian-report" };
        var curvature = new Option<string>("--curvature") { Description = "The matrix for eigenpairs, trace and density: hessian, ggn, fisher (Monte-Carlo) or empirical-fisher.", DefaultValueFactory = _ => "hessian" };
        var fisherSamples = new Option<int>("--fisher-samples") { Description = "Labels drawn per input for --curvature fisher.", DefaultValueFactory = _ => 1 };
        var decomposition = new Option<bool>("--decomposition") { Description = "H = GGN + residual: top eigenvalues of each, eigenspace overlap of H and GGN, trace split." };
        var perLayer = new Option<bool>("--per-layer") { Description = "Per parameter group (module): size, top eigenvalues of its diagonal block and its trace (from the --trace probes when given)." };
        var diagonal = new Option<bool>("--diagonal") { Description = "The Hessian diagonal with per-entry standard errors (exact when available); above 1,000,000 parameters written to diagonal.safetensors in --out." };
        var threads = TorchThreads.CreateOption();
        var cluster = new Option<string?>("--cluster") { Description = "HOST:GATEWAY_PORT[,HOST:PORT…] of hessian-geometry workers: the products run on their shards of the data instead of --data (docs/distributed.md)." };
        var productTimeout = new Option<double?>("--product-timeout") { Description = "With --cluster: seconds a worker may take for one product before its shard is declared failed (default 120)." };
        var command = new Command("analyze", "Analyse a trained model: a TorchScript file, or a state dict (safetensors or torch.save pickle) plus an mlp: spec.")
        {
            model, arch, precision, data, xKey, yKey, loss, top, bottom, solver, trace, traceProbes, density, alignment, margin, epsilon, batchSize, seed, device, outDir, threads, sampleMargins, curvature, fisherSamples, decomposition, perLayer, diagonal, cluster, productTimeout, eigendecomposition,
        };
        command.SetAction((parse, ct) => Task.FromResult(ExitCodes.Run(() =>
        {
            TorchThreads.Apply(parse.GetValue(threads));
            return Execute(new Arguments(
                parse.GetValue(model)!, parse.GetValue(arch), parse.GetValue(precision)!, parse.GetValue(data), parse.GetValue(xKey)!, parse.GetValue(yKey)!, parse.GetValue(loss)!,
                parse.GetValue(top), parse.GetValue(bottom), parse.GetValue(solver)!, parse.GetValue(trace), parse.GetValue(traceProbes), parse.GetValue(density), parse.GetValue(alignment),
                parse.GetValue(margin), parse.GetValue(epsilon)!, parse.GetValue(batchSize), parse.GetValue(seed), parse.GetValue(device)!, parse.GetValue(outDir)!,
                parse.GetValue(curvature)!, parse.GetValue(fisherSamples), parse.GetValue(decomposition))
            {
                PerLayer = parse.GetValue(perLayer),
                Diagonal = parse.GetValue(diagonal),
                SampleMargins = parse.GetValue(sampleMargins),
                Cluster = parse.GetValue(cluster),
                ProductTimeout = parse.GetValue(productTimeout),
                Eigendecomposition = parse.GetValue(eigendecomposition)!,
            }, ct);
        })));
        return command;
    }

    private sealed record Arguments(string Model, string? Arch, string Precision, string? Data, string XKey, string YKey, string Loss, int Top, int Bottom, string Solver,
        bool Trace, int TraceProbes, bool Density, bool Alignment, bool Margin, string Epsilon, int? BatchSize, int Seed, string Device, string Out,
        string Curvature, int FisherSamples, bool Decomposition)
    {
        public bool PerLayer { get; init; }

        public bool Diagonal { get; init; }

        public bool SampleMargins { get; init; }

        public string? Cluster { get; init; }

        public double? ProductTimeout { get; init; }

        public string Eigendecomposition { get; init; } = "auto";
    }

    private static EigendecompositionMethod ParseEigendecomposition(string value) => value.Trim().ToUpperInvariant() switch
    {
        "AUTO" => EigendecompositionMethod.Auto,
        "FULL" => EigendecompositionMethod.Full,
        "RANGE" => EigendecompositionMethod.Range,
        _ => throw new ArgumentException($"--eigendecomposition must be auto, full or range but was '{value}'."),
    };

    private static int Execute(Arguments a, CancellationToken ct)
    {
        var target = CommandOptions.ParseDevice(a.Device);
        var precision = CommandOptions.ParsePrecision(a.Precision);
        var cliLoss = CliLoss.Parse(a.Loss);
        var lossFunction = cliLoss.Function;
        var curvature = CurvatureOperators.Parse(a.Curvature);
        if (a.FisherSamples < 1)
            throw new ArgumentException($"--fisher-samples must be at least 1 but was {a.FisherSamples}.");
        double? epsilon = a.Epsilon.Equals("auto", StringComparison.OrdinalIgnoreCase) ? null
            : double.TryParse(a.Epsilon, NumberStyles.Float, CultureInfo.InvariantCulture, out var e) ? e
            : throw new ArgumentException($"--epsilon must be 'auto' or a number in (0, 1) but was '{a.Epsilon}'.");

        var clusterOptions = ClusterSession.Options(a.Cluster, a.Data, a.ProductTimeout);
        if (clusterOptions is not null && cliLoss.BinaryLogit)
            throw new ArgumentException("--loss bce runs in one process: workers analyse the model's own outputs. Drop --cluster, or export the classifier with two logits [0, f] and use --loss ce.");
        using var scope = NewDisposeScope();
        // With --cluster the workers hold the data; the client loads only the model (whose weights the workers must match).
        using var data = clusterOptions is null ? ModelAndData.Load(a.Model, a.Arch, a.Data!, a.XKey, a.YKey, cliLoss, target) : null;
        using var clientModel = clusterOptions is null ? null : ModelLoader.Load(a.Model, a.Arch, target);
        using var cluster = clusterOptions is null ? null : ClusterSession.Connect(clusterOptions, ct);
        if (data is not null && !data.X.is_floating_point() && (a.Margin || a.SampleMargins))
            throw new ArgumentException($"'{a.XKey}' holds integer inputs ({data.X.dtype}, token ids): --margin and --sample-margins move inputs continuously towards the decision boundary, " +
                "which token ids cannot do. Leave them out; eigenpairs, --trace, --density, --alignment (with boundary complexity) and the other parameter-space measures work on token ids.");
        var net = data?.Net ?? clientModel!.Module;
        var notes = (data?.Notes ?? clientModel!.Notes).ToList();
        foreach (var note in notes)
            AnsiConsole.MarkupLine($"[grey]note:[/] {Markup.Escape(note)}");

        var builder = HessianAnalysis.For(net).WithLoss(lossFunction);
        if (cluster is null)
            builder.WithData(data!.X, data.Y, a.BatchSize);
        else
            cluster.Attach(builder, a.BatchSize);
        builder
            .WithPrecision(precision)
            .UseSolver(a.Solver)
            .WithEigendecomposition(ParseEigendecomposition(a.Eigendecomposition))
            .TopEigenpairs(a.Top)
            .BottomEigenpairs(a.Bottom)
            .Seed(a.Seed)
            .WithLabel(Path.GetFileName(a.Model));
        if (a.Trace)
        {
            if (a.TraceProbes < 2)
                throw new ArgumentException($"--trace-probes must be at least 2 (a standard error needs two probes) but was {a.TraceProbes}.");
            builder.WithTrace(new TraceOptions { MaxProbes = a.TraceProbes, MinProbes = Math.Min(new TraceOptions().MinProbes, a.TraceProbes) });
        }
        if (a.Density) builder.WithSpectralDensity();
        if (a.Alignment) builder.WithAlignment().WithBoundaryComplexity(epsilon);
        if (a.Margin) builder.WithMargin();
        builder.WithCurvature(curvature, a.FisherSamples);
        if (a.Decomposition) builder.WithDecomposition();
        if (a.PerLayer) builder.PerLayer();
        if (a.Diagonal) builder.WithDiagonal(new DiagonalOptions { OutputDirectory = a.Out });
        if (a.SampleMargins) builder.WithSampleMargins();
        var report = AnalysisProgressDisplay.Run(builder.Build(), ct);
        AnsiConsole.Write(ConsoleSummary.Render(report));
        foreach (var line in DecompositionSummary.Lines(report))
            AnsiConsole.WriteLine(line);
        if (cluster?.TransportNote() is { } transport)
        {
            AnsiConsole.WriteLine(transport);
            notes.Add(transport);
        }
        var files = ReportWriter.Write(report, a.Out, net, data?.X, data?.Y, notes);
        AnsiConsole.MarkupLine($"Wrote {string.Join(", ", files.Select(f => Markup.Escape(f)))}.");
        return ExitCodes.Success;
    }
}
