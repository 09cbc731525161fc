using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Benchmarks.Operators;

/// <summary>
/// Hessian-vector products of <see cref="LossHessianOperator"/> against a plain gradient over the same model and data.
/// Two categories, each with its own comparable baseline (ratios are per category):
/// <list type="bullet">
/// <item>"one batch": all n samples as a single batch. Baseline: one gradient of that batch (forward + backward).
/// Against it: HVP on the cached first-order graph (one double-backward pass), the same HVP recomputed from scratch
/// (forward + create_graph backward + double backward, what a one-batch HVP costs without the cache), and a block
/// of k = 8 HVPs on the cached graph (time per vector).</item>
/// <item>"streamed": mini-batches of <see cref="BatchSize"/>. Baseline: the streamed gradient (same batches). Against it:
/// the streamed HVP, the streamed block HVP, k = 8 (time per vector; forward and first backward shared by the block),
/// and <see cref="HessianGraphMode.Cached"/> on the same batches (every batch's first-order graph kept: one double
/// backward per batch, memory of the whole data set's activations).</item>
/// </list>
/// Targets: cached HVP / one-batch gradient ≤ 1.2; streamed HVP / streamed gradient ≤ 2.5; block HVP per vector ≤ the
/// single HVP of the same mode. Every case runs on both product engines (<see cref="HvpEngine"/>): autograd's double
/// backward and the analytic MLP R-operator; the gradient baseline is the same autograd gradient for both.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class HvpBenchmarks
{
    /// <summary>Mini-batch size for the streamed operator.</summary>
    public const int BatchSize = 256;

    /// <summary>Vectors in a block product.</summary>
    public const int BlockSize = 8;

    private LossHessianOperator streamed = null!;
    private LossHessianOperator cached = null!;
    private LossHessianOperator recomputed = null!;
    private LossHessianOperator cachedBatches = null!;
    private Tensor vector = null!;
    private Tensor block = null!;

    /// <summary>1,315 parameters (n = 512) and 67,074 parameters (n = 1,000 and 4,096); all float32 at initialisation.</summary>
    [ParamsSource(nameof(Problems))]
    public BenchmarkProblem Problem { get; set; } = BenchmarkProblems.Mlp1315;

    /// <summary>The problems; the dry pass leaves out n = 4,096.</summary>
    public static IEnumerable<BenchmarkProblem> Problems => BenchmarkSettings.Choose(
        [BenchmarkProblems.Mlp1315, BenchmarkProblems.Mlp67k(1000), BenchmarkProblems.Mlp67k(4096)],
        [BenchmarkProblems.Mlp1315, BenchmarkProblems.Mlp67k(1000)]);

    /// <summary>The product engine under test.</summary>
    [Params(HvpEngine.DoubleBackward, HvpEngine.AnalyticMlp)]
    public HvpEngine Engine { get; set; }

    private LossHessianOperator reference = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (model, x, y) = Problem.Create();
        streamed = BenchmarkProblems.Operator(model, x, y, BatchSize, engine: Engine);
        cached = BenchmarkProblems.Operator(model, x, y, engine: Engine);
        recomputed = BenchmarkProblems.Operator(model, x, y, mode: HessianGraphMode.Streamed, engine: Engine);
        cachedBatches = BenchmarkProblems.Operator(model, x, y, BatchSize, HessianGraphMode.Cached, Engine);
        reference = BenchmarkProblems.Operator(model, x, y, engine: HvpEngine.DoubleBackward);
        if (new[] { streamed, cached, recomputed, cachedBatches }.Any(o => o.Engine != Engine))
            throw new InvalidOperationException($"An operator did not run on the {Engine} engine: {cached.EngineNote}");
        vector = randn(streamed.Dimension, dtype: streamed.DType, generator: new Generator(1)).DetachFromDisposeScope();
        block = randn(streamed.Dimension, BlockSize, dtype: streamed.DType, generator: new Generator(2)).DetachFromDisposeScope();
        if (!cached.IsGraphCached || streamed.IsGraphCached || recomputed.IsGraphCached || !cachedBatches.IsGraphCached)
            throw new InvalidOperationException("The operators are not in the graph modes this benchmark compares.");
        CaseMetrics.Once(this, "validate", Validate);
        CaseMetrics.Once(this, "interleave", Interleave);
        NativeMemoryProbe.ProbeAll(this);
    }

    /// <summary>Every variant must compute the same products; a wrong HVP must not report a time.</summary>
    private void Validate()
    {
        using var scope = NewDisposeScope();
        var reference = this.reference.Apply(vector);
        Check("cached HVP", cached.Apply(vector), reference);
        Check("streamed HVP", streamed.Apply(vector), reference);
        Check("recomputed one-batch HVP", recomputed.Apply(vector), reference);
        Check("cached per-batch HVP", cachedBatches.Apply(vector), reference);
        var blockReference = stack(Enumerable.Range(0, BlockSize).Select(j => this.reference.Apply(block[.., j].contiguous())).ToList(), 1);
        Check("cached block HVP", cached.ApplyBlock(block), blockReference);
        Check("streamed block HVP", streamed.ApplyBlock(block), blockReference);
        Check("streamed gradient", streamed.Gradient(), cached.Gradient());
    }

    /// <summary>
    /// Every method timed alternately with its category's gradient (<see cref="InterleavedRatio"/>): the ratio under the
    /// same machine load. Also printed, so a run filtered to the baselines still shows every ratio.
    /// </summary>
    private void Interleave()
    {
        (string Method, Action Baseline, Action Operation, int PerInvoke)[] pairs =
        [
            (nameof(HvpCached), GradientOneBatch, HvpCached, 1),
            (nameof(HvpRecomputed), GradientOneBatch, HvpRecomputed, 1),
            (nameof(BlockHvpCached), GradientOneBatch, BlockHvpCached, BlockSize),
            (nameof(HvpStreamed), GradientStreamed, HvpStreamed, 1),
            (nameof(HvpCachedBatches), GradientStreamed, HvpCachedBatches, 1),
            (nameof(BlockHvpStreamed), GradientStreamed, BlockHvpStreamed, BlockSize),
        ];
        foreach (var (method, baseline, operation, perInvoke) in pairs)
        {
            var value = InterleavedRatio.Measure(baseline, operation, perInvoke);
            CaseMetrics.Record(this, method, InterleavedRatio.Column, value);
            Console.WriteLine($"// interleaved: {Problem} {Engine} {method}: {value}");
        }
        CaseMetrics.Record(this, nameof(GradientOneBatch), InterleavedRatio.Column, "1.00");
        CaseMetrics.Record(this, nameof(GradientStreamed), InterleavedRatio.Column, "1.00");
    }

    private static void Check(string what, Tensor actual, Tensor expected)
    {
        var error = ((actual - expected).norm() / expected.norm()).item<float>();
        if (!(error < 1e-4f))
            throw new InvalidOperationException($"The {what} disagrees with the double-backward reference (relative error {error}); refusing to time it.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        streamed.Dispose();
        cached.Dispose();
        recomputed.Dispose();
        cachedBatches.Dispose();
        reference.Dispose();
        vector.Dispose();
        block.Dispose();
    }

    [Benchmark(Baseline = true, Description = "gradient, one batch")]
    [BenchmarkCategory("one batch")]
    public void GradientOneBatch()
    {
        using var scope = NewDisposeScope();
        cached.Gradient();
    }

    [Benchmark(Description = "HVP, cached graph")]
    [BenchmarkCategory("one batch")]
    public void HvpCached()
    {
        using var scope = NewDisposeScope();
        cached.Apply(vector);
    }

    [Benchmark(Description = "HVP, one batch recomputed")]
    [BenchmarkCategory("one batch")]
    public void HvpRecomputed()
    {
        using var scope = NewDisposeScope();
        recomputed.Apply(vector);
    }

    [Benchmark(Description = "block HVP k=8, cached (per vector)", OperationsPerInvoke = BlockSize)]
    [BenchmarkCategory("one batch")]
    public void BlockHvpCached()
    {
        using var scope = NewDisposeScope();
        cached.ApplyBlock(block);
    }

    [Benchmark(Baseline = true, Description = "gradient, streamed")]
    [BenchmarkCategory("streamed")]
    public void GradientStreamed()
    {
        using var scope = NewDisposeScope();
        streamed.Gradient();
    }

    [Benchmark(Description = "HVP, streamed")]
    [BenchmarkCategory("streamed")]
    public void HvpStreamed()
    {
        using var scope = NewDisposeScope();
        streamed.Apply(vector);
    }

    [Benchmark(Description = "HVP, cached graph of the 256-row batches")]
    [BenchmarkCategory("streamed")]
    public void HvpCachedBatches()
    {
        using var scope = NewDisposeScope();
        cachedBatches.Apply(vector);
    }

    [Benchmark(Description = "block HVP k=8, streamed (per vector)", OperationsPerInvoke = BlockSize)]
    [BenchmarkCategory("streamed")]
    public void BlockHvpStreamed()
    {
        using var scope = NewDisposeScope();
        streamed.ApplyBlock(block);
    }
}
