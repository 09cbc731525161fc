using HessianGeometry.Analysis;
using HessianGeometry.Interop;
using HessianGeometry.Models;
using HessianGeometry.Tests.Reliability;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Models;

/// <summary>
/// Every stage of <c>AnalyzeMinimum</c> on every kind of model, in float32 and float64: an MLP built in C#, a CNN with
/// batch-norm, a residual CNN and an attention classifier exported from PyTorch. Each analysis must finish, leave the
/// model untouched, and agree with the float64 analysis within float32's accuracy.
/// </summary>
public sealed class AnyModelMatrixTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models => new() { "mlp", "plain_cnn", "residual_cnn", "attention" };

    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", file);

    private static (TorchSharp.torch.nn.Module<Tensor, Tensor> Model, Tensor X, Tensor Y) Load(string name, ScalarType dtype)
    {
        if (name == "mlp")
        {
            var (model, x, y) = TestModels.Tiny();
            model.to(dtype);
            return (model, x.to(dtype), y);
        }
        var file = SafetensorsFile.Read(PathOf($"{name}_data.safetensors"));
        var script = TorchScriptModel.Load(PathOf(dtype == ScalarType.Float64 ? $"{name}.pt" : $"{name}_f32.pt"));
        return (script, file.LoadTensor("x"), file.LoadTensor("y"));
    }

    private static MinimumReport Analyse(string name, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Load(name, dtype);
        try
        {
            var before = ModelState.Of(model);
            var report = HessianAnalysis.For(model).WithData(x, y, batchSize: 16).WithPrecision(dtype)
                .TopEigenpairs(3, relativeTolerance: dtype == ScalarType.Float64 ? 1e-8 : 1e-4).BottomEigenpairs(1)
                .WithTrace().WithSpectralDensity().WithAlignment().WithBoundaryComplexity().WithMargin()
                .Seed(7).AnalyzeMinimum();
            before.AssertUnchanged(model);
            return report;
        }
        finally
        {
            if (model is TorchScriptModel)
                model.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryStage_RunsInFloat32AndFloat64_AndFloat32AgreesWithFloat64(string name)
    {
        var f64 = Analyse(name, ScalarType.Float64);
        var f32 = Analyse(name, ScalarType.Float32);

        Assert.Equal("Float64", f64.Precision);
        Assert.Equal("Float32", f32.Precision);
        Assert.True(f64.EigenpairsConverged);
        var eigenGap = Enumerable.Range(0, 3).Max(i => Math.Abs(f64.Eigenvalues![i] - f32.Eigenvalues![i])) / Math.Abs(f64.Eigenvalues![0]);
        output.WriteLine($"{name}: float32 vs float64 — loss {Math.Abs(f32.Loss - f64.Loss) / Math.Max(1, f64.Loss):G2} rel, top-3 eigenvalues {eigenGap:G2} of λ1, " +
            $"trace {Math.Abs(f32.Trace!.Value - f64.Trace!.Value) / Math.Abs(f64.Trace.Value):G2} rel, margin {Math.Abs(f32.Margin!.Value - f64.Margin!.Value) / f64.Margin.Value:G2} rel");
        Assert.Equal(f64.Loss, f32.Loss, 1e-5 * Math.Max(1, f64.Loss));
        for (var i = 0; i < 3; i++)
            Assert.True(Math.Abs(f64.Eigenvalues![i] - f32.Eigenvalues![i]) <= 1e-3 * Math.Abs(f64.Eigenvalues[0]), $"λ{i + 1}: {f32.Eigenvalues[i]} (f32) vs {f64.Eigenvalues[i]} (f64)");
        foreach (var r in new[] { f64, f32 })
        {
            Assert.NotNull(r.Trace);
            Assert.NotNull(r.SpectralDensity);
            Assert.NotNull(r.HesdType);
            Assert.Equal(r.Samples, r.Alignment!.Length);
            Assert.NotNull(r.ComplexityMean);
            Assert.NotNull(r.Margin);
            Assert.True(double.IsFinite(r.Margin!.Value));
        }
    }
}
