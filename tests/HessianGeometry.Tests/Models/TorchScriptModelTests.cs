using System.Text.Json;
using HessianGeometry.Analysis;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Interop;
using HessianGeometry.Models;
using HessianGeometry.Operators;
using HessianGeometry.Tests.Reliability;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Models;

/// <summary>
/// TorchScript files exported by PyTorch 1.13 (fixtures/generate_model_fixtures.py): a residual CNN with batch-norm
/// (eval) and skip connections, and an attention classifier (LayerNorm, softmax self-attention, GELU MLP). Their loss,
/// gradient and top-10 Hessian eigenvalues match PyTorch's dense float64 Hessian; float32 files are analysed in float64
/// without touching them; a file saved in training mode is refused or switched and restored.
/// </summary>
public sealed class TorchScriptModelTests
{
    public static TheoryData<string> Models => new() { "residual_cnn", "attention" };

    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", file);

    private static (Tensor X, Tensor Y) Data(string model)
    {
        var file = SafetensorsFile.Read(PathOf($"{model}_data.safetensors"));
        return (file.LoadTensor("x"), file.LoadTensor("y"));
    }

    private static JsonElement Reference(string model) =>
        JsonDocument.Parse(File.ReadAllText(PathOf($"{model}_reference.json"))).RootElement;

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [Theory]
    [MemberData(nameof(Models))]
    public void Float64File_LossGradientAndTop10Eigenvalues_MatchPyTorchsDenseHessian(string name)
    {
        using var scope = NewDisposeScope();
        using var model = TorchScriptModel.Load(PathOf($"{name}.pt"));
        var (x, y) = Data(name);
        var reference = Reference(name);
        var before = ModelState.Of(model);
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y),
            options: new LossHessianOptions { AnalysisDType = ScalarType.Float64 });

        Assert.Equal(reference.GetProperty("p").GetInt64(), op.Dimension);
        Assert.Equal(HvpEngine.DoubleBackward, op.Engine);
        Assert.Equal(reference.GetProperty("loss").GetDouble(), op.Loss(), 1e-12);
        var gradientNorm = op.Gradient().norm().item<double>();
        Assert.Equal(reference.GetProperty("gradient_norm").GetDouble(), gradientNorm, 1e-10 * Math.Max(1, gradientNorm));

        var top = Doubles(reference.GetProperty("eigenvalues_top10"));
        var result = new Lanczos().Solve(op, new EigenSolverOptions { Count = 10, Tolerance = 1e-10, MaxOperatorApplications = 2000, Seed = 3 });
        Assert.True(result.Converged);
        for (var i = 0; i < 10; i++)
            Assert.True(Math.Abs(result.Eigenvalues[i] - top[i]) <= 1e-8 * Math.Abs(top[0]), $"λ{i + 1}: {result.Eigenvalues[i]} vs PyTorch {top[i]}");
        before.AssertUnchanged(model);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Float32File_AnalysedInFloat64_MatchesTheFloat64Reference_AndTheFileIsUntouched(string name)
    {
        using var scope = NewDisposeScope();
        using var model = TorchScriptModel.Load(PathOf($"{name}_f32.pt"));
        var (x, y) = Data(name);
        var top = Doubles(Reference(name).GetProperty("eigenvalues_top10"));
        var before = ModelState.Of(model);
        Assert.Equal(ScalarType.Float32, model.parameters().First().dtype);

        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(5, relativeTolerance: 1e-9).Seed(1).AnalyzeMinimum();

        Assert.Equal("Float64", report.Precision);
        // The float32 weights are the float64 ones rounded: eigenvalues move by about float32's resolution.
        for (var i = 0; i < 5; i++)
            Assert.True(Math.Abs(report.Eigenvalues![i] - top[i]) <= 1e-5 * Math.Abs(top[0]), $"λ{i + 1}: {report.Eigenvalues[i]} vs {top[i]}");
        before.AssertUnchanged(model);
        Assert.Equal(ScalarType.Float32, model.parameters().First().dtype);
    }

    [Fact]
    public void FileSavedInTrainingMode_IsRefusedWithTheFix_OrSwitchedToEvalAndRestored()
    {
        using var scope = NewDisposeScope();
        using var model = TorchScriptModel.Load(PathOf("residual_cnn_train.pt"));
        var (x, y) = Data("residual_cnn");
        Assert.True(model.training);
        var before = ModelState.Of(model);

        var refused = Assert.Throws<InvalidOperationException>(() => HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(2).AnalyzeMinimum());
        Assert.Contains("training mode", refused.Message, StringComparison.Ordinal);
        Assert.Contains("SwitchToEvalMode()", refused.Message, StringComparison.Ordinal);

        var switched = HessianAnalysis.For(model).WithData(x, y).SwitchToEvalMode().TopEigenpairs(3, relativeTolerance: 1e-10).Seed(2).AnalyzeMinimum();
        var top = Doubles(Reference("residual_cnn").GetProperty("eigenvalues_top10"));
        // The train-mode file holds the same weights and running statistics as the eval-mode one.
        Assert.Equal(top[0], switched.Eigenvalues![0], 1e-6 * top[0]);
        Assert.True(model.training);
        before.AssertUnchanged(model);
    }

    [Fact]
    public void AScriptModuleLoadedByTheCaller_IsAcceptedByTheFluentApi_AndKeptOpen()
    {
        using var scope = NewDisposeScope();
        using var script = TorchSharp.torch.jit.load<Tensor, Tensor>(PathOf("attention.pt"));
        var (x, y) = Data("attention");
        var top = Doubles(Reference("attention").GetProperty("eigenvalues_top10"));

        var report = HessianAnalysis.For(script).WithData(x, y).TopEigenpairs(2, relativeTolerance: 1e-10).WithTrace().Seed(4).AnalyzeMinimum();

        Assert.Equal(top[0], report.Eigenvalues![0], 1e-8 * top[0]);
        Assert.Equal(Reference("attention").GetProperty("trace").GetDouble(), report.Trace!.Value, 0.1 * Math.Abs(report.Trace.Value) + 4 * report.TraceStandardError!.Value);
        // The caller's module still works after the analysis.
        Assert.Equal(x.shape[0], script.call(x.to(ScalarType.Float64)).shape[0]);
    }

    [Theory]
    [InlineData("residual_cnn.pt", ModelFileKind.TorchScript)]
    [InlineData("plain_cnn_state_dict.pt", ModelFileKind.PyTorchPickle)]
    [InlineData("plain_cnn_state_dict.safetensors", ModelFileKind.Safetensors)]
    [InlineData("residual_cnn_reference.json", ModelFileKind.Unknown)]
    public void ModelFiles_AreRecognisedByContent(string file, ModelFileKind kind) =>
        Assert.Equal(kind, ModelFiles.Detect(PathOf(file)));

    [Fact]
    public void LoadingAStateDictAsTorchScript_SaysWhatTheFileIsAndWhatToDo()
    {
        var error = Assert.Throws<ArgumentException>(() => TorchScriptModel.Load(PathOf("plain_cnn_state_dict.pt")));
        Assert.Contains("torch.save pickle", error.Message, StringComparison.Ordinal);
        Assert.Contains("torch.jit.script", error.Message, StringComparison.Ordinal);
    }
}
