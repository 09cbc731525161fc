using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Interop;
using HessianGeometry.Models;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.Operators;

/// <summary>How a <see cref="ModelHvpBenchmarks"/> case builds its operator and its gradient baseline.</summary>
public enum ModelHvpMode
{
    /// <summary>All n = 48 samples as one batch, first-order graph kept: an HVP is one double backward (PyTorch's "HVP cached").</summary>
    Cached,

    /// <summary>One batch, graph rebuilt per product: forward + create_graph backward + double backward (PyTorch's "HVP").</summary>
    Recomputed,

    /// <summary>Mini-batches of <see cref="ModelHvpBenchmarks.BatchSize"/>, graph rebuilt per batch and product; the gradient streams the same batches.</summary>
    Streamed,
}

/// <summary>
/// HVP / gradient of the TorchScript model fixtures (residual CNN, p = 1,452; attention classifier, p = 1,655; n = 48,
/// eval mode, mean cross-entropy) next to PyTorch 1.13's ratio for the same models
/// (benchmarks/reference/pytorch_models_hvp.py). The gradient of the same data and batching is the baseline of every
/// case. Before anything is timed, the operator's products of the fixture's three stored vectors must match
/// <c>*_reference.safetensors</c> (PyTorch's double backward): relative error ≤ 1e-9 in float64 and ≤ 1e-4 in float32.
/// Besides BenchmarkDotNet's separate timings, [GlobalSetup] times the gradient and the HVP alternately in one loop
/// ("Interleaved ratio"), which is robust to the load of a shared machine. While an operator is alive, libtorch's
/// oneDNN and NNPACK are off (docs/convolutions.md).
/// </summary>
[MemoryDiagnoser]
public class ModelHvpBenchmarks
{
    /// <summary>Rows per mini-batch in <see cref="ModelHvpMode.Streamed"/> (three batches of the 48 samples).</summary>
    public const int BatchSize = 16;

    /// <summary>The fixture: residual_cnn or attention.</summary>
    [Params("residual_cnn", "attention")]
    public string Model { get; set; } = "residual_cnn";

    /// <summary>float64 (<c>NAME.pt</c>) or float32 (<c>NAME_f32.pt</c>); the data is cast to the model's dtype.</summary>
    [ParamsSource(nameof(DTypes))]
    public ScalarType DType { get; set; } = ScalarType.Float32;

    /// <summary>The dtypes; the dry pass keeps float32 (the oneDNN-sensitive one).</summary>
    public static IEnumerable<ScalarType> DTypes => BenchmarkSettings.Choose([ScalarType.Float64, ScalarType.Float32], [ScalarType.Float32]);

    /// <summary>Graph mode and batching.</summary>
    [ParamsSource(nameof(Modes))]
    public ModelHvpMode Mode { get; set; }

    /// <summary>The modes; the dry pass leaves out the one-batch recomputed case.</summary>
    public static IEnumerable<ModelHvpMode> Modes => BenchmarkSettings.Choose(
        [ModelHvpMode.Cached, ModelHvpMode.Recomputed, ModelHvpMode.Streamed], [ModelHvpMode.Cached, ModelHvpMode.Streamed]);

    private TorchScriptModel model = null!;
    private LossHessianOperator op = null!;
    private Tensor x = null!;
    private Tensor y = null!;
    private Tensor vector = null!;

    [GlobalSetup]
    public void Setup()
    {
        var folder = FixtureFolder();
        model = TorchScriptModel.Load(Path.Combine(folder, DType == ScalarType.Float32 ? $"{Model}_f32.pt" : $"{Model}.pt"));
        model.eval();
        var data = SafetensorsFile.Read(Path.Combine(folder, $"{Model}_data.safetensors"));
        x = data.LoadTensor("x").to(DType).DetachFromDisposeScope();
        y = data.LoadTensor("y").DetachFromDisposeScope();
        op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, Mode == ModelHvpMode.Streamed ? BatchSize : null),
            options: new LossHessianOptions { GraphMode = Mode == ModelHvpMode.Cached ? HessianGraphMode.Cached : HessianGraphMode.Streamed });
        if (op.IsGraphCached != (Mode == ModelHvpMode.Cached) || op.DType != DType)
            throw new InvalidOperationException($"The operator is not in the mode this case measures ({Mode}, {DType}).");
        var reference = SafetensorsFile.Read(Path.Combine(folder, $"{Model}_reference.safetensors"));
        vector = reference.LoadTensor("hvp.v0").to(DType).DetachFromDisposeScope();
        CaseMetrics.Once(this, "validate", () => Validate(reference));
        CaseMetrics.Once(this, "interleave", Interleave);
        NativeMemoryProbe.ProbeAll(this);
    }

    /// <summary>The products of the three stored vectors must match PyTorch's; a wrong HVP must not report a time.</summary>
    private void Validate(SafetensorsFile reference)
    {
        using var scope = NewDisposeScope();
        var prefix = DType == ScalarType.Float32 ? "float32." : "";
        var tolerance = DType == ScalarType.Float32 ? 1e-4 : 1e-9;
        var worst = 0.0;
        for (var i = 0; i < 3; i++)
        {
            var v = reference.LoadTensor($"hvp.v{i}").to(DType);
            var expected = reference.LoadTensor($"{prefix}hvp.hv{i}").to(ScalarType.Float64);
            var actual = op.Apply(v).to(ScalarType.Float64);
            var error = ((actual - expected).norm() / expected.norm()).item<double>();
            if (!(error <= tolerance))
                throw new InvalidOperationException($"{Model} {DType} {Mode}: H·v{i} disagrees with the fixture's PyTorch reference " +
                    $"(relative error {error:0.0e0} > {tolerance:0e0}); refusing to time it.");
            worst = Math.Max(worst, error);
        }
        var gradient = op.Gradient().to(ScalarType.Float64);
        var expectedGradient = reference.LoadTensor($"{prefix}gradient").to(ScalarType.Float64);
        var gradientError = ((gradient - expectedGradient).norm() / expectedGradient.norm()).item<double>();
        if (!(gradientError <= tolerance))
            throw new InvalidOperationException($"{Model} {DType} {Mode}: the gradient disagrees with the fixture's reference (relative error {gradientError:0.0e0}).");
        CaseMetrics.Record(this, nameof(Hvp), "Max abs. diff", $"rel. {worst:0.0e0} (3 HVPs)");
        CaseMetrics.Record(this, nameof(Gradient), "Max abs. diff", $"rel. {gradientError:0.0e0}");
    }

    /// <summary>
    /// Gradient and HVP timed alternately (<see cref="InterleavedRatio"/>), by the wall clock and by the thread's CPU time
    /// (robust to the load of a shared machine), recorded on the HVP row.
    /// </summary>
    private void Interleave()
    {
        CaseMetrics.Record(this, nameof(Hvp), InterleavedRatio.Column, InterleavedRatio.Measure(Gradient, Hvp));
        CaseMetrics.Record(this, nameof(Gradient), InterleavedRatio.Column, "1.00");
        CaseMetrics.Record(this, nameof(Hvp), InterleavedRatio.CpuColumn, InterleavedRatio.MeasureCpu(Gradient, Hvp));
        CaseMetrics.Record(this, nameof(Gradient), InterleavedRatio.CpuColumn, "1.00");
    }

    /// <summary>tests/HessianGeometry.Tests/fixtures/models, found from the working directory or the binary upwards.</summary>
    internal static string FixtureFolder()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "HessianGeometry.Tests", "fixtures", "models");
                if (File.Exists(Path.Combine(candidate, "residual_cnn.pt")))
                    return candidate;
            }
        }
        throw new DirectoryNotFoundException("tests/HessianGeometry.Tests/fixtures/models not found above the working directory; run from the repository.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        op.Dispose();
        model.Dispose();
        x.Dispose();
        y.Dispose();
        vector.Dispose();
    }

    [Benchmark(Baseline = true, Description = "gradient")]
    public void Gradient()
    {
        using var scope = NewDisposeScope();
        op.Gradient();
    }

    [Benchmark(Description = "HVP")]
    public void Hvp()
    {
        using var scope = NewDisposeScope();
        op.Apply(vector);
    }
}
