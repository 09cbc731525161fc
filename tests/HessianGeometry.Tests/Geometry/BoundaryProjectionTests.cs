using HessianGeometry.Analysis;
using HessianGeometry.Geometry;
using HessianGeometry.Interop;
using HessianGeometry.Models;
using HessianGeometry.Operators;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Geometry;

/// <summary>The margin's boundary point lies on the decision boundary: Newton steps on the logit gap, checked against closed forms.</summary>
public sealed class BoundaryProjectionTests
{
    [Fact]
    public void LinearClassifier_ProjectionIsTheOrthogonalProjectionOntoTheTopTwoClassesHyperplane()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        var model = nn.Sequential(("0", nn.Linear(4, 3)));
        model.to(ScalarType.Float64);
        var x = randn(1, 4, dtype: ScalarType.Float64);
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(randn(5, 4, dtype: ScalarType.Float64), tensor(new long[] { 0, 1, 2, 0, 1 })));

        var result = BoundaryProjection.Project(risk, x);

        using var _ = no_grad();
        var z = model.call(x)[0];
        var order = z.argsort(descending: true).cpu().data<long>().ToArray();
        var (a, b) = (order[0], order[1]);
        var w = ((Linear)model[0]).weight!;
        var normal = w[a] - w[b];
        var s = (z[a] - z[b]).item<double>();
        var expected = (x[0] - normal * (s / normal.square().sum().item<double>())).data<double>().ToArray();
        Assert.True(result.OnBoundary);
        Assert.Equal(new[] { (int)Math.Min(a, b), (int)Math.Max(a, b) }, result.Classes);
        for (var i = 0; i < 4; i++)
            Assert.Equal(expected[i], result.Point[i], 1e-12);
        Assert.Equal(Math.Abs(s) / normal.norm().item<double>(), result.Distance, 1e-12);
        var projected = model.call(tensor(result.Point, dtype: ScalarType.Float64).reshape(1, 4))[0];
        Assert.Equal(0, (projected[a] - projected[b]).item<double>(), 1e-12);
    }

    [Fact]
    public void LogitsThatIgnoreTheInput_FailTheProjectionCleanly_WithoutANativeAbort()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(4);
        // 0 · x: the logits are the bias alone, so the logit gap has no gradient in x.
        var model = nn.Sequential(("0", new ZeroInput()), ("1", nn.Linear(2, 3)));
        model.to(ScalarType.Float64);
        using var risk = new EmpiricalRisk(model, LossFunction.CrossEntropy, DataSource.FromTensors(randn(4, 2, dtype: ScalarType.Float64), tensor(new long[] { 0, 1, 2, 0 })));

        var result = BoundaryProjection.Project(risk, randn(1, 2, dtype: ScalarType.Float64));

        Assert.False(result.OnBoundary);
        Assert.Equal(0, result.Distance);
    }

    private sealed class ZeroInput() : nn.Module<Tensor, Tensor>("ZeroInput")
    {
        public override Tensor forward(Tensor input) => zeros_like(input);
    }

    [Fact]
    public void MarginOnAConvolutionalNetwork_EndsOnTheBoundary_WithTheDistanceTheProjectionMoved()
    {
        using var scope = NewDisposeScope();
        using var model = TorchScriptModel.Load(Path.Combine(AppContext.BaseDirectory, "fixtures", "models", "residual_cnn.pt"));
        var file = SafetensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "models", "residual_cnn_data.safetensors"));
        var x = file.LoadTensor("x");
        var report = HessianAnalysis.For(model).WithData(x, file.LoadTensor("y")).TopEigenpairs(2).WithMargin().Seed(1).AnalyzeMinimum();

        Assert.NotNull(report.Margin);
        Assert.NotNull(report.BoundaryPoint);
        var point = tensor(report.BoundaryPoint!, dtype: ScalarType.Float64).reshape(1, 3, 8, 8);
        using var _ = no_grad();
        var top = model.call(point).topk(2, dim: 1).values[0].data<double>().ToArray();
        Assert.True(Math.Abs(top[0] - top[1]) <= 1e-8 * (1 + Math.Abs(top[0])), $"logit gap at x_b: {top[0] - top[1]}");
    }
}
