using HessianGeometry.Internal;
using TorchSharp;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Operators;

/// <summary>
/// The Hessian H = ∇²_θ L(θ) of the mean loss L(θ) = (1/n) Σ_i ℓ(f_θ(x_i), y_i) over a whole dataset, applied
/// matrix-free by double backward (Pearlmutter 1994): H v = ∇_θ ⟨∇_θ L, v⟩.
/// </summary>
/// <remarks>
/// With a single batch (or <see cref="HessianGraphMode.Cached"/>) the first-order graph is built once and kept, so
/// each product is one backward pass. The second backward starts from the per-parameter gradients with views of v as
/// their grad_outputs, so it never differentiates through a concatenation of the gradient. Otherwise every product streams the mini-batches: forward, gradient with
/// <c>create_graph</c>, and a second backward per batch, weighting each batch by its size so the result is exact for
/// uneven batches. A block product reuses each batch's first-order graph for all k vectors.
/// </remarks>
public sealed class LossHessianOperator : LinearOperator, IHessianOperator
{
    private readonly Module model;
    private readonly LossFunction loss;
    private readonly DataSource data;
    private readonly PrecisionTwin? twin;
    private readonly ParameterSpace analysisSpace;
    private readonly bool cached;
    private Tensor[]? cachedGradients;
    private readonly MlpCurvatureKernel? kernel;
    private List<MlpBatchState>? kernelCache;
    private bool disposed;

    /// <summary>Creates the operator and validates model, loss and data before any native differentiation.</summary>
    /// <param name="model">The trained model, in eval mode unless <see cref="LossHessianOptions.AllowTrainingMode"/>.</param>
    /// <param name="loss">The loss ℓ; the dataset loss is its mean.</param>
    /// <param name="data">The data the Hessian is taken over.</param>
    /// <param name="parameters">The parameters θ (default: all trainable parameters of <paramref name="model"/>).</param>
    /// <param name="options">Graph caching, analysis dtype, training-mode policy.</param>
    public LossHessianOperator(Module model, LossFunction loss, DataSource data, ParameterSpace? parameters = null, LossHessianOptions? options = null)
    {
        TorchRuntime.EnsureLoaded();
        Guard.NotNull(model, nameof(model));
        Guard.NotNull(loss, nameof(loss));
        Guard.NotNull(data, nameof(data));
        Options = options ?? new LossHessianOptions();
        if (!Enum.IsDefined(Options.Engine))
            throw new ArgumentOutOfRangeException(nameof(options), Options.Engine, "LossHessianOptions.Engine must be HvpEngine.Auto, DoubleBackward or AnalyticMlp.");
        if (!Options.AllowTrainingMode)
            ModelChecks.RefuseTrainingMode(model);
        this.model = model;
        this.loss = loss;
        this.data = data;
        Parameters = parameters ?? ParameterSpace.FromModule(model);
        foreach (var (name, t) in Parameters.Names.Zip(Parameters.Tensors))
            Guard.AllFinite(t, $"Parameter '{name}'", "The model diverged or was loaded incorrectly; analyse a finite checkpoint.");

        var dtype = Options.AnalysisDType ?? Parameters.DType;
        if (dtype != ScalarType.Float64 && dtype != ScalarType.Float32)
            throw new ArgumentException($"AnalysisDType must be Float32 or Float64 but was {dtype}.", nameof(options));
        if (dtype != Parameters.DType)
        {
            twin = PrecisionTwin.Create(model, dtype);
            analysisSpace = ParameterSpace.FromTensors(Parameters.Names, Parameters.Tensors.Select(twin.For).ToList());
        }
        else
        {
            analysisSpace = Parameters;
        }

        cached = Options.GraphMode == HessianGraphMode.Cached || (Options.GraphMode == HessianGraphMode.Auto && data.IsSingleBatch);
        try
        {
            SampleCount = ValidateData();
            (kernel, EngineNote) = SelectEngine();
            if (Options.CheckDeterministic)
                CheckDeterministic();
        }
        catch
        {
            // The twins and a cached graph live outside any dispose scope: free them before the caller sees the error.
            Dispose();
            throw;
        }
    }

    /// <summary>The options in force.</summary>
    public LossHessianOptions Options { get; }

    /// <inheritdoc />
    public ParameterSpace Parameters { get; }

    /// <summary>n, the number of samples the mean loss runs over.</summary>
    public long SampleCount { get; }

    /// <summary>True when the first-order graph (or, for the analytic engine, each batch's forward quantities) is cached between products.</summary>
    public bool IsGraphCached => cached;

    /// <summary>The engine the products run on: <see cref="HvpEngine.AnalyticMlp"/> or <see cref="HvpEngine.DoubleBackward"/>.</summary>
    public HvpEngine Engine => kernel is null ? HvpEngine.DoubleBackward : HvpEngine.AnalyticMlp;

    /// <summary>Why <see cref="Engine"/> was chosen, e.g. the layer that kept the analytic engine out, or how closely it matched double backward.</summary>
    public string EngineNote { get; }

    /// <summary>The model the operator differentiates.</summary>
    public Module Model => model;

    /// <summary>The loss.</summary>
    public LossFunction LossFunction => loss;

    /// <summary>The data.</summary>
    public DataSource Data => data;

    /// <inheritdoc />
    public override long Dimension => Parameters.Dimension;

    /// <inheritdoc />
    public override ScalarType DType => analysisSpace.DType;

    /// <inheritdoc />
    public override Device Device => analysisSpace.Device;

    /// <summary>
    /// Runs the model's forward pass in the analysis dtype on the analysis device (inputs are converted, the model's
    /// own parameters are never modified). Output is in the caller's dispose scope.
    /// </summary>
    public Tensor Forward(Tensor inputs)
    {
        ThrowIfDisposed();
        using var swap = twin?.Enter();
        return model.call(PrepareInputs(inputs));
    }

    /// <summary>The parameters in the dtype the analysis runs in (twins for a float64 analysis of a float32 model).</summary>
    public ParameterSpace AnalysisParameters => analysisSpace;

    /// <summary>Converts inputs to the analysis dtype and device.</summary>
    public Tensor PrepareInputs(Tensor inputs)
    {
        var x = inputs;
        if (!Guard.SameDevice(x.device, Device))
            x = x.to(Device);
        if (x.is_floating_point() && x.dtype != DType)
            x = x.to(DType);
        return x;
    }

    /// <summary>Moves targets to the analysis device and, for regression targets, dtype.</summary>
    public Tensor PrepareTargets(Tensor targets)
    {
        var y = targets;
        if (!Guard.SameDevice(y.device, Device))
            y = y.to(Device);
        if (y.is_floating_point() && y.dtype != DType)
            y = y.to(DType);
        return y;
    }

    /// <inheritdoc />
    public double Loss()
    {
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var total = 0.0;
        var index = 0;
        foreach (var (x, y) in data.Batches())
        {
            var value = loss.Sum(Forward(x), PrepareTargets(y)).to(ScalarType.Float64).item<double>();
            if (!double.IsFinite(value))
                throw new ArithmeticException($"The loss on batch {index} is {value}. {NonFiniteLossFix}");
            total += value;
            index++;
        }
        return total / SampleCount;
    }

    /// <inheritdoc />
    public Tensor Gradient()
    {
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        var index = 0;
        foreach (var (x, y) in data.Batches())
        {
            using var batchScope = NewDisposeScope();
            var batchLoss = BatchLoss(x, y);
            var grads = FirstOrderGradients(batchLoss, createGraph: false);
            var flat = analysisSpace.Flatten(grads).detach();
            if (!isfinite(flat).all().item<bool>())
                throw new ArithmeticException($"The gradient contains NaN or Inf: {DescribeNonFiniteGradient(index, batchLoss, grads)}");
            sum = sum is null ? flat.MoveToOuterDisposeScope() : sum.add_(flat);
            index++;
        }
        return sum!.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor vector)
    {
        ThrowIfDisposed();
        if (kernel is not null)
            return KernelProduct(vector);
        if (cached)
            return CachedProduct(vector);
        Tensor? sum = null;
        foreach (var (x, y) in data.Batches())
        {
            using var batchScope = NewDisposeScope();
            var gradients = FirstOrderGradients(BatchLoss(x, y), createGraph: true);
            var hv = SecondOrder(gradients, vector, retainGraph: false);
            sum = sum is null ? hv.MoveToOuterDisposeScope() : sum.add_(hv);
        }
        return sum!;
    }

    /// <inheritdoc />
    protected override Tensor ApplyBlockCore(Tensor block)
    {
        ThrowIfDisposed();
        var k = block.shape[1];
        // Work on rows of the transposed block: one transpose each way instead of k strided column gathers and k strided
        // scatters. Each product runs in its own dispose scope, so a column's intermediates are freed before the next
        // backward pass. Measured (67k-parameter MLP): 4.6% per vector over single products before, within noise (±3%) after.
        var columns = block.T.contiguous();
        var products = zeros(k, Dimension, dtype: DType, device: Device);
        if (kernel is not null)
        {
            ForEachKernelBatch(state => kernel.AddProductRows(state, columns, products));
        }
        else if (cached)
        {
            for (var j = 0; j < k; j++)
            {
                using var columnScope = NewDisposeScope();
                products[j].copy_(CachedProduct(columns[j]));
            }
        }
        else
        {
            foreach (var (x, y) in data.Batches())
            {
                using var batchScope = NewDisposeScope();
                var gradients = FirstOrderGradients(BatchLoss(x, y), createGraph: true);
                for (var j = 0; j < k; j++)
                {
                    using var columnScope = NewDisposeScope();
                    products[j].add_(SecondOrder(gradients, columns[j], retainGraph: j < k - 1));
                }
            }
        }
        return products.T.contiguous();
    }

    /// <summary>Frees the cached graph and the float64 twins.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        foreach (var g in cachedGradients ?? [])
            g.Dispose();
        foreach (var state in kernelCache ?? [])
            state.Dispose();
        twin?.Dispose();
    }

    /// <summary>
    /// Chooses the engine. The analytic one must first reproduce a double-backward product with a seeded vector over all
    /// batches (relative difference ≤ 1e-9 in float64, 1e-4 in float32): a forward hook, or a layer subclass that computes
    /// something else than its type says, falls back instead of giving wrong curvature.
    /// </summary>
    private (MlpCurvatureKernel? Kernel, string Note) SelectEngine()
    {
        if (Options.Engine == HvpEngine.DoubleBackward)
            return (null, "double backward (requested)");
        var candidate = MlpCurvatureKernel.TryCreate(model, loss, Parameters, analysisSpace, p => twin?.For(p) ?? p, out var reason);
        if (candidate is not null)
        {
            using var scope = NewDisposeScope();
            var tolerance = DType == ScalarType.Float64 ? 1e-9 : 1e-4;
            var v = RandomVectors.Gaussian(Dimension, null, RandomVectors.CreateGenerator(20260301), DType, Device);
            try
            {
                Tensor analytic = zeros_like(v), reference = zeros_like(v);
                foreach (var (x, y) in data.Batches())
                {
                    using var batchScope = NewDisposeScope();
                    analytic.add_(candidate.Product(candidate.Prepare(PrepareInputs(x), PrepareTargets(y), 1.0 / SampleCount), v));
                    reference.add_(SecondOrder(FirstOrderGradients(BatchLoss(x, y), createGraph: true), v, retainGraph: false));
                }
                var scale = reference.norm().to(ScalarType.Float64).item<double>();
                var difference = (analytic - reference).norm().to(ScalarType.Float64).item<double>();
                var relative = difference == 0 ? 0 : difference / Math.Max(scale, double.Epsilon);
                if (relative <= tolerance)
                    return (candidate, $"analytic MLP ({candidate.Describe()}); a first product matched double backward to {relative:G2} relative");
                reason = $"its first product differed from double backward by {relative:G2} relative (tolerance {tolerance:G1}), so a layer does not compute what its type says";
            }
            catch (NotSupportedException ex)
            {
                reason = ex.Message;
            }
        }
        if (Options.Engine == HvpEngine.AnalyticMlp)
        {
            throw new NotSupportedException(
                $"HvpEngine.AnalyticMlp cannot run this model: {reason}. Use HvpEngine.Auto (falls back to double backward) or HvpEngine.DoubleBackward.");
        }
        return (null, $"double backward: {reason}");
    }

    /// <summary>
    /// Runs <paramref name="perBatch"/> on each batch's analytic-engine quantities: the kept ones of a cached operator, or
    /// ones built inside a dispose scope per batch, so a streamed product holds one batch's tensors at a time.
    /// </summary>
    private void ForEachKernelBatch(Action<MlpBatchState> perBatch)
    {
        // The engine needs no requires_grad, but a parameter frozen after creation must fail the same way on both engines.
        ModelChecks.Differentiable(analysisSpace);
        if (cached)
        {
            if (kernelCache is null)
            {
                var states = new List<MlpBatchState>();
                foreach (var (x, y) in data.Batches())
                {
                    using var batchScope = NewDisposeScope();
                    states.Add(kernel!.Prepare(PrepareInputs(x), PrepareTargets(y), 1.0 / SampleCount).Detach());
                }
                kernelCache = states;
            }
            foreach (var state in kernelCache)
            {
                using var batchScope = NewDisposeScope();
                perBatch(state);
            }
            return;
        }
        foreach (var (x, y) in data.Batches())
        {
            using var batchScope = NewDisposeScope();
            perBatch(kernel!.Prepare(PrepareInputs(x), PrepareTargets(y), 1.0 / SampleCount));
        }
    }

    private Tensor KernelProduct(Tensor vector)
    {
        var sum = zeros(Dimension, dtype: DType, device: Device);
        ForEachKernelBatch(state => sum.add_(kernel!.Product(state, vector)));
        return sum;
    }

    private Tensor CachedProduct(Tensor vector)
    {
        if (cachedGradients is null)
        {
            using var scope = NewDisposeScope();
            Tensor[]? sum = null;
            foreach (var (x, y) in data.Batches())
            {
                var g = FirstOrderGradients(BatchLoss(x, y), createGraph: true);
                sum = sum is null ? g : sum.Zip(g, (a, b) => a + b).ToArray();
            }
            foreach (var g in sum!)
                g.DetachFromDisposeScope();
            cachedGradients = sum;
        }
        return SecondOrder(cachedGradients, vector, retainGraph: true);
    }

    /// <summary>(1/n) Σ_batch ℓ_i: this batch's share of the mean loss.</summary>
    private Tensor BatchLoss(Tensor x, Tensor y)
    {
        var output = Forward(x);
        return loss.Sum(output, PrepareTargets(y)) / SampleCount;
    }

    private Tensor[] FirstOrderGradients(Tensor batchLoss, bool createGraph)
    {
        // Both checks guard torch.autograd.grad, whose errors abort the process instead of raising an exception.
        ModelChecks.ScalarLoss(batchLoss, loss, "a batch");
        ModelChecks.Differentiable(analysisSpace);
        if (!batchLoss.requires_grad)
            throw new InvalidOperationException("The loss does not depend on any selected parameter (it does not require grad). Check the parameter selection and that the model is not run under no_grad.");
        var grads = torch.autograd.grad([batchLoss], analysisSpace.Tensors.ToList(), retain_graph: createGraph, create_graph: createGraph, allow_unused: true);
        var result = new Tensor[grads.Count];
        for (var i = 0; i < grads.Count; i++)
        {
            if (grads[i] is null || grads[i].IsInvalid)
                throw new InvalidOperationException($"Parameter '{analysisSpace.Names[i]}' is not used by the loss, so its gradient does not exist. Exclude it from the parameter selection (ParameterSpace.FromModule(model, name => ...)).");
            result[i] = grads[i];
        }
        return result;
    }

    /// <summary>
    /// ∇_θ ⟨g, v⟩ = H v from the per-parameter gradients g_i (carrying their graph): one backward with grad_outputs v_i,
    /// the views of v shaped like each parameter. Passing the pieces rather than a flattened g keeps the reshape/cat of
    /// the flattening out of the differentiated graph (measured A/B: 2–5% less time per HVP on a 1,315-parameter MLP,
    /// no change beyond noise on a 67k-parameter one; docs/benchmarks.md).
    /// A gradient that is constant in θ (does not require grad) contributes H v = 0 and is left out, since autograd
    /// rejects outputs without a graph.
    /// </summary>
    private Tensor SecondOrder(Tensor[] gradients, Tensor vector, bool retainGraph)
    {
        var parameters = analysisSpace.Tensors;
        var outputs = new List<Tensor>(gradients.Length);
        var directions = new List<Tensor>(gradients.Length);
        long offset = 0;
        for (var i = 0; i < gradients.Length; i++)
        {
            var size = parameters[i].numel();
            if (gradients[i].requires_grad)
            {
                outputs.Add(gradients[i]);
                directions.Add(vector.narrow(0, offset, size).reshape(parameters[i].shape));
            }
            offset += size;
        }
        if (outputs.Count == 0)
            return zeros_like(vector);
        // A cached graph outlives the checks of the first pass: re-check before the native call, which would abort.
        ModelChecks.Differentiable(analysisSpace);
        var hv = torch.autograd.grad(outputs, parameters.ToList(), grad_outputs: directions, retain_graph: retainGraph, create_graph: false, allow_unused: true);
        var parts = new Tensor[hv.Count];
        for (var i = 0; i < hv.Count; i++)
            parts[i] = hv[i] is null || hv[i].IsInvalid ? zeros_like(parameters[i]) : hv[i];
        return analysisSpace.Flatten(parts);
    }

    /// <summary>
    /// One forward pass over every batch, without gradients, before anything is differentiated: the model must accept
    /// the inputs, the targets must suit the loss, and outputs and losses must be finite. Errors name the batch.
    /// </summary>
    private long ValidateData()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long n = 0;
        var index = 0;
        foreach (var (x, y) in data.Batches())
        {
            using var batchScope = NewDisposeScope();
            if (data.Inputs is null)
            {
                // In-memory data was checked once when the DataSource was made; a batch sequence is checked here.
                Guard.AllFinite(x, $"Inputs of batch {index}", "Clean the data before the analysis.");
                Guard.AllFinite(y, $"Targets of batch {index}", "Clean the targets before the analysis.");
            }
            Tensor output;
            try
            {
                output = Forward(x);
            }
            catch (System.Runtime.InteropServices.ExternalException ex)
            {
                throw new ArgumentException(
                    $"The model rejected inputs of shape {Guard.Shape(x)} and dtype {x.dtype} (batch {index}): {FirstLine(ex.Message)}. " +
                    "Check that the inputs' feature size and dtype match the model's first layer.", ex);
            }
            if (!output.is_floating_point())
                throw new ArgumentException($"The model returned dtype {output.dtype} on batch {index}; a loss needs floating-point outputs. Return logits or scores from forward, not class indices.");
            var targets = PrepareTargets(y);
            ModelChecks.Targets(loss, output, targets, index);
            Guard.AllFinite(output, $"The model output on batch {index}", "Check the parameters and inputs for NaN/Inf or overflow.");
            Tensor batchLoss;
            try
            {
                batchLoss = loss.Sum(output, targets);
            }
            catch (System.Runtime.InteropServices.ExternalException ex)
            {
                throw new ArgumentException(
                    $"The loss '{loss.Name}' failed on batch {index} (output {Guard.Shape(output)}, targets {Guard.Shape(targets)} {targets.dtype}): {FirstLine(ex.Message)}. " +
                    "Check that the targets have the shape and dtype the loss expects.", ex);
            }
            ModelChecks.ScalarLoss(batchLoss, loss, $"batch {index}");
            Guard.AllFinite(batchLoss, $"The loss on batch {index}", NonFiniteLossFix);
            n += x.shape[0];
            index++;
        }
        return n;
    }

    /// <summary>
    /// Checks that the Hessian is a deterministic function of the parameters, as curvlinops' <c>check_deterministic</c>
    /// does: the data source yields the same batches on two enumerations, and the loss, the gradient and a product with a
    /// seeded random vector agree when evaluated twice (relative sup-norm difference at most 1e-9 in float64, 1e-4 in
    /// float32, which allows for non-deterministic GPU reductions). Costs two passes of loss and gradient and two
    /// products (counted in <see cref="LinearOperator.ApplicationCount"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">A quantity differs between the two evaluations; the message says which.</exception>
    public void CheckDeterministic()
    {
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        var tolerance = DType == ScalarType.Float64 ? 1e-9 : 1e-4;
        var first = BatchFingerprints();
        var second = BatchFingerprints();
        if (first.Count != second.Count)
            throw new InvalidOperationException($"The data source yielded {first.Count} batches, then {second.Count}. {RandomDataFix}");
        for (var i = 0; i < first.Count; i++)
        {
            if (first[i].Shapes != second[i].Shapes)
                throw new InvalidOperationException($"The data source yielded batch {i} with shapes {first[i].Shapes}, then {second[i].Shapes}. {RandomDataFix}");
            if (RelativeDifference(first[i].Values, second[i].Values) > tolerance)
                throw new InvalidOperationException($"The data source yielded different values in batch {i} on two enumerations. {RandomDataFix}");
        }
        Compare("loss", [Loss()], [Loss()], tolerance);
        using (var g1 = Gradient())
        using (var g2 = Gradient())
            Compare("gradient", ToArray(g1), ToArray(g2), tolerance);
        var v = RandomVectors.Gaussian(Dimension, null, RandomVectors.CreateGenerator(0), DType, Device);
        Compare("Hessian-vector product", ToArray(Apply(v)), ToArray(Apply(v)), tolerance);
    }

    /// <inheritdoc />
    protected override ArithmeticException NonFiniteProduct(Tensor input, long vectors)
    {
        var application = ApplicationCount;
        string? where;
        try
        {
            where = LocateNonFinite(input);
        }
        catch (Exception ex) when (ex is System.Runtime.InteropServices.ExternalException or ArithmeticException or InvalidOperationException or ArgumentException)
        {
            where = null;
        }
        return where is null
            ? base.NonFiniteProduct(input, vectors)
            : new ArithmeticException($"The Hessian-vector product (operator application #{application}, {vectors} vector(s)) contains NaN or Inf: {where}");
    }

    private const string NonFiniteLossFix =
        "Check the loss for a log of zero or of a negative number (nll expects log-probabilities: end the model with LogSoftmax), " +
        "and the parameters and inputs for values that overflow; analysing in float64 avoids float32 overflow.";

    private const string RandomDataFix =
        "A DataSource is enumerated once per Hessian-vector product, so it must yield the same batches in the same order every time: " +
        "shuffle once before the analysis rather than inside the enumeration, and turn off random augmentation.";

    private static string FirstLine(string message) => message.Split('\n')[0].TrimEnd('.');

    /// <summary>Batch by batch, which part first stops being finite: the input vector, a loss, a gradient, or a product.</summary>
    private string? LocateNonFinite(Tensor input)
    {
        using var scope = NewDisposeScope();
        if (!isfinite(input).all().item<bool>())
            return "the input vector itself contains NaN or Inf. Pass a finite vector.";
        var block = input.dim() == 1 ? input.unsqueeze(1) : input;
        var k = block.shape[1];
        var index = 0;
        foreach (var (x, y) in data.Batches())
        {
            using var batchScope = NewDisposeScope();
            var batchLoss = BatchLoss(x, y);
            var grads = FirstOrderGradients(batchLoss, createGraph: true);
            if (grads.Any(g => !isfinite(g).all().item<bool>()))
                return DescribeNonFiniteGradient(index, batchLoss, grads);
            for (var j = 0; j < k; j++)
            {
                var hv = SecondOrder(grads, block[.., j].contiguous(), retainGraph: j < k - 1);
                if (!isfinite(hv).all().item<bool>())
                {
                    return $"the second derivative on batch {index} is NaN or Inf although its loss and gradient are finite. " +
                        "The model has a point where its curvature is undefined or overflows (sqrt or abs at 0, float32 overflow): " +
                        "analyse in float64 (LossHessianOptions.AnalysisDType) or change the offending layer.";
                }
            }
            index++;
        }
        return null;
    }

    private string DescribeNonFiniteGradient(int index, Tensor batchLoss, Tensor[] grads)
    {
        if (!isfinite(batchLoss).all().item<bool>())
            return $"the loss on batch {index} is NaN or Inf. {NonFiniteLossFix}";
        var bad = Array.FindIndex(grads, g => !isfinite(g).all().item<bool>());
        var name = bad >= 0 ? analysisSpace.Names[bad] : "?";
        return $"the gradient on batch {index} (parameter '{name}') is NaN or Inf although the loss is finite. " +
            "The model is at a point where it is not differentiable or its derivative overflows (sqrt or abs at 0, log of 0, division by 0): " +
            "change the offending layer, or analyse in float64 if float32 overflows.";
    }

    private List<(string Shapes, double[] Values)> BatchFingerprints()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var prints = new List<(string, double[])>();
        foreach (var (x, y) in data.Batches())
        {
            using var batchScope = NewDisposeScope();
            prints.Add(($"{Guard.Shape(x)} {Guard.Shape(y)}", [.. Fingerprint(x), .. Fingerprint(y)]));
        }
        return prints;
    }

    /// <summary>
    /// The sum of a batch tensor and its sum weighted by row and by position within the row (weights in [1, 2]):
    /// reordered rows, resampled rows and flipped or shifted features change the second number.
    /// </summary>
    private static double[] Fingerprint(Tensor t)
    {
        var rows = t.detach().reshape(t.shape[0], -1).to(ScalarType.Float64);
        var rowWeights = linspace(1, 2, rows.shape[0], dtype: ScalarType.Float64, device: rows.device);
        var columnWeights = linspace(1, 2, rows.shape[1], dtype: ScalarType.Float64, device: rows.device);
        return [rows.sum().item<double>(), rows.mv(columnWeights).dot(rowWeights).item<double>()];
    }

    private static double[] ToArray(Tensor t) => t.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();

    private static double RelativeDifference(double[] a, double[] b)
    {
        double difference = 0, scale = 0;
        for (var i = 0; i < a.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs(a[i] - b[i]));
            scale = Math.Max(scale, Math.Max(Math.Abs(a[i]), Math.Abs(b[i])));
        }
        return difference == 0 ? 0 : difference / Math.Max(scale, double.Epsilon);
    }

    private static void Compare(string what, double[] first, double[] second, double tolerance)
    {
        var difference = RelativeDifference(first, second);
        if (!(difference <= tolerance))
        {
            throw new InvalidOperationException(
                $"The {what} differs between two evaluations at the same parameters (relative difference {difference:G3}, tolerance {tolerance:G1}), " +
                "so the Hessian would be random. Usual causes: dropout, batch-norm or another random layer active in the forward pass (call model.eval()), " +
                "or random augmentation inside the model. Make the forward pass deterministic, or switch the check off " +
                "(LossHessianOptions.CheckDeterministic = false, HessianAnalysisBuilder.CheckDeterminism(false)).");
        }
    }

    private void ThrowIfDisposed()
    {
        if (disposed)
            throw new ObjectDisposedException(nameof(LossHessianOperator), "This LossHessianOperator has been disposed: its cached graph and float64 twins are freed. Create a new operator, or dispose it only after the analysis.");
    }
}
