using System.Globalization;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Landscapes;

/// <summary>
/// The top Hessian eigenvectors v₁, v₂ as landscape directions: along a unit eigenvector the second-order model of the
/// loss is L(θ* + α v_i) ≈ L(θ*) + α gᵀv_i + ½ α² λ_i, so the 1-D slice shows where the Hessian stops describing the loss.
/// </summary>
public static class EigenvectorDirections
{
    /// <summary>
    /// Solves for the <paramref name="count"/> largest eigenpairs of the Hessian of <paramref name="risk"/> with Lanczos
    /// (the risk's own float64 or float32 parameters; the Hessian's cached graphs are freed before this returns, so the
    /// grid can then move the parameters).
    /// </summary>
    /// <param name="risk">The empirical risk at θ*.</param>
    /// <param name="count">1 or 2.</param>
    /// <param name="seed">Seed of the Lanczos start vector.</param>
    /// <param name="solverOptions">Tolerance and budget (Count and Which are set here); null for the defaults.</param>
    /// <param name="cancellationToken">Stops the solve.</param>
    public static LandscapeDirections FromHessian(EmpiricalRisk risk, int count, long seed, EigenSolverOptions? solverOptions = null, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(risk, nameof(risk));
        Guard.InRange(count, 1, 2, nameof(count), "A landscape has one or two directions.");
        using var scope = NewDisposeScope();
        using var hessian = new LossHessianOperator(risk);
        var options = (solverOptions ?? new EigenSolverOptions()) with { Count = count, Which = SpectrumEnd.LargestAlgebraic, Seed = seed };
        using var result = new Lanczos().Solve(hessian, options, cancellationToken);
        if (result.Eigenvalues.Length < count)
            throw new InvalidOperationException($"Lanczos found {result.Eigenvalues.Length} of {count} eigenpairs; raise the solver budget (MaxOperatorApplications).");
        var vectors = Enumerable.Range(0, count).Select(k => result.Eigenvectors[.., k].contiguous().clone()).ToArray();
        var notes = new List<string> { "Eigenvector signs are arbitrary; each is fixed so that its entry of largest magnitude is positive." };
        if (!result.Converged)
            notes.Add($"Lanczos did not converge to tolerance {options.Tolerance:G2} (relative residuals {string.Join(", ", result.RelativeResiduals.Select(r => r.ToString("G2", CultureInfo.InvariantCulture)))}): the directions are approximate.");
        return Build(vectors, result.Eigenvalues.Take(count).ToArray(), notes);
    }

    /// <summary>
    /// The top eigenvectors of another curvature matrix (GGN, Monte-Carlo Fisher, empirical Fisher; the Hessian goes to
    /// <see cref="FromHessian"/>) as landscape directions. The loss bends along a unit direction v by vᵀHv, not by the
    /// matrix's own eigenvalue, so the quadratic model of each slice uses vᵀHv (one Hessian product per direction); the
    /// notes give both.
    /// </summary>
    /// <param name="risk">The empirical risk at θ*.</param>
    /// <param name="kind">The matrix whose eigenvectors span the landscape.</param>
    /// <param name="count">1 or 2.</param>
    /// <param name="seed">Seed of the Lanczos start vector (and of the Monte-Carlo Fisher's draws).</param>
    /// <param name="fisherSamples">Labels drawn per input for <see cref="CurvatureKind.Fisher"/>.</param>
    /// <param name="solverOptions">Tolerance and budget (Count and Which are set here); null for the defaults.</param>
    /// <param name="cancellationToken">Stops the solve.</param>
    public static LandscapeDirections FromCurvature(EmpiricalRisk risk, CurvatureKind kind, int count, long seed, int fisherSamples = 1,
        EigenSolverOptions? solverOptions = null, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(risk, nameof(risk));
        Guard.Defined(kind, nameof(kind));
        if (kind == CurvatureKind.Hessian)
            return FromHessian(risk, count, seed, solverOptions, cancellationToken);
        Guard.InRange(count, 1, 2, nameof(count), "A landscape has one or two directions.");
        using var scope = NewDisposeScope();
        var name = CurvatureOperators.NameOf(kind).ToUpperInvariant();
        double[] values;
        Tensor[] vectors;
        bool converged;
        EigenSolverOptions options;
        using (var curvature = CurvatureOperators.Create(risk, kind, new CurvatureOptions { FisherSamples = fisherSamples, Seed = seed }))
        {
            options = (solverOptions ?? new EigenSolverOptions()) with { Count = count, Which = SpectrumEnd.LargestAlgebraic, Seed = seed };
            using var result = new Lanczos().Solve(curvature, options, cancellationToken);
            if (result.Eigenvalues.Length < count)
                throw new InvalidOperationException($"Lanczos found {result.Eigenvalues.Length} of {count} eigenpairs of the {name}; raise the solver budget (MaxOperatorApplications).");
            values = result.Eigenvalues.Take(count).ToArray();
            vectors = Enumerable.Range(0, count).Select(k => result.Eigenvectors[.., k].contiguous().clone()).ToArray();
            converged = result.Converged;
        }
        using var hessian = new LossHessianOperator(risk);
        var bending = vectors.Select(v => v.dot(hessian.Apply(v.to(risk.DType)).to(ScalarType.Float64)).item<double>()).ToArray();
        var notes = new List<string>
        {
            "Eigenvector signs are arbitrary; each is fixed so that its entry of largest magnitude is positive.",
            string.Create(CultureInfo.InvariantCulture,
                $"Directions: the top eigenvectors of the {name} (eigenvalues {string.Join(", ", values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))}); the quadratic model uses the Hessian's curvature along each, vᵀHv = {string.Join(", ", bending.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))}."),
        };
        if (!converged)
            notes.Add($"Lanczos did not converge to tolerance {options.Tolerance:G2} on the {name}: the directions are approximate.");
        return Build(vectors, bending, notes, Enumerable.Range(1, count).Select(k => $"{CurvatureOperators.NameOf(kind)}-v{k}").ToArray());
    }

    /// <summary>
    /// Directions from eigenvectors computed elsewhere, e.g. of the Gauss–Newton matrix: each is rescaled to unit norm.
    /// </summary>
    /// <param name="vectors">1 or 2 vectors [p] in the risk's parameter order.</param>
    /// <param name="eigenvalues">Their eigenvalues (for the quadratic model), or null for directions that are not eigenvectors.</param>
    /// <param name="names">Names for the report (default v1, v2 or d1, d2).</param>
    public static LandscapeDirections FromVectors(IReadOnlyList<Tensor> vectors, double[]? eigenvalues = null, string[]? names = null)
    {
        Guard.NotNull(vectors, nameof(vectors));
        Guard.InRange(vectors.Count, 1, 2, nameof(vectors), "A landscape has one or two directions.");
        if (eigenvalues is not null && eigenvalues.Length != vectors.Count)
            throw new ArgumentException($"Pass one eigenvalue per vector ({vectors.Count}) but got {eigenvalues.Length}.", nameof(eigenvalues));
        if (names is not null && names.Length != vectors.Count)
            throw new ArgumentException($"Pass one name per vector ({vectors.Count}) but got {names.Length}.", nameof(names));
        using var scope = NewDisposeScope();
        var copies = new Tensor[vectors.Count];
        for (var k = 0; k < vectors.Count; k++)
        {
            Guard.Valid(vectors[k], $"vectors[{k}]");
            if (vectors[k].dim() != 1 || vectors[k].numel() != vectors[0].numel())
                throw new ArgumentException($"Every direction must be a flat vector [p] of the same length; vectors[{k}] has shape {Guard.Shape(vectors[k])}.", nameof(vectors));
            var v = vectors[k].detach().to(ScalarType.Float64).clone();
            var norm = v.norm().item<double>();
            if (!(norm > 0) || !double.IsFinite(norm))
                throw new ArgumentException($"vectors[{k}] has norm {norm}; a direction must be finite and non-zero.", nameof(vectors));
            copies[k] = v.DivideInPlace(norm);
        }
        if (eigenvalues is null)
        {
            var given = names ?? Enumerable.Range(1, vectors.Count).Select(k => $"d{k}").ToArray();
            return new LandscapeDirections(LandscapeDirectionKind.Given, given, copies.Select(c => c.MoveToOuterDisposeScope()).ToArray(), null);
        }
        return Build(copies, eigenvalues, [], names);
    }

    private static LandscapeDirections Build(Tensor[] vectors, double[] eigenvalues, List<string> notes, string[]? names = null)
    {
        if (eigenvalues.Length == 2 && Math.Abs(eigenvalues[0] - eigenvalues[1]) <= 1e-6 * Math.Max(Math.Abs(eigenvalues[0]), Math.Abs(eigenvalues[1])))
            notes.Add("λ1 and λ2 agree to 1e-6: the eigenvectors are one arbitrary orthonormal basis of their eigenspace.");
        return new LandscapeDirections(LandscapeDirectionKind.Eigenvector, names ?? Enumerable.Range(1, vectors.Length).Select(k => $"v{k}").ToArray(),
            vectors.Select(v => v.MoveToOuterDisposeScope()).ToArray(), null, eigenvalues: eigenvalues, notes: notes.ToArray());
    }
}
