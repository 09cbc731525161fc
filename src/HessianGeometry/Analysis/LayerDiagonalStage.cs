using HessianGeometry.EigenSolvers;
using HessianGeometry.Interop;
using HessianGeometry.Operators;
using HessianGeometry.Spectrum;
using static TorchSharp.torch;

namespace HessianGeometry.Analysis;

/// <summary>
/// The per-layer and diagonal stages of an analysis. Works on any curvature operator over a
/// <see cref="ParameterSpace"/>; only the exact-diagonal seam is specific to the Hessian. One probe pass gives the
/// whole trace (when it is Hutchinson's), every block trace and the diagonal; block eigenvalues are solved afterwards,
/// one block at a time.
/// </summary>
internal sealed class LayerDiagonalStage(ILinearOperator op, ParameterSpace space, EmpiricalRisk? risk, AnalysisOptions options, DenseSpectrum? dense, CancellationToken ct)
{
    private readonly IReadOnlyList<ParameterGroup> groups = ParameterGroups.ByModule(space);

    /// <summary>True when the trace stage is replaced by <see cref="Probe"/> (Hutchinson trace, no dense Hessian, layers or diagonal asked for).</summary>
    public static bool SharesTraceProbes(AnalysisOptions o, bool hasDense) =>
        !hasDense && o.Trace is { Method: TraceMethod.Hutchinson } && (o.PerLayer is not null || o.Diagonal is not null);

    /// <summary>The name of the probe stage: "trace" when it also estimates the requested trace, else "layer-probes".</summary>
    public static string ProbeStageName(AnalysisOptions o, bool hasDense) => SharesTraceProbes(o, hasDense) ? "trace" : "layer-probes";

    /// <summary>Traces (when shared), block traces and the diagonal.</summary>
    public MinimumReport Probe(MinimumReport report)
    {
        var o = options;
        var shares = SharesTraceProbes(o, dense is not null);
        using var scope = NewDisposeScope();
        string? note = null;
        var exact = ExactDiagonal(ref note);
        var stochasticDiagonal = o.Diagonal is not null && exact is null;
        var probeLayers = o.PerLayer is not null && exact is null;
        BlockHutchinsonResult? probed = null;
        try
        {
            if (shares || stochasticDiagonal || probeLayers)
            {
                var probeOptions = (shares ? o.Trace! : stochasticDiagonal ? o.Diagonal!.Probes : o.PerLayer!.Probes) with { Seed = o.Seed };
                probed = BlockHutchinson.Estimate(op, probeLayers ? groups : [], stochasticDiagonal, probeOptions, ct);
            }
            if (shares)
            {
                report = report with
                {
                    Traces = TraceSection.From(TraceMethod.Hutchinson, probed!.Trace, probed.TraceOfSquare),
                    WolkowiczStyan = probed.TraceOfSquare is { } square ? WolkowiczStyanSection.From(WolkowiczStyan.FromEstimates(op.Dimension, probed.Trace, square)) : null,
                };
            }
            else if (exact is not null && o.Trace is null && report.Traces is null)
            {
                // tr H = Σ diag(H) is exact when the diagonal is; tr(H²) would need a trace run.
                report = report with
                {
                    Traces = new TraceSection
                    {
                        Method = TraceMethod.Exact,
                        Trace = exact.sum().item<double>(),
                        ReachedTarget = true,
                        Note = "tr(H) = Σ diag(H) from the exact diagonal; tr(H²) and the Wolkowicz–Styan bounds need a trace run (WithTrace, CLI --trace).",
                    },
                };
            }
            if (o.PerLayer is not null)
                report = report with { Layers = LayerTraces(exact, probed) };
            if (o.Diagonal is { } diagonalOptions)
            {
                var diagonal = exact is not null
                    ? new DiagonalEstimate("exact", exact, zeros_like(exact), 0, 0)
                    : probed!.Diagonal!;
                report = report with { Diagonal = Section(diagonal, diagonalOptions, note) };
            }
            return report;
        }
        finally
        {
            probed?.Dispose();
        }
    }

    /// <summary>Fills in the top eigenvalues of every block.</summary>
    public MinimumReport LayerEigenvalues(MinimumReport report)
    {
        var perLayer = options.PerLayer!;
        var layers = report.Layers!.ToList();
        for (var i = 0; i < groups.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            layers[i] = BlockEigenvalues(groups[i], i, perLayer, layers[i]);
        }
        return report with { Layers = layers };
    }

    private LayerSection BlockEigenvalues(ParameterGroup group, int index, PerLayerOptions perLayer, LayerSection layer)
    {
        using var scope = NewDisposeScope();
        var m = group.Size;
        var k = (int)Math.Min(perLayer.EigenvalueCount, m);
        if (dense is not null)
            return layer with { Eigenvalues = TopOfDense(Block(dense.Matrix, group), k), EigenvalueMethod = "dense" };
        var block = new SubmatrixOperator(op, group);
        var before = block.ApplicationCount;
        if (m <= Math.Max(perLayer.DenseBlockLimit, k) || k >= m)
        {
            var matrix = ExactHessian.Compute(block, ScalarType.Float64, cancellationToken: ct);
            return layer with { Eigenvalues = TopOfDense(matrix, k), EigenvalueMethod = "dense", EigenvalueOperatorApplications = block.ApplicationCount - before };
        }
        var solver = options.Solver.Custom ?? EigenSolverFactory.Create(options.Solver.Kind, options.ExactMemoryBudgetBytes, options.ExactEigendecomposition);
        using var result = solver.Solve(block, new EigenSolverOptions
        {
            Count = k,
            Which = SpectrumEnd.LargestAlgebraic,
            Tolerance = perLayer.Tolerance,
            MaxOperatorApplications = perLayer.MaxOperatorApplicationsPerBlock,
            Seed = options.Seed + 1000 + index,
        }, ct);
        return layer with
        {
            Eigenvalues = result.Eigenvalues,
            EigenvaluesConverged = result.Converged,
            EigenvalueMethod = result.Solver,
            EigenvalueOperatorApplications = block.ApplicationCount - before,
        };
    }

    private static double[] TopOfDense(Tensor matrix, int k)
    {
        if (k == 0)
            return [];
        var a = matrix.to(ScalarType.Float64);
        var values = linalg.eigvalsh((a + a.T) / 2).cpu().data<double>().ToArray();
        return values.Reverse().Take(k).ToArray();
    }

    private static Tensor Block(Tensor matrix, ParameterGroup group)
    {
        var index = cat(group.Ranges.Select(r => arange(r.Start, r.Start + r.Length, dtype: ScalarType.Int64, device: matrix.device)).ToList(), 0);
        return matrix.index_select(0, index).index_select(1, index);
    }

    private Tensor? ExactDiagonal(ref string? note)
    {
        var wantsExact = options.Diagonal is { Method: not DiagonalMethod.Stochastic };
        if (dense is not null && (wantsExact || options.PerLayer is not null))
            return dense.Matrix.diagonal().to(ScalarType.Float64).contiguous();
        if (!wantsExact)
            return null;
        // Only the Hessian has this seam; a GGN or Fisher operator falls back to the stochastic estimate.
        string reason;
        if (risk is null || op is not IHessianOperator)
        {
            reason = "the exact diagonal exists for the Hessian only";
        }
        else
        {
            var exact = ExactHessianDiagonal.TryCompute(risk, ct, out var why);
            if (exact is not null)
                return exact.to(ScalarType.Float64).contiguous();
            reason = why;
        }
        if (options.Diagonal!.Method == DiagonalMethod.Exact)
            throw new InvalidOperationException($"The exact Hessian diagonal is not available: {reason}. Use WithDiagonal(DiagonalMethod.Auto) or Stochastic for the Hutchinson estimate, or UseExactHessian() for small models.");
        note = $"Exact diagonal not available ({reason}); estimated with Hutchinson probes.";
        return null;
    }

    private List<LayerSection> LayerTraces(Tensor? exact, BlockHutchinsonResult? probed) =>
        groups.Select((g, i) => new LayerSection
        {
            Name = g.Name,
            Parameters = g.Size,
            ParameterNames = g.ParameterNames,
            Trace = exact is not null ? g.Ranges.Sum(r => exact.narrow(0, r.Start, r.Length).sum().item<double>()) : probed!.BlockTraces[i].Value,
            TraceStandardError = exact is not null ? 0 : probed!.BlockTraces[i].StandardError,
            TraceMethod = exact is not null ? "exact" : "hutchinson",
        }).ToList();

    private DiagonalSection Section(DiagonalEstimate diagonal, DiagonalOptions diagonalOptions, string? note)
    {
        var p = diagonal.Values.shape[0];
        var section = new DiagonalSection
        {
            Method = diagonal.Method,
            Parameters = p,
            Probes = diagonal.Probes,
            OperatorApplications = diagonal.OperatorApplications,
            Sum = diagonal.Values.sum().item<double>(),
            Note = note,
        };
        if (p <= diagonalOptions.InlineLimit)
            return section with { Values = ToArray(diagonal.Values), StandardErrors = ToArray(diagonal.StandardErrors) };
        var folder = diagonalOptions.OutputDirectory ?? Directory.GetCurrentDirectory();
        Directory.CreateDirectory(folder);
        var path = Path.GetFullPath(Path.Combine(folder, diagonalOptions.FileName));
        SafetensorsWriter.Write(path,
            new Dictionary<string, Tensor> { ["diagonal"] = diagonal.Values.cpu(), ["standardError"] = diagonal.StandardErrors.cpu() },
            new Dictionary<string, string>
            {
                ["method"] = diagonal.Method,
                ["probes"] = diagonal.Probes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["parameterNames"] = string.Join(",", space.Names),
            });
        return section with { File = diagonalOptions.FileName, FilePath = path };
    }

    private static double[] ToArray(Tensor t) => t.cpu().data<double>().ToArray();
}
