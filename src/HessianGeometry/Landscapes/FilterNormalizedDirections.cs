using System.Globalization;
using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Landscapes;

/// <summary>
/// Filter-normalised random directions (Li, Xu, Taylor, Studer &amp; Goldstein 2018, "Visualizing the Loss Landscape of
/// Neural Nets", NeurIPS): a Gaussian direction d whose every filter d_{i,j} — a row of a weight of dimension ≥ 2 along
/// its first (output) axis: an output neuron of a Linear layer, an output channel of a convolution — is rescaled to the
/// norm of the same filter of the weights, d_{i,j} ← d_{i,j} · ‖θ_{i,j}‖ / ‖d_{i,j}‖. A ReLU network is invariant to
/// scaling a filter's incoming weights, so without it a step of the same size means more for a small filter than for a
/// large one and landscapes of two networks cannot be compared.
/// </summary>
/// <remarks>
/// 1-D parameters (biases, BatchNorm / LayerNorm weights and biases) have no filters; by default the direction is zero
/// on them (<see cref="OneDimensionalParameters.Zero"/>, Li et al.'s <c>--xignore biasbn</c>). The loss-landscapes
/// package (issue #3) instead loops over the "filters" of a bias vector, i.e. its single entries, so each entry of the
/// direction becomes ±|b_i|: only a random sign is left. After filter normalisation the whole direction is divided by
/// its norm, so a landscape coordinate is a distance ‖θ − θ*‖ in parameter space; <see cref="LandscapeDirections.FilterNormalizedNorms"/>
/// keeps ‖d‖ before that step, which converts the distance to Li et al.'s units (α_Li = distance / ‖d‖).
/// </remarks>
public static class FilterNormalizedDirections
{
    /// <summary>Draws <paramref name="count"/> (1 or 2) filter-normalised unit directions at the parameters' current values.</summary>
    /// <param name="parameters">The parameters θ* (e.g. <see cref="EmpiricalRisk.AnalysisParameters"/>); the directions follow their flat order.</param>
    /// <param name="count">1 for a curve, 2 for a surface.</param>
    /// <param name="seed">Seeds the Gaussian draw (the same seed gives the same directions).</param>
    /// <param name="oneDimensional">What to do with biases and normalisation parameters.</param>
    public static LandscapeDirections Create(ParameterSpace parameters, int count, long seed, OneDimensionalParameters oneDimensional = OneDimensionalParameters.Zero)
    {
        Guard.NotNull(parameters, nameof(parameters));
        Guard.InRange(count, 1, 2, nameof(count), "A landscape has one or two directions.");
        Guard.Defined(oneDimensional, nameof(oneDimensional));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = RandomVectors.CreateGenerator(seed);
        var theta = parameters.GetValues().to(ScalarType.Float64);
        var vectors = new Tensor[count];
        var norms = new double[count];
        for (var k = 0; k < count; k++)
        {
            var d = RandomVectors.Gaussian(parameters.Dimension, null, generator, ScalarType.Float64, parameters.Device);
            Normalize(parameters, theta, d, oneDimensional);
            norms[k] = d.norm().item<double>();
            if (!(norms[k] > 0))
                throw new ArgumentException(
                    "Every filter-normalised direction is zero: the selected parameters are all 1-D (biases, normalisation) or all zero. " +
                    "Select weight matrices or convolution kernels, or pass OneDimensionalParameters.CopyWeights.", nameof(parameters));
            vectors[k] = d.DivideInPlace(norms[k]).MoveToOuterDisposeScope();
        }
        var notes = new List<string>
        {
            oneDimensional == OneDimensionalParameters.Zero
                ? "1-D parameters (biases, normalisation weights) are excluded: the directions are zero on them."
                : "1-D parameters (biases, normalisation weights) move along their own values (Li et al.'s code without --xignore biasbn).",
        };
        if (count == 2)
        {
            var cosine = vectors[0].dot(vectors[1]).item<double>();
            notes.Add($"The two random directions are not orthogonalised (Li et al.); their cosine is {cosine.ToString("G3", CultureInfo.InvariantCulture)}.");
        }
        var names = Enumerable.Range(1, count).Select(k => $"random {k}").ToArray();
        return new LandscapeDirections(LandscapeDirectionKind.FilterNormalizedRandom, names, vectors, null,
            filterNormalizedNorms: norms, notes: notes.ToArray(), seed: seed);
    }

    /// <summary>Rescales <paramref name="d"/> in place filter by filter to the norms of <paramref name="theta"/>'s filters.</summary>
    internal static void Normalize(ParameterSpace parameters, Tensor theta, Tensor d, OneDimensionalParameters oneDimensional)
    {
        using var scope = NewDisposeScope();
        var dPieces = parameters.Unflatten(d);
        var thetaPieces = parameters.Unflatten(theta);
        for (var i = 0; i < dPieces.Length; i++)
        {
            var piece = dPieces[i];
            if (piece.dim() <= 1)
            {
                if (oneDimensional == OneDimensionalParameters.Zero)
                    piece.zero_();
                else
                    piece.copy_(thetaPieces[i]);
                continue;
            }
            var rows = piece.view(piece.shape[0], -1);
            var thetaNorms = thetaPieces[i].reshape(piece.shape[0], -1).norm(1, keepdim: true);
            var dNorms = rows.norm(1, keepdim: true);
            // A filter of d that is exactly zero (probability 0) or of θ that is zero gets zero, not NaN.
            var factors = where(dNorms.gt(0), thetaNorms.div(dNorms.clamp_min(1e-300)), zeros_like(dNorms));
            rows.mul_(factors);
        }
    }
}
