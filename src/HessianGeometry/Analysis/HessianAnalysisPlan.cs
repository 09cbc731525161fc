using Stopwatch = System.Diagnostics.Stopwatch;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Geometry;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>
/// A validated, frozen analysis. <see cref="AnalyzeMinimum"/> may be called repeatedly (e.g. every N epochs of a
/// custom training loop): each call measures the model at its current parameters and leaves the model as it found it.
/// </summary>
public sealed class HessianAnalysisPlan
{
    private readonly AnalysisRun run;

    internal HessianAnalysisPlan(AnalysisRun analysisRun) => run = analysisRun;

    /// <summary>Every option, validated and frozen; recorded verbatim in every report.</summary>
    public AnalysisOptions Options => run.Options;

    /// <summary>The schema-1 summary of <see cref="Options"/> (its engine is the requested one until a report says which ran).</summary>
    public AnalysisSettings Settings => AnalysisSettings.From(run.Options, null);

    /// <summary>
    /// Runs every requested stage and returns one immutable report. The model's parameters, their gradients and each
    /// module's train/eval mode are the same afterwards, also when the analysis is cancelled or fails.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the model is left untouched.</exception>
    public MinimumReport AnalyzeMinimum(CancellationToken cancellationToken = default, IProgress<AnalysisProgress>? progress = null)
    {
        var o = run.Options;
        var log = run.Logger ?? NullLogger.Instance;
        using var modes = new ModelStateSnapshot(run.Model);
        if (o.SwitchToEval)
            run.Model.eval();
        using var scope = NewDisposeScope();
        var space = ParameterSpace.FromModule(run.Model, o.ParameterFilter);
        var dtype = o.Precision switch
        {
            AnalysisPrecision.Float64 => ScalarType.Float64,
            AnalysisPrecision.Float32 => ScalarType.Float32,
            _ => (ScalarType?)null,
        };
        using var risk = new EmpiricalRisk(run.Model, run.Loss, run.Data, space, new EmpiricalRiskOptions { AnalysisDType = dtype });
        var curvatureOptions = new CurvatureOptions
        {
            GraphMode = o.GraphMode,
            Engine = o.HvpEngine,
            FisherSamples = o.FisherSamples,
            Seed = o.Seed,
            CheckDeterministic = o.CheckDeterminism,
        };
        using var op = run.OperatorFactory?.Create(risk, o.Curvature, curvatureOptions, cancellationToken) ?? CurvatureOperators.Create(risk, o.Curvature, curvatureOptions);
        var stages = new StageRunner(op, Stages(o), progress, log, cancellationToken);
        log.LogInformation("Analysing the {Curvature} of {Parameters} parameters over {Samples} samples in {DType}.", CurvatureOperators.NameOf(o.Curvature), op.Dimension, op.Risk.SampleCount, op.DType);
        log.LogInformation("Curvature-vector products: {EngineNote}.", op.EngineNote);

        var report = new MinimumReport { Options = o, Label = run.Label };
        report = stages.Stage("loss", () =>
        {
            var (lossValue, accuracy) = LossAndAccuracy(op);
            return report with { Model = ModelSection.From(op, lossValue, accuracy) };
        });

        Tensor? topVectors = null;
        DenseSpectrum? dense = null;
        try
        {
            var solver = o.Solver.Custom ?? EigenSolverFactory.Create(o.Solver.Kind, o.ExactMemoryBudgetBytes, o.ExactEigendecomposition);
            if (o.Solver.IsExact)
            {
                // One decomposition serves the eigenpairs, the exact traces and the complexity count over all p eigenvectors.
                var denseSolver = solver as DenseEigenSolver ?? new DenseEigenSolver(o.ExactMemoryBudgetBytes, o.ExactEigendecomposition);
                dense = stages.Stage("exact-hessian", () => denseSolver.Decompose(op, cancellationToken));
                log.LogInformation("Exact matrix: {MatrixBuild}.", dense.MatrixBuild);
                log.LogInformation("Decomposition: {Route} (rank {Rank}, certificate {RelativeError}; {Note}).", dense.Route.Route, dense.Route.Rank, dense.Route.RelativeError, dense.Route.Note);
            }
            if (o.TopEigenpairs.Count > 0)
            {
                var result = dense is not null
                    ? dense.Pairs(SpectrumEnd.LargestAlgebraic, o.TopEigenpairs.Count, o.TopEigenpairs.Tolerance)
                    : stages.Stage("eigenpairs", () => Solve(solver, op, o.TopEigenpairs, SpectrumEnd.LargestAlgebraic, o.Seed, stages));
                topVectors = result.Eigenvectors;
                report = report with { TopEigenpairs = EigenpairsSection.From(result) with { Eigendecomposition = dense?.Route, MatrixBuild = dense?.MatrixBuild } };
                if (!result.Converged)
                    log.LogWarning("Top eigenpairs did not all converge within {Budget} HVPs; relative residuals: {Residuals}.", o.TopEigenpairs.MaxOperatorApplications, string.Join(", ", result.RelativeResiduals.Select(r => r.ToString("G3"))));
            }
            if (o.BottomEigenpairs.Count > 0)
            {
                using var result = dense is not null
                    ? dense.Pairs(SpectrumEnd.SmallestAlgebraic, o.BottomEigenpairs.Count, o.BottomEigenpairs.Tolerance)
                    : stages.Stage("bottom-eigenpairs", () => Solve(solver, op, o.BottomEigenpairs, SpectrumEnd.SmallestAlgebraic, o.Seed + 1, stages));
                report = report with { BottomEigenpairs = EigenpairsSection.From(result) with { Eigendecomposition = dense?.Route, MatrixBuild = dense?.MatrixBuild } };
                if (!result.Converged)
                    log.LogWarning("Bottom eigenpairs did not all converge within {Budget} HVPs.", o.BottomEigenpairs.MaxOperatorApplications);
            }
            if (o.Trace is { } traceOptions)
            {
                report = dense is not null
                    ? ExactTraceSections(dense, op.Dimension, report)
                    : LayerDiagonalStage.SharesTraceProbes(o, false) ? report // estimated below from the same probes as the layers and diagonal
                    : stages.Stage("trace", () => ClosedFormTraceStage.TryRun(op, o.Curvature, traceOptions, report, log, cancellationToken)
                        ?? EstimatedTraces(op, traceOptions with { Seed = o.Seed }, report, cancellationToken));
            }
            if (o.PerLayer is not null || o.Diagonal is not null)
            {
                var layered = new LayerDiagonalStage(op, op.Parameters, op.Risk, o, dense, cancellationToken);
                report = stages.Stage(LayerDiagonalStage.ProbeStageName(o, dense is not null), () => layered.Probe(report));
                if (o.PerLayer is { EigenvalueCount: > 0 })
                    report = stages.Stage("layer-eigenvalues", () => layered.LayerEigenvalues(report));
            }

            if (o.SpectralDensity is { } densityOptions)
                report = stages.Stage("density", () => Density(op, densityOptions with { Seed = o.Seed }, o.Hesd ?? new HesdOptions(), report, cancellationToken));

            if (o.Alignment is { } alignmentOptions && topVectors is not null)
            {
                // Per-sample quantities come from the operator when its data lives elsewhere (a cluster's workers), else from the in-memory inputs.
                var geometry = (op as ISampleGeometrySource)?.SampleGeometry ?? new LocalSampleGeometry(op.Risk, run.Data.Inputs!);
                var alignment = stages.Stage("alignment", () => geometry.Alignment(topVectors, alignmentOptions, explicitGradients: false, cancellationToken));
                report = report with { Alignment = AlignmentSection.Rows(alignment), AlignmentSummary = AlignmentSection.From(alignment) };
                if (o.Complexity is { } complexityOptions)
                    report = stages.Stage("complexity", () => Complexity(op, o, complexityOptions, geometry, alignment, dense, report));
                if (o.Margin is { } marginOptions)
                    report = stages.Stage("margin", () => Margin(op, geometry, alignment, topVectors, marginOptions with { Seed = o.Seed }, report, cancellationToken));
                if (o.SampleMargins is { } sampleMarginOptions)
                    report = stages.Stage("sample-margins", () => SampleMarginStage.Run(op.Risk, geometry, alignment, sampleMarginOptions with { Seed = o.Seed }, report, cancellationToken));
            }
            if (o.Decomposition is not null)
                report = report with { Decomposition = stages.Stage("decomposition", () => DecompositionStage.Run(op, run.OperatorFactory, o, solver, stages.SolverProgress, cancellationToken)) };
        }
        finally
        {
            dense?.Dispose();
        }

        if (op.CurvatureEngine is Operators.Engines.IJacobianSandwichEngine)
            log.LogInformation("Curvature-vector products ran on: {EngineNote}.", op.EngineNote);
        if (o.Curvature == CurvatureKind.Fisher && Operators.Engines.MonteCarloFisherEngine.Survey(op.Risk, o.FisherSamples, o.Seed) is { } draws)
        {
            report = report with { FisherDraws = draws };
            if (draws.Warning(o.FisherSamples) is { } warning)
                log.LogWarning("{Warning}", warning);
        }
        return report with { Timings = TimingsSection.From(stages.Timings) };
    }

    private static List<string> Stages(AnalysisOptions o)
    {
        var stages = new List<string> { "loss" };
        if (o.Solver.IsExact)
            stages.Add("exact-hessian");
        else
        {
            if (o.TopEigenpairs.Count > 0) stages.Add("eigenpairs");
            if (o.BottomEigenpairs.Count > 0) stages.Add("bottom-eigenpairs");
            if (o.Trace is not null) stages.Add("trace");
        }
        if (o.PerLayer is not null || o.Diagonal is not null)
        {
            var probeStage = LayerDiagonalStage.ProbeStageName(o, o.Solver.IsExact);
            if (!stages.Contains(probeStage)) stages.Add(probeStage);
            if (o.PerLayer is { EigenvalueCount: > 0 }) stages.Add("layer-eigenvalues");
        }
        if (o.SpectralDensity is not null) stages.Add("density");
        if (o.Alignment is not null) stages.Add("alignment");
        if (o.Complexity is not null) stages.Add("complexity");
        if (o.Margin is not null) stages.Add("margin");
        if (o.SampleMargins is not null) stages.Add("sample-margins");
        if (o.Decomposition is not null) stages.Add("decomposition");
        return stages;
    }

    private static (double Loss, double? Accuracy) LossAndAccuracy(CurvatureOperator op) => op.LossAndAccuracy();

    private static EigenResult Solve(IEigenSolver solver, CurvatureOperator op, EigenpairOptions pairs, SpectrumEnd which, long seed, StageRunner stages)
    {
        var options = new EigenSolverOptions
        {
            Count = pairs.Count,
            Which = which,
            Tolerance = pairs.Tolerance,
            MaxOperatorApplications = pairs.MaxOperatorApplications,
            Seed = seed,
        };
        var result = solver.Solve(op, options, stages.CancellationToken, stages.SolverProgress);
        result.Eigenvectors.MoveToOuterDisposeScope();
        return result;
    }

    private static MinimumReport ExactTraceSections(DenseSpectrum dense, long dimension, MinimumReport report)
    {
        var (trace, traceOfSquare) = ExactTraces.FromMatrix(dense.Matrix);
        var method = TraceSection.NameOf(TraceMethod.Exact);
        return report with
        {
            Traces = TraceSection.From(TraceMethod.Exact, new TraceEstimate(method, trace, 0, 0, 0, true), new TraceEstimate(method, traceOfSquare, 0, 0, 0, true)),
            WolkowiczStyan = WolkowiczStyanSection.From(WolkowiczStyan.FromMatrix(dense.Matrix)),
        };
    }

    private static MinimumReport EstimatedTraces(CurvatureOperator op, TraceOptions options, MinimumReport report, CancellationToken ct)
    {
        if (options.Method == TraceMethod.HutchPlusPlus)
        {
            // Hutch++ spends its whole budget on tr(H); without tr(H²) there are no Wolkowicz–Styan bounds.
            var estimate = HutchPlusPlus.Trace(op, options.MaxProbes, options.Seed, ct);
            return report with { Traces = TraceSection.From(TraceMethod.HutchPlusPlus, estimate, null) };
        }
        // One set of probes serves both traces: y = Hz gives zᵀy and ‖y‖².
        var (trace, square) = Hutchinson.TraceAndTraceOfSquare(op, options, ct);
        return report with
        {
            Traces = TraceSection.From(TraceMethod.Hutchinson, trace, square),
            WolkowiczStyan = WolkowiczStyanSection.From(WolkowiczStyan.FromEstimates(op.Dimension, trace, square)),
        };
    }

    private static MinimumReport Density(CurvatureOperator op, SpectralDensityOptions options, HesdOptions hesdOptions, MinimumReport report, CancellationToken ct)
    {
        var density = StochasticLanczosQuadrature.Estimate(op, options, cancellationToken: ct);
        var nodes = density.Nodes.SelectMany(n => n).ToArray();
        var lambdaMax = report.Eigenvalues is { Length: > 0 } top ? top[0] : nodes.Max();
        var lambdaMin = report.BottomEigenvalues is { Length: > 0 } bottom ? bottom[0] : nodes.Min();
        var hesd = HesdClassifier.Classify(lambdaMax, lambdaMin, density, hesdOptions);
        return report with { SpectralDensity = DensitySection.From(density, hesd) };
    }

    private static MinimumReport Complexity(CurvatureOperator op, AnalysisOptions o, ComplexityOptions c, ISampleGeometry geometry, AlignmentResult alignment, DenseSpectrum? dense, MinimumReport report)
    {
        var epsilon = c.Epsilon is { } e
            ? new EpsilonBaseline(e, e, 0, o.Seed, true)
            : BoundaryComplexityMeasure.RandomBaselineOn(geometry, op.Risk, c.RandomDirections, o.Seed);
        BoundaryComplexity complexity;
        if (dense is not null)
        {
            // With the exact Hessian the count runs over all p eigenvectors, as the paper defines G.
            // All p columns: one blocked GEMM of the explicit n×p gradient matrix with V (AlignmentMatrix). V is read as stored
            // (ascending, no sign convention): the count reads only |A|, so reversing the statistics (and the n×p alignment, for
            // the cluster analysis) gives the descending order without a p×p copy.
            using var ascending = geometry.Alignment(dense.Eigenvectors, o.Alignment ?? new AlignmentOptions(), explicitGradients: true, CancellationToken.None);
            var full = ascending with { Alignment = ascending.Alignment.flip(1), MeanAbsAlignment = [.. ascending.MeanAbsAlignment.Reverse()], MaxAbsAlignment = [.. ascending.MaxAbsAlignment.Reverse()] };
            complexity = BoundaryComplexityMeasure.Compute(full, op.Dimension, eigenvectorsAreComplete: true, epsilon);
            return report with
            {
                Complexity = ComplexityDependence.Add(op, o, c, geometry, full, dense.Eigenvalues.Reverse().ToArray(), dense.ResidualNorms.Reverse().ToArray(),
                    null, epsilon, ComplexitySection.From(complexity), CancellationToken.None),
            };
        }
        complexity = BoundaryComplexityMeasure.Compute(alignment, op.Dimension, eigenvectorsAreComplete: false, epsilon);
        var top = report.TopEigenpairs!;
        return report with
        {
            Complexity = ComplexityDependence.Add(op, o, c, geometry, alignment, top.Eigenvalues, top.ResidualNorms, SpectrumEnd.LargestAlgebraic, epsilon,
                ComplexitySection.From(complexity), CancellationToken.None),
        };
    }

    private static MinimumReport Margin(CurvatureOperator op, ISampleGeometry geometry, AlignmentResult alignment, Tensor topVectors, MarginOptions options, MinimumReport report, CancellationToken ct)
    {
        var index = Math.Clamp(options.EigenvectorIndex, 0, (int)topVectors.shape[1] - 1);
        var m = MarginEstimator.EstimateOn(op.Risk, geometry, alignment, topVectors[.., index].contiguous(), options, ct);
        return report with { MarginDetails = MarginSection.From(m) };
    }

    private sealed class ForwardingProgress(Action<EigenSolverProgress> report) : IProgress<EigenSolverProgress>
    {
        public void Report(EigenSolverProgress value) => report(value);
    }

    /// <summary>Times each stage, counts its HVPs, reports progress and checks cancellation between stages.</summary>
    private sealed class StageRunner(CurvatureOperator op, IReadOnlyList<string> stages, IProgress<AnalysisProgress>? progress, ILogger log, CancellationToken ct)
    {
        private readonly List<StageTiming> timings = [];
        private string current = string.Empty;

        public CancellationToken CancellationToken => ct;

        public IReadOnlyList<StageTiming> Timings => timings;

        // Forwarded synchronously (not through Progress<T>, which posts to the thread pool): a report then arrives while
        // its stage runs, in order, never after AnalyzeMinimum returns, and a handler that cancels stops the solve at once.
        public IProgress<EigenSolverProgress>? SolverProgress => progress is null ? null : new ForwardingProgress(p =>
            progress.Report(new AnalysisProgress(current, stages.ToList().IndexOf(current), stages.Count,
                $"{p.Solver}: iteration {p.Iteration}, {p.OperatorApplications} HVPs, {p.ConvergedCount} converged, max residual {p.MaxRelativeResidual:G2}")));

        public T Stage<T>(string name, Func<T> body)
        {
            ct.ThrowIfCancellationRequested();
            current = name;
            var index = stages.ToList().IndexOf(name);
            progress?.Report(new AnalysisProgress(name, Math.Max(index, 0), stages.Count, $"{name}…"));
            log.LogInformation("Stage {Stage} started.", name);
            var before = op.ApplicationCount;
            var clock = Stopwatch.StartNew();
            var result = body();
            var timing = new StageTiming(name, clock.Elapsed.TotalSeconds, op.ApplicationCount - before);
            timings.Add(timing);
            log.LogInformation("Stage {Stage} done in {Seconds:F2} s with {Hvps} HVPs.", name, timing.Seconds, timing.OperatorApplications);
            return result;
        }
    }
}
