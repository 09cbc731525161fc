using System.Text.Json;
using HessianGeometry.Analysis;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Interop;
using HessianGeometry.Operators;
using HessianGeometry.Tests.Reliability;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Models;

/// <summary>
/// A CNN built in C# (Conv2d, BatchNorm2d in eval, pooling, Linear) with its PyTorch twin's weights: the loss, the
/// gradient and the top-10 Hessian eigenvalues agree with PyTorch's dense float64 Hessian, and an analysis leaves its
/// parameters and batch-norm buffers bitwise unchanged.
/// </summary>
public sealed class EagerCnnTwinTests
{
    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", file);

    private static Sequential PlainCnn()
    {
        var model = nn.Sequential(
            ("0", nn.Conv2d(1, 8, 3, stride: 1, padding: 1)), ("1", nn.BatchNorm2d(8, eps: 1e-5, momentum: 0.1)), ("2", nn.ReLU()),
            ("3", nn.MaxPool2d(2, 2)), ("4", nn.Conv2d(8, 8, 3, stride: 1, padding: 1)), ("5", nn.BatchNorm2d(8, eps: 1e-5, momentum: 0.1)),
            ("6", nn.ReLU()), ("7", nn.AvgPool2d(2, 2)), ("8", nn.Flatten()), ("9", nn.Linear(32, 16)), ("10", nn.ReLU()), ("11", nn.Linear(16, 4)));
        model.to(ScalarType.Float64);
        StateDictLoader.Load(model, SafetensorsFile.Read(PathOf("plain_cnn_state_dict.safetensors")));
        model.eval();
        return model;
    }

    [Fact]
    public void EagerCnn_LossGradientAndTop10_MatchItsPyTorchTwin_AndTheModelIsUntouched()
    {
        using var scope = NewDisposeScope();
        var model = PlainCnn();
        var data = SafetensorsFile.Read(PathOf("plain_cnn_data.safetensors"));
        var reference = JsonDocument.Parse(File.ReadAllText(PathOf("plain_cnn_reference.json"))).RootElement;
        var before = ModelState.Of(model);

        using (var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(data.LoadTensor("x"), data.LoadTensor("y"))))
        {
            Assert.Equal(reference.GetProperty("parameter_order").EnumerateArray().Select(e => e.GetString()), op.Parameters.Names);
            Assert.Equal(reference.GetProperty("loss").GetDouble(), op.Loss(), 1e-12);
            Assert.Equal(reference.GetProperty("gradient_norm").GetDouble(), op.Gradient().norm().item<double>(), 1e-10);
            var top = reference.GetProperty("eigenvalues_top10").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var result = new Lanczos().Solve(op, new EigenSolverOptions { Count = 10, Tolerance = 1e-10, MaxOperatorApplications = 2000, Seed = 5 });
            Assert.True(result.Converged);
            for (var i = 0; i < 10; i++)
                Assert.True(Math.Abs(result.Eigenvalues[i] - top[i]) <= 1e-8 * top[0], $"λ{i + 1}: {result.Eigenvalues[i]} vs PyTorch {top[i]}");
        }
        before.AssertUnchanged(model);

        var report = HessianAnalysis.For(model).WithData(data.LoadTensor("x"), data.LoadTensor("y"), batchSize: 20).TopEigenpairs(3).WithTrace()
            .WithAlignment().WithMargin().Seed(2).AnalyzeMinimum();
        Assert.True(report.EigenpairsConverged);
        before.AssertUnchanged(model);
    }
}
