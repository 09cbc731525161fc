using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Operators;

/// <summary>
/// The empirical risk L(θ) = (1/n) Σ_i ℓ(f_θ(x_i), y_i) of a model over a data set, with respect to a selection of its
/// parameters, in a chosen precision: the one place that knows the module, the loss and the data, and the only type that
/// iterates over the data (as curvlinops' <c>_empirical_risk.py</c>). Curvature operators combine it with a product
/// engine; geometry asks it for per-sample forward passes.
/// </summary>
/// <remarks>
/// Construction validates every batch once without gradients (the model accepts the inputs, the targets suit the loss,
/// outputs and losses are finite), so native autograd never sees input that would abort the process. A float64 risk of a
/// float32 model runs on float64 twins of the parameters and buffers that are swapped into the modules only during a
/// forward pass (<see cref="PrecisionTwin"/>): the caller's module and its tensors are never written. While a risk is
/// alive, libtorch's oneDNN and NNPACK convolution paths are off for the process (<see cref="ConvolutionBackendScope"/>:
/// oneDNN gave intermittent NaN or wrong convolution gradients on some CPUs); disposing the last risk restores them.
/// The first risk of a process also fixes glibc malloc's thresholds (<see cref="HessianGeometryRuntime.TuneNativeHeap"/>).
/// </remarks>
public sealed class EmpiricalRisk : IDisposable
{
    private readonly ConvolutionBackendScope backends;
    private readonly ModelInPrecision precision;
    private bool disposed;

    /// <summary>Creates the risk and validates model, loss and data before anything is differentiated.</summary>
    /// <param name="model">The trained model, in eval mode unless <see cref="EmpiricalRiskOptions.AllowTrainingMode"/>.</param>
    /// <param name="loss">The loss ℓ; the risk is its mean.</param>
    /// <param name="data">The data the risk runs over.</param>
    /// <param name="parameters">The parameters θ (default: all trainable parameters of <paramref name="model"/>).</param>
    /// <param name="options">Analysis dtype and training-mode policy.</param>
    public EmpiricalRisk(Module model, LossFunction loss, DataSource data, ParameterSpace? parameters = null, EmpiricalRiskOptions? options = null)
    {
        TorchRuntime.EnsureLoaded();
        Guard.NotNull(model, nameof(model));
        Guard.NotNull(loss, nameof(loss));
        Guard.NotNull(data, nameof(data));
        Options = options ?? new EmpiricalRiskOptions();
        if (!Options.AllowTrainingMode)
            ModelChecks.RefuseTrainingMode(model);
        Model = model;
        LossFunction = loss;
        Data = data;
        Parameters = parameters ?? ParameterSpace.FromModule(model);
        foreach (var (name, t) in Parameters.Names.Zip(Parameters.Tensors))
            Guard.AllFinite(t, $"Parameter '{name}'", "The model diverged or was loaded incorrectly; analyse a finite checkpoint.");

        var dtype = Options.AnalysisDType ?? Parameters.DType;
        if (dtype != ScalarType.Float64 && dtype != ScalarType.Float32)
            throw new ArgumentException($"AnalysisDType must be Float32 or Float64 but was {dtype}.", nameof(options));
        precision = ModelInPrecision.Create(model, Parameters, dtype);
        AnalysisParameters = precision.Parameters;
        // Products free and reallocate libtorch's temporaries every time: keep freed heap mapped (once per process).
        NativeHeapSettings.EnsureApplied();
        // Open for the risk's lifetime, so that cached graphs built now and products taken later use the same kernels.
        backends = ConvolutionBackendScope.Enter();
        try
        {
            SampleCount = EmpiricalRiskValidation.ValidateData(this);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The options in force.</summary>
    public EmpiricalRiskOptions Options { get; }

    /// <summary>The model.</summary>
    public Module Model { get; }

    /// <summary>The loss ℓ.</summary>
    public LossFunction LossFunction { get; }

    /// <summary>The data.</summary>
    public DataSource Data { get; }

    /// <summary>The selected parameters θ of the model itself, in flat-vector order.</summary>
    public ParameterSpace Parameters { get; }

    /// <summary>The parameters in the dtype the analysis runs in (twins for a float64 analysis of a float32 model).</summary>
    public ParameterSpace AnalysisParameters { get; }

    /// <summary>p, the number of selected scalar parameters.</summary>
    public long Dimension => Parameters.Dimension;

    /// <summary>n, the number of samples the mean runs over.</summary>
    public long SampleCount { get; }

    /// <summary>The dtype the risk and its derivatives are computed in.</summary>
    public ScalarType DType => AnalysisParameters.DType;

    /// <summary>The device the analysis runs on (the parameters' device).</summary>
    public Device Device => AnalysisParameters.Device;

    /// <summary>
    /// The model's forward pass in the analysis dtype on the analysis device (inputs are converted; the model's own
    /// parameters are never modified). The output is in the caller's dispose scope.
    /// </summary>
    public Tensor Forward(Tensor inputs)
    {
        ThrowIfDisposed();
        return precision.Forward(PrepareInputs(inputs));
    }

    /// <summary>The tensor the analysis computes with in place of a parameter or buffer of the model (its twin, or itself).</summary>
    internal Tensor AnalysisValueOf(Tensor original) => precision.ValueOf(original);

    /// <summary>Converts inputs to the analysis dtype and device (integer inputs such as token ids keep their dtype).</summary>
    public Tensor PrepareInputs(Tensor inputs) => ToAnalysis(inputs);

    /// <summary>Moves targets to the analysis device and, for regression targets, dtype (class indices keep theirs).</summary>
    public Tensor PrepareTargets(Tensor targets) => ToAnalysis(targets);

    private Tensor ToAnalysis(Tensor t)
    {
        if (!Guard.SameDevice(t.device, Device))
            t = t.to(Device);
        return t.is_floating_point() && t.dtype != DType ? t.to(DType) : t;
    }

    /// <summary>
    /// Runs <paramref name="body"/> on every batch, prepared, each inside its own dispose scope (tensors the body keeps must
    /// be moved out of it). Stops early when the body returns false.
    /// </summary>
    public void ForEachBatch(Func<RiskBatch, bool> body)
    {
        ThrowIfDisposed();
        Guard.NotNull(body, nameof(body));
        var index = 0;
        var first = Options.SampleOffset;
        var scale = 1.0 / SampleCount;
        foreach (var (x, y) in Data.Batches())
        {
            using var batchScope = NewDisposeScope();
            var batch = new RiskBatch(index++, PrepareInputs(x), PrepareTargets(y), scale) { FirstSample = first };
            first += batch.Rows;
            if (!body(batch))
                return;
        }
    }

    /// <summary>Runs <paramref name="body"/> on every batch (see <see cref="ForEachBatch(Func{RiskBatch, bool})"/>).</summary>
    public void ForEachBatch(Action<RiskBatch> body)
    {
        Guard.NotNull(body, nameof(body));
        ForEachBatch(batch =>
        {
            body(batch);
            return true;
        });
    }

    /// <summary>(1/n) Σ_{i in batch} ℓ_i: this batch's share of the mean loss, with its autograd graph.</summary>
    public Tensor BatchLoss(RiskBatch batch)
    {
        Guard.NotNull(batch, nameof(batch));
        return LossFunction.Sum(Forward(batch.Inputs), batch.Targets).Times(batch.Scale);
    }

    /// <summary>
    /// ∂(batch loss)/∂θ_i for every selected parameter (analysis dtype), optionally with the graph kept for a second
    /// derivative. Checks first what would abort the process inside native autograd.
    /// </summary>
    public Tensor[] ParameterGradients(Tensor batchLoss, bool createGraph)
    {
        ThrowIfDisposed();
        ModelChecks.ScalarLoss(batchLoss, LossFunction, "a batch");
        ModelChecks.Differentiable(AnalysisParameters);
        if (!batchLoss.requires_grad)
            throw new InvalidOperationException("The loss does not depend on any selected parameter (it does not require grad). Check the parameter selection and that the model is not run under no_grad.");
        var grads = torch.autograd.grad([batchLoss], AnalysisParameters.Tensors.ToList(), retain_graph: createGraph, create_graph: createGraph, allow_unused: true);
        var result = new Tensor[grads.Count];
        for (var i = 0; i < grads.Count; i++)
        {
            if (grads[i] is null || grads[i].IsInvalid)
                throw new InvalidOperationException($"Parameter '{AnalysisParameters.Names[i]}' is not used by the loss, so its gradient does not exist. Exclude it from the parameter selection (ParameterSpace.FromModule(model, name => ...)).");
            result[i] = grads[i];
        }
        return result;
    }

    /// <summary>The mean loss L(θ) over the whole data set.</summary>
    public double Loss() => LossAndAccuracy().Loss;

    /// <summary>
    /// The mean loss and, for class-index targets with [b, C] outputs, the fraction of argmax predictions equal to the
    /// label (null otherwise). One forward pass per batch, without gradients; accumulated in float64 in any precision.
    /// </summary>
    public (double Loss, double? Accuracy) LossAndAccuracy()
    {
        var totals = LossTotals();
        if (totals.FirstNonFiniteBatch is { } batch)
            throw new ArithmeticException($"The loss on batch {batch} is {totals.LossSum}. {EmpiricalRiskValidation.NonFiniteLossFix}");
        return (totals.MeanLoss, totals.Accuracy);
    }

    /// <summary>
    /// The loss and correct predictions summed over every batch in float64, without gradients; never throws on a
    /// non-finite loss (it names the first such batch instead), for callers that evaluate far from a minimum.
    /// </summary>
    public LossTotals LossTotals()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var total = 0.0;
        long correct = 0;
        var classification = true;
        int? nonFinite = null;
        ForEachBatch(batch =>
        {
            var output = Forward(batch.Inputs);
            var value = LossFunction.Sum(output, batch.Targets).to(ScalarType.Float64).item<double>();
            if (!double.IsFinite(value))
                nonFinite ??= batch.Index;
            total += value;
            if (batch.Targets.dtype == ScalarType.Int64 && batch.Targets.dim() == 1 && output.dim() == 2)
                correct += output.argmax(1).eq(batch.Targets).sum().item<long>();
            else
                classification = false;
        });
        return new LossTotals(total, correct, classification, SampleCount, nonFinite);
    }

    /// <summary>The gradient ∇_θ L(θ) over the whole data set as one flat vector [p] in the analysis dtype.</summary>
    public Tensor Gradient()
    {
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        ForEachBatch(batch =>
        {
            var batchLoss = BatchLoss(batch);
            var grads = ParameterGradients(batchLoss, createGraph: false);
            var flat = AnalysisParameters.Flatten(grads).detach();
            if (!isfinite(flat).all().item<bool>())
                throw new ArithmeticException($"The gradient contains NaN or Inf: {DescribeNonFiniteGradient(batch.Index, batchLoss, grads)}");
            sum = sum is null ? flat.MoveToOuterDisposeScope() : sum.add_(flat);
        });
        return sum!.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Checks that the risk is a deterministic function of the parameters: the data source yields the same batches on two
    /// enumerations, and the loss and the gradient agree when evaluated twice (tolerance 1e-9 relative in float64, 1e-4
    /// in float32). Costs two passes of loss and gradient.
    /// </summary>
    /// <exception cref="InvalidOperationException">A quantity differs between the two evaluations; the message says which.</exception>
    public void CheckDeterministic()
    {
        ThrowIfDisposed();
        DeterminismCheck.Run(this);
    }

    /// <summary>Says which part of a batch's first-order pass is not finite: the loss, or the gradient of a named parameter.</summary>
    public string DescribeNonFiniteGradient(int batchIndex, Tensor batchLoss, Tensor[] gradients)
    {
        if (!isfinite(batchLoss).all().item<bool>())
            return $"the loss on batch {batchIndex} is NaN or Inf. {EmpiricalRiskValidation.NonFiniteLossFix}";
        var bad = Array.FindIndex(gradients, g => !isfinite(g).all().item<bool>());
        var name = bad >= 0 ? AnalysisParameters.Names[bad] : "?";
        return $"the gradient on batch {batchIndex} (parameter '{name}') is NaN or Inf although the loss is finite. " +
            "The model is at a point where it is not differentiable or its derivative overflows (sqrt or abs at 0, log of 0, division by 0): " +
            "change the offending layer, or analyse in float64 if float32 overflows.";
    }

    /// <summary>Frees the float64 twins. The model and the data stay the caller's.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        precision.Dispose();
        backends.Dispose();
    }

    private void ThrowIfDisposed()
    {
        if (disposed)
            throw new ObjectDisposedException(nameof(EmpiricalRisk), "This EmpiricalRisk (or the operator that owns it) has been disposed: its float64 twins are freed. Create a new one, or dispose it only after the analysis.");
    }
}
