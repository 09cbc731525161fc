using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Spectrum;

public sealed class SpectrumMemoryTests
{
    [Fact]
    public void Estimators_LeaveNoLiveTensorsBehind()
    {
        using var scope = NewDisposeScope();
        using var a = KnownSpectrum.Create(SpectrumReference.Uniform(60, -1, 3, seed: 1), seed: 2);
        // Warm up once so lazily created tensors (none expected) do not count.
        Hutchinson.Trace(a.Operator, new TraceOptions { MaxProbes = 20 });
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 5; i++)
        {
            Hutchinson.TraceAndTraceOfSquare(a.Operator, new TraceOptions { RelativeStandardError = 0, MaxProbes = 40, Seed = i });
            HutchPlusPlus.Trace(a.Operator, 30, seed: i);
            StochasticLanczosQuadrature.Estimate(a.Operator, new SpectralDensityOptions { Runs = 2, Steps = 20, GridPoints = 200, Seed = i });
            ExactTraces.FromMatrix(a.Matrix);
            WolkowiczStyan.FromMatrix(a.Matrix);
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
