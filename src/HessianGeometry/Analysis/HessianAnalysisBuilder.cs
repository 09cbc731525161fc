using HessianGeometry.EigenSolvers;
using HessianGeometry.Geometry;
using HessianGeometry.Internal;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>
/// Mutable builder for an analysis. Every method returns the builder and edits one immutable
/// <see cref="AnalysisOptions"/>; <see cref="Build"/> validates it once (with the model and data) and freezes it into a
/// <see cref="HessianAnalysisPlan"/>. Nothing is computed unless asked for; the defaults are listed on
/// <see cref="AnalysisDefaults"/>.
/// </summary>
public sealed class HessianAnalysisBuilder
{
    private const string DiscreteInputsFix =
        "Integer inputs such as token ids have no continuous input space to move in: leave the input-space measures " +
        "(WithMargin, WithSampleMargins) out. The parameter-space measures (eigenpairs, trace, density, alignment, " +
        "boundary complexity) work on any input dtype.";

    private readonly nn.Module<Tensor, Tensor> model;
    private LossFunction loss = LossFunction.CrossEntropy;
    private DataSource? data;
    private AnalysisOptions configured = new();
    private bool? exact;
    private ILogger? logger;
    private string? label;
    private ICurvatureOperatorFactory? operatorFactory;

    internal HessianAnalysisBuilder(nn.Module<Tensor, Tensor> model) => this.model = model;

    /// <summary>The options as configured so far (validated only by <see cref="Build"/>).</summary>
    public AnalysisOptions Options => configured;

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

    /// <summary>
    /// Takes the curvature operator from <paramref name="factory"/> instead of building it over the local risk (used by
    /// HessianGeometry.Distributed to sum products over workers; every stage runs unchanged on the operator it returns).
    /// </summary>
    public HessianAnalysisBuilder WithOperatorFactory(ICurvatureOperatorFactory factory)
    {
        Guard.NotNull(factory, nameof(factory));
        operatorFactory = factory;
        return this;
    }

    /// <summary>The model under analysis (for extensions that must check it against remote copies).</summary>
    internal nn.Module<Tensor, Tensor> Model => model;

    /// <summary>The loss as configured so far.</summary>
    internal LossFunction Loss => loss;

    /// <summary>The data as configured so far (null before WithData).</summary>
    internal DataSource? Data => data;

    /// <summary>Replaces every option at once (e.g. options read from a previous report's <see cref="MinimumReport.Options"/>); later builder calls edit them.</summary>
    public HessianAnalysisBuilder WithOptions(AnalysisOptions analysisOptions)
    {
        Guard.NotNull(analysisOptions, nameof(analysisOptions));
        configured = analysisOptions;
        exact = null;
        return this;
    }

    /// <summary>Restricts θ to the parameters whose names pass <paramref name="include"/> (e.g. the last layer).</summary>
    public HessianAnalysisBuilder WithParameters(Func<string, bool> include)
    {
        Guard.NotNull(include, nameof(include));
        configured = configured with { ParameterFilter = include };
        return this;
    }

    /// <summary>Chooses the eigen-solver by name: "lanczos" (default), "lobpcg", "power" or "exact" (see <see cref="UseSolver(EigenSolverKind)"/>).</summary>
    /// <exception cref="ArgumentException">The name is none of these.</exception>
    public HessianAnalysisBuilder UseSolver(string name) => UseSolver(EigenSolverFactory.Parse(name));

    /// <summary>
    /// Chooses the eigen-solver. <see cref="EigenSolverKind.Exact"/> materialises the Hessian (within the memory budget
    /// of <see cref="UseExactHessian"/>) and decomposes it once: every eigenpair, exact traces, and a complexity count
    /// over all p eigenvectors.
    /// </summary>
    public HessianAnalysisBuilder UseSolver(EigenSolverKind kind)
    {
        if (!Enum.IsDefined(kind))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Use one of: {string.Join(", ", Enum.GetNames<EigenSolverKind>())}.");
        configured = configured with { Solver = new SolverOptions { Kind = kind } };
        return this;
    }

    /// <summary>Uses a custom eigen-solver instance (e.g. a variant being benchmarked); the report records its name.</summary>
    public HessianAnalysisBuilder UseSolver(IEigenSolver eigenSolver)
    {
        Guard.NotNull(eigenSolver, nameof(eigenSolver));
        configured = configured with { Solver = new SolverOptions { Custom = eigenSolver } };
        return this;
    }

    /// <summary>
    /// Computes the <paramref name="count"/> largest eigenpairs to relative residual <paramref name="relativeTolerance"/>
    /// within <paramref name="maxOperatorApplications"/> Hessian-vector products (null keeps the current values, by
    /// default <see cref="AnalysisDefaults.Tolerance"/> and <see cref="AnalysisDefaults.MaxOperatorApplications"/>).
    /// Affects the top pairs only.
    /// </summary>
    public HessianAnalysisBuilder TopEigenpairs(int count, double? relativeTolerance = null, long? maxOperatorApplications = null)
    {
        configured = configured with { TopEigenpairs = WithPairs(configured.TopEigenpairs, count, relativeTolerance, maxOperatorApplications) };
        return this;
    }

    /// <summary>
    /// Computes the <paramref name="count"/> smallest (most negative) eigenpairs to relative residual
    /// <paramref name="relativeTolerance"/> within <paramref name="maxOperatorApplications"/> Hessian-vector products
    /// (null keeps the current values). Affects the bottom pairs only.
    /// </summary>
    public HessianAnalysisBuilder BottomEigenpairs(int count, double? relativeTolerance = null, long? maxOperatorApplications = null)
    {
        configured = configured with { BottomEigenpairs = WithPairs(configured.BottomEigenpairs, count, relativeTolerance, maxOperatorApplications) };
        return this;
    }

    /// <summary>
    /// Budget of Hessian-vector products per eigen-solve, top and bottom alike (default
    /// <see cref="AnalysisDefaults.MaxOperatorApplications"/>). Set them apart with the last argument of
    /// <see cref="TopEigenpairs"/> and <see cref="BottomEigenpairs"/>.
    /// </summary>
    public HessianAnalysisBuilder MaxOperatorApplications(long count)
    {
        configured = configured with
        {
            TopEigenpairs = configured.TopEigenpairs with { MaxOperatorApplications = count },
            BottomEigenpairs = configured.BottomEigenpairs with { MaxOperatorApplications = count },
        };
        return this;
    }

    /// <summary>
    /// Estimates tr(H) and tr(H²) and the Wolkowicz–Styan bounds: Hutchinson by default, Hutch++ with
    /// <c>new TraceOptions { Method = TraceMethod.HutchPlusPlus }</c> (tr(H) only), exact with the exact solver.
    /// </summary>
    public HessianAnalysisBuilder WithTrace(TraceOptions? options = null)
    {
        configured = configured with { Trace = options ?? new TraceOptions() };
        return this;
    }

    /// <summary>
    /// For every parameter group (module, see <see cref="ParameterGroups.ByModule"/>): its size, the top
    /// <paramref name="eigenvalues"/> eigenvalues of its diagonal block and its trace. Block traces share the probes of
    /// the whole-model trace; block eigenvalues cost products per block (docs/per-layer.md).
    /// </summary>
    public HessianAnalysisBuilder PerLayer(int eigenvalues = 3) => PerLayer(new PerLayerOptions { EigenvalueCount = eigenvalues });

    /// <summary>Per-layer block eigenvalues and traces with explicit options (null: the defaults).</summary>
    public HessianAnalysisBuilder PerLayer(PerLayerOptions? options)
    {
        configured = configured with { PerLayer = options ?? new PerLayerOptions() };
        return this;
    }

    /// <summary>
    /// diag(H) with per-entry standard errors: exact when available (<see cref="DiagonalMethod.Auto"/>), otherwise the
    /// mean of z ⊙ Hz over the Rademacher probes of the trace (no extra products when the trace is estimated too).
    /// </summary>
    public HessianAnalysisBuilder WithDiagonal(DiagonalMethod method = DiagonalMethod.Auto) =>
        WithDiagonal((configured.Diagonal ?? new DiagonalOptions()) with { Method = method });

    /// <summary>The Hessian diagonal with explicit options (probes, output folder for large diagonals).</summary>
    public HessianAnalysisBuilder WithDiagonal(DiagonalOptions options)
    {
        Guard.NotNull(options, nameof(options));
        configured = configured with { Diagonal = options };
        return this;
    }

    /// <summary>Estimates the spectral density by stochastic Lanczos quadrature and classifies the HESD type.</summary>
    public HessianAnalysisBuilder WithSpectralDensity(SpectralDensityOptions? options = null, HesdOptions? hesdOptions = null)
    {
        configured = configured with { SpectralDensity = options ?? new SpectralDensityOptions(), Hesd = hesdOptions ?? new HesdOptions() };
        return this;
    }

    /// <summary>Computes the alignment A_i(x) = cos(g(x), v_i) of every input with every top eigenvector.</summary>
    public HessianAnalysisBuilder WithAlignment(AlignmentOptions? options = null)
    {
        configured = configured with { Alignment = options ?? new AlignmentOptions() };
        return this;
    }

    /// <summary>Computes the boundary complexity G with ε from a random-direction baseline (or <paramref name="explicitEpsilon"/>); turns alignment on.</summary>
    public HessianAnalysisBuilder WithBoundaryComplexity(double? explicitEpsilon = null, int randomDirections = AnalysisDefaults.EpsilonDirections) =>
        WithBoundaryComplexity(new ComplexityOptions { Epsilon = explicitEpsilon, RandomDirections = randomDirections });

    /// <summary>Computes the boundary complexity G with the given choice of ε; turns alignment on.</summary>
    public HessianAnalysisBuilder WithBoundaryComplexity(ComplexityOptions complexityOptions)
    {
        Guard.NotNull(complexityOptions, nameof(complexityOptions));
        configured = configured with { Complexity = complexityOptions, Alignment = configured.Alignment ?? new AlignmentOptions() };
        return this;
    }

    /// <summary>Estimates the margin from the top eigenvector (needs alignment, which this turns on).</summary>
    public HessianAnalysisBuilder WithMargin(MarginOptions? options = null)
    {
        configured = configured with { Margin = options ?? new MarginOptions(), Alignment = configured.Alignment ?? new AlignmentOptions() };
        return this;
    }

    /// <summary>
    /// Per-sample margins (DeepFool + bisection), their Spearman correlation with the alignment, and the decision
    /// boundary's curvature (or linear pieces for ReLU networks); turns alignment on.
    /// </summary>
    public HessianAnalysisBuilder WithSampleMargins(SampleMarginOptions? options = null)
    {
        configured = configured with { SampleMargins = options ?? new SampleMarginOptions(), Alignment = configured.Alignment ?? new AlignmentOptions() };
        return this;
    }

    /// <summary>Seeds every random draw (default 0).</summary>
    public HessianAnalysisBuilder Seed(long value)
    {
        configured = configured with { Seed = value };
        return this;
    }

    /// <summary>
    /// The dtype the analysis runs in. Default Float64: a float32 model is analysed through float64 twins of its
    /// parameters (the model is not modified). Pass null to use the model's own dtype.
    /// </summary>
    /// <exception cref="ArgumentException">A dtype other than Float32, Float64 or null.</exception>
    public HessianAnalysisBuilder WithPrecision(ScalarType? dtype) => WithPrecision(dtype switch
    {
        null => AnalysisPrecision.Model,
        ScalarType.Float64 => AnalysisPrecision.Float64,
        ScalarType.Float32 => AnalysisPrecision.Float32,
        _ => throw new ArgumentException($"WithPrecision accepts Float32, Float64 or null (model dtype) but got {dtype}.", nameof(dtype)),
    });

    /// <summary>The dtype the analysis runs in (default <see cref="AnalysisDefaults.Precision"/>).</summary>
    public HessianAnalysisBuilder WithPrecision(AnalysisPrecision precision)
    {
        configured = configured with { Precision = precision };
        return this;
    }

    /// <summary>Cache the first-order graph or stream mini-batches (default: cache when the data is one batch).</summary>
    public HessianAnalysisBuilder WithGraphMode(HessianGraphMode mode)
    {
        configured = configured with { GraphMode = mode };
        return this;
    }

    /// <summary>
    /// How Hessian-vector products are computed (default <see cref="HvpEngine.Auto"/>: the analytic R-operator for a plain
    /// MLP after it matched double backward on a first product, otherwise double backward). The report's model section
    /// records the engine that ran.
    /// </summary>
    public HessianAnalysisBuilder WithHvpEngine(HvpEngine hvpEngine)
    {
        if (!Enum.IsDefined(hvpEngine))
            throw new ArgumentOutOfRangeException(nameof(hvpEngine), hvpEngine, "Use HvpEngine.Auto, DoubleBackward or AnalyticMlp.");
        configured = configured with { HvpEngine = hvpEngine };
        return this;
    }

    /// <summary>
    /// The matrix whose eigenpairs, traces and density are computed (default <see cref="CurvatureKind.Hessian"/>): the
    /// GGN, the Monte-Carlo Fisher with <paramref name="fisherSamples"/> labels per input, or the empirical Fisher.
    /// </summary>
    public HessianAnalysisBuilder WithCurvature(CurvatureKind kind, int? fisherSamples = null)
    {
        Guard.Defined(kind, nameof(kind));
        configured = configured with { Curvature = kind, FisherSamples = fisherSamples ?? configured.FisherSamples };
        return this;
    }

    /// <summary>
    /// Decomposes H = GGN + R on the same data: the top-k eigenvalues of each (k = the top-eigenpair count), the overlap
    /// of the top-k eigenspaces of H and GGN, and tr H = tr GGN + tr R from the same probes (needs TopEigenpairs(k)).
    /// </summary>
    public HessianAnalysisBuilder WithDecomposition(DecompositionOptions? options = null)
    {
        configured = configured with { Decomposition = options ?? new DecompositionOptions() };
        return this;
    }

    /// <summary>Switches a model in training mode to eval for the analysis and restores the mode afterwards.</summary>
    public HessianAnalysisBuilder SwitchToEvalMode()
    {
        configured = configured with { SwitchToEval = true };
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
        configured = configured with { CheckDeterminism = enabled };
        return this;
    }

    /// <summary>
    /// <paramref name="enabled"/> = true chooses the exact solver (<see cref="EigenSolverKind.Exact"/>): the Hessian is
    /// materialised within <paramref name="memoryBudgetBytes"/> and decomposed once, traces become exact and the complexity
    /// count runs over all p eigenvectors. False forbids it (Build then refuses <c>UseSolver("exact")</c>).
    /// </summary>
    public HessianAnalysisBuilder UseExactHessian(bool enabled = true, long memoryBudgetBytes = AnalysisDefaults.ExactMemoryBudgetBytes)
    {
        exact = enabled;
        configured = configured with { ExactMemoryBudgetBytes = memoryBudgetBytes };
        return this;
    }

    /// <summary>
    /// Chooses how the exact solver decomposes the materialised matrix: <see cref="EigendecompositionMethod.Auto"/>
    /// (default: the certified range-revealing route for numerically low-rank matrices of p ≥
    /// <see cref="RangeRevealingEigh.MinimumDimension"/>, falling back to <c>linalg.eigh</c>),
    /// <see cref="EigendecompositionMethod.Full"/> (always <c>linalg.eigh</c>) or <see cref="EigendecompositionMethod.Range"/>
    /// (forced; the analysis fails when the matrix is not low-rank enough). The report's <c>eigendecomposition</c> says which ran.
    /// </summary>
    public HessianAnalysisBuilder WithEigendecomposition(EigendecompositionMethod method)
    {
        if (!Enum.IsDefined(method))
            throw new ArgumentOutOfRangeException(nameof(method), method, "Use EigendecompositionMethod.Auto, Full or Range.");
        configured = configured with { ExactEigendecomposition = method };
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

    private static EigenpairOptions WithPairs(EigenpairOptions current, int count, double? relativeTolerance, long? maxOperatorApplications) =>
        current with
        {
            Count = count,
            Tolerance = relativeTolerance ?? current.Tolerance,
            MaxOperatorApplications = maxOperatorApplications ?? current.MaxOperatorApplications,
        };

    /// <summary>Validates the options against the model and data and freezes them.</summary>
    public HessianAnalysisPlan Build()
    {
        if (data is null)
            throw new InvalidOperationException("No data: call WithData(inputs, targets[, batchSize]) before Build() or AnalyzeMinimum().");
        var frozen = configured with { BatchSize = data.BatchSize };
        if (exact == true && !frozen.Solver.IsExact)
            frozen = frozen with { Solver = new SolverOptions { Kind = EigenSolverKind.Exact } };
        if (exact == false && frozen.Solver.IsExact)
            throw new InvalidOperationException("UseSolver(\"exact\") needs the exact Hessian, but UseExactHessian(false) forbids it. Drop one of the two.");
        frozen.Validate();
        if (frozen.Alignment is not null && data.Inputs is null)
            throw new InvalidOperationException("Alignment, boundary complexity and margin need the inputs in memory: pass them with WithData(inputs, targets, batchSize) rather than a batch sequence.");
        if (frozen.Alignment is not null && !loss.HasPerSampleForm)
            throw new InvalidOperationException($"Alignment needs per-sample losses, but the custom loss '{loss.Name}' reduces over the batch. Declare it with LossReduction.None.");
        if (frozen.Alignment is not null && loss.Kind == LossKind.Custom)
            throw new InvalidOperationException("Alignment needs the predicted-class loss ℓ(f(x), ŷ); custom losses do not define it. Use cross-entropy, NLL or MSE.");
        if (frozen.SampleMargins is not null && data.Inputs is { } inputs && !inputs.is_floating_point())
            throw new InvalidOperationException($"Per-sample margins are distances in input space; the inputs must be floating point but have dtype {inputs.dtype}. {DiscreteInputsFix}");
        if (frozen.Margin is not null && data.Inputs is { } x && !x.is_floating_point())
            throw new InvalidOperationException($"The margin optimises over inputs, which must be floating point but have dtype {x.dtype}. {DiscreteInputsFix}");
        var p = ParameterSpace.FromModule(model, frozen.ParameterFilter).Dimension;
        var k = Math.Max(frozen.TopEigenpairs.Count, frozen.BottomEigenpairs.Count);
        if (frozen.Solver.IsExact && k > p)
            throw new ArgumentOutOfRangeException(nameof(TopEigenpairs), $"Asked for {k} eigenpairs of a {p}-parameter Hessian, which has only {p}. Ask for at most {p}.");
        if (!frozen.Solver.IsExact && k >= p)
            throw new ArgumentOutOfRangeException(nameof(TopEigenpairs), $"Asked for {k} eigenpairs of a {p}-parameter Hessian; matrix-free solvers need k < p. Call UseExactHessian() to get all of them, or ask for fewer.");
        return new HessianAnalysisPlan(new AnalysisRun(model, loss, data, frozen, logger, label, operatorFactory));
    }

    /// <summary>Builds and runs the analysis (see <see cref="HessianAnalysisPlan.AnalyzeMinimum"/>).</summary>
    public MinimumReport AnalyzeMinimum(CancellationToken cancellationToken = default, IProgress<AnalysisProgress>? progress = null) =>
        Build().AnalyzeMinimum(cancellationToken, progress);
}
