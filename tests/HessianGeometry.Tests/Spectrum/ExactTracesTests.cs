using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

public sealed class ExactTracesTests
{
    [Fact]
    public void FromMatrix_GivesSumOfEigenvalues_AndSumOfSquaredEigenvalues()
    {
        using var scope = NewDisposeScope();
        var eigenvalues = SpectrumReference.Uniform(30, -2, 5, seed: 1);
        using var a = KnownSpectrum.Create(eigenvalues, seed: 2);
        var (trace, traceOfSquare) = ExactTraces.FromMatrix(a.Matrix);
        Assert.Equal(eigenvalues.Sum(), trace, 10);
        Assert.Equal(eigenvalues.Sum(l => l * l), traceOfSquare, 9);
    }

    [Fact]
    public void FromMatrix_OfNonSquareMatrix_IsRefused()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => ExactTraces.FromMatrix(zeros(3, 4, dtype: ScalarType.Float64)));
        Assert.Contains("square", ex.Message);
    }
}
