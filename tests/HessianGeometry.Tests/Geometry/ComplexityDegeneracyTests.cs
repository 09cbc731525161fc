using HessianGeometry.Analysis;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Geometry;

/// <summary>
/// The count split into its well-defined part and degenerate clusters, on an operator M = V diag(λ) Vᵀ with repeated
/// eigenvalues (V a random orthogonal basis of a small MLP's parameter space): the clusters, the counts over rotated
/// bases against rotating the eigenvectors in the test and aligning them through the model again, the energy shares
/// against direct projections of explicit per-sample gradients; and the exact-solver analysis of a net with dead ReLU units.
/// </summary>
public sealed class ComplexityDegeneracyTests
{
    private const long Seed = 11;

    // Columns 2–6 share λ = 8 and columns 10–21 share λ = 1; every other eigenvalue is distinct.
    private static double[] Spectrum(int p)
    {
        var values = new double[p];
        values[0] = 10;
        values[1] = 9;
        for (var i = 2; i <= 6; i++) values[i] = 8;
        values[7] = 5;
        values[8] = 4;
        values[9] = 3;
        for (var i = 10; i <= 21; i++) values[i] = 1;
        for (var i = 22; i < p; i++) values[i] = 0.9 - 0.03 * (i - 22);
        return values;
    }

    private sealed class Problem : IDisposable
    {
        public Problem(bool distinct = false)
        {
            var model = TinyModels.Mlp([3, 6, 3], "tanh", 4);
            (X, var y) = TinyModels.Blobs(24, 3, 3, 5);
            Op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(X, y));
            var p = (int)Op.Dimension;
            (Basis, _) = linalg.qr(randn(p, p, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(6)));
            Eigenvalues = distinct ? Enumerable.Range(0, p).Select(i => 10.0 - i * 0.2).ToArray() : Spectrum(p);
            Alignment = AlignmentAnalyzer.Compute(Op.Risk, X, Basis);
            // Thresholds in the middle of the statistics, so that a rotation can move members across them.
            Epsilon = EpsilonBaseline.FromValues(Median(Alignment.MeanAbsAlignment), Median(Alignment.MaxAbsAlignment));
        }

        public LossHessianOperator Op { get; }
        public Tensor X { get; }
        public Tensor Basis { get; }
        public double[] Eigenvalues { get; }
        public AlignmentResult Alignment { get; }
        public EpsilonBaseline Epsilon { get; }

        public ComplexityDegeneracy Compute(long seed = Seed, int draws = 4) =>
            ComplexityDegeneracyAnalysis.Compute(Alignment, Eigenvalues, null, Op.Dimension, null, Epsilon, new DegeneracyOptions { BasisDraws = draws, Seed = seed });

        public void Dispose()
        {
            Alignment.Dispose();
            Op.Dispose();
        }

        private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);
    }

    [Fact]
    public void RepeatedEigenvalues_AreTheClusters_AndTheWellDefinedPartCountsTheRest()
    {
        using var scope = NewDisposeScope();
        using var problem = new Problem();
        var d = problem.Compute();
        Assert.Equal(2, d.ClusterCount);
        Assert.Equal([12, 5], d.Clusters.Select(c => c.Size));
        Assert.Equal(10, d.Clusters[0].FirstIndex);
        Assert.Equal(2, d.Clusters[1].FirstIndex);
        var isolated = Enumerable.Range(0, problem.Eigenvalues.Length).Where(i => i is < 2 or (> 6 and < 10) or > 21).ToArray();
        Assert.Equal(isolated.Count(i => problem.Alignment.MeanAbsAlignment[i] > problem.Epsilon.MeanVariant), d.WellDefinedCountMean);
        Assert.Equal(isolated.Count(i => problem.Alignment.MaxAbsAlignment[i] > problem.Epsilon.MaxVariant), d.WellDefinedCountMax);
        var full = BoundaryComplexityMeasure.Compute(problem.Alignment, problem.Op.Dimension, true, problem.Epsilon);
        Assert.Equal(full.EncodingCountMean, d.WellDefinedCountMean + d.DegenerateCountMean);
        Assert.Equal(full.EncodingCountMax, d.WellDefinedCountMax + d.DegenerateCountMax);
        Assert.True(d.BasisDependent);
    }

    [Fact]
    public void CountsOverRandomBases_EqualRotatingTheEigenvectorsAndAligningAgain()
    {
        using var scope = NewDisposeScope();
        using var problem = new Problem();
        var d = problem.Compute();
        var matrix = problem.Basis.mm(diag(tensor(problem.Eigenvalues))).mm(problem.Basis.T);
        var clusters = new[] { Enumerable.Range(2, 5).ToArray(), Enumerable.Range(10, 12).ToArray() };
        for (var r = 0; r < d.BasisDraws; r++)
        {
            using var drawScope = NewDisposeScope();
            var rotated = problem.Basis.clone();
            foreach (var members in clusters)
            {
                var index = tensor(members.Select(i => (long)i).ToArray());
                var ac = problem.Alignment.Alignment.index_select(1, index);
                var seed = ClusterBasisSampler.DrawSeed(Seed, members[0], r);
                var q = ClusterBasisSampler.Rotation(ac, seed);
                Assert.True((q.T.mm(q) - eye(members.Length, dtype: ScalarType.Float64)).abs().max().item<double>() < 1e-12, "Q is not orthogonal");
                Assert.True((ac.mm(q) - ClusterBasisSampler.RotatedAlignment(ac, seed)).abs().max().item<double>() < 1e-12, "A_C Q differs from the cheap product");
                rotated.index_copy_(1, index, problem.Basis.index_select(1, index).mm(q));
            }
            // The rotated columns are still eigenvectors of M with the same eigenvalues.
            var residual = (matrix.mm(rotated) - rotated * tensor(problem.Eigenvalues).unsqueeze(0)).abs().max().item<double>();
            Assert.True(residual < 1e-12, $"rotated basis is not an eigenbasis: residual {residual:G3}");
            using var again = AlignmentAnalyzer.Compute(problem.Op.Risk, problem.X, rotated);
            Assert.Equal(again.MeanAbsAlignment.Count(m => m > problem.Epsilon.MeanVariant), d.BasisCountMean.Counts[r]);
            Assert.Equal(again.MaxAbsAlignment.Count(m => m > problem.Epsilon.MaxVariant), d.BasisCountMax.Counts[r]);
        }
        Assert.Equal(d.BasisCountMean.Counts.Min(), d.BasisCountMean.Min);
        Assert.Equal(d.BasisCountMean.Counts.Average(), d.BasisCountMean.Mean, 1e-12);
    }

    [Fact]
    public void EnergyShares_EqualDirectProjectionsOfThePerSampleGradients()
    {
        using var scope = NewDisposeScope();
        using var problem = new Problem();
        var d = problem.Compute();
        var g = ReinforcingGradients.PerSample(problem.Op.Risk, problem.X);
        var squaredNorms = g.square().sum(1);
        foreach (var cluster in d.Clusters)
        {
            var members = problem.Eigenvalues.Select((v, i) => (v, i)).Where(t => t.v == problem.Eigenvalues[cluster.FirstIndex]).Select(t => (long)t.i).ToArray();
            var vc = problem.Basis.index_select(1, tensor(members));
            var projected = g.mm(vc).mm(vc.T).square().sum(1);
            var pooled = (projected.sum() / squaredNorms.sum()).item<double>();
            var perInput = (projected / squaredNorms).mean().item<double>();
            Assert.Equal(pooled, cluster.GradientEnergyShare, 1e-10);
            Assert.Equal(perInput, cluster.MeanCosineShare, 1e-10);
        }
    }

    [Fact]
    public void DistinctEigenvalues_AreNotBasisDependent()
    {
        using var scope = NewDisposeScope();
        using var problem = new Problem(distinct: true);
        var d = problem.Compute();
        var full = BoundaryComplexityMeasure.Compute(problem.Alignment, problem.Op.Dimension, true, problem.Epsilon);
        Assert.Equal(0, d.ClusterCount);
        Assert.False(d.BasisDependent);
        Assert.Equal(full.EncodingCountMean, d.WellDefinedCountMean);
        Assert.Equal(full.EncodingCountMax, d.WellDefinedCountMax);
        Assert.All(d.BasisCountMean.Counts, c => Assert.Equal(full.EncodingCountMean, c));
    }

    [Fact]
    public void SameSeed_GivesIdenticalDraws_AnotherSeedOthers()
    {
        using var scope = NewDisposeScope();
        using var problem = new Problem();
        var a = problem.Compute(seed: 3);
        var b = problem.Compute(seed: 3);
        Assert.Equal(a.BasisCountMean.Counts, b.BasisCountMean.Counts);
        Assert.Equal(a.BasisCountMax.Counts, b.BasisCountMax.Counts);
        var ac = problem.Alignment.Alignment.narrow(1, 10, 12);
        var first = ClusterBasisSampler.RotatedAlignment(ac, 3);
        Assert.Equal(0, (first - ClusterBasisSampler.RotatedAlignment(ac, 3)).abs().max().item<double>());
        Assert.False(first.allclose(ClusterBasisSampler.RotatedAlignment(ac, 4)));
    }

    [Fact]
    public void ListingLimit_SumsTheRestIntoOneEntry()
    {
        using var scope = NewDisposeScope();
        using var problem = new Problem();
        var d = ComplexityDegeneracyAnalysis.Compute(problem.Alignment, problem.Eigenvalues, null, problem.Op.Dimension, null, problem.Epsilon,
            new DegeneracyOptions { BasisDraws = 2, Seed = Seed, MaxClustersListed = 1 });
        Assert.Single(d.Clusters);
        Assert.NotNull(d.OtherClusters);
        Assert.Equal(1, d.OtherClusters!.ClusterCount);
        Assert.Equal(5, d.OtherClusters.Size);
        Assert.Equal(d.BasisCountMean.Counts, d.BasisCountMean.Counts.Select((_, r) => d.WellDefinedCountMean + d.Clusters[0].BasisCountMean.Counts[r] + d.OtherClusters.BasisCountMean.Counts[r]));
    }

    [Fact]
    public void ExactAnalysis_OfANetWithDeadReluUnits_ReportsTheirZeroCluster_AndLeavesTheModelUnchanged()
    {
        using var scope = NewDisposeScope();
        var model = TinyModels.Mlp([2, 6, 3], "relu", 8);
        var (x, y) = TinyModels.Blobs(30, 2, 3, 9);
        var first = (TorchSharp.Modules.Linear)model.children().First();
        using (no_grad())
            first.bias!.narrow(0, 0, 3).fill_(-1000.0); // units 0–2 never fire: their 3 · (2 + 1 + 3) = 18 parameters span an exact null space
        var before = model.parameters().Select(t => t.detach().clone()).ToArray();
        var report = HessianAnalysis.For(model).WithData(x, y).UseExactHessian().TopEigenpairs(3).WithBoundaryComplexity(randomDirections: 2).Seed(1).AnalyzeMinimum();

        var d = report.Complexity!.Degeneracy!;
        var zero = d.Clusters.MinBy(c => Math.Abs(c.LargestEigenvalue) + Math.Abs(c.SmallestEigenvalue))!;
        Assert.True(zero.Size >= 18, $"zero cluster has {zero.Size} members");
        Assert.True(Math.Abs(zero.LargestEigenvalue) < 1e-10 && Math.Abs(zero.SmallestEigenvalue) < 1e-10);
        Assert.Equal(report.Complexity.EncodingCountMean, d.WellDefinedCountMean + d.DegenerateCountMean);
        Assert.NotNull(report.Complexity.Saturation);
        Assert.Equal(30, report.Complexity.Saturation!.InputCount);
        var json = MinimumReportJson.Serialize(report);
        Assert.Contains("\"basisDependent\"", json, StringComparison.Ordinal);
        Assert.Equal(d.WellDefinedCountMean, MinimumReportJson.Deserialize(json).Complexity!.Degeneracy!.WellDefinedCountMean);
        Assert.All(model.parameters().Zip(before), t => Assert.Equal(0, (t.First - t.Second).abs().max().item<double>()));
    }
}
