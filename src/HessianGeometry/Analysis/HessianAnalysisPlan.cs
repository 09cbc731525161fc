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
    private readonly AnalysisConfiguration config;

    internal HessianAnalysisPlan(AnalysisConfiguration configuration) => config = configuration;

    /// <summary>The settings recorded in every report.</summary>
    public AnalysisSettings Settings => config.Settings;

    /// <summary>
    /// Runs every requested stage and returns one immutable report. The model's parameters, their gradients and each
    /// module's train/eval mode are the same afterwards, also when the analysis is cancelled or fails.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; the model is left untouched.</exception>
    public MinimumReport AnalyzeMinimum(CancellationToken cancellationToken = default, IProgress<AnalysisProgress>? progress = null)
    {
        var c = config;
        var log = c.Logger ?? NullLogger.Instance;
        using var modes = new ModelStateSnapshot(c.Model);
        if (c.SwitchToEval)
            c.Model.eval();
        using var scope = NewDisposeScope();
        var space = ParameterSpace.FromModule(c.Model, c.ParameterFilter);
        var options = new LossHessianOptions { GraphMode = c.GraphMode, AnalysisDType = c.Precision, CheckDeterministic = c.CheckDeterminism, Engine = c.Engine };
        using var op = new LossHessianOperator(c.Model, c.Loss, c.Data, space, options);
        var run = new StageRunner(op, Stages(c), progress, log, cancellationToken);
        var s = c.Settings;
        var useExact = c.Exact == true || s.Solver == "exact";
        var p = op.Dimension;
        log.LogInformation("Analysing {Parameters} parameters over {Samples} samples in {DType}.", p, op.SampleCount, op.DType);
        log.LogInformation("Hessian-vector products: {EngineNote}.", op.EngineNote);

        var report = new MinimumReport
        {
            Parameters = p,
            Samples = op.SampleCount,
            LossFunction = c.Loss.Name,
            Precision = op.DType.ToString(),
            Settings = s with { ExactHessian = useExact, HvpEngine = op.Engine.ToString() },
            Label = c.Label,
        };
        report = run.Stage("loss", () =>
        {
            var (lossValue, accuracy) = LossAndAccuracy(op);
            return report with { Loss = lossValue, Accuracy = accuracy };
        });

        Tensor? topVectors = null;
        Tensor? allVectors = null;
        if (useExact)
        {
            var (withSpectrum, vectors, all) = run.Stage("exact-hessian", () => ExactSpectrum(op, c, report));
            report = withSpectrum;
            topVectors = vectors;
            allVectors = all;
        }
        else
        {
            if (s.TopEigenpairs > 0)
            {
                var result = run.Stage("eigenpairs", () => Solve(op, c, s.TopEigenpairs, SpectrumEnd.LargestAlgebraic, c.Settings.Seed, run));
                topVectors = result.Eigenvectors;
                report = report with
                {
                    Solver = result.Solver,
                    Eigenvalues = result.Eigenvalues,
                    ResidualNorms = result.ResidualNorms,
                    EigenpairsConverged = result.Converged,
                };
                if (!result.Converged)
                    log.LogWarning("Top eigenpairs did not all converge within {Budget} HVPs; relative residuals: {Residuals}.", s.MaxOperatorApplications, string.Join(", ", result.RelativeResiduals.Select(r => r.ToString("G3"))));
            }
            if (s.BottomEigenpairs > 0)
            {
                var result = run.Stage("bottom-eigenpairs", () => Solve(op, c, s.BottomEigenpairs, SpectrumEnd.SmallestAlgebraic, c.Settings.Seed + 1, run));
                report = report with { Solver = result.Solver, BottomEigenvalues = result.Eigenvalues, BottomResidualNorms = result.ResidualNorms };
            }
            if (c.Trace is { } traceOptions)
                report = run.Stage("trace", () => EstimatedTraces(op, traceOptions with { Seed = s.Seed }, report, cancellationToken));
        }

        if (c.Density is { } densityOptions)
            report = run.Stage("density", () => Density(op, densityOptions with { Seed = s.Seed }, c.Hesd ?? new HesdOptions(), report, cancellationToken));

        if (c.Alignment is { } alignmentOptions && topVectors is not null)
        {
            var inputs = c.Data.Inputs!;
            var alignment = run.Stage("alignment", () => AlignmentAnalyzer.Compute(op.Risk, inputs, topVectors, alignmentOptions, cancellationToken));
            report = report with
            {
                Alignment = ToRows(alignment.Alignment),
                MeanAbsAlignment = alignment.MeanAbsAlignment,
                MaxAbsAlignment = alignment.MaxAbsAlignment,
            };
            if (c.Complexity)
                report = run.Stage("complexity", () => Complexity(op, c, inputs, alignment, allVectors, report));
            if (c.Margin is { } marginOptions)
                report = run.Stage("margin", () => Margin(op, inputs, alignment, topVectors, marginOptions with { Seed = s.Seed }, report, cancellationToken));
        }

        return report with { TimingsSeconds = run.Timings, HvpCounts = run.HvpCounts, HvpCount = run.HvpCounts.Values.Sum() };
    }

    private static List<string> Stages(AnalysisConfiguration c)
    {
        var s = c.Settings;
        var exact = c.Exact == true || s.Solver == "exact";
        var stages = new List<string> { "loss" };
        if (exact)
            stages.Add("exact-hessian");
        else
        {
            if (s.TopEigenpairs > 0) stages.Add("eigenpairs");
            if (s.BottomEigenpairs > 0) stages.Add("bottom-eigenpairs");
            if (c.Trace is not null) stages.Add("trace");
        }
        if (c.Density is not null) stages.Add("density");
        if (c.Alignment is not null) stages.Add("alignment");
        if (c.Complexity) stages.Add("complexity");
        if (c.Margin is not null) stages.Add("margin");
        return stages;
    }

    private static (double Loss, double? Accuracy) LossAndAccuracy(LossHessianOperator op) => op.Risk.LossAndAccuracy();

    private static EigenResult Solve(LossHessianOperator op, AnalysisConfiguration c, int count, SpectrumEnd which, long seed, StageRunner run)
    {
        var solver = c.Solver ?? new Lanczos();
        if (count >= op.Dimension)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Asked for {count} eigenpairs of a {op.Dimension}-parameter Hessian; a matrix-free solver needs k < p. Use UseExactHessian() to get all of them.");
        var options = new EigenSolverOptions
        {
            Count = count,
            Which = which,
            Tolerance = c.Settings.Tolerance,
            MaxOperatorApplications = c.Settings.MaxOperatorApplications,
            Seed = seed,
        };
        var result = solver.Solve(op, options, run.CancellationToken, run.SolverProgress);
        result.Eigenvectors.MoveToOuterDisposeScope();
        return result;
    }

    private static (MinimumReport Report, Tensor? Top, Tensor All) ExactSpectrum(LossHessianOperator op, AnalysisConfiguration c, MinimumReport report)
    {
        var s = c.Settings;
        var h = ExactHessian.Compute(op, ScalarType.Float64, c.ExactBudgetBytes);
        var (values, vectors) = linalg.eigh(h);
        var p = (int)op.Dimension;
        var ascending = values.data<double>().ToArray();
        var residuals = (h.mm(vectors) - vectors * values.unsqueeze(0)).norm(0).data<double>().ToArray();
        var k = Math.Min(s.TopEigenpairs, p);
        var b = Math.Min(s.BottomEigenpairs, p);
        Tensor? top = k > 0 ? vectors.narrow(1, p - k, k).flip(1).contiguous() : null;
        var (trace, traceOfSquare) = ExactTraces.FromMatrix(h);
        report = report with
        {
            Solver = "exact",
            Eigenvalues = k > 0 ? ascending[^k..].Reverse().ToArray() : null,
            ResidualNorms = k > 0 ? residuals[^k..].Reverse().ToArray() : null,
            EigenpairsConverged = k > 0 ? true : null,
            BottomEigenvalues = b > 0 ? ascending[..b] : null,
            BottomResidualNorms = b > 0 ? residuals[..b] : null,
        };
        if (c.Trace is not null)
        {
            var ws = WolkowiczStyan.FromMatrix(h);
            report = report with
            {
                Trace = trace,
                TraceStandardError = 0,
                TraceMethod = "exact",
                TraceOfSquare = traceOfSquare,
                TraceOfSquareStandardError = 0,
                WolkowiczStyan = ToReport(ws),
            };
        }
        return (report, top, vectors.flip(1).contiguous());
    }

    private static MinimumReport EstimatedTraces(LossHessianOperator op, TraceOptions options, MinimumReport report, CancellationToken ct)
    {
        // One set of probes serves both traces: y = Hz gives zᵀy and ‖y‖².
        var (trace, square) = Hutchinson.TraceAndTraceOfSquare(op, options, ct);
        var ws = WolkowiczStyan.FromEstimates(op.Dimension, trace, square);
        return report with
        {
            Trace = trace.Value,
            TraceStandardError = trace.StandardError,
            TraceMethod = trace.Method,
            TraceOfSquare = square.Value,
            TraceOfSquareStandardError = square.StandardError,
            WolkowiczStyan = ToReport(ws),
        };
    }

    private static MinimumReport Density(LossHessianOperator op, SpectralDensityOptions options, HesdOptions hesdOptions, MinimumReport report, CancellationToken ct)
    {
        var density = StochasticLanczosQuadrature.Estimate(op, options, cancellationToken: ct);
        var nodes = density.Nodes.SelectMany(n => n).ToArray();
        var lambdaMax = report.Eigenvalues is { Length: > 0 } top ? top[0] : nodes.Max();
        var lambdaMin = report.BottomEigenvalues is { Length: > 0 } bottom ? bottom[0] : nodes.Min();
        var hesd = HesdClassifier.Classify(lambdaMax, lambdaMin, density, hesdOptions);
        return report with
        {
            SpectralDensity = new SpectralDensityReport(density.Grid, density.Density, density.Nodes, density.Weights, density.Variance),
            HesdType = hesd.Type.ToString(),
            Hesd = new HesdReport(hesd.Type.ToString(), hesd.Ct, hesd.Kh05, hesd.NearZeroMass),
        };
    }

    private static MinimumReport Complexity(LossHessianOperator op, AnalysisConfiguration c, Tensor inputs, AlignmentResult alignment, Tensor? allVectors, MinimumReport report)
    {
        var s = c.Settings;
        var epsilon = s.Epsilon is { } e
            ? new EpsilonBaseline(e, e, 0, s.Seed, true)
            : BoundaryComplexityMeasure.RandomBaseline(op.Risk, inputs, c.EpsilonDirections, s.Seed);
        BoundaryComplexity complexity;
        if (allVectors is not null)
        {
            // With the exact Hessian the count runs over all p eigenvectors, as the paper defines G.
            using var full = AlignmentAnalyzer.Compute(op.Risk, inputs, allVectors, c.Alignment, CancellationToken.None);
            complexity = BoundaryComplexityMeasure.Compute(full, op.Dimension, eigenvectorsAreComplete: true, epsilon);
        }
        else
        {
            complexity = BoundaryComplexityMeasure.Compute(alignment, op.Dimension, eigenvectorsAreComplete: false, epsilon);
        }
        return report with
        {
            Epsilon = new EpsilonReport(epsilon.MeanVariant, epsilon.MaxVariant, epsilon.Explicit ? "explicit" : "random-baseline", epsilon.Directions, epsilon.Seed),
            ComplexityMean = complexity.ComplexityMean,
            ComplexityMax = complexity.ComplexityMax,
            Complexity = new ComplexityReport(complexity.EncodingCountMean, complexity.EncodingCountMax, complexity.EigenvectorsConsidered, complexity.IsLowerBound),
            EncodingEigenvectors = complexity.EncodingIndicesMean,
        };
    }

    private static MinimumReport Margin(LossHessianOperator op, Tensor inputs, AlignmentResult alignment, Tensor topVectors, MarginOptions options, MinimumReport report, CancellationToken ct)
    {
        var index = Math.Clamp(options.EigenvectorIndex, 0, (int)topVectors.shape[1] - 1);
        var m = MarginEstimator.Estimate(op.Risk, inputs, alignment, topVectors[.., index].contiguous(), options, ct);
        return report with
        {
            Margin = m.Margin,
            BoundaryPoint = m.BoundaryPoint,
            MarginDetails = new MarginReport(m.MaxIndex, m.MinIndex, m.NearestMaxPoint, m.NearestMinPoint, m.FinalAbsAlignment, m.LogitGap, m.Steps,
                m.BisectionPoint, m.DistanceToBisectionPoint),
        };
    }

    private static WolkowiczStyanReport ToReport(WolkowiczStyanBounds ws) =>
        new(ws.Mean, ws.StandardDeviation, ws.LambdaMaxLower, ws.LambdaMaxUpper, ws.LambdaMinLower, ws.LambdaMinUpper, ws.FromEstimates);

    private static double[][] ToRows(Tensor matrix)
    {
        var cpu = matrix.to(ScalarType.Float64).cpu();
        var rows = (int)cpu.shape[0];
        var cols = (int)cpu.shape[1];
        var flat = cpu.contiguous().data<double>().ToArray();
        var result = new double[rows][];
        for (var i = 0; i < rows; i++)
            result[i] = flat.AsSpan(i * cols, cols).ToArray();
        return result;
    }

    private sealed class ForwardingProgress(Action<EigenSolverProgress> report) : IProgress<EigenSolverProgress>
    {
        public void Report(EigenSolverProgress value) => report(value);
    }

    /// <summary>Times each stage, counts its HVPs, reports progress and checks cancellation between stages.</summary>
    private sealed class StageRunner(LossHessianOperator op, IReadOnlyList<string> stages, IProgress<AnalysisProgress>? progress, ILogger log, CancellationToken ct)
    {
        private readonly Dictionary<string, double> timings = [];
        private readonly Dictionary<string, long> hvps = [];
        private string current = string.Empty;

        public CancellationToken CancellationToken => ct;

        public IReadOnlyDictionary<string, double> Timings => timings;

        public IReadOnlyDictionary<string, long> HvpCounts => hvps;

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
            timings[name] = clock.Elapsed.TotalSeconds;
            hvps[name] = op.ApplicationCount - before;
            log.LogInformation("Stage {Stage} done in {Seconds:F2} s with {Hvps} HVPs.", name, timings[name], hvps[name]);
            return result;
        }
    }
}
