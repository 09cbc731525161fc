using HessianGeometry.Analysis;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Interop;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using HessianGeometry.Testing;
using HessianGeometry.Tests.Interop;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Tests.Reliability;

/// <summary>
/// The bad-input matrix of the reliability issue: every input a researcher can get wrong, the exception type it raises
/// and the words its message must contain (what is wrong, and how to fix it). The tiny model has p = 31 parameters.
/// docs/failure-modes.md lists the same rows with their messages.
/// </summary>
internal static class BadInputMatrix
{
    public static IReadOnlyList<BadInputCase> All { get; } = Build();

    public static BadInputCase Find(string name) =>
        All.SingleOrDefault(c => c.Name == name) ?? throw new ArgumentException($"No bad-input row named '{name}'.", nameof(name));

    private static List<BadInputCase> Build()
    {
        var rows = new List<BadInputCase>();
        void Row(string name, string area, Type expected, string[] fragments, Action run, Isolation isolation = Isolation.InProcess) =>
            rows.Add(new BadInputCase(name, area, expected, fragments, run, isolation));

        // ---- NaN / Inf -------------------------------------------------------------------------------------------
        const string nan = "NaN or Inf";
        Row("nan-in-parameters", nan, typeof(ArithmeticException), ["Parameter '0.weight' contains NaN or Inf", "finite checkpoint"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            using (no_grad())
                model.parameters().First()[0, 0] = double.NaN;
            Operator(model, DataSource.FromTensors(x, y));
        });
        Row("inf-in-inputs", nan, typeof(ArithmeticException), ["inputs contains NaN or Inf", "Clean or impute the data"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            x[3, 1] = double.PositiveInfinity;
            DataSource.FromTensors(x, y);
        });
        Row("nan-in-regression-targets", nan, typeof(ArithmeticException), ["targets contains NaN or Inf", "Clean the targets"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            var targets = F.one_hot(y, 3).to(ScalarType.Float64);
            targets[4, 2] = double.NaN;
            DataSource.FromTensors(x, targets);
        });
        Row("nan-in-inputs-of-a-later-batch", nan, typeof(ArithmeticException), ["Inputs of batch 2 contains NaN or Inf", "Clean the data"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            var batches = TestModels.Batches(x, y);
            var bad = batches[2].Inputs.clone();
            bad[1, 0] = double.NaN;
            batches[2] = (bad, batches[2].Targets);
            Operator(model, DataSource.FromBatches(batches));
        });
        Row("nan-in-regression-targets-of-a-later-batch", nan, typeof(ArithmeticException), ["Targets of batch 1 contains NaN or Inf", "Clean the targets"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            var batches = TestModels.Batches(x, F.one_hot(y, 3).to(ScalarType.Float64));
            var bad = batches[1].Targets.clone();
            bad[0, 0] = double.NaN;
            batches[1] = (batches[1].Inputs, bad);
            Operator(model, DataSource.FromBatches(batches), LossFunction.MeanSquaredError);
        });
        Row("nan-loss-in-a-later-batch", nan, typeof(ArithmeticException), ["The loss on batch 1 contains NaN or Inf", "log of zero or of a negative number", "LogSoftmax"], () =>
        {
            // log of the raw outputs: finite on batch 0 (positive inputs, identity layer), NaN on batch 1 (negative inputs).
            var model = IdentityLayer();
            var y = tensor(new long[] { 0, 1, 2, 0, 1, 2, 0, 1 });
            var positive = rand(8, 3, dtype: ScalarType.Float64) + 0.5;
            var logOfOutputs = LossFunction.Custom("log-nll", (o, t) => F.nll_loss(o.log(), t, reduction: nn.Reduction.None), LossReduction.None);
            Operator(model, DataSource.FromBatches([(positive, y), (-positive, y)]), logOfOutputs);
        });
        Row("nan-gradient-in-a-later-batch", nan, typeof(ArithmeticException), ["gradient on batch 1 (parameter 'layer.weight') is NaN or Inf although the loss is finite", "not differentiable"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            x[10].zero_();
            using var op = Operator(new KinkModel(Kink.UndefinedGradient), DataSource.FromTensors(x, y, batchSize: 8));
            op.Apply(ones(op.Dimension, dtype: op.DType));
        });
        Row("nan-hvp-in-a-later-batch", nan, typeof(ArithmeticException), ["second derivative on batch 2 is NaN or Inf although its loss and gradient are finite", "analyse in float64"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            x[20].zero_();
            using var op = Operator(new KinkModel(Kink.UndefinedCurvature), DataSource.FromTensors(x, y, batchSize: 8));
            op.Apply(ones(op.Dimension, dtype: op.DType));
        });
        Row("nan-gradient-in-an-analysis", nan, typeof(ArithmeticException), ["gradient on batch 1", "not differentiable"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            x[10].zero_();
            HessianAnalysis.For(new KinkModel(Kink.UndefinedGradient)).WithData(x, y, batchSize: 8).TopEigenpairs(1).AnalyzeMinimum();
        });
        Row("nan-in-the-vector", nan, typeof(ArithmeticException), ["input vector itself contains NaN or Inf", "Pass a finite vector"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            using var op = Operator(model, DataSource.FromTensors(x, y));
            var v = ones(op.Dimension, dtype: op.DType);
            v[4] = double.NaN;
            op.Apply(v);
        });

        // ---- Training mode and randomness ---------------------------------------------------------------------------
        const string mode = "training mode / randomness";
        Row("dropout-in-training-mode", mode, typeof(InvalidOperationException), ["training mode", "1 (Dropout)", "Hessian would be random", "model.eval()", "SwitchToEvalMode()"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            Operator(TestModels.WithLayer(nn.Dropout(0.5)), DataSource.FromTensors(x, y));
        });
        Row("batch-norm-in-training-mode", mode, typeof(InvalidOperationException), ["training mode", "1 (BatchNorm1d)", "model.eval()"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            Operator(TestModels.WithLayer(nn.BatchNorm1d(4, dtype: ScalarType.Float64)), DataSource.FromTensors(x, y));
        });
        Row("dropout-in-training-mode-in-an-analysis", mode, typeof(InvalidOperationException), ["training mode", "SwitchToEvalMode()"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            HessianAnalysis.For(TestModels.WithLayer(nn.Dropout(0.5))).WithData(x, y).TopEigenpairs(1).AnalyzeMinimum();
        });
        Row("random-layer-caught-by-the-determinism-check", mode, typeof(InvalidOperationException), ["loss differs between two evaluations", "Hessian would be random", "random layer", "model.eval()"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            var model = TestModels.WithLayer(new NoiseLayer());
            model.eval();
            Operator(model, DataSource.FromTensors(x, y), options: new LossHessianOptions { CheckDeterministic = true });
        });
        Row("random-layer-in-an-analysis", mode, typeof(InvalidOperationException), ["differs between two evaluations", "CheckDeterminism(false)"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            var model = TestModels.WithLayer(new NoiseLayer());
            model.eval();
            HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(1).AnalyzeMinimum();
        });
        Row("batches-reshuffled-on-every-pass", mode, typeof(InvalidOperationException), ["different values in batch 0", "shuffle once before the analysis"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            Operator(model, DataSource.FromBatches(Reshuffled(x, y)), options: new LossHessianOptions { CheckDeterministic = true });
        });

        Row("random-augmentation-on-every-pass", mode, typeof(InvalidOperationException), ["different values in batch", "turn off random augmentation"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            Operator(model, DataSource.FromBatches(Augmented(x, y)), options: new LossHessianOptions { CheckDeterministic = true });
        });

        // ---- Parameters ----------------------------------------------------------------------------------------
        const string parameters = "parameters";
        Row("parameter-not-used-by-the-loss", parameters, typeof(InvalidOperationException), ["'unused.weight' is not used by the loss", "Exclude it from the parameter selection"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            using var op = Operator(new UnusedParameterModel(), DataSource.FromTensors(x, y));
            op.Apply(ones(op.Dimension, dtype: op.DType));
        }, Isolation.ChildProcess);
        Row("parameter-not-used-by-the-loss-in-an-analysis", parameters, typeof(InvalidOperationException), ["'unused.weight' is not used by the loss", "Exclude it"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            HessianAnalysis.For(new UnusedParameterModel()).WithData(x, y).TopEigenpairs(1).AnalyzeMinimum();
        }, Isolation.ChildProcess);
        Row("frozen-parameter-selected-by-name", parameters, typeof(ArgumentException), ["requires_grad = false (0.weight)", "Exclude them from the selection or set requires_grad = true"], () =>
        {
            var (model, _, _) = TestModels.Tiny();
            model.parameters().First().requires_grad = false;
            ParameterSpace.FromModule(model, _ => true);
        });
        Row("frozen-parameter-passed-explicitly", parameters, typeof(ArgumentException), ["Parameter 'w' has requires_grad = false", "Set requires_grad = true on it"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            var space = ParameterSpace.FromTensors(["w"], [model.parameters().First().detach()]);
            using var op = Operator(model, DataSource.FromTensors(x, y), space: space);
            op.Apply(ones(op.Dimension, dtype: op.DType));
        }, Isolation.ChildProcess);
        Row("requires-grad-switched-off-after-creation", parameters, typeof(InvalidOperationException), ["'0.weight' no longer requires grad", "create a new operator"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            using var op = Operator(model, DataSource.FromTensors(x, y));
            op.Apply(ones(op.Dimension, dtype: op.DType));
            model.parameters().First().requires_grad = false;
            op.Apply(ones(op.Dimension, dtype: op.DType));
        }, Isolation.ChildProcess);
        Row("empty-parameter-selection", parameters, typeof(ArgumentException), ["selection is empty", "Names available: 0.weight, 0.bias, 2.weight, 2.bias"], () =>
        {
            var (model, _, _) = TestModels.Tiny();
            ParameterSpace.FromModule(model, name => name.StartsWith("9.", StringComparison.Ordinal));
        });
        Row("empty-parameter-selection-in-an-analysis", parameters, typeof(ArgumentException), ["selection is empty", "Names available"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            HessianAnalysis.For(model).WithData(x, y).WithParameters(_ => false).TopEigenpairs(1).AnalyzeMinimum();
        });
        Row("every-parameter-frozen", parameters, typeof(ArgumentException), ["Every parameter of the module has requires_grad = false", "Enable requires_grad"], () =>
        {
            var (model, _, _) = TestModels.Tiny();
            foreach (var p in model.parameters())
                p.requires_grad = false;
            ParameterSpace.FromModule(model);
        });
        Row("model-output-cut-from-the-graph", parameters, typeof(InvalidOperationException), ["does not depend on any selected parameter", "not run under no_grad"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            using var op = Operator(new DetachedOutputModel(), DataSource.FromTensors(x, y));
            op.Apply(ones(op.Dimension, dtype: op.DType));
        }, Isolation.ChildProcess);

        // ---- Labels, inputs, data --------------------------------------------------------------------------------
        const string data = "labels / inputs / data";
        Row("label-out-of-range", data, typeof(ArgumentException), ["Labels in batch 0 range over [0, 7]", "labels must lie in [0, 2]", "Fix the labels or the model's output size"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            y[5] = 7L;
            Operator(model, DataSource.FromTensors(x, y));
        });
        Row("negative-label-in-a-later-batch", data, typeof(ArgumentException), ["Labels in batch 2 range over [-1,", "labels must lie in [0, 2]"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            var batches = TestModels.Batches(x, y);
            var bad = batches[2].Targets.clone();
            bad[3] = -1L;
            batches[2] = (batches[2].Inputs, bad);
            Operator(model, DataSource.FromBatches(batches));
        });
        Row("labels-of-dtype-int32", data, typeof(ArgumentException), ["needs Int64 class indices", "dtype Int32", ".to(ScalarType.Int64)"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            Operator(model, DataSource.FromTensors(x, y.to(ScalarType.Int32)));
        });
        Row("float-labels-for-cross-entropy", data, typeof(ArgumentException), ["needs Int64 class indices", "dtype Float64"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            Operator(model, DataSource.FromTensors(x, y.to(ScalarType.Float64)));
        });
        Row("labels-of-the-wrong-length", data, typeof(ArgumentException), ["targets has shape [20] but inputs has 24 rows", "one target per input row"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            DataSource.FromTensors(x, y.narrow(0, 0, 20));
        });
        Row("labels-of-the-wrong-length-in-a-later-batch", data, typeof(ArgumentException), ["Batch 1 has 8 inputs but targets of shape [7]", "one target per input row"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            var batches = TestModels.Batches(x, y);
            batches[1] = (batches[1].Inputs, batches[1].Targets.narrow(0, 0, 7));
            Operator(model, DataSource.FromBatches(batches));
        });
        Row("one-hot-labels-for-cross-entropy", data, typeof(ArgumentException), ["needs targets of shape [b]", "targets.argmax(1)"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            Operator(model, DataSource.FromTensors(x, F.one_hot(y, 3)));
        });
        Row("regression-targets-of-the-wrong-shape", data, typeof(ArgumentException), ["mse needs targets shaped like the output [24, 3]", "[24, 2]", "one target row per output row"], () =>
        {
            var (model, x, _) = TestModels.Tiny();
            Operator(model, DataSource.FromTensors(x, zeros(24, 2, dtype: ScalarType.Float64)), LossFunction.MeanSquaredError);
        });
        Row("inputs-the-model-rejects", data, typeof(ArgumentException), ["rejected inputs of shape [24, 5]", "(batch 0)", "feature size and dtype match the model's first layer"], () =>
        {
            var (model, _, y) = TestModels.Tiny();
            Operator(model, DataSource.FromTensors(randn(24, 5, dtype: ScalarType.Float64), y));
        });
        Row("inputs-the-model-rejects-in-a-later-batch", data, typeof(ArgumentException), ["rejected inputs of shape [8, 5]", "(batch 1)"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            var batches = TestModels.Batches(x, y);
            batches[1] = (randn(8, 5, dtype: ScalarType.Float64), batches[1].Targets);
            Operator(model, DataSource.FromBatches(batches));
        });
        Row("integer-inputs", data, typeof(ArgumentException), ["rejected inputs of shape [24, 3] and dtype Int64", "must have the same dtype", "feature size and dtype"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            Operator(model, DataSource.FromTensors(x.to(ScalarType.Int64), y));
        });
        Row("empty-inputs", data, typeof(ArgumentException), ["inputs is empty (shape [0, 3])", "at least one sample"], () =>
            DataSource.FromTensors(zeros(0, 3, dtype: ScalarType.Float64), zeros(0, dtype: ScalarType.Int64)));
        Row("batch-sequence-without-batches", data, typeof(ArgumentException), ["produced no batches", "at least one non-empty batch"], () =>
        {
            var (model, _, _) = TestModels.Tiny();
            Operator(model, DataSource.FromBatches([]));
        });
        Row("empty-batch-in-a-sequence", data, typeof(ArgumentException), ["Batch 1 is empty", "Drop empty batches"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            var batches = TestModels.Batches(x, y);
            batches[1] = (x.narrow(0, 0, 0), y.narrow(0, 0, 0));
            Operator(model, DataSource.FromBatches(batches));
        });
        Row("batch-size-zero", data, typeof(ArgumentOutOfRangeException), ["batchSize must be positive but was 0", "at least 1, or null for one batch"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            DataSource.FromTensors(x, y, batchSize: 0);
        });
        Row("batch-size-negative", data, typeof(ArgumentOutOfRangeException), ["batchSize must be positive but was -5"], () =>
        {
            var (_, x, y) = TestModels.Tiny();
            DataSource.FromTensors(x, y, batchSize: -5);
        });
        Row("custom-loss-declared-as-a-sum-returns-a-vector", data, typeof(ArgumentException), ["returned shape [24] for batch 0", "must reduce to one number", "declare LossReduction.None"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            var perSample = LossFunction.Custom("per-sample", (o, t) => F.cross_entropy(o, t, reduction: nn.Reduction.None), LossReduction.Sum);
            using var op = Operator(model, DataSource.FromTensors(x, y), perSample);
            op.Apply(ones(op.Dimension, dtype: op.DType));
        }, Isolation.ChildProcess);

        // ---- Memory ----------------------------------------------------------------------------------------------
        const string memory = "memory budget";
        Row("exact-hessian-over-the-budget", memory, typeof(InsufficientMemoryException), ["31×31 Hessian needs 7.51 KiB", "budget of 4 KiB", "matrix-free solver (Lanczos or LOBPCG)"], () =>
        {
            using var op = TinyOperator();
            ExactHessian.Compute(op, memoryBudgetBytes: 4096);
        });
        Row("exact-hessian-over-the-budget-in-an-analysis", memory, typeof(InsufficientMemoryException), ["Hessian needs 7.51 KiB", "Lanczos or LOBPCG"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            HessianAnalysis.For(model).WithData(x, y).UseExactHessian(true, memoryBudgetBytes: 1024).TopEigenpairs(1).AnalyzeMinimum();
        });
        Row("lanczos-basis-over-the-budget", memory, typeof(InsufficientMemoryException), ["Lanczos basis for p = 31 parameters with Krylov dimension m = 31", "needs 32.94 KiB", "memory budget (16 KiB)", "smaller options.KrylovDimension", "LOBPCG"], () =>
        {
            using var op = TinyOperator();
            new Lanczos().Solve(op, new EigenSolverOptions { Count = 2, MemoryBudgetBytes = 16 * 1024 });
        });
        Row("memory-budget-not-positive", memory, typeof(ArgumentOutOfRangeException), ["options.MemoryBudgetBytes must be positive but was 0"], () =>
        {
            using var op = TinyOperator();
            new Lanczos().Solve(op, new EigenSolverOptions { Count = 2, MemoryBudgetBytes = 0 });
        });

        // ---- Solver options and vectors --------------------------------------------------------------------------
        const string options = "solver options";
        foreach (var solver in EigenSolverFactory.Names)
        {
            Row($"{solver}: k at least p", options, typeof(ArgumentOutOfRangeException), ["options.Count must lie in [1, 30] but was 31", "exact Hessian"], () =>
                Solve(solver, new EigenSolverOptions { Count = 31 }));
            Row($"{solver}: k zero", options, typeof(ArgumentOutOfRangeException), ["options.Count must lie in [1, 30] but was 0"], () =>
                Solve(solver, new EigenSolverOptions { Count = 0 }));
            Row($"{solver}: tolerance zero", options, typeof(ArgumentOutOfRangeException), ["options.Tolerance must be a finite positive number but was 0", "such as 1e-6"], () =>
                Solve(solver, new EigenSolverOptions { Tolerance = 0 }));
            Row($"{solver}: tolerance NaN", options, typeof(ArgumentOutOfRangeException), ["options.Tolerance must be a finite positive number but was NaN"], () =>
                Solve(solver, new EigenSolverOptions { Tolerance = double.NaN }));
            Row($"{solver}: zero operator applications", options, typeof(ArgumentOutOfRangeException), ["options.MaxOperatorApplications must be positive but was 0", "at least 1 operator application"], () =>
                Solve(solver, new EigenSolverOptions { MaxOperatorApplications = 0 }));
            Row($"{solver}: start vectors of the wrong shape", options, typeof(ArgumentException), ["options.StartVectors must have shape [31] or [31, 2] but has shape [30, 2]"], () =>
                Solve(solver, new EigenSolverOptions { Count = 2, StartVectors = randn(30, 2, dtype: ScalarType.Float64) }));
            Row($"{solver}: rank-deficient start vectors", options, typeof(ArgumentException), ["options.StartVectors is rank-deficient", "linearly independent"], () =>
            {
                var column = randn(31, 1, dtype: ScalarType.Float64);
                Solve(solver, new EigenSolverOptions { Count = 2, StartVectors = cat([column, 2 * column], 1) });
            });
            Row($"{solver}: start vector with NaN", options, typeof(ArgumentException), ["options.StartVectors contains NaN or Inf", "finite start vectors"], () =>
            {
                var v = randn(31, dtype: ScalarType.Float64);
                v[0] = double.NaN;
                Solve(solver, new EigenSolverOptions { StartVectors = v });
            });
        }
        Row("lanczos: Krylov dimension not above k", options, typeof(ArgumentOutOfRangeException), ["options.KrylovDimension must lie in [3, 31] but was 2"], () =>
            Solve("lanczos", new EigenSolverOptions { Count = 2, KrylovDimension = 2 }));
        Row("lanczos: Krylov dimension above p", options, typeof(ArgumentOutOfRangeException), ["options.KrylovDimension must lie in [3, 31] but was 40"], () =>
            Solve("lanczos", new EigenSolverOptions { Count = 2, KrylovDimension = 40 }));
        Row("lobpcg: block smaller than k", options, typeof(ArgumentOutOfRangeException), ["blockSize must lie in [3, 30] but was 2", "hold the k = 3 wanted vectors"], () =>
        {
            using var op = TinyOperator();
            new Lobpcg(blockSize: 2).Solve(op, new EigenSolverOptions { Count = 3 });
        });
        Row("power: shift not finite", options, typeof(ArgumentOutOfRangeException), ["shift must be finite but was NaN"], () => _ = new PowerIteration(double.NaN));
        Row("vector of the wrong length", options, typeof(ArgumentException), ["vector must have shape [31] but has shape [30]"], () =>
        {
            using var op = TinyOperator();
            op.Apply(ones(30, dtype: ScalarType.Float64));
        }, Isolation.ChildProcess);
        Row("vector of the wrong dtype", options, typeof(ArgumentException), ["vector has dtype Float32 but the operator works in Float64", ".to(Float64)"], () =>
        {
            using var op = TinyOperator();
            op.Apply(ones(31, dtype: ScalarType.Float32));
        }, Isolation.ChildProcess);
        Row("block of the wrong shape", options, typeof(ArgumentException), ["block must have shape [31, k] with k ≥ 1 but has shape [31]", "Stack the vectors as columns"], () =>
        {
            using var op = TinyOperator();
            op.ApplyBlock(ones(31, dtype: ScalarType.Float64));
        }, Isolation.ChildProcess);
        Row("operator used after Dispose", options, typeof(ObjectDisposedException), ["LossHessianOperator has been disposed", "Create a new operator"], () =>
        {
            var op = TinyOperator();
            op.Apply(ones(31, dtype: ScalarType.Float64));
            op.Dispose();
            op.Apply(ones(31, dtype: ScalarType.Float64));
        }, Isolation.ChildProcess);
        Row("analysis: negative eigenpair count", options, typeof(ArgumentOutOfRangeException), ["Eigenpair counts must be non-negative but were top = -1", "Pass 0 to skip them"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(-1).Build();
        });
        Row("analysis: eigenpair count at least p", options, typeof(ArgumentOutOfRangeException), ["Asked for 31 eigenpairs of a 31-parameter Hessian", "UseExactHessian()"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(31).AnalyzeMinimum();
        });
        Row("analysis: tolerance zero", options, typeof(ArgumentOutOfRangeException), ["tolerance must be a finite positive number but was 0", "such as 1e-6"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(2, relativeTolerance: 0).Build();
        });
        Row("density: zero Lanczos steps", options, typeof(ArgumentOutOfRangeException), ["Steps must be positive but was 0"], () =>
        {
            using var op = TinyOperator();
            StochasticLanczosQuadrature.Estimate(op, new SpectralDensityOptions { Steps = 0 });
        });
        Row("trace: a single probe", options, typeof(ArgumentOutOfRangeException), ["MaxProbes must lie in [2,", "at least 2 probes"], () =>
        {
            using var op = TinyOperator();
            Hutchinson.Trace(op, new TraceOptions { MaxProbes = 1 });
        });

        // ---- Cancellation (mid-solve restoration is in ModelStateTests) -------------------------------------------
        const string cancellation = "cancellation";
        Row("solve with a cancelled token", cancellation, typeof(OperationCanceledException), ["canceled"], () =>
        {
            using var op = TinyOperator();
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            new Lanczos().Solve(op, new EigenSolverOptions { Count = 2 }, cancelled.Token);
        });
        Row("analysis with a cancelled token", cancellation, typeof(OperationCanceledException), ["canceled"], () =>
        {
            var (model, x, y) = TestModels.Tiny();
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            HessianAnalysis.For(model).WithData(x, y).TopEigenpairs(2).AnalyzeMinimum(cancelled.Token);
        });

        // ---- Files: representative rows of Interop's malformed-file table, plus a checkpoint that does not fit -----
        const string files = "safetensors files";
        foreach (var problem in new[] { "data truncated", "begin after end", "offset beyond 2^63", "unknown dtype", "header length past the end" })
        {
            var (content, fragments) = MalformedSafetensors(problem);
            Row($"safetensors: {problem}", files, typeof(SafetensorsFormatException), fragments, () =>
            {
                using var stream = new MemoryStream(content);
                SafetensorsFile.ReadFrom(stream);
            });
        }
        Row("checkpoint with other layer sizes", files, typeof(ArgumentException), ["do not fit the module", "'0.weight': file [5, 3] vs module [4, 3]", "layer sizes the checkpoint was saved with"], () =>
        {
            using var stream = new MemoryStream();
            var saved = TinyModels.Mlp([3, 5, 3], "tanh", seed: 1);
            SafetensorsWriter.WriteTo(stream, saved.named_parameters().ToDictionary(np => np.name, np => (Tensor)np.parameter));
            stream.Position = 0;
            StateDictLoader.Load(TinyModels.Mlp([3, 4, 3], "tanh", seed: 1), SafetensorsFile.ReadFrom(stream));
        });

        return rows;
    }

    private static LossHessianOperator Operator(Module model, DataSource data, LossFunction? loss = null, ParameterSpace? space = null, LossHessianOptions? options = null) =>
        new(model, loss ?? LossFunction.CrossEntropy, data, space, options);

    private static LossHessianOperator TinyOperator()
    {
        var (model, x, y) = TestModels.Tiny();
        return Operator(model, DataSource.FromTensors(x, y));
    }

    private static void Solve(string solver, EigenSolverOptions options)
    {
        using var op = TinyOperator();
        EigenSolverFactory.Create(solver).Solve(op, options);
    }

    /// <summary>One Linear(3, 3) layer with W = I and b = 0, so the outputs are the inputs.</summary>
    private static Module IdentityLayer()
    {
        var model = nn.Sequential(("0", nn.Linear(3, 3, dtype: ScalarType.Float64)));
        using (no_grad())
        {
            model.parameters().First().copy_(eye(3, dtype: ScalarType.Float64));
            model.parameters().Last().zero_();
        }
        model.eval();
        return model;
    }

    /// <summary>A batch sequence that draws a new permutation every time it is enumerated (a common loader bug).</summary>
    private static IEnumerable<(Tensor, Tensor)> Reshuffled(Tensor x, Tensor y)
    {
        var pass = 0;
        return Enumerate();

        IEnumerable<(Tensor, Tensor)> Enumerate()
        {
            var order = randperm(x.shape[0], generator: new Generator((ulong)pass++));
            for (long start = 0; start < x.shape[0]; start += 8)
            {
                var rows = order.narrow(0, start, 8);
                yield return (x.index_select(0, rows), y.index_select(0, rows));
            }
        }
    }

    /// <summary>A batch sequence that flips the feature order of a random half of the rows on every pass.</summary>
    private static IEnumerable<(Tensor, Tensor)> Augmented(Tensor x, Tensor y)
    {
        var pass = 0;
        return Enumerate();

        IEnumerable<(Tensor, Tensor)> Enumerate()
        {
            var flip = rand(x.shape[0], 1, dtype: ScalarType.Float64, generator: new Generator((ulong)pass++)) < 0.5;
            yield return (where(flip, x.flip(1), x), y);
        }
    }

    private static (byte[] Content, string[] Fragments) MalformedSafetensors(string problem)
    {
        foreach (var row in SafetensorsMalformedFileTests.Cases)
        {
            if ((string)row[0] == problem)
                return ((byte[])row[1], (string[])row[2]);
        }
        throw new ArgumentException($"Interop's malformed-file table has no case '{problem}'.", nameof(problem));
    }
}
