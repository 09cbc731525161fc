using HessianGeometry.Interop;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using static TorchSharp.torch;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Benchmarks;

/// <summary>
/// A seeded model + data set the targets in docs/benchmarks.md are stated for. Its <see cref="ToString"/> is the short
/// name BenchmarkDotNet prints in the parameter column.
/// </summary>
/// <param name="Name">Short name, e.g. "4-32-32-3/512" or "2-100-100-3/gauss3".</param>
/// <param name="Sizes">Layer widths, input first.</param>
/// <param name="Activation">tanh or relu.</param>
/// <param name="Data">"blobs" (TinyModels.Blobs, n samples) or "gauss3" (the paper's three Gaussians, 300 samples).</param>
/// <param name="Samples">n.</param>
/// <param name="Seed">Seeds the initial weights and the data.</param>
/// <param name="TrainingSteps">Full-batch Adam steps (lr 0.01, TinyTraining) before the analysis; 0 = at initialisation.</param>
/// <param name="DType">Parameter and data dtype.</param>
public sealed record BenchmarkProblem(string Name, int[] Sizes, string Activation, string Data, int Samples, int Seed, int TrainingSteps, ScalarType DType)
{
    /// <summary>p, the number of parameters.</summary>
    public long ParameterCount => MlpSpec.Parse($"mlp:{string.Join("-", Sizes)}:{Activation}").ParameterCount;

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>Builds the model (eval mode, trained if asked) and the data; all three outlive any dispose scope.</summary>
    public (Sequential Model, Tensor X, Tensor Y) Create()
    {
        using var scope = NewDisposeScope();
        var model = TinyModels.Mlp(Sizes, Activation, Seed, DType);
        var (x, y) = Data switch
        {
            "blobs" => TinyModels.Blobs(Samples, Sizes[0], Sizes[^1], Seed, dtype: DType),
            "gauss3" => ThreeGaussians(Seed, DType),
            _ => throw new ArgumentException($"Unknown data set '{Data}'; use blobs or gauss3."),
        };
        if (TrainingSteps > 0)
            TinyTraining.CrossEntropyAdam(model, x, y, TrainingSteps);
        model.eval();
        return (model, x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }

    /// <summary>
    /// The three-Gaussian mixture of the decision-boundary paper (as the CLI's gauss3): class c has mean μ_c and per-axis
    /// standard deviations σ_c, μ = (2,−1), (−2,0), (0,2), σ = (0.5,0.5), (0.5,1), (0.5,0.5); 100 points per class.
    /// </summary>
    private static (Tensor X, Tensor Y) ThreeGaussians(int seed, ScalarType dtype)
    {
        var means = tensor(new double[,] { { 2, -1 }, { -2, 0 }, { 0, 2 } });
        var deviations = tensor(new double[,] { { 0.5, 0.5 }, { 0.5, 1 }, { 0.5, 0.5 } });
        var y = arange(3, dtype: ScalarType.Int64).repeat_interleave(100);
        var noise = randn(300, 2, dtype: ScalarType.Float64, generator: new Generator((ulong)seed));
        var x = (means.index_select(0, y) + deviations.index_select(0, y) * noise).to(dtype);
        return (x, y);
    }
}

/// <summary>The reference problems of the issue's targets, and the small stand-ins the dry pass uses.</summary>
public static class BenchmarkProblems
{
    /// <summary>MLP 4-32-32-3 (tanh), 1,315 parameters, n = 512 blobs, float32, at initialisation (HVP timings).</summary>
    public static BenchmarkProblem Mlp1315 { get; } = new("4-32-32-3/512", [4, 32, 32, 3], "tanh", "blobs", 512, 0, 0, ScalarType.Float32);

    /// <summary>MLP 2-256-256-2 (tanh), 67,074 parameters, float32.</summary>
    public static BenchmarkProblem Mlp67k(int samples) => new($"2-256-256-2/{samples}", [2, 256, 256, 2], "tanh", "blobs", samples, 0, 0, ScalarType.Float32);

    /// <summary>
    /// The eigen-solver reference problem of docs/solvers.md: MLP 4-32-32-3 (tanh, seed 1) on 512 blobs (seed 1), float64,
    /// either at initialisation or after 100 full-batch Adam steps.
    /// </summary>
    public static BenchmarkProblem Solver1315(bool trained) =>
        new(trained ? "1315 trained" : "1315 init", [4, 32, 32, 3], "tanh", "blobs", 512, 1, trained ? 100 : 0, ScalarType.Float64);

    /// <summary>The paper's architecture at 50 hidden units (2-50-50-3 ReLU, p = 2,853) on the three Gaussians.</summary>
    public static BenchmarkProblem Paper2853 { get; } = new("2-50-50-3/gauss3", [2, 50, 50, 3], "relu", "gauss3", 300, 0, 300, ScalarType.Float64);

    /// <summary>The paper-pipeline sizes (p = 2,853 and 10,703); the dry stand-in in the dry pass; HG_BENCH_MIN_P / HG_BENCH_MAX_P select among them.</summary>
    public static IEnumerable<BenchmarkProblem> PaperSizes =>
        Infrastructure.BenchmarkSettings.WithinSizeLimits(Infrastructure.BenchmarkSettings.Choose([Paper2853, Paper10k], [Dry]));

    /// <summary>The paper's model: MLP 2-100-100-3 (ReLU), 10,703 parameters, on the 300-point three-Gaussian set, float64, 300 Adam steps.</summary>
    public static BenchmarkProblem Paper10k { get; } = new("2-100-100-3/gauss3", [2, 100, 100, 3], "relu", "gauss3", 300, 0, 300, ScalarType.Float64);

    /// <summary>MLP 4-32-32-3 trained 100 steps, float64: the 1.3k exact-Hessian / trace problem.</summary>
    public static BenchmarkProblem Trained1315 { get; } = new("4-32-32-3/512", [4, 32, 32, 3], "tanh", "blobs", 512, 1, 100, ScalarType.Float64);

    /// <summary>A dry-pass stand-in: MLP 2-16-16-3 (ReLU, 355 parameters) on the three Gaussians, float64, 50 Adam steps.</summary>
    public static BenchmarkProblem Dry { get; } = new("2-16-16-3/gauss3", [2, 16, 16, 3], "relu", "gauss3", 300, 0, 50, ScalarType.Float64);

    /// <summary>Creates the loss-Hessian operator (cross-entropy) of a model and data.</summary>
    public static LossHessianOperator Operator(Sequential model, Tensor x, Tensor y, int? batchSize = null, HessianGraphMode mode = HessianGraphMode.Auto,
        HvpEngine engine = HvpEngine.Auto) =>
        new(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, batchSize), options: new LossHessianOptions { GraphMode = mode, Engine = engine });
}
