using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Interop;
using HessianGeometry.Models;
using HessianGeometry.Operators;
using HessianGeometry.Operators.Engines;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Benchmarks.Operators;

/// <summary>One model of the GGN suite with one GGN engine: an MLP benchmark problem, or a TorchScript fixture (float32).</summary>
/// <param name="Problem">The MLP problem, or null for a fixture.</param>
/// <param name="Fixture">residual_cnn or attention, or null for an MLP problem.</param>
/// <param name="Engine">The GGN engine.</param>
public sealed record GgnCase(BenchmarkProblem? Problem, string? Fixture, GgnEngineCandidate Engine)
{
    /// <summary>Rows per mini-batch when streamed: 256 for the MLPs (as <see cref="HvpBenchmarks"/>), 16 for the fixtures (as <see cref="ModelHvpBenchmarks"/>).</summary>
    public int BatchSize => Problem is null ? ModelHvpBenchmarks.BatchSize : HvpBenchmarks.BatchSize;

    /// <inheritdoc />
    public override string ToString() => $"{Problem?.Name ?? Fixture} · {Engine.Name}";

    /// <summary>The model in eval mode and its data; all outlive any dispose scope.</summary>
    public (Module Model, Tensor X, Tensor Y) Create()
    {
        if (Problem is not null)
            return Problem.Create();
        var folder = ModelHvpBenchmarks.FixtureFolder();
        var model = TorchScriptModel.Load(Path.Combine(folder, $"{Fixture}_f32.pt"));
        model.eval();
        var data = SafetensorsFile.Read(Path.Combine(folder, $"{Fixture}_data.safetensors"));
        return (model, data.LoadTensor("x").to(ScalarType.Float32).DetachFromDisposeScope(), data.LoadTensor("y").DetachFromDisposeScope());
    }
}

/// <summary>
/// GGN products (Jᵀ ∇²ℓ J v) next to the Hessian product and a gradient over the same model, data and batching, on every
/// benchmark model a GGN engine of this build runs: the MLP problems of <see cref="HvpBenchmarks"/> and the paper's
/// 2-100-100-3 ReLU model for the analytic MLP engine, and the TorchScript fixtures for an engine that is not
/// MLP-only (<see cref="GgnEngineCandidates"/>). Target (issue 14): GGN product ≤ Hessian product on every model. The
/// Hessian is the one <see cref="HvpEngine.Auto"/> picks (the analytic MLP R-operator on the MLPs), so the GGN is
/// compared with the fastest Hessian product the library has. Modes: one cached batch (a product reuses the batch's
/// forward quantities) and streamed mini-batches (every product recomputes them). Before timing, the GGN product must
/// match autograd's Jᵀ∇²ℓJ v (<see cref="DoubleVjpGgnProduct"/>): relative error ≤ 1e-9 in float64, 1e-4 in float32.
/// [GlobalSetup] also times GGN/gradient, Hessian/gradient and GGN/Hessian alternately in one loop
/// (<see cref="InterleavedRatio"/>), the numbers docs/benchmarks.md reports.
/// </summary>
[MemoryDiagnoser]
public class GgnBenchmarks
{
    /// <summary>Model × engine.</summary>
    [ParamsSource(nameof(Cases))]
    public GgnCase Case { get; set; } = null!;

    /// <summary>One cached batch, or streamed mini-batches.</summary>
    [ParamsSource(nameof(Modes))]
    public HessianGraphMode Mode { get; set; }

    /// <summary>Cached and Streamed.</summary>
    public static IEnumerable<HessianGraphMode> Modes => [HessianGraphMode.Cached, HessianGraphMode.Streamed];

    /// <summary>Every engine on every model it applies to; the dry pass keeps the small stand-in and the 1,315-parameter MLP.</summary>
    public static IEnumerable<GgnCase> Cases
    {
        get
        {
            BenchmarkProblem[] problems = BenchmarkSettings.Choose(
                [BenchmarkProblems.Mlp1315, BenchmarkProblems.Mlp67k(1000), BenchmarkProblems.Mlp67k(4096), BenchmarkProblems.Paper10k],
                [BenchmarkProblems.Dry, BenchmarkProblems.Mlp1315]);
            string[] fixtures = ["residual_cnn", "attention"];
            foreach (var engine in GgnEngineCandidates.All)
            {
                foreach (var problem in problems)
                    yield return new GgnCase(problem, null, engine);
                if (!engine.MlpOnly)
                {
                    foreach (var fixture in fixtures)
                        yield return new GgnCase(null, fixture, engine);
                }
            }
        }
    }

    private Module model = null!;
    private Tensor x = null!;
    private Tensor y = null!;
    private CurvatureOperator ggn = null!;
    private LossHessianOperator hessian = null!;
    private Tensor vector = null!;

    [GlobalSetup]
    public void Setup()
    {
        (model, x, y) = Case.Create();
        var data = DataSource.FromTensors(x, y, Mode == HessianGraphMode.Streamed ? Case.BatchSize : null);
        var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, data);
        var (engine, note) = Case.Engine.TryCreate(risk);
        if (engine is null)
        {
            risk.Dispose();
            throw new InvalidOperationException($"The {Case.Engine.Name} GGN engine cannot run {Case}: {note}");
        }
        ggn = new CurvatureOperator(risk, engine, Mode, note, ownsRisk: true);
        hessian = new LossHessianOperator(model, LossFunction.CrossEntropy, data, options: new LossHessianOptions { GraphMode = Mode });
        if (ggn.IsGraphCached != (Mode == HessianGraphMode.Cached) || hessian.IsGraphCached != ggn.IsGraphCached)
            throw new InvalidOperationException($"The operators are not in the mode this case measures ({Mode}).");
        vector = randn(ggn.Dimension, dtype: ggn.DType, generator: new Generator(3)).DetachFromDisposeScope();
        CaseMetrics.Once(this, "validate", Validate);
        CaseMetrics.Once(this, "interleave", Interleave);
        NativeMemoryProbe.ProbeAll(this);
    }

    /// <summary>The GGN product must equal autograd's; a wrong product must not report a time.</summary>
    private void Validate()
    {
        using var scope = NewDisposeScope();
        var expected = zeros_like(vector);
        if (Case.Engine.Reference is { } reference)
        {
            using var check = new CurvatureOperator(ggn.Risk, reference(ggn.Risk), Mode);
            expected.add_(check.Apply(vector));
        }
        else
            ggn.Risk.ForEachBatch(batch => expected.add_(DoubleVjpGgnProduct.Compute(ggn.Risk, batch, vector)));
        var error = ((ggn.Apply(vector) - expected).norm() / expected.norm()).to(ScalarType.Float64).item<double>();
        var tolerance = ggn.DType == ScalarType.Float64 ? 1e-9 : 1e-4;
        if (!(error <= tolerance))
            throw new InvalidOperationException($"{Case} {Mode}: the product disagrees with its reference (relative error {error:0.0e0}); refusing to time it.");
        CaseMetrics.Record(this, nameof(GgnProduct), "Max abs. diff", $"rel. {error:0.0e0}");
    }

    /// <summary>GGN/gradient, Hessian/gradient and GGN/Hessian, each pair timed alternately; also printed for docs/benchmarks.md.</summary>
    private void Interleave()
    {
        var ggnOverGradient = InterleavedRatio.Measure(Gradient, GgnProduct);
        var hessianOverGradient = InterleavedRatio.Measure(Gradient, HessianProduct);
        var ggnOverHessian = InterleavedRatio.Measure(HessianProduct, GgnProduct);
        CaseMetrics.Record(this, nameof(GgnProduct), InterleavedRatio.Column, ggnOverGradient);
        CaseMetrics.Record(this, nameof(HessianProduct), InterleavedRatio.Column, hessianOverGradient);
        CaseMetrics.Record(this, nameof(Gradient), InterleavedRatio.Column, "1.00");
        Console.WriteLine($"// interleaved: {Case} {Mode} (Hessian engine {hessian.Engine}): GGN/gradient {ggnOverGradient}; Hessian/gradient {hessianOverGradient}; GGN/Hessian {ggnOverHessian}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        ggn.Dispose();
        hessian.Dispose();
        vector.Dispose();
        x.Dispose();
        y.Dispose();
        model.Dispose();
    }

    [Benchmark(Baseline = true, Description = "gradient")]
    public void Gradient()
    {
        using var scope = NewDisposeScope();
        ggn.Gradient();
    }

    [Benchmark(Description = "Hessian product")]
    public void HessianProduct()
    {
        using var scope = NewDisposeScope();
        hessian.Apply(vector);
    }

    [Benchmark(Description = "GGN product")]
    public void GgnProduct()
    {
        using var scope = NewDisposeScope();
        ggn.Apply(vector);
    }
}
