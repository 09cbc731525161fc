// The boundary complexity G of the decision-boundary paper on a net in its adversarial regime, with what G depends on:
// a 2-100-100-3 ReLU MLP (p = 10,703) on 150 three-Gaussian points, trained first on random labels and then, from
// there, on the true labels. Measures with the exact Hessian (all p eigenvectors): G, its well-defined part, the
// degenerate eigenvalue clusters with their spread over random bases, and the saturated inputs.
// Run: dotnet run -c Release --project examples/DegenerateComplexity [cacheFolder [hiddenWidth [epochsPerPhase]]]
// (defaults: no cache, width 100, 4000 full-batch Adam epochs per phase)
// The exact eigendecomposition takes minutes; with a cache folder the trained model and the decomposition are stored
// there on the first run and read back on later ones.
using System.Diagnostics;
using System.Runtime.InteropServices;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Geometry;
using HessianGeometry.Interop;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

var cache = args.Length > 0 && args[0] != "-" ? args[0] : null;
var width = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100;
var epochs = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 4000;
var clock = Stopwatch.StartNew();

// Data: the paper's three Gaussians, 50 points per class.
var generator = new Generator(0);
var means = tensor(new double[,] { { 2, -1 }, { -2, 0 }, { 0, 2 } });
var deviations = tensor(new double[,] { { 0.5, 0.5 }, { 0.5, 1 }, { 0.5, 0.5 } });
var y = arange(3, dtype: ScalarType.Int64).repeat_interleave(50);
var x = (means.index_select(0, y) + deviations.index_select(0, y) * randn(150, 2, dtype: ScalarType.Float64, generator: generator)).to(ScalarType.Float32);
var randomLabels = randint(0, 3, [150], dtype: ScalarType.Int64, generator: generator);

torch.manual_seed(0);
var model = MlpSpec.Parse($"mlp:2-{width}-{width}-3:relu").Build();
var parameters = model.parameters().ToArray();
var modelFile = cache is null ? null : Path.Combine(cache, "model.bin");
if (modelFile is not null && File.Exists(modelFile))
{
    var stored = ReadDoubles(modelFile);
    var offset = 0;
    using (no_grad())
        foreach (var parameter in parameters)
        {
            parameter.copy_(tensor(stored.AsSpan(offset, (int)parameter.numel()).ToArray()).reshape(parameter.shape));
            offset += (int)parameter.numel();
        }
    Console.WriteLine($"Model read from {modelFile}.");
}
else
{
    Train(model, x, randomLabels, epochs, "random labels");
    Train(model, x, y, epochs, "true labels");
    if (modelFile is not null)
        WriteDoubles(modelFile, parameters.SelectMany(p => p.detach().to(ScalarType.Float64).cpu().data<double>().ToArray()).ToArray());
}

using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y), options: new LossHessianOptions { AnalysisDType = ScalarType.Float64 });
var p = (int)op.Dimension;
double[] ascending, residuals;
Tensor vectors;
var spectrumFile = cache is null ? null : Path.Combine(cache, "eigenvectors.bin");
if (spectrumFile is not null && File.Exists(spectrumFile))
{
    ascending = ReadDoubles(Path.Combine(cache!, "eigenvalues.bin"));
    residuals = ReadDoubles(Path.Combine(cache!, "residuals.bin"));
    vectors = tensor(ReadDoubles(spectrumFile)).reshape(p, p);
    Console.WriteLine($"Eigendecomposition read from {cache}.");
}
else
{
    var decomposeClock = Stopwatch.StartNew();
    using var dense = new DenseEigenSolver().Decompose(op);
    ascending = dense.Eigenvalues.ToArray();
    residuals = dense.ResidualNorms.ToArray();
    vectors = dense.Eigenvectors.clone();
    Console.WriteLine($"Exact Hessian and eigendecomposition: {decomposeClock.Elapsed.TotalSeconds:F0} s.");
    if (spectrumFile is not null)
    {
        WriteDoubles(Path.Combine(cache!, "eigenvalues.bin"), ascending);
        WriteDoubles(Path.Combine(cache!, "residuals.bin"), residuals);
        WriteDoubles(spectrumFile, vectors.contiguous().data<double>().ToArray());
    }
}
Console.WriteLine($"p = {p}, λ_max = {ascending[^1]:G6}, λ_min = {ascending[0]:G6}, max residual {residuals.Max():G3} ({clock.Elapsed.TotalSeconds:F0} s so far).");

// All p eigenvectors, largest eigenvalue first, aligned with the 150 training inputs.
var descending = ascending.Reverse().ToArray();
var descendingResiduals = residuals.Reverse().ToArray();
using var all = vectors.flip(1).contiguous();
vectors.Dispose();
var alignClock = Stopwatch.StartNew();
using var alignment = AlignmentAnalyzer.Compute(op.Risk, x, all);
Console.WriteLine($"Alignment of all {p} eigenvectors: {alignClock.Elapsed.TotalSeconds:F0} s.");
var below = descending.Count(v => Math.Abs(v) < 1e-9 * descending[0]);
Console.WriteLine($"Eigenvalues with |λ| < 1e-9 λ_max: {below} of {p}.");

foreach (var epsilon in new[] { BoundaryComplexityMeasure.RandomBaseline(op.Risk, x, directions: 5, seed: 0), EpsilonBaseline.FromValue(0.0224) })
{
    var g = BoundaryComplexityMeasure.Compute(alignment, p, eigenvectorsAreComplete: true, epsilon);
    var d = ComplexityDegeneracyAnalysis.Compute(alignment, descending, descendingResiduals, p, computedEnd: null, epsilon, new DegeneracyOptions { BasisDraws = 5, Seed = 0 });
    var s = SaturatedInputs.Measure(op.Risk, x, alignment, p, epsilon);
    Console.WriteLine();
    Console.WriteLine(epsilon.Explicit ? $"ε = {epsilon.MeanVariant} (explicit, both variants)" : $"ε from 5 random directions: mean {epsilon.MeanVariant:G4}, max {epsilon.MaxVariant:G4}");
    Console.WriteLine($"  G count (mean / max): {g.EncodingCountMean} / {g.EncodingCountMax}   (G = {g.ComplexityMean:G4} / {g.ComplexityMax:G4})");
    Console.WriteLine($"  clustering tolerance: u·p·‖H‖ = {d.BaseTolerance:G3}, largest residual {d.LargestResidual:G3}");
    Console.WriteLine($"  isolated eigenvalues {d.IsolatedEigenvalues}, clustered {d.ClusteredEigenvalues} in {d.ClusterCount} clusters");
    Console.WriteLine($"  well-defined part: {d.WellDefinedCountMean} / {d.WellDefinedCountMax}; cluster members counted in eigh's basis: {d.DegenerateCountMean} / {d.DegenerateCountMax}");
    Console.WriteLine($"  total over {d.BasisDraws} random cluster bases: mean variant {d.BasisCountMean.Mean:G4} [{d.BasisCountMean.Min}, {d.BasisCountMean.Max}] ({string.Join(", ", d.BasisCountMean.Counts)}), max variant {d.BasisCountMax.Mean:G4} [{d.BasisCountMax.Min}, {d.BasisCountMax.Max}] ({string.Join(", ", d.BasisCountMax.Counts)})");
    Console.WriteLine($"  basisDependent: {d.BasisDependent}");
    foreach (var c in d.Clusters.Concat(d.OtherClusters is { } o ? [o] : []))
        Console.WriteLine($"    cluster{(c.ClusterCount > 1 ? $"s ×{c.ClusterCount}" : "")} size {c.Size}, λ ∈ [{c.SmallestEigenvalue:G3}, {c.LargestEigenvalue:G3}], energy share {c.GradientEnergyShare:G3}, mean cos² share {c.MeanCosineShare:G3}, counted {c.CountMean} / {c.CountMax}, over bases {c.BasisCountMean.Mean:G4} [{c.BasisCountMean.Min}, {c.BasisCountMean.Max}] / {c.BasisCountMax.Mean:G4} [{c.BasisCountMax.Min}, {c.BasisCountMax.Max}]");
    foreach (var level in new[] { s.SinglePrecision, s.DoublePrecisionNaive })
        Console.WriteLine($"  saturated below {level.Precision} (‖∂ℓ/∂z‖∞ < {level.Threshold:G3}): {level.SaturatedCount} of 150 (largest ‖g‖ among them {level.LargestSaturatedGradientNorm:G3}); without them: {level.EncodingCountMean} / {level.EncodingCountMax} (ε {level.EpsilonMean:G4} / {level.EpsilonMax:G4})");
    var norms = s.GradientNorms;
    Console.WriteLine($"  inputs with ‖g‖ < 1e-8: {norms.Count(v => v < 1e-8)}; ‖g‖ range [{norms.Min():G3}, {norms.Max():G3}]");
}
Console.WriteLine($"Total {clock.Elapsed.TotalSeconds:F0} s.");

static void Train(torch.nn.Module<Tensor, Tensor> model, Tensor x, Tensor labels, int epochs, string what)
{
    using var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
    model.train();
    for (var epoch = 1; epoch <= epochs; epoch++)
    {
        using var step = NewDisposeScope();
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(x), labels);
        loss.backward();
        optimizer.step();
    }
    model.eval();
    using var scope = NewDisposeScope();
    using var _ = no_grad();
    var logits = model.call(x);
    Console.WriteLine($"Trained {epochs} epochs on {what}: loss {nn.functional.cross_entropy(logits, labels).item<float>():G3}, accuracy {logits.argmax(1).eq(labels).to(ScalarType.Float32).mean().item<float>():P1}.");
}

static double[] ReadDoubles(string path) => MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(path)).ToArray();

static void WriteDoubles(string path, double[] values)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    File.WriteAllBytes(path, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
}
