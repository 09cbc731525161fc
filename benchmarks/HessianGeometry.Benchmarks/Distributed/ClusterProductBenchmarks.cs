using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Distributed;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using static TorchSharp.torch;
using Sequential = TorchSharp.Modules.Sequential;

namespace HessianGeometry.Benchmarks.Distributed;

/// <summary>
/// Hessian-vector products on a data-heavy problem (n large, p = 387: an 8-32-3 tanh MLP in float64) three ways: the
/// in-process operator (Baseline); the same product on a one-silo cluster (the per-product overhead of the cluster path:
/// serialising the vector, two hops over loopback TCP, the worker's product, the reply); and on two silos holding half
/// the samples each (what a second worker buys on this machine). The silos run in this process (<see cref="BenchmarkCluster"/>)
/// but talk over TCP exactly as separate processes do; both share this machine's two cores with the client.
/// Every cluster product is checked against the in-process one before anything is timed; the "Interleaved ratio" column
/// and docs/distributed.md ("Measured") hold the ratios, and "Bytes/product" the payload the cluster moved per product.
/// </summary>
public class ClusterProductBenchmarks
{
    /// <summary>The workers rebuild the model from the state dict with this spec.</summary>
    public const string Arch = "mlp:8-32-3:tanh";

    private const string BytesColumn = "Bytes/product";

    private Sequential model = null!;
    private Tensor x = null!;
    private Tensor y = null!;
    private EmpiricalRisk risk = null!;
    private CurvatureOperator inProcess = null!;
    private CurvatureOperator oneShard = null!;
    private CurvatureOperator twoShards = null!;
    private Tensor vector = null!;

    /// <summary>n; the dry pass uses 2,000 samples.</summary>
    [ParamsSource(nameof(SampleCounts))]
    public int Samples { get; set; }

    public static IEnumerable<int> SampleCounts => BenchmarkSettings.Choose([20_000, 200_000], [2_000]);

    [GlobalSetup]
    public void Setup()
    {
        using (var scope = NewDisposeScope())
        {
            model = TinyModels.Mlp([8, 32, 3], "tanh", seed: 4);
            model.eval();
            var (inputs, targets) = TinyModels.Blobs(Samples, 8, 3, seed: 5, spread: 2.0);
            x = inputs.DetachFromDisposeScope();
            y = targets.DetachFromDisposeScope();
        }
        var cluster = BenchmarkCluster.For($"mlp-{Samples}", (modelPath, dataPath) => BenchmarkCluster.Save(modelPath, model, dataPath, x, y));
        risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        var options = new CurvatureOptions();
        inProcess = CurvatureOperators.Create(risk, CurvatureKind.Hessian, options);
        oneShard = cluster.OneShard.CreateOperator(risk, CurvatureKind.Hessian, options);
        twoShards = cluster.TwoShards.CreateOperator(risk, CurvatureKind.Hessian, options);
        vector = randn(inProcess.Dimension, dtype: inProcess.DType, generator: new Generator(6)).DetachFromDisposeScope();
        CaseMetrics.Once(this, "validate", Validate);
        CaseMetrics.Once(this, "interleave", () => Interleave(cluster));
    }

    /// <summary>The cluster's products must be the in-process product (same float64 sum up to rounding); else nothing is timed.</summary>
    private void Validate()
    {
        using var scope = NewDisposeScope();
        var reference = inProcess.Apply(vector);
        foreach (var (name, op) in new[] { ("one shard", oneShard), ("two shards", twoShards) })
        {
            var error = ((op.Apply(vector) - reference).norm() / reference.norm()).item<double>();
            if (!(error < 1e-12))
                throw new InvalidOperationException($"The {name} cluster product differs from the in-process product (relative error {error:E2}); refusing to time it.");
        }
    }

    private void Interleave(BenchmarkCluster cluster)
    {
        foreach (var (method, operation, client) in new[] { (nameof(OneShard), (Action)OneShard, cluster.OneShard), (nameof(TwoShards), TwoShards, cluster.TwoShards) })
        {
            var before = client.Transport;
            var value = InterleavedRatio.Measure(InProcess, operation);
            var after = client.Transport;
            var bytes = (double)(after.BytesSent + after.BytesReceived - before.BytesSent - before.BytesReceived) / Math.Max(1, after.Products - before.Products);
            CaseMetrics.Record(this, method, InterleavedRatio.Column, value);
            CaseMetrics.Record(this, method, BytesColumn, bytes.ToString("N0", CultureInfo.InvariantCulture));
            Console.WriteLine($"// interleaved: n={Samples} {method} / in-process: {value}; {bytes:N0} payload bytes per product");
        }
        CaseMetrics.Record(this, nameof(InProcess), InterleavedRatio.Column, "1.00");
        CaseMetrics.Record(this, nameof(InProcess), BytesColumn, "0");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // The silos stay up for the next case of the same problem; Program.cs stops them after the run.
        oneShard.Dispose();
        twoShards.Dispose();
        inProcess.Dispose();
        risk.Dispose();
        vector.Dispose();
        x.Dispose();
        y.Dispose();
        model.Dispose();
    }

    [Benchmark(Baseline = true, Description = "HVP in-process")]
    public void InProcess()
    {
        using var scope = NewDisposeScope();
        inProcess.Apply(vector);
    }

    [Benchmark(Description = "HVP on 1 silo (cluster overhead)")]
    public void OneShard()
    {
        using var scope = NewDisposeScope();
        oneShard.Apply(vector);
    }

    [Benchmark(Description = "HVP on 2 silos (n/2 each)")]
    public void TwoShards()
    {
        using var scope = NewDisposeScope();
        twoShards.Apply(vector);
    }
}
