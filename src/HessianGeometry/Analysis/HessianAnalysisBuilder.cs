using HessianGeometry.EigenSolvers;
using HessianGeometry.Geometry;
using HessianGeometry.Internal;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>
/// Mutable builder for an analysis. Every method returns the builder; <see cref="Build"/> validates the whole
/// configuration once and freezes it into a <see cref="HessianAnalysisPlan"/>. Nothing is computed unless asked for;
/// the defaults are listed on <see cref="AnalysisDefaults"/>.
/// </summary>
public sealed class HessianAnalysisBuilder
{
    private readonly nn.Module<Tensor, Tensor> model;
    private LossFunction loss = LossFunction.CrossEntropy;
    private DataSource? data;
    private Func<string, bool>? parameterFilter;
    private IEigenSolver? solver;
    private string solverName = AnalysisDefaults.Solver;
    private int top;
    private int bottom;
    private double tolerance = AnalysisDefaults.Tolerance;
    private long maxApplications = AnalysisDefaults.MaxOperatorApplications;
    private TraceOptions? trace;
    private SpectralDensityOptions? density;
    private HesdOptions? hesd;
    private AlignmentOptions? alignment;
    private bool complexity;
    private double? epsilon;
    private int epsilonDirections = AnalysisDefaults.EpsilonDirections;
    private MarginOptions? margin;
    private long seed;
    private ScalarType? precision = ScalarType.Float64;
    private HessianGraphMode graphMode = HessianGraphMode.Auto;
    private bool switchToEval;
    private bool? exact;
    private long exactBudget = ExactHessian.DefaultMemoryBudgetBytes;
    private bool checkDeterminism = true;
    private HvpEngine engine = HvpEngine.Auto;
    private ILogger? logger;
    private string? label;

    internal HessianAnalysisBuilder(nn.Module<Tensor, Tensor> model) => this.model = model;

    /// <summary>The loss ℓ (default: cross-entropy on logits).</summary>
    public HessianAnalysisBuilder WithLoss(LossFunction lossFunction)
    {
        Guard.NotNull(lossFunction, nameof(lossFunction));
        loss = lossFunction;
        return this;
    }

    /// <summary>In-memory data: inputs [n, …] and targets [n] (class indices) or [n, C]; <paramref name="batchSize"/> null = one batch.</summary>
    public HessianAnalysisBuilder WithData(Tensor inputs, Tensor targets, int? batchSize = null)
    {
        data = DataSource.FromTensors(inputs, targets, batchSize);
        return this;
    }

    /// <summary>Any data source (in-memory or a re-enumerable sequence of batches).</summary>
    public HessianAnalysisBuilder WithData(DataSource source)
    {
        Guard.NotNull(source, nameof(source));
        data = source;
        return this;
    }

    /// <summary>Restricts θ to the parameters whose names pass <paramref name="include"/> (e.g. the last layer).</summary>
    public HessianAnalysisBuilder WithParameters(Func<string, bool> include)
    {
        Guard.NotNull(include, nameof(include));
        parameterFilter = include;
        return this;
    }

    /// <summary>Chooses the eigen-solver: "lanczos" (default), "lobpcg", "power" or "exact" (dense eigh of the materialised Hessian).</summary>
    public HessianAnalysisBuilder UseSolver(string name)
    {
        Guard.NotNull(name, nameof(name));
        var normalised = name.Trim().ToLowerInvariant();
        if (normalised != "exact")
            solver = EigenSolverFactory.Create(normalised);
        else
            solver = null;
        solverName = normalised;
        return this;
    }

    /// <summary>Uses a custom eigen-solver instance (e.g. a variant being benchmarked).</summary>
    public HessianAnalysisBuilder UseSolver(IEigenSolver eigenSolver)
    {
        Guard.NotNull(eigenSolver, nameof(eigenSolver));
        solver = eigenSolver;
        solverName = eigenSolver.Name;
        return this;
    }

    /// <summary>Computes the <paramref name="count"/> largest eigenpairs to relative residual <paramref name="relativeTolerance"/>.</summary>
    public HessianAnalysisBuilder TopEigenpairs(int count, double? relativeTolerance = null)
    {
        top = count;
        tolerance = relativeTolerance ?? tolerance;
        return this;
    }

    /// <summary>Computes the <paramref name="count"/> smallest (most negative) eigenpairs.</summary>
    public HessianAnalysisBuilder BottomEigenpairs(int count)
    {
        bottom = count;
        return this;
    }

    /// <summary>Budget of Hessian-vector products per eigen-solve (default 5,000).</summary>
    public HessianAnalysisBuilder MaxOperatorApplications(long count)
    {
        maxApplications = count;
        return this;
    }

    /// <summary>Estimates tr(H) and tr(H²) (Hutchinson, exact when the Hessian is materialised) and the Wolkowicz–Styan bounds.</summary>
    public HessianAnalysisBuilder WithTrace(TraceOptions? options = null)
    {
        trace = options ?? new TraceOptions();
        return this;
    }

    /// <summary>Estimates the spectral density by stochastic Lanczos quadrature and classifies the HESD type.</summary>
    public HessianAnalysisBuilder WithSpectralDensity(SpectralDensityOptions? options = null, HesdOptions? hesdOptions = null)
    {
        density = options ?? new SpectralDensityOptions();
        hesd = hesdOptions ?? new HesdOptions();
        return this;
    }

    /// <summary>Computes the alignment A_i(x) = cos(g(x), v_i) of every input with every top eigenvector.</summary>
    public HessianAnalysisBuilder WithAlignment(AlignmentOptions? options = null)
    {
        alignment = options ?? new AlignmentOptions();
        return this;
    }

    /// <summary>Computes the boundary complexity G with ε from a random-direction baseline (or <paramref name="explicitEpsilon"/>).</summary>
    public HessianAnalysisBuilder WithBoundaryComplexity(double? explicitEpsilon = null, int randomDirections = AnalysisDefaults.EpsilonDirections)
    {
        complexity = true;
        epsilon = explicitEpsilon;
        epsilonDirections = randomDirections;
        alignment ??= new AlignmentOptions();
        return this;
    }

    /// <summary>Estimates the margin from the top eigenvector (needs alignment, which this turns on).</summary>
    public HessianAnalysisBuilder WithMargin(MarginOptions? options = null)
    {
        margin = options ?? new MarginOptions();
        alignment ??= new AlignmentOptions();
        return this;
    }

    /// <summary>Seeds every random draw (default 0).</summary>
    public HessianAnalysisBuilder Seed(long value)
    {
        seed = value;
        return this;
    }

    /// <summary>
    /// The dtype the analysis runs in. Default Float64: a float32 model is analysed through float64 twins of its
    /// parameters (the model is not modified). Pass null to use the model's own dtype.
    /// </summary>
    public HessianAnalysisBuilder WithPrecision(ScalarType? dtype)
    {
        precision = dtype;
        return this;
    }

    /// <summary>Cache the first-order graph or stream mini-batches (default: cache when the data is one batch).</summary>
    public HessianAnalysisBuilder WithGraphMode(HessianGraphMode mode)
    {
        graphMode = mode;
        return this;
    }

    /// <summary>
    /// How Hessian-vector products are computed (default <see cref="HvpEngine.Auto"/>: the analytic R-operator for a plain
    /// MLP after it matched double backward on a first product, otherwise double backward). The report's settings record
    /// the engine that ran.
    /// </summary>
    public HessianAnalysisBuilder WithHvpEngine(HvpEngine hvpEngine)
    {
        if (!Enum.IsDefined(hvpEngine))
            throw new ArgumentOutOfRangeException(nameof(hvpEngine), hvpEngine, "Use HvpEngine.Auto, DoubleBackward or AnalyticMlp.");
        engine = hvpEngine;
        return this;
    }

    /// <summary>Switches a model in training mode to eval for the analysis and restores the mode afterwards.</summary>
    public HessianAnalysisBuilder SwitchToEvalMode()
    {
        switchToEval = true;
        return this;
    }

    /// <summary>
    /// Before any stage, evaluate the data, the loss, the gradient and one Hessian-vector product twice and refuse a
    /// random Hessian with an <see cref="InvalidOperationException"/> (default: on, as curvlinops' <c>check_deterministic</c>).
    /// It catches random layers the training-mode check cannot name and data sources that reshuffle on every pass; it
    /// costs two loss-and-gradient passes and two HVPs (see <see cref="CurvatureOperator.CheckDeterministic"/>).
    /// </summary>
    public HessianAnalysisBuilder CheckDeterminism(bool enabled = true)
    {
        checkDeterminism = enabled;
        return this;
    }

    /// <summary>
    /// Materialises the exact Hessian (from block HVPs, within <paramref name="memoryBudgetBytes"/>) and takes every
    /// eigenpair from its dense decomposition: traces become exact and the complexity count runs over all p
    /// eigenvectors. Off by default (matrix-free solvers); <c>UseSolver("exact")</c> turns it on too.
    /// </summary>
    public HessianAnalysisBuilder UseExactHessian(bool enabled = true, long memoryBudgetBytes = ExactHessian.DefaultMemoryBudgetBytes)
    {
        exact = enabled;
        exactBudget = memoryBudgetBytes;
        return this;
    }

    /// <summary>Logs stage starts and results (default: no logging).</summary>
    public HessianAnalysisBuilder WithLogger(ILogger log)
    {
        Guard.NotNull(log, nameof(log));
        logger = log;
        return this;
    }

    /// <summary>A label copied into the report (e.g. "epoch 10").</summary>
    public HessianAnalysisBuilder WithLabel(string text)
    {
        label = text;
        return this;
    }

    /// <summary>Validates the configuration and freezes it.</summary>
    public HessianAnalysisPlan Build()
    {
        if (data is null)
            throw new InvalidOperationException("No data: call WithData(inputs, targets[, batchSize]) before Build() or AnalyzeMinimum().");
        if (top < 0 || bottom < 0)
            throw new ArgumentOutOfRangeException(nameof(top), $"Eigenpair counts must be non-negative but were top = {top}, bottom = {bottom}. Pass 0 to skip them, or a positive count.");
        Guard.Positive(tolerance, "tolerance", "Pass a relative residual tolerance such as 1e-6.");
        Guard.Positive(maxApplications, "maxOperatorApplications");
        Guard.Positive(epsilonDirections, "randomDirections", "Use at least 1 random direction (the paper uses 5).");
        if (epsilon is { } e && (!(e > 0) || e >= 1))
            throw new ArgumentOutOfRangeException(nameof(epsilon), e, $"An explicit ε must lie in (0, 1) (it is a threshold on |cos|) but was {e}.");
        if (alignment is not null && top == 0)
            throw new InvalidOperationException("Alignment, boundary complexity and margin need eigenvectors: call TopEigenpairs(k) with k ≥ 1 (the paper uses k = 20).");
        if (alignment is not null && data.Inputs is null)
            throw new InvalidOperationException("Alignment, boundary complexity and margin need the inputs in memory: pass them with WithData(inputs, targets, batchSize) rather than a batch sequence.");
        if (alignment is not null && !loss.HasPerSampleForm)
            throw new InvalidOperationException($"Alignment needs per-sample losses, but the custom loss '{loss.Name}' reduces over the batch. Declare it with LossReduction.None.");
        if (alignment is not null && loss.Kind == LossKind.Custom)
            throw new InvalidOperationException("Alignment needs the predicted-class loss ℓ(f(x), ŷ); custom losses do not define it. Use cross-entropy, NLL or MSE.");
        if (margin is not null && data.Inputs is { } x && !x.is_floating_point())
            throw new InvalidOperationException($"The margin optimises over inputs, which must be floating point but have dtype {x.dtype}.");
        if (precision is { } pr && pr != ScalarType.Float32 && pr != ScalarType.Float64)
            throw new ArgumentException($"WithPrecision accepts Float32, Float64 or null (model dtype) but got {pr}.");
        var p = Operators.ParameterSpace.FromModule(model, parameterFilter).Dimension;
        var matrixFree = exact != true && solverName != "exact";
        if (matrixFree && Math.Max(top, bottom) >= p)
            throw new ArgumentOutOfRangeException(nameof(top), $"Asked for {Math.Max(top, bottom)} eigenpairs of a {p}-parameter Hessian; matrix-free solvers need k < p. Call UseExactHessian() to get all of them, or ask for fewer.");
        if (solverName == "exact" && exact == false)
            throw new InvalidOperationException("UseSolver(\"exact\") needs the exact Hessian, but UseExactHessian(false) forbids it. Drop one of the two.");
        var settings = new AnalysisSettings
        {
            Seed = seed,
            Solver = solverName,
            TopEigenpairs = top,
            BottomEigenpairs = bottom,
            Tolerance = tolerance,
            MaxOperatorApplications = maxApplications,
            Trace = trace is not null,
            SpectralDensity = density is not null,
            Alignment = alignment is not null,
            BoundaryComplexity = complexity,
            Margin = margin is not null,
            Epsilon = epsilon,
            Precision = precision?.ToString() ?? "model",
            BatchSize = data.BatchSize,
        };
        return new HessianAnalysisPlan(new AnalysisConfiguration(model, loss, data, parameterFilter, solver, settings, trace, density, hesd,
            alignment, complexity, epsilonDirections, margin, precision, graphMode, switchToEval, exact, exactBudget, logger, label, checkDeterminism, engine));
    }

    /// <summary>Builds and runs the analysis (see <see cref="HessianAnalysisPlan.AnalyzeMinimum"/>).</summary>
    public MinimumReport AnalyzeMinimum(CancellationToken cancellationToken = default, IProgress<AnalysisProgress>? progress = null) =>
        Build().AnalyzeMinimum(cancellationToken, progress);
}
