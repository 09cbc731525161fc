using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Landscapes;

/// <summary>
/// PCA directions of a training trajectory (Li et al. 2018, section 7): with checkpoints θ₀ … θ_T and the final point
/// θ_T as the centre, the rows θ_t − θ_T (t &lt; T) form a matrix M; its top right singular vectors are the unit directions
/// that explain most of the squared deviation Σ_t ‖θ_t − θ_T‖² (no mean is subtracted: the centre is the final point,
/// as in Li et al.). The trajectory projects to the coordinates ⟨θ_t − θ_T, d_k⟩.
/// </summary>
public static class TrajectoryPca
{
    /// <summary>PCA directions of <paramref name="trajectory"/>, centred on its last point.</summary>
    /// <param name="trajectory">Parameter vectors [p] in training order (e.g. <see cref="ParameterVectors.FromModule"/> of saved checkpoints); the last is the centre.</param>
    /// <param name="count">1 or 2.</param>
    /// <param name="names">Names of the points for the projected trajectory (default "checkpoint t", the last "final").</param>
    public static LandscapeDirections Create(IReadOnlyList<Tensor> trajectory, int count, IReadOnlyList<string>? names = null)
    {
        Guard.NotNull(trajectory, nameof(trajectory));
        Guard.InRange(count, 1, 2, nameof(count), "A landscape has one or two directions.");
        if (trajectory.Count < count + 1)
            throw new ArgumentException($"PCA of a trajectory needs at least {count + 1} points for {count} direction(s) but got {trajectory.Count}; pass more checkpoints.", nameof(trajectory));
        if (names is not null && names.Count != trajectory.Count)
            throw new ArgumentException($"Pass one name per point ({trajectory.Count}) but got {names.Count}.", nameof(names));
        using var scope = NewDisposeScope();
        var p = trajectory[0].numel();
        for (var t = 0; t < trajectory.Count; t++)
        {
            Guard.Valid(trajectory[t], $"trajectory[{t}]");
            if (trajectory[t].dim() != 1 || trajectory[t].numel() != p)
                throw new ArgumentException($"Every point must be a flat parameter vector [{p}]; trajectory[{t}] has shape {Guard.Shape(trajectory[t])}.", nameof(trajectory));
            Guard.AllFinite(trajectory[t], $"trajectory[{t}]", "Pass finite checkpoints.");
        }
        var device = trajectory[^1].device;
        var final = trajectory[^1].detach().to(ScalarType.Float64);
        var rows = stack(trajectory.Take(trajectory.Count - 1).Select(t => t.detach().to(ScalarType.Float64).to(device) - final).ToList(), 0);
        var (_, s, vh) = linalg.svd(rows, fullMatrices: false);
        var singular = s.cpu().data<double>().ToArray();
        var total = singular.Sum(v => v * v);
        if (!(total > 0))
            throw new ArgumentException("Every checkpoint equals the final point, so the trajectory has no direction. Pass checkpoints from different steps.", nameof(trajectory));
        if (singular.Length < count || singular[count - 1] <= 1e-12 * singular[0])
            throw new ArgumentException($"The trajectory spans fewer than {count} directions (its differences to the final point are collinear). Ask for one direction.", nameof(trajectory));

        var vectors = new Tensor[count];
        for (var k = 0; k < count; k++)
        {
            var d = vh[k].contiguous().clone();
            // The sign of a singular vector is arbitrary: fix it so that training moves along +d (the first checkpoint at a
            // negative coordinate), or, if the first checkpoint projects to 0, so that the largest entry is positive.
            var first = rows[0].dot(d).item<double>();
            var flip = first > 0 || (first == 0 && d[d.abs().argmax()].item<double>() < 0);
            vectors[k] = (flip ? d.neg() : d).MoveToOuterDisposeScope();
        }
        var anchors = new LandscapeAnchor[trajectory.Count];
        for (var t = 0; t < trajectory.Count; t++)
        {
            var coordinates = t == trajectory.Count - 1 ? new double[count]
                : vectors.Select(v => rows[t].dot(v).item<double>()).ToArray();
            anchors[t] = new LandscapeAnchor(names?[t] ?? (t == trajectory.Count - 1 ? "final" : $"checkpoint {t}"), coordinates);
        }
        var explained = singular.Take(count).Select(v => v * v / total).ToArray();
        return new LandscapeDirections(LandscapeDirectionKind.TrajectoryPca, Enumerable.Range(1, count).Select(k => $"PC{k}").ToArray(), vectors,
            final.to(device).MoveToOuterDisposeScope(), anchors: anchors, explainedVariance: explained,
            notes: ["PCA directions have arbitrary signs; each is fixed so that training moves toward +d (the first checkpoint has a negative coordinate)."]);
    }
}
