using HessianGeometry.Analysis;
using HessianGeometry.Interop;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using HessianGeometry.Tests.Reliability;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HessianGeometry.Tests.Analysis;

/// <summary>Per-layer block spectra and traces and the Hessian diagonal, checked against the dense Hessian (ExactHessian).</summary>
public sealed class PerLayerAndDiagonalTests
{
    private static Tensor DenseHessian(Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        using var op = new LossHessianOperator(model, LossFunction.CrossEntropy, DataSource.FromTensors(x, y));
        return ExactHessian.Compute(op);
    }

    private static Tensor Block(Tensor dense, ParameterGroup g)
    {
        var index = cat(g.Ranges.Select(r => arange(r.Start, r.Start + r.Length, dtype: ScalarType.Int64)).ToList(), 0);
        return dense.index_select(0, index).index_select(1, index);
    }

    private static double[] TopEigenvalues(Tensor matrix, int k) =>
        linalg.eigvalsh(matrix).data<double>().ToArray().Reverse().Take(k).ToArray();

    /// <summary>Conv2d(1→2, 3×3) → tanh → flatten → Linear(32→3): p = 119, float64, eval.</summary>
    private static (TorchSharp.Modules.Sequential Model, Tensor X, Tensor Y) SmallCnn()
    {
        torch.manual_seed(11);
        var model = Sequential(("0", Conv2d(1, 2, 3, dtype: ScalarType.Float64)), ("1", Tanh()), ("2", Flatten()), ("3", Linear(32, 3, dtype: ScalarType.Float64)));
        model.eval();
        var g = new Generator(12);
        var x = randn([24, 1, 6, 6], dtype: ScalarType.Float64, generator: g);
        var y = arange(24, dtype: ScalarType.Int64) % 3;
        return (model, x, y);
    }

    public static TheoryData<string> Models => new() { "mlp", "cnn" };

    private static (Module<Tensor, Tensor> Model, Tensor X, Tensor Y) Load(string name)
    {
        if (name == "cnn")
            return SmallCnn();
        var (model, x, y) = AnalysisFixture.Trained();
        return (model, x, y);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BlockEigenvalues_EqualTheDenseBlocksEigenvalues_BothByLanczosAndDense(string name)
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Load(name);
        var dense = DenseHessian(model, x, y);
        var groups = ParameterGroups.ByModule(ParameterSpace.FromModule(model));
        foreach (var limit in new[] { 0, 1000 })
        {
            var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0)
                .PerLayer(new PerLayerOptions { EigenvalueCount = 3, DenseBlockLimit = limit, Tolerance = 1e-9, MaxOperatorApplicationsPerBlock = 2000 })
                .AnalyzeMinimum();
            Assert.Equal(groups.Select(g => g.Name), report.Layers!.Select(l => l.Name));
            for (var i = 0; i < groups.Count; i++)
            {
                var layer = report.Layers![i];
                var expected = TopEigenvalues(Block(dense, groups[i]), 3);
                Assert.Equal(groups[i].Size, layer.Parameters);
                Assert.Equal(limit == 0 ? "lanczos" : "dense", layer.EigenvalueMethod);
                Assert.True(layer.EigenvaluesConverged);
                Assert.Equal(3, layer.Eigenvalues.Length);
                for (var j = 0; j < 3; j++)
                    Assert.True(Math.Abs(layer.Eigenvalues[j] - expected[j]) <= 1e-7 * Math.Abs(expected[0]), $"{name} block {layer.Name} λ{j + 1}: {layer.Eigenvalues[j]} vs dense {expected[j]} (limit {limit})");
            }
            Assert.Equal(report.Layers!.Sum(l => l.EigenvalueOperatorApplications), report.HvpCounts["layer-eigenvalues"]);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BlockTraces_ShareTheTraceProbes_SumToTheTrace_AndCostNoExtraProducts(string name)
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Load(name);
        var traceOptions = new TraceOptions { MaxProbes = 40, MinProbes = 40, RelativeStandardError = 0, ClosedForm = false };
        var traceOnly = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0).WithTrace(traceOptions).Seed(5).AnalyzeMinimum();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0).WithTrace(traceOptions).Seed(5)
            .PerLayer(0).WithDiagonal(DiagonalMethod.Stochastic).AnalyzeMinimum();

        Assert.Equal(traceOnly.HvpCounts["trace"], report.HvpCounts["trace"]);
        Assert.Equal(40, report.HvpCount - report.HvpCounts["loss"]);
        Assert.Equal(traceOnly.Trace, report.Trace);
        Assert.Equal(traceOnly.TraceOfSquare, report.TraceOfSquare);
        Assert.Equal(report.Trace!.Value, report.Layers!.Sum(l => l.Trace), 1e-10 * Math.Abs(report.Trace.Value));
        Assert.Equal(report.Trace.Value, report.Diagonal!.Sum, 1e-10 * Math.Abs(report.Trace.Value));
        Assert.Equal(40, report.Diagonal.Probes);
        Assert.All(report.Layers!, l => Assert.Empty(l.Eigenvalues));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BlockTracesAndDiagonal_AreWithinAFewStandardErrorsOfTheDenseHessian(string name)
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Load(name);
        var before = ModelState.Of(model);
        var dense = DenseHessian(model, x, y);
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0)
            .WithTrace(new TraceOptions { MaxProbes = 400, MinProbes = 400, RelativeStandardError = 0, BlockSize = 50 })
            .PerLayer(0).WithDiagonal(DiagonalMethod.Stochastic).Seed(9).AnalyzeMinimum();
        before.AssertUnchanged(model);

        var groups = ParameterGroups.ByModule(ParameterSpace.FromModule(model));
        for (var i = 0; i < groups.Count; i++)
        {
            var truth = Block(dense, groups[i]).trace().item<double>();
            var layer = report.Layers![i];
            Assert.True(Math.Abs(layer.Trace - truth) <= 4 * layer.TraceStandardError, $"{name} block {layer.Name}: {layer.Trace} ± {layer.TraceStandardError} vs dense {truth}");
        }

        Assert.Equal("hutchinson", report.Diagonal!.Method);
        var exact = dense.diagonal().data<double>().ToArray();
        var values = report.Diagonal.Values!;
        var errors = report.Diagonal.StandardErrors!;
        var z = exact.Select((d, i) => errors[i] == 0 ? (Math.Abs(values[i] - d) <= 1e-12 ? 0 : double.PositiveInfinity) : Math.Abs(values[i] - d) / errors[i]).ToArray();
        Assert.True(z.Count(v => v <= 3) >= 0.95 * z.Length, $"{name}: only {z.Count(v => v <= 3)}/{z.Length} diagonal entries within 3 SE");
        Assert.True(z.Max() <= 6, $"{name}: a diagonal entry is {z.Max()} SE off");
    }

    [Fact]
    public void DiagonalWithoutTrace_SpendsItsOwnProbes_AndShrinksItsErrorAsOneOverRootN()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        DiagonalOptions Probes(int n) => new() { Method = DiagonalMethod.Stochastic, Probes = new TraceOptions { MinProbes = n, MaxProbes = n, RelativeStandardError = 0 } };
        var few = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0).WithDiagonal(Probes(25)).AnalyzeMinimum();
        var many = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0).WithDiagonal(Probes(400)).AnalyzeMinimum();

        Assert.Null(many.Traces);
        Assert.Null(many.Layers);
        Assert.Equal(400, many.HvpCounts["layer-probes"]);
        var ratio = many.Diagonal!.StandardErrors!.Zip(few.Diagonal!.StandardErrors!).Where(p => p.Second > 0).Average(p => p.First / p.Second);
        Assert.InRange(ratio, 0.18, 0.34); // √(25/400) = 0.25
    }

    [Fact]
    public void ExactSolver_GivesTheExactDiagonalAndExactBlockTraces_AtNoExtraProducts()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var dense = DenseHessian(model, x, y);
        var report = HessianAnalysis.For(model).WithData(x, y).UseExactHessian().TopEigenpairs(2).PerLayer(2).WithDiagonal(DiagonalMethod.Exact).AnalyzeMinimum();

        Assert.Equal("exact", report.Diagonal!.Method);
        Assert.All(report.Diagonal.StandardErrors!, se => Assert.Equal(0, se));
        var exact = dense.diagonal().data<double>().ToArray();
        for (var i = 0; i < exact.Length; i++)
            Assert.Equal(exact[i], report.Diagonal.Values![i], 1e-10);
        Assert.All(report.Layers!, l => Assert.Equal("exact", l.TraceMethod));
        Assert.Equal(dense.trace().item<double>(), report.Trace!.Value, 1e-9);
        Assert.Equal("exact", report.TraceMethod);
        Assert.Equal(report.HvpCounts["exact-hessian"], report.HvpCount - report.HvpCounts["loss"]);
    }

    [Fact]
    public void ExactDiagonal_WhenNotAvailable_FailsWithTheReason_AndLeavesTheModelUnchanged()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = Load("cnn");
        var before = ModelState.Of(model);
        var ex = Assert.Throws<InvalidOperationException>(() => HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0).WithDiagonal(DiagonalMethod.Exact).AnalyzeMinimum());
        Assert.Contains("The exact Hessian diagonal is not available", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Conv2d", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DiagonalMethod.Auto", ex.Message, StringComparison.Ordinal);
        before.AssertUnchanged(model);
    }

    [Fact]
    public void LargeDiagonal_GoesToASafetensorsFile_NamedInTheReport_WithTheSameNumbersAsInline()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var folder = Path.Combine(Path.GetTempPath(), "hg-diagonal-" + Guid.NewGuid().ToString("N"));
        try
        {
            var inline = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0).Seed(3).WithDiagonal(DiagonalMethod.Stochastic).AnalyzeMinimum();
            var toFile = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0).Seed(3)
                .WithDiagonal(new DiagonalOptions { Method = DiagonalMethod.Stochastic, OutputDirectory = folder, InlineLimit = 50 }).AnalyzeMinimum();

            Assert.Null(toFile.Diagonal!.Values);
            Assert.Null(toFile.Diagonal.StandardErrors);
            Assert.Equal("diagonal.safetensors", toFile.Diagonal.File);
            var json = MinimumReportJson.Serialize(toFile);
            Assert.Contains("\"file\": \"diagonal.safetensors\"", json, StringComparison.Ordinal);
            Assert.DoesNotContain("\"values\"", json, StringComparison.Ordinal);

            var file = SafetensorsFile.Read(Path.Combine(folder, "diagonal.safetensors"));
            Assert.Equal("hutchinson", file.Metadata["method"]);
            Assert.Equal(string.Join(",", ParameterSpace.FromModule(model).Names), file.Metadata["parameterNames"]);
            Assert.Equal(inline.Diagonal!.Values, file.LoadTensor("diagonal").data<double>().ToArray());
            Assert.Equal(inline.Diagonal.StandardErrors, file.LoadTensor("standardError").data<double>().ToArray());
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Report_SerialisesLayersAndDiagonal_AndRoundTrips_AndIsReproducibleWithTheSeed()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        MinimumReport Run() => HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0).Seed(21).WithTrace().PerLayer(2).WithDiagonal().AnalyzeMinimum();
        var first = Run();
        var second = Run();
        var json = MinimumReportJson.Serialize(first);
        foreach (var field in new[] { "layers", "diagonal", "traces" })
            Assert.Equal(Field(first, field), Field(second, field));

        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var layer = doc.RootElement.GetProperty("layers")[0];
        foreach (var field in new[] { "name", "parameters", "eigenvalues", "trace", "traceStandardError" })
            Assert.True(layer.TryGetProperty(field, out _), $"layers[0] lacks '{field}'");
        var diagonal = doc.RootElement.GetProperty("diagonal");
        Assert.Equal("exact", diagonal.GetProperty("method").GetString());
        Assert.Equal(51, diagonal.GetProperty("values").GetArrayLength());
        Assert.Equal(51, diagonal.GetProperty("standardErrors").GetArrayLength());

        var back = MinimumReportJson.Deserialize(json);
        Assert.Equal(first.Layers!.Select(l => l.Trace), back.Layers!.Select(l => l.Trace));
        Assert.Equal(first.Layers![1].Eigenvalues, back.Layers![1].Eigenvalues);
        Assert.Equal(first.Diagonal!.Values, back.Diagonal!.Values);
        Assert.NotNull(back.Options.PerLayer);
        Assert.Equal(DiagonalMethod.Auto, back.Options.Diagonal!.Method);
    }

    [Fact]
    public void Float32Analysis_GivesTheSameBlockEigenvaluesToFloat32Accuracy()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var dense = DenseHessian(model, x, y);
        var groups = ParameterGroups.ByModule(ParameterSpace.FromModule(model));
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0).WithPrecision(AnalysisPrecision.Float32).PerLayer(2).WithDiagonal().AnalyzeMinimum();
        for (var i = 0; i < groups.Count; i++)
        {
            var expected = TopEigenvalues(Block(dense, groups[i]), 2);
            Assert.True(Math.Abs(report.Layers![i].Eigenvalues[0] - expected[0]) <= 1e-4 * Math.Abs(expected[0]), $"block {groups[i].Name}: {report.Layers[i].Eigenvalues[0]} vs {expected[0]}");
        }
        Assert.Equal(51, report.Diagonal!.Values!.Length);
    }

    [Fact]
    public void BadPerLayerAndDiagonalOptions_AreRejectedByBuild_WithTheFix()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained(steps: 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => HessianAnalysis.For(model).WithData(x, y).PerLayer(-1).Build());
        var ex = Assert.Throws<ArgumentException>(() => HessianAnalysis.For(model).WithData(x, y).WithDiagonal(new DiagonalOptions { FileName = "a/b.safetensors" }).Build());
        Assert.Contains("OutputDirectory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnconvergedBlockEigenvalues_AreFlagged_AndWarnedAbout()
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        var report = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0)
            .PerLayer(new PerLayerOptions { EigenvalueCount = 2, DenseBlockLimit = 0, Tolerance = 1e-14, MaxOperatorApplicationsPerBlock = 4 })
            .AnalyzeMinimum();
        Assert.Contains(report.Layers!, l => !l.EigenvaluesConverged);
        Assert.Contains(report.BudgetWarnings, w => w.StartsWith("Layer ", StringComparison.Ordinal) && w.Contains("MaxOperatorApplicationsPerBlock", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("layer-probes")]
    [InlineData("layer-eigenvalues")]
    public void Cancellation_InTheNewStages_ThrowsAndLeavesTheModelUnchanged(string stage)
    {
        using var scope = NewDisposeScope();
        var (model, x, y) = AnalysisFixture.Trained();
        model.train();
        var before = ModelState.Of(model);
        using var cts = new CancellationTokenSource();
        var seen = new List<string>();
        var plan = HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(0).SwitchToEvalMode().PerLayer(2).WithDiagonal().Build();
        var progress = new InlineProgress<AnalysisProgress>(p =>
        {
            seen.Add(p.Stage);
            if (p.Stage == stage)
                cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => plan.AnalyzeMinimum(cts.Token, progress));
        Assert.Equal(stage, seen[^1]);
        Assert.Equal(stage == "layer-probes" ? ["loss", "layer-probes"] : ["loss", "layer-probes", "layer-eigenvalues"], seen.Distinct());
        Assert.True(model.training);
        before.AssertUnchanged(model);
    }

    private sealed class InlineProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }

    private static string Field(MinimumReport report, string name)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(MinimumReportJson.Serialize(report));
        return doc.RootElement.GetProperty(name).GetRawText();
    }
}
