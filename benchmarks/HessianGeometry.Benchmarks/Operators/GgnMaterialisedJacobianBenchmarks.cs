using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using HessianGeometry.Benchmarks.Infrastructure;
using HessianGeometry.Interop;
using HessianGeometry.Models;
using HessianGeometry.Operators;
using HessianGeometry.Operators.Engines;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Benchmarks.Operators;

/// <summary>
/// The generic GGN engine's two product paths on one cached batch of the TorchScript fixtures (float64 analysis of the
/// float64 models, n = 48, cross-entropy): J v by the double-vjp trick, and a materialised Jacobian J_B
/// (<see cref="JacobianMaterialisation"/>, built once, then two matrix–vector products per product), next to the
/// Hessian product (double backward, what <see cref="HvpEngine.Auto"/> picks for these models). Before timing, the
/// materialised product must equal the double-vjp product to 1e-12 relative. [GlobalSetup] times GGN/Hessian for both
/// paths alternately (<see cref="InterleavedRatio"/>) and the cost of building J_B in double-vjp products, the number
/// behind the rent-or-buy rule; docs/benchmarks.md reports them.
/// </summary>
[MemoryDiagnoser]
public class GgnMaterialisedJacobianBenchmarks
{
    /// <summary>The fixture (the dry pass keeps plain_cnn).</summary>
    [ParamsSource(nameof(Fixtures))]
    public string Fixture { get; set; } = "";

    /// <summary>residual_cnn, attention, plain_cnn.</summary>
    public static IEnumerable<string> Fixtures => BenchmarkSettings.Choose<string>(["residual_cnn", "attention", "plain_cnn"], ["plain_cnn"]);

    private Module model = null!;
    private Tensor x = null!;
    private Tensor y = null!;
    private EmpiricalRisk risk = null!;
    private CurvatureOperator hessian = null!;
    private CurvatureOperator doubleVjp = null!;
    private CurvatureOperator materialised = null!;
    private Tensor vector = null!;

    [GlobalSetup]
    public void Setup()
    {
        var folder = ModelHvpBenchmarks.FixtureFolder();
        model = TorchScriptModel.Load(Path.Combine(folder, $"{Fixture}.pt"));
        model.eval();
        var data = SafetensorsFile.Read(Path.Combine(folder, $"{Fixture}_data.safetensors"));
        x = data.LoadTensor("x").to(ScalarType.Float64).DetachFromDisposeScope();
        y = data.LoadTensor("y").DetachFromDisposeScope();
        risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        hessian = CurvatureOperators.Create(risk, CurvatureKind.Hessian, new CurvatureOptions { GraphMode = HessianGraphMode.Cached });
        doubleVjp = new CurvatureOperator(risk, new GgnEngine(risk, null), HessianGraphMode.Cached);
        materialised = new CurvatureOperator(risk, new GgnEngine(risk, new JacobianMaterialisation { PayoffProducts = 0 }), HessianGraphMode.Cached);
        vector = randn(risk.Dimension, dtype: ScalarType.Float64, generator: new Generator(3)).DetachFromDisposeScope();
        CaseMetrics.Once(this, "validate", Validate);
        CaseMetrics.Once(this, "interleave", Interleave);
        NativeMemoryProbe.ProbeAll(this);
    }

    /// <summary>The materialised product must equal the double-vjp product; a wrong product must not report a time.</summary>
    private void Validate()
    {
        using var scope = NewDisposeScope();
        var expected = doubleVjp.Apply(vector);
        var error = ((materialised.Apply(vector) - expected).norm() / expected.norm()).item<double>();
        if (!(error <= 1e-12))
            throw new InvalidOperationException($"{Fixture}: the materialised-Jacobian GGN product disagrees with the double-vjp product (relative error {error:0.0e0}); refusing to time it.");
        CaseMetrics.Record(this, nameof(MaterialisedGgnProduct), "Max abs. diff", $"rel. {error:0.0e0}");
    }

    /// <summary>GGN/Hessian for both paths, materialised/double-vjp, and the build cost of J_B in double-vjp products.</summary>
    private void Interleave()
    {
        var materialisedOverHessian = InterleavedRatio.Measure(HessianProduct, MaterialisedGgnProduct);
        var doubleVjpOverHessian = InterleavedRatio.Measure(HessianProduct, DoubleVjpGgnProduct);
        var materialisedOverDoubleVjp = InterleavedRatio.Measure(DoubleVjpGgnProduct, MaterialisedGgnProduct);
        CaseMetrics.Record(this, nameof(MaterialisedGgnProduct), InterleavedRatio.Column, materialisedOverHessian);
        CaseMetrics.Record(this, nameof(DoubleVjpGgnProduct), InterleavedRatio.Column, doubleVjpOverHessian);
        CaseMetrics.Record(this, nameof(HessianProduct), InterleavedRatio.Column, "1.00");
        var build = BuildCostInProducts();
        long outputs;
        using (NewDisposeScope())
            outputs = risk.Forward(x).numel();
        Console.WriteLine($"// interleaved: {Fixture} cached float64 (p = {risk.Dimension}, m = b·C = {outputs}): materialised GGN/Hessian {materialisedOverHessian}; double-vjp GGN/Hessian {doubleVjpOverHessian}; materialised/double-vjp {materialisedOverDoubleVjp}; building J_B costs {build} double-vjp products (rule: m/{JacobianMaterialisation.PayoffDivisor} = {Math.Ceiling(outputs / JacobianMaterialisation.PayoffDivisor)})");
    }

    /// <summary>Median over 3 fresh operators of (first materialised product − first double-vjp product) / a cached double-vjp product.</summary>
    private string BuildCostInProducts()
    {
        var ratios = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            using var fresh = new CurvatureOperator(risk, new GgnEngine(risk, new JacobianMaterialisation { PayoffProducts = 0 }), HessianGraphMode.Cached);
            using var freshVjp = new CurvatureOperator(risk, new GgnEngine(risk, null), HessianGraphMode.Cached);
            var withBuild = Time(() => fresh.Apply(vector).Dispose());
            var first = Time(() => freshVjp.Apply(vector).Dispose());
            var product = Time(DoubleVjpGgnProduct);
            ratios.Add((withBuild - first) / product);
        }
        ratios.Sort();
        return ratios[1].ToString("0", CultureInfo.InvariantCulture);
    }

    private static double Time(Action action)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        materialised.Dispose();
        doubleVjp.Dispose();
        hessian.Dispose();
        risk.Dispose();
        vector.Dispose();
        x.Dispose();
        y.Dispose();
        model.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Hessian product")]
    public void HessianProduct()
    {
        using var scope = NewDisposeScope();
        hessian.Apply(vector);
    }

    [Benchmark(Description = "GGN product, double-vjp")]
    public void DoubleVjpGgnProduct()
    {
        using var scope = NewDisposeScope();
        doubleVjp.Apply(vector);
    }

    [Benchmark(Description = "GGN product, materialised J")]
    public void MaterialisedGgnProduct()
    {
        using var scope = NewDisposeScope();
        materialised.Apply(vector);
    }
}
