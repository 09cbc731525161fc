using System.CommandLine;
using System.Globalization;
using HessianGeometry.Analysis;
using HessianGeometry.Cli.Reporting;
using HessianGeometry.Interop;
using HessianGeometry.Operators;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Cli.Commands;

/// <summary>
/// <c>hessian-geometry analyze</c>: analyses a model given as a safetensors state dict plus an <c>mlp:</c> spec,
/// on data from a safetensors file (e.g. written by PyTorch).
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model weights (safetensors state dict, PyTorch nn.Sequential names).", Required = true };
        var arch = new Option<string>("--arch") { Description = "Architecture, mlp:IN-H1-...-OUT:ACT with ACT in relu|tanh|gelu|sigmoid.", Required = true };
        var data = new Option<string>("--data") { Description = "Data (safetensors).", Required = true };
        var xKey = new Option<string>("--x-key") { Description = "Name of the inputs tensor in --data.", DefaultValueFactory = _ => "x_train" };
        var yKey = new Option<string>("--y-key") { Description = "Name of the targets tensor in --data.", DefaultValueFactory = _ => "y_train" };
        var loss = new Option<string>("--loss") { Description = "Loss: ce, nll or mse.", DefaultValueFactory = _ => "ce" };
        var top = new Option<int>("--top") { Description = "Number of top eigenpairs.", DefaultValueFactory = _ => 20 };
        var bottom = new Option<int>("--bottom") { Description = "Number of bottom eigenpairs.", DefaultValueFactory = _ => 0 };
        var solver = new Option<string>("--solver") { Description = "lanczos, lobpcg, power or exact.", DefaultValueFactory = _ => "lanczos" };
        var trace = new Option<bool>("--trace") { Description = "Estimate tr(H), tr(H²) and the Wolkowicz–Styan bounds." };
        var density = new Option<bool>("--density") { Description = "Spectral density (SLQ) and HESD type." };
        var alignment = new Option<bool>("--alignment") { Description = "Alignment with the top eigenvectors and boundary complexity." };
        var margin = new Option<bool>("--margin") { Description = "Margin estimate from the top eigenvector." };
        var epsilon = new Option<string>("--epsilon") { Description = "ε for the complexity count: auto (random baseline) or a value in (0, 1).", DefaultValueFactory = _ => "auto" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Mini-batch size (default: one batch, cached graph)." };
        var seed = new Option<int>("--seed") { Description = "Seed of every random draw.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        var outDir = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "hessian-report" };
        var threads = TorchThreads.CreateOption();
        var command = new Command("analyze", "Analyse a trained model given as safetensors weights and an mlp: spec.")
        {
            model, arch, data, xKey, yKey, loss, top, bottom, solver, trace, density, alignment, margin, epsilon, batchSize, seed, device, outDir, threads,
        };
        command.SetAction((parse, ct) => Task.FromResult(ExitCodes.Run(() =>
        {
            TorchThreads.Apply(parse.GetValue(threads));
            return Execute(new Arguments(
                parse.GetValue(model)!, parse.GetValue(arch)!, parse.GetValue(data)!, parse.GetValue(xKey)!, parse.GetValue(yKey)!, parse.GetValue(loss)!,
                parse.GetValue(top), parse.GetValue(bottom), parse.GetValue(solver)!, parse.GetValue(trace), parse.GetValue(density), parse.GetValue(alignment),
                parse.GetValue(margin), parse.GetValue(epsilon)!, parse.GetValue(batchSize), parse.GetValue(seed), parse.GetValue(device)!, parse.GetValue(outDir)!), ct);
        })));
        return command;
    }

    private sealed record Arguments(string Model, string Arch, string Data, string XKey, string YKey, string Loss, int Top, int Bottom, string Solver,
        bool Trace, bool Density, bool Alignment, bool Margin, string Epsilon, int? BatchSize, int Seed, string Device, string Out);

    private static int Execute(Arguments a, CancellationToken ct)
    {
        var target = ParseDevice(a.Device);
        var spec = MlpSpec.Parse(a.Arch);
        var lossFunction = LossFunction.Parse(a.Loss);
        double? epsilon = a.Epsilon.Equals("auto", StringComparison.OrdinalIgnoreCase) ? null
            : double.TryParse(a.Epsilon, NumberStyles.Float, CultureInfo.InvariantCulture, out var e) ? e
            : throw new ArgumentException($"--epsilon must be 'auto' or a number in (0, 1) but was '{a.Epsilon}'.");

        using var scope = NewDisposeScope();
        var weights = SafetensorsFile.Read(a.Model);
        var dataFile = SafetensorsFile.Read(a.Data);
        foreach (var key in new[] { a.XKey, a.YKey })
        {
            if (!dataFile.ContainsKey(key))
                throw new ArgumentException($"{a.Data} has no tensor '{key}'. Tensors present: {string.Join(", ", dataFile.Keys)}. Pass --x-key/--y-key.");
        }
        var net = spec.Build(ScalarType.Float32, target);
        StateDictLoader.Load(net, weights);
        var x = dataFile.LoadTensor(a.XKey, target);
        var y = dataFile.LoadTensor(a.YKey, target);
        if (!x.is_floating_point())
            throw new ArgumentException($"'{a.XKey}' must be a floating-point tensor but has dtype {x.dtype}.");
        if (x.dim() != 2 || x.shape[1] != spec.InputSize)
            throw new ArgumentException($"'{a.XKey}' has shape [{string.Join(", ", x.shape)}] but the architecture {spec} expects [n, {spec.InputSize}].");
        x = x.to(net.parameters().First().dtype);
        if (lossFunction.UsesClassTargets && y.dtype == ScalarType.Int32)
            y = y.to(ScalarType.Int64);

        var builder = HessianAnalysis.For(net)
            .WithLoss(lossFunction)
            .WithData(x, y, a.BatchSize)
            .UseSolver(a.Solver)
            .TopEigenpairs(a.Top)
            .BottomEigenpairs(a.Bottom)
            .Seed(a.Seed)
            .WithLabel(Path.GetFileName(a.Model));
        if (a.Trace) builder.WithTrace();
        if (a.Density) builder.WithSpectralDensity();
        if (a.Alignment) builder.WithAlignment().WithBoundaryComplexity(epsilon);
        if (a.Margin) builder.WithMargin();
        var report = AnalysisProgressDisplay.Run(builder.Build(), ct);
        AnsiConsole.Write(ConsoleSummary.Render(report));
        var files = ReportWriter.Write(report, a.Out, net, x, y);
        AnsiConsole.MarkupLine($"Wrote {string.Join(", ", files.Select(f => Markup.Escape(f)))}.");
        return ExitCodes.Success;
    }

    private static Device ParseDevice(string name)
    {
        switch (name.Trim().ToLowerInvariant())
        {
            case "cpu":
                return CPU;
            case "cuda":
                if (!cuda.is_available())
                    throw new ArgumentException("--device cuda was requested but TorchSharp sees no CUDA device. Install a CUDA backend (TorchSharp-cuda-*) or use --device cpu.");
                return CUDA;
            default:
                throw new ArgumentException($"--device must be cpu or cuda but was '{name}'.");
        }
    }
}
