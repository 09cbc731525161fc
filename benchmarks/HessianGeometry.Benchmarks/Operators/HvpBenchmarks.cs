using BenchmarkDotNet.Attributes;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.Operators;

/// <summary>
/// Hessian-vector products against the plain full-data gradient (the baseline) on the same model and data.
/// Targets: cached HVP / gradient ≤ 1.2; streamed HVP / gradient ≤ 2.5; block HVP (k = 8) per vector ≤ one HVP.
/// </summary>
[MemoryDiagnoser]
public class HvpBenchmarks
{
    private LossHessianOperator streamed = null!;
    private LossHessianOperator cached = null!;
    private Tensor vector = null!;
    private Tensor block = null!;

    /// <summary>Model sizes / sample count: 1,315 parameters (n = 512) and 67k parameters (n = 1,000 and 4,096).</summary>
    [Params("4-32-32-3/512", "2-256-256-2/1000", "2-256-256-2/4096")]
    public string Problem { get; set; } = "4-32-32-3/512";

    /// <summary>Mini-batch size for the streamed operator.</summary>
    public const int BatchSize = 256;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Environment.ProcessorCount);
        var (model, x, y) = BenchmarkProblems.Create(Problem);
        streamed = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y, BatchSize));
        cached = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        vector = randn(streamed.Dimension, generator: new Generator(1)).DetachFromDisposeScope();
        block = randn(streamed.Dimension, 8, generator: new Generator(2)).DetachFromDisposeScope();
        // Validate once: an HVP that is wrong must not report a time.
        using var scope = NewDisposeScope();
        var a = streamed.Apply(vector);
        var b = cached.Apply(vector);
        var err = ((a - b).norm() / b.norm()).item<float>();
        if (!(err < 1e-4f))
            throw new InvalidOperationException($"Streamed and cached HVPs disagree (relative error {err}); refusing to time them.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        streamed.Dispose();
        cached.Dispose();
        vector.Dispose();
        block.Dispose();
    }

    [Benchmark(Baseline = true, Description = "gradient (streamed)")]
    public void Gradient()
    {
        using var scope = NewDisposeScope();
        streamed.Gradient();
    }

    [Benchmark(Description = "HVP streamed")]
    public void HvpStreamed()
    {
        using var scope = NewDisposeScope();
        streamed.Apply(vector);
    }

    [Benchmark(Description = "HVP cached graph")]
    public void HvpCached()
    {
        using var scope = NewDisposeScope();
        cached.Apply(vector);
    }

    [Benchmark(Description = "block HVP k=8 streamed (per vector)", OperationsPerInvoke = 8)]
    public void BlockHvpStreamed()
    {
        using var scope = NewDisposeScope();
        streamed.ApplyBlock(block);
    }
}
