using HessianGeometry.EigenSolvers;
using HessianGeometry.Interop;
using HessianGeometry.Operators;
using HessianGeometry.Operators.Engines;
using HessianGeometry.Testing;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Operators;

/// <summary>
/// The exact Hessian and GGN assembled from an MLP's structure (<see cref="StructuralMlpHessian"/>, chosen by
/// <see cref="ExactHessian.Build"/>) against the block-product build of the same operator (p unit-vector products of
/// the analytic or double-backward engine), against PyTorch's dense Hessians and GGNs of the <c>mlp_*</c> fixtures
/// (torch.autograd.functional.hessian / jacobian), and against columns of the paper-sized 2-100-100-3 ReLU model.
/// Float64 tolerance 1e-12 of max|H|: the builds differ only in summation order.
/// </summary>
public sealed class StructuralMlpHessianTests
{
    private const double Tolerance = 1e-12;

    private static Sequential Mlp(string activation, int[] sizes, long seed, bool bias = true, ScalarType dtype = ScalarType.Float64)
    {
        if (activation != "silu" && bias)
            return TinyModels.Mlp(sizes, activation, seed, dtype);
        torch.manual_seed(seed);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i < sizes.Length - 1; i++)
        {
            layers.Add(($"{2 * i}", nn.Linear(sizes[i], sizes[i + 1], hasBias: bias, dtype: dtype)));
            if (i < sizes.Length - 2)
            {
                nn.Module<Tensor, Tensor> act = activation switch
                {
                    "silu" => nn.SiLU(),
                    "relu" => nn.ReLU(),
                    "tanh" => nn.Tanh(),
                    "sigmoid" => nn.Sigmoid(),
                    "gelu" => nn.GELU(),
                    _ => throw new ArgumentException(activation),
                };
                layers.Add(($"{2 * i + 1}", act));
            }
        }
        var model = nn.Sequential(layers);
        model.eval();
        return model;
    }

    private static CurvatureOperator Operator(nn.Module<Tensor, Tensor> model, string loss, DataSource data, CurvatureKind kind = CurvatureKind.Hessian,
        ParameterSpace? parameters = null, HvpEngine engine = HvpEngine.Auto, HessianGraphMode mode = HessianGraphMode.Auto, ScalarType? analysisDType = null)
    {
        var risk = new EmpiricalRisk(model, LossFunction.Parse(loss), data, parameters, new EmpiricalRiskOptions { AnalysisDType = analysisDType });
        string note;
        var productEngine = kind switch
        {
            CurvatureKind.Hessian => CurvatureEngineFactory.CreateHessian(risk, engine, out note),
            CurvatureKind.Ggn => CurvatureEngineFactory.CreateGgn(risk, engine, out note),
            _ => CurvatureEngineFactory.CreateEmpiricalFisher(risk, out note),
        };
        return new CurvatureOperator(risk, productEngine, mode, note, ownsRisk: true);
    }

    /// <summary>Structural and block-product builds of the same operator agree; returns the structural matrix.</summary>
    private static Tensor AssertBuildsAgree(CurvatureOperator op, double tolerance = Tolerance, string what = "structural vs block products")
    {
        var structural = ExactHessian.Build(op, build: ExactHessianBuild.Structural);
        Assert.Equal(ExactHessianBuild.Structural, structural.Build);
        Assert.Equal(1, structural.OperatorApplications);
        var blocks = ExactHessian.Build(op, build: ExactHessianBuild.BlockProducts);
        Assert.Equal(op.Dimension, blocks.OperatorApplications);
        Assertions.RelativelyClose(structural.Matrix, blocks.Matrix, tolerance, what);
        Assertions.RelativelyClose(structural.Matrix.T, structural.Matrix, 1e-14, "symmetry of the structural matrix");
        return structural.Matrix;
    }

    [Theory]
    [InlineData("relu", "ce", null, true)]
    [InlineData("tanh", "ce", 17, true)]
    [InlineData("sigmoid", "ce", null, false)]
    [InlineData("gelu", "ce", 17, true)]
    [InlineData("silu", "ce", null, true)]
    [InlineData("relu", "mse", 17, false)]
    [InlineData("tanh", "mse", null, true)]
    [InlineData("sigmoid", "mse", 17, true)]
    [InlineData("gelu", "mse", null, false)]
    [InlineData("silu", "mse", 17, true)]
    public void Hessian_EqualsTheBlockProductBuild(string activation, string loss, int? batchSize, bool bias)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(40, 3, 4, seed: 81);
        using var op = Operator(Mlp(activation, [3, 6, 5, 4], seed: 82, bias), loss, DataSource.FromTensors(x, y, batchSize));
        AssertBuildsAgree(op);
    }

    [Theory]
    [InlineData("relu", "ce", 17)]
    [InlineData("tanh", "mse", null)]
    [InlineData("gelu", "ce", null)]
    [InlineData("silu", "mse", 17)]
    public void Ggn_EqualsTheBlockProductBuild_AndDiffersFromTheHessian(string activation, string loss, int? batchSize)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(40, 3, 4, seed: 83);
        var model = Mlp(activation, [3, 6, 5, 4], seed: 84);
        var data = DataSource.FromTensors(x, y, batchSize);
        using var ggn = Operator(model, loss, data, CurvatureKind.Ggn);
        var g = AssertBuildsAgree(ggn, what: "structural GGN vs block GGN products");
        using var hessian = Operator(model, loss, data);
        var h = ExactHessian.Compute(hessian);
        var residual = (h - g).abs().max().item<double>() / h.abs().max().item<double>();
        Assert.True(residual > 1e-6, $"the residual H − G of a two-hidden-layer net is not negligible ({residual:G3})");
    }

    [Theory]
    [InlineData(HvpEngine.DoubleBackward, HessianGraphMode.Streamed)]
    [InlineData(HvpEngine.AnalyticMlp, HessianGraphMode.Cached)]
    [InlineData(HvpEngine.AnalyticMlp, HessianGraphMode.Streamed)]
    public void EveryEngineAndGraphMode_GetsTheStructuralBuild(HvpEngine engine, HessianGraphMode mode)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(33, 3, 3, seed: 85);
        using var op = Operator(Mlp("tanh", [3, 5, 4, 3], seed: 86), "ce", DataSource.FromTensors(x, y, 10), engine: engine, mode: mode);
        var built = ExactHessian.Build(op);
        Assert.Equal(ExactHessianBuild.Structural, built.Build);
        Assert.Contains("structural MLP Hessian", built.Note);
        Assertions.RelativelyClose(built.Matrix, ExactHessian.Build(op, build: ExactHessianBuild.BlockProducts).Matrix, Tolerance, $"{engine}, {mode}");
    }

    [Theory]
    [InlineData("2.weight", "ce", "hessian")]
    [InlineData("0.bias,4.bias", "ce", "hessian")]
    [InlineData("0.weight,4.bias", "mse", "hessian")]
    [InlineData("4.weight,4.bias", "ce", "hessian")]
    [InlineData("0.weight,0.bias", "mse", "hessian")]
    [InlineData("2.bias,4.weight", "ce", "hessian")]
    [InlineData("0.weight,2.bias", "ce", "ggn")]
    [InlineData("2.weight,2.bias,4.weight", "mse", "ggn")]
    public void ParameterSubsets_EqualTheBlockProductBuildOfTheSubset(string names, string loss, string curvature)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(36, 3, 3, seed: 87);
        var model = Mlp("gelu", [3, 5, 4, 3], seed: 88);
        var selected = names.Split(',');
        using var op = Operator(model, loss, DataSource.FromTensors(x, y, 20), curvature == "ggn" ? CurvatureKind.Ggn : CurvatureKind.Hessian, ParameterSpace.FromModule(model, selected.Contains));
        AssertBuildsAgree(op);
    }

    /// <summary>
    /// The diagonal block is multiplied from its symmetric halves only (rows c ≤ c′ in chunks of w/12, the upper triangle
    /// e ≤ e′ of ã ãᵀ) and mirrored; against the closed form of softmax regression, (1/n) Σ (diag p − p pᵀ) ⊗ z zᵀ with
    /// z = [x; 1], with 30 classes (15 row chunks) and 21 input columns. The GGN of one Linear layer is the same matrix.
    /// </summary>
    [Fact]
    public void SoftmaxRegression_DiagonalBlockFromSymmetricHalves_EqualsTheClosedForm()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(93);
        var model = nn.Sequential(("0", nn.Linear(20, 30, dtype: ScalarType.Float64)));
        model.eval();
        var (x, y) = TinyModels.Blobs(60, 20, 30, seed: 94);
        var parameters = model.parameters().ToArray();
        var expected = AnalyticHessians.SoftmaxRegression(parameters[0], parameters[1], x);
        foreach (var kind in new[] { CurvatureKind.Hessian, CurvatureKind.Ggn })
        {
            using var op = Operator(model, "ce", DataSource.FromTensors(x, y, 25), kind);
            var built = ExactHessian.Build(op, build: ExactHessianBuild.Structural);
            Assertions.RelativelyClose(built.Matrix, expected, Tolerance, $"structural {kind} vs closed-form softmax regression");
            Assertions.RelativelyClose(built.Matrix.T, built.Matrix, 1e-14, "symmetry of the structural matrix");
        }
    }

    [Fact]
    public void BiasFreeLayers_IdentityEvalDropoutNestedSequentialAndStackedLinears_EqualTheBlockProductBuild()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(89);
        var model = nn.Sequential(
            ("0", nn.Linear(3, 5, hasBias: false, dtype: ScalarType.Float64)),
            ("1", nn.GELU()),
            ("2", nn.Dropout(0.5)),
            ("3", nn.Sequential(("0", nn.Linear(5, 4, dtype: ScalarType.Float64)), ("1", nn.Identity()), ("2", nn.Sigmoid()), ("3", nn.Tanh()))),
            ("4", nn.Linear(4, 4, dtype: ScalarType.Float64)),
            ("5", nn.Linear(4, 3, hasBias: false, dtype: ScalarType.Float64)));
        model.eval();
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 90);
        using var hessian = Operator(model, "ce", DataSource.FromTensors(x, y, 16));
        AssertBuildsAgree(hessian);
        using var ggn = Operator(model, "mse", DataSource.FromTensors(x, y, 16), CurvatureKind.Ggn);
        AssertBuildsAgree(ggn);
    }

    public static TheoryData<string, int?> Fixtures => new()
    {
        { "mlp_tanh_ce", null },
        { "mlp_relu_ce", 5 },
        { "mlp_gelu_ce", null },
        { "mlp_sigmoid_mse", 4 },
        { "mlp_tanh_mse", null },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void HessianAndGgn_EqualPyTorchs_OfTheMlpFixtures(string fixture, int? batchSize)
    {
        using var scope = NewDisposeScope();
        var file = SafetensorsFile.Read(Tests.Interop.Fixtures.PathOf($"{fixture}.safetensors"));
        var model = MlpSpec.Parse(file.Metadata["spec"]).Build(ScalarType.Float64);
        StateDictLoader.Load(model, file, prefix: "model.");
        var data = DataSource.FromTensors(file.LoadTensor("data.x"), file.LoadTensor("data.y"), batchSize);
        var loss = file.Metadata["loss"];
        using var hessian = Operator(model, loss, data);
        var h = ExactHessian.Build(hessian, build: ExactHessianBuild.Structural).Matrix;
        Assertions.RelativelyClose(h, file.LoadTensor("reference.hessian"), 1e-10, $"{fixture}: structural Hessian vs PyTorch");
        using var ggn = Operator(model, loss, data, CurvatureKind.Ggn);
        var g = ExactHessian.Build(ggn, build: ExactHessianBuild.Structural).Matrix;
        var reference = SafetensorsFile.Read(Tests.Interop.Fixtures.PathOf("mlp_ggn_reference.safetensors")).LoadTensor($"{fixture}.ggn");
        Assertions.RelativelyClose(g, reference, 1e-10, $"{fixture}: structural GGN vs PyTorch's Jᵀ∇²ℓJ");
    }

    [Fact]
    public void ThreeGaussianFixture_2x16x16x3Relu_EqualsTheBlockProductBuild()
    {
        using var scope = NewDisposeScope();
        var file = SafetensorsFile.Read(Tests.Interop.Fixtures.PathOf("three_gaussians_relu.safetensors"));
        var model = MlpSpec.Parse(file.Metadata["spec"]).Build(ScalarType.Float64);
        StateDictLoader.Load(model, file, prefix: "model.");
        using var op = Operator(model, "ce", DataSource.FromTensors(file.LoadTensor("data.x"), file.LoadTensor("data.y")));
        AssertBuildsAgree(op);
        using var streamed = Operator(model, "ce", DataSource.FromTensors(file.LoadTensor("data.x"), file.LoadTensor("data.y"), 32));
        AssertBuildsAgree(streamed);
    }

    /// <summary>
    /// The paper's shape and size, 2-100-100-3 ReLU (p = 10,703), n = 150 three-Gaussian points, in two batches: the
    /// structural matrix against 192 columns from block products (first layer, hidden-to-hidden weights, biases and the
    /// output layer), so the test does not pay the 10,703 products of the full block build.
    /// </summary>
    [Fact]
    public void PaperSized2x100x100x3Relu_MatchesBlockProductColumns()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(150, 2, 3, seed: 91);
        var model = Mlp("relu", [2, 100, 100, 3], seed: 92);
        using var op = Operator(model, "ce", DataSource.FromTensors(x, y, 75), mode: HessianGraphMode.Cached);
        Assert.Equal(10_703, op.Dimension);
        var built = ExactHessian.Build(op);
        Assert.Equal(ExactHessianBuild.Structural, built.Build);
        var columns = new long[] { 0, 1, 150, 299, 300, 350, 399, 400, 5000, 10_399, 10_400, 10_499, 10_500, 10_702 }
            .Concat(Enumerable.Range(0, 178).Select(i => 17L + 60 * i)).Distinct().Order().ToArray();
        var basis = zeros(op.Dimension, columns.Length, dtype: ScalarType.Float64);
        for (var j = 0; j < columns.Length; j++)
            basis[columns[j], j] = 1.0;
        var expected = op.ApplyBlock(basis);
        var actual = built.Matrix.index_select(1, tensor(columns));
        Assertions.RelativelyClose(actual, expected, Tolerance, "structural columns vs block products (2-100-100-3)");
    }

    [Fact]
    public void Float64AnalysisOfAFloat32Model_EqualsTheBlockProductBuild_AndLeavesTheModelUntouched()
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(40, 3, 3, seed: 93);
        var model = Mlp("tanh", [3, 7, 5, 3], seed: 94, dtype: ScalarType.Float32);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        using (var op = Operator(model, "ce", DataSource.FromTensors(x64.to(ScalarType.Float32), y, 16), analysisDType: ScalarType.Float64))
            AssertBuildsAgree(op);
        var after = model.parameters().ToList();
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Equal(ScalarType.Float32, after[i].dtype);
            Assert.True(after[i].equal(before[i]).all().item<bool>(), $"parameter {i} changed");
            Assert.Null(after[i].grad);
        }
    }

    [Fact]
    public void Float32Analysis_EqualsTheFloat64Matrix_ToFloat32Rounding()
    {
        using var scope = NewDisposeScope();
        var (x64, y) = TinyModels.Blobs(48, 4, 3, seed: 95);
        var model = Mlp("gelu", [4, 12, 12, 3], seed: 96, dtype: ScalarType.Float32);
        var data = DataSource.FromTensors(x64.to(ScalarType.Float32), y, 32);
        using var op32 = Operator(model, "ce", data);
        using var op64 = Operator(model, "ce", data, analysisDType: ScalarType.Float64);
        Assert.Equal(ScalarType.Float32, op32.DType);
        var built = ExactHessian.Build(op32, ScalarType.Float32);
        Assert.Equal(ExactHessianBuild.Structural, built.Build);
        Assert.Equal(ScalarType.Float32, built.Matrix.dtype);
        Assertions.RelativelyClose(built.Matrix, AssertBuildsAgree(op64), 1e-5, "float32 structural vs float64");
    }

    [Fact]
    public void NonMlpModel_FallsBackToBlockProducts_WithTheReason_AndStructuralIsRefused()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(97);
        var model = nn.Sequential(("0", nn.Linear(3, 4, dtype: ScalarType.Float64)), ("1", nn.LayerNorm(4, dtype: ScalarType.Float64)), ("2", nn.Linear(4, 3, dtype: ScalarType.Float64)));
        model.eval();
        var (x, y) = TinyModels.Blobs(20, 3, 3, seed: 98);
        using var op = Operator(model, "ce", DataSource.FromTensors(x, y));
        var built = ExactHessian.Build(op);
        Assert.Equal(ExactHessianBuild.BlockProducts, built.Build);
        Assert.Equal(op.Dimension, built.OperatorApplications);
        Assert.Contains("LayerNorm", built.Note);
        var ex = Assert.Throws<NotSupportedException>(() => ExactHessian.Build(op, build: ExactHessianBuild.Structural));
        Assert.Contains("LayerNorm", ex.Message);
    }

    [Fact]
    public void FisherAndDenseOperators_UseBlockProducts()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(20, 3, 3, seed: 99);
        using var fisher = Operator(Mlp("tanh", [3, 4, 3], seed: 100), "ce", DataSource.FromTensors(x, y), CurvatureKind.EmpiricalFisher);
        var built = ExactHessian.Build(fisher);
        Assert.Equal(ExactHessianBuild.BlockProducts, built.Build);
        Assert.Contains("Hessian and the GGN", built.Note);
        var dense = new DenseOperator(eye(4, dtype: ScalarType.Float64));
        Assert.Equal(ExactHessianBuild.BlockProducts, ExactHessian.Build(dense).Build);
    }

    [Fact]
    public void DenseEigenSolver_RecordsTheStructuralBuild_AndSpendsOneProduct()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 101);
        using var op = Operator(Mlp("relu", [3, 8, 8, 3], seed: 102), "ce", DataSource.FromTensors(x, y));
        using var spectrum = new DenseEigenSolver().Decompose(op);
        Assert.Contains("structural MLP Hessian", spectrum.MatrixBuild);
        Assert.Equal(1, spectrum.OperatorApplications);
        var reference = ExactHessian.Build(op, build: ExactHessianBuild.BlockProducts).Matrix;
        var values = linalg.eigvalsh((reference + reference.T) / 2);
        Assertions.RelativelyClose(tensor(spectrum.Eigenvalues.ToArray()), values, 1e-12, "eigenvalues of the structural vs block-built Hessian");
    }

    [Fact]
    public void CancelledToken_StopsTheBuild_AndMemoryBudgetIsEnforced()
    {
        using var scope = NewDisposeScope();
        var (x, y) = TinyModels.Blobs(30, 3, 3, seed: 103);
        using var op = Operator(Mlp("tanh", [3, 8, 3], seed: 104), "ce", DataSource.FromTensors(x, y));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => ExactHessian.Build(op, cancellationToken: cancelled.Token));
        Assert.Throws<InsufficientMemoryException>(() => ExactHessian.Build(op, memoryBudgetBytes: 1000));
        var reports = new List<double>();
        ExactHessian.Build(op, progress: new SynchronousProgress(reports));
        Assert.NotEmpty(reports);
        Assert.Equal(1.0, reports[^1]);
    }

    private sealed class SynchronousProgress(List<double> reports) : IProgress<double>
    {
        public void Report(double value) => reports.Add(value);
    }
}
