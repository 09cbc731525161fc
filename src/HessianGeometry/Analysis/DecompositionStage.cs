using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>
/// The decomposition stage: H and the GGN on the analysed operator's risk (the analysed operator itself when it is one
/// of them), R = H − GGN, their top eigenpairs, the eigenspace overlap and the trace split.
/// </summary>
internal static class DecompositionStage
{
    /// <summary>Relative gap (λ_k − λ_{k+1}) / |λ_1| below which the top-k eigenspace is reported as not well defined.</summary>
    private const double DegenerateCut = 1e-3;

    /// <param name="analysed">The analysis' operator (the Hessian or the GGN is reused from it when it is one of them).</param>
    /// <param name="factory">Where the analysis' operators come from (null: <see cref="CurvatureOperators.Create"/>); on a cluster the second operator is distributed too.</param>
    /// <param name="o">The analysis options.</param>
    /// <param name="solver">The eigen-solver of the analysis.</param>
    /// <param name="progress">Solver progress.</param>
    /// <param name="ct">The analysis' token.</param>
    public static DecompositionSection Run(CurvatureOperator analysed, ICurvatureOperatorFactory? factory, AnalysisOptions o, IEigenSolver solver, IProgress<EigenSolverProgress>? progress, CancellationToken ct)
    {
        var options = o.Decomposition!;
        var risk = analysed.Risk;
        CurvatureOperator? ownHessian = null, ownGgn = null;
        try
        {
            var hessian = o.Curvature == CurvatureKind.Hessian ? analysed
                : ownHessian = Create(factory, risk, CurvatureKind.Hessian, new CurvatureOptions { GraphMode = o.GraphMode, Engine = o.HvpEngine }, ct);
            // The Hessian's engine request (e.g. AnalyticMlp) does not bind the GGN: it takes its default engine here.
            var ggn = o.Curvature == CurvatureKind.Ggn ? analysed
                : ownGgn = Create(factory, risk, CurvatureKind.Ggn, new CurvatureOptions { GraphMode = o.GraphMode }, ct);
            var residual = new ResidualOperator(hessian, ggn);
            long hBefore = hessian.ApplicationCount, gBefore = ggn.ApplicationCount;
            var section = o.Solver.IsExact
                ? Dense(hessian, ggn, o, ct)
                : Iterative(hessian, ggn, residual, o, options, solver, progress, ct);
            return section with
            {
                HessianProducts = hessian.ApplicationCount - hBefore,
                GgnProducts = ggn.ApplicationCount - gBefore,
                GgnEngine = ggn.EngineNote,
            };
        }
        finally
        {
            ownHessian?.Dispose();
            ownGgn?.Dispose();
        }
    }

    private static CurvatureOperator Create(ICurvatureOperatorFactory? factory, EmpiricalRisk risk, CurvatureKind kind, CurvatureOptions options, CancellationToken ct) =>
        factory?.Create(risk, kind, options, ct) ?? CurvatureOperators.Create(risk, kind, options);

    private static DecompositionSection Iterative(CurvatureOperator hessian, CurvatureOperator ggn, ResidualOperator residual, AnalysisOptions o,
        DecompositionOptions options, IEigenSolver solver, IProgress<EigenSolverProgress>? progress, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        var k = o.TopEigenpairs.Count;
        // One pair more than reported, to see whether the cut at k splits a cluster.
        var count = (int)Math.Min(k + 1, hessian.Dimension);
        using var h = Solve(solver, hessian, o, count, SpectrumEnd.LargestAlgebraic, o.Seed + 10, progress, ct);
        using var g = Solve(solver, ggn, o, count, SpectrumEnd.LargestAlgebraic, o.Seed + 11, progress, ct);
        using var r = Solve(solver, residual, o, k, SpectrumEnd.LargestMagnitude, o.Seed + 12, progress, ct);
        var split = TraceSplit.Estimate(hessian, ggn, options.TraceProbes, o.Seed + 13, cancellationToken: ct);
        var notes = new List<string>();
        var cosines = Overlap(h.Eigenvalues, h.Eigenvectors, g.Eigenvalues, g.Eigenvectors, k, notes);
        return new DecompositionSection
        {
            HessianEigenvalues = h.Eigenvalues.Take(k).ToArray(),
            GgnEigenvalues = g.Eigenvalues.Take(k).ToArray(),
            ResidualEigenvalues = r.Eigenvalues.Take(k).ToArray(),
            Converged = h.ConvergedPairs.Take(k).All(c => c) && g.ConvergedPairs.Take(k).All(c => c) && r.Converged && h.Eigenvalues.Length >= k && g.Eigenvalues.Length >= k,
            SubspaceOverlap = OverlapSection(cosines),
            Traces = new TraceSplitSection
            {
                Method = "hutchinson",
                Probes = split.Hessian.Probes,
                Hessian = split.Hessian.Value,
                HessianStandardError = split.Hessian.StandardError,
                Ggn = split.Ggn.Value,
                GgnStandardError = split.Ggn.StandardError,
                Residual = split.Residual.Value,
                ResidualStandardError = split.Residual.StandardError,
            },
            Notes = notes,
        };
    }

    private static DecompositionSection Dense(CurvatureOperator hessian, CurvatureOperator ggn, AnalysisOptions o, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        var k = o.TopEigenpairs.Count;
        var h = ExactHessian.Compute(hessian, memoryBudgetBytes: o.ExactMemoryBudgetBytes, cancellationToken: ct);
        var g = ExactHessian.Compute(ggn, memoryBudgetBytes: o.ExactMemoryBudgetBytes, cancellationToken: ct);
        h = (h + h.T) / 2;
        g = (g + g.T) / 2;
        var (hValues, hVectors) = Descending(h);
        var (gValues, gVectors) = Descending(g);
        var rValues = linalg.eigvalsh(h - g).cpu().data<double>().ToArray().OrderByDescending(Math.Abs).Take(k).ToArray();
        var notes = new List<string>();
        var cosines = Overlap(hValues, hVectors, gValues, gVectors, k, notes);
        double traceH = h.trace().item<double>(), traceG = g.trace().item<double>();
        return new DecompositionSection
        {
            HessianEigenvalues = hValues.Take(k).ToArray(),
            GgnEigenvalues = gValues.Take(k).ToArray(),
            ResidualEigenvalues = rValues,
            Converged = true,
            SubspaceOverlap = OverlapSection(cosines),
            Traces = new TraceSplitSection { Method = "exact", Hessian = traceH, Ggn = traceG, Residual = (h - g).trace().item<double>() },
            Notes = notes,
        };
    }

    private static (double[] Values, Tensor Vectors) Descending(Tensor symmetric)
    {
        var (values, vectors) = linalg.eigh(symmetric);
        return (values.flip(0).cpu().data<double>().ToArray(), vectors.flip(1));
    }

    private static double[] Overlap(double[] hValues, Tensor hVectors, double[] gValues, Tensor gVectors, int k, List<string> notes)
    {
        var kh = Math.Min(k, hValues.Length);
        var kg = Math.Min(k, gValues.Length);
        CheckCut("H", hValues, k, notes);
        CheckCut("GGN", gValues, k, notes);
        return PrincipalAngles.Cosines(hVectors[.., ..kh], gVectors[.., ..kg]);
    }

    private static void CheckCut(string name, double[] values, int k, List<string> notes)
    {
        if (values.Length <= k || values.Length == 0)
            return;
        var gap = (values[k - 1] - values[k]) / Math.Max(Math.Abs(values[0]), double.Epsilon);
        if (gap < DegenerateCut)
            notes.Add($"λ_{k} and λ_{k + 1} of {name} nearly coincide (relative gap {gap:G2}), so its top-{k} eigenspace is not well defined and the overlap depends on where the cluster was cut; choose another k.");
    }

    private static SubspaceOverlapSection OverlapSection(double[] cosines) => new()
    {
        Cosines = cosines,
        AnglesDegrees = cosines.Select(c => Math.Acos(c) * 180 / Math.PI).ToArray(),
        MeanSquaredCosine = PrincipalAngles.MeanSquaredCosine(cosines),
    };

    private static EigenResult Solve(IEigenSolver solver, ILinearOperator op, AnalysisOptions o, int count, SpectrumEnd which, long seed,
        IProgress<EigenSolverProgress>? progress, CancellationToken ct)
    {
        var options = new EigenSolverOptions
        {
            Count = count,
            Which = which,
            Tolerance = o.TopEigenpairs.Tolerance,
            MaxOperatorApplications = o.TopEigenpairs.MaxOperatorApplications,
            Seed = seed,
        };
        return solver.Solve(op, options, ct, progress);
    }
}
