using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

public sealed class BlockHutchinsonTests
{
    private static TraceOptions Fixed(int probes, long seed) =>
        new() { RelativeStandardError = 0, MinProbes = probes, MaxProbes = probes, Seed = seed };

    // Four blocks of a 40-dimensional matrix, one of them split in two ranges.
    private static readonly ParameterGroup[] Blocks =
    [
        new("a", ["a.w"], [(0L, 10L)]),
        new("b", ["b.w", "b.b"], [(10L, 5L), (30L, 10L)]),
        new("c", ["c.w"], [(15L, 12L)]),
        new("d", ["d.w"], [(27L, 3L)]),
    ];

    private static double BlockTrace(Tensor matrix, ParameterGroup g) =>
        g.Ranges.Sum(r => matrix.diagonal().narrow(0, r.Start, r.Length).sum().item<double>());

    [Fact]
    public void WholeTrace_IsBitwiseHutchinsons_AndBlockTracesSumToIt_AtTheSameProductCount()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(40, -1, 3, seed: 1), seed: 2);
        var options = new TraceOptions { Seed = 4, RelativeStandardError = 0.02, MaxProbes = 300 };

        var before = a.Operator.ApplicationCount;
        var (trace, square) = Hutchinson.TraceAndTraceOfSquare(a.Operator, options);
        var hutchinsonProducts = a.Operator.ApplicationCount - before;
        before = a.Operator.ApplicationCount;
        using var result = BlockHutchinson.Estimate(a.Operator, Blocks, diagonal: true, options);
        var blockProducts = a.Operator.ApplicationCount - before;

        Assert.Equal(hutchinsonProducts, blockProducts);
        Assert.Equal(trace, result.Trace);
        Assert.Equal(square, result.TraceOfSquare);
        Assert.Equal(result.Trace.Value, result.BlockTraces.Sum(t => t.Value), 1e-12 * (1 + Math.Abs(result.Trace.Value)) * 40);
        Assert.Equal(result.Trace.Value, result.Diagonal!.Values.sum().item<double>(), 1e-10);
        Assert.All(result.BlockTraces, t => Assert.Equal(trace.Probes, t.Probes));
    }

    [Fact]
    public void BlockTracesAndDiagonal_ConvergeToTheDenseMatrix_WithinTheirErrorBars_AndTheErrorShrinksAsOneOverRootN()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(40, -2, 5, seed: 5), seed: 6);
        using var few = BlockHutchinson.Estimate(a.Operator, Blocks, diagonal: true, Fixed(100, seed: 7));
        using var many = BlockHutchinson.Estimate(a.Operator, Blocks, diagonal: true, Fixed(1600, seed: 8));

        for (var b = 0; b < Blocks.Length; b++)
        {
            var truth = BlockTrace(a.Matrix, Blocks[b]);
            var e = many.BlockTraces[b];
            Assert.True(Math.Abs(e.Value - truth) <= 4 * e.StandardError, $"block {Blocks[b].Name}: {e.Value} ± {e.StandardError} vs {truth}");
            Assert.InRange(e.StandardError / few.BlockTraces[b].StandardError, 0.15, 0.4);
        }

        var diagonal = a.Matrix.diagonal();
        var z = ((many.Diagonal!.Values - diagonal).abs() / many.Diagonal.StandardErrors).cpu().data<double>().ToArray();
        Assert.True(z.Count(v => v <= 3) >= 38, $"only {z.Count(v => v <= 3)}/40 entries within 3 SE");
        Assert.True(z.Max() <= 5, $"an entry is {z.Max()} SE off");
        var ratio = (many.Diagonal.StandardErrors / few.Diagonal!.StandardErrors).mean().item<double>();
        Assert.InRange(ratio, 0.2, 0.3); // 1/√16 = 0.25
    }

    [Fact]
    public void DiagonalVariance_MatchesTheRademacherFormula_SumOfSquaredOffDiagonalEntries()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(30, -1, 2, seed: 9), seed: 10);
        const int n = 4000;
        using var result = BlockHutchinson.Estimate(a.Operator, [], diagonal: true, Fixed(n, seed: 11));
        var m = a.Matrix;
        var offDiagonal = (m * m).sum(dim: 1) - m.diagonal() * m.diagonal();
        var sampleVariance = result.Diagonal!.StandardErrors.square() * n;
        var relative = ((sampleVariance - offDiagonal).abs() / offDiagonal).max().item<double>();
        Assert.True(relative <= 0.15, $"sample variance differs from Σ_(j≠i) A_ij² by up to {relative:P1}");
    }

    [Fact]
    public void DiagonalMatrix_IsExact_WithZeroErrors()
    {
        using var scope = NewDisposeScope();
        using var d = KnownSpectrum.Diagonal(3, -1, 0.5, 7, -2.25);
        using var result = BlockHutchinson.Estimate(d, [new ParameterGroup("x", ["x"], [(1L, 3L)])], diagonal: true, Fixed(12, seed: 1));
        Assert.Equal([3, -1, 0.5, 7, -2.25], result.Diagonal!.Values.data<double>().ToArray());
        Assert.All(result.Diagonal.StandardErrors.data<double>().ToArray(), se => Assert.Equal(0, se));
        Assert.Equal(6.5, result.BlockTraces[0].Value, 12);
        Assert.Equal(0, result.BlockTraces[0].StandardError);
    }

    [Fact]
    public void SameSeed_GivesBitwiseTheSameEstimates()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(40, -1, 3, seed: 12), seed: 13);
        using var first = BlockHutchinson.Estimate(a.Operator, Blocks, diagonal: true, Fixed(24, seed: 14));
        using var second = BlockHutchinson.Estimate(a.Operator, Blocks, diagonal: true, Fixed(24, seed: 14));
        Assert.Equal(first.BlockTraces, second.BlockTraces);
        Assert.True(first.Diagonal!.Values.eq(second.Diagonal!.Values).all().item<bool>());
        Assert.True(first.Diagonal.StandardErrors.eq(second.Diagonal.StandardErrors).all().item<bool>());
    }

    [Fact]
    public void BlockOutsideTheOperator_IsRejectedBeforeAnyProduct()
    {
        using var scope = NewDisposeScope();
        using var d = KnownSpectrum.Diagonal(1, 2, 3);
        var ex = Assert.Throws<ArgumentException>(() => BlockHutchinson.Estimate(d, [new ParameterGroup("x", ["x"], [(2L, 5L)])], diagonal: false));
        Assert.Contains("ParameterGroups.ByModule", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, d.ApplicationCount);
    }
}
