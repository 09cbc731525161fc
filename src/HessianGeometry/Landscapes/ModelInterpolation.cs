using System.Globalization;
using HessianGeometry.Internal;
using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Landscapes;

/// <summary>
/// Paths between minima (mode connectivity; Goodfellow, Vinyals &amp; Saxe 2015 for the segment, Garipov et al. 2018 and
/// Draxler et al. 2018 for the plane through three networks).
/// </summary>
public static class ModelInterpolation
{
    /// <summary>
    /// The segment θ(t) = θ_A + t (θ_B − θ_A): t = 0 is model A (the risk's current parameters), t = 1 is model B; the grid
    /// extends beyond both ends by <see cref="LandscapeGridOptions.Span"/> times the segment.
    /// </summary>
    /// <param name="modelA">The parameters of model A (e.g. <see cref="EmpiricalRisk.AnalysisParameters"/>).</param>
    /// <param name="modelB">θ_B as a flat vector [p] (see <see cref="ParameterVectors.FromModule"/>).</param>
    public static LandscapeDirections Segment(ParameterSpace modelA, Tensor modelB)
    {
        Guard.NotNull(modelA, nameof(modelA));
        using var scope = NewDisposeScope();
        var a = modelA.GetValues().to(ScalarType.Float64);
        var b = Check(modelB, modelA, "modelB");
        var d = b - a;
        var length = d.norm().item<double>();
        if (!(length > 0))
            throw new ArgumentException("Model B equals model A, so the segment between them is a point. Pass two different models.", nameof(modelB));
        var anchors = new[] { new LandscapeAnchor("model A", [0.0]), new LandscapeAnchor("model B", [1.0]) };
        return new LandscapeDirections(LandscapeDirectionKind.Interpolation, ["A→B"], [d.MoveToOuterDisposeScope()], a.MoveToOuterDisposeScope(),
            anchors: anchors, notes: [$"‖θ_B − θ_A‖ = {length.ToString("G6", CultureInfo.InvariantCulture)}; the coordinate t is 0 at model A and 1 at model B."]);
    }

    /// <summary>
    /// The plane through models A, B and C in an orthonormal basis: origin θ_A, u₁ = (θ_B − θ_A)/‖θ_B − θ_A‖, u₂ the
    /// Gram–Schmidt remainder of θ_C − θ_A. The models sit at (0, 0), (‖θ_B − θ_A‖, 0) and (⟨θ_C − θ_A, u₁⟩, ⟨θ_C − θ_A, u₂⟩);
    /// coordinates are distances in parameter space.
    /// </summary>
    public static LandscapeDirections Plane(ParameterSpace modelA, Tensor modelB, Tensor modelC)
    {
        Guard.NotNull(modelA, nameof(modelA));
        using var scope = NewDisposeScope();
        var a = modelA.GetValues().to(ScalarType.Float64);
        var db = Check(modelB, modelA, "modelB") - a;
        var dc = Check(modelC, modelA, "modelC") - a;
        var lengthB = db.norm().item<double>();
        if (!(lengthB > 0))
            throw new ArgumentException("Model B equals model A; the plane needs three distinct models.", nameof(modelB));
        var u1 = db.DividedBy(lengthB);
        var c1 = u1.dot(dc).item<double>();
        var rest = dc.PlusScaled(u1, -c1);
        var c2 = rest.norm().item<double>();
        if (!(c2 > 1e-12 * Math.Max(lengthB, dc.norm().item<double>())))
            throw new ArgumentException("Model C lies on the line through models A and B, so the three do not span a plane. Pass a third model off that line, or use the segment.", nameof(modelC));
        var u2 = rest.DividedBy(c2);
        var anchors = new[]
        {
            new LandscapeAnchor("model A", [0.0, 0.0]),
            new LandscapeAnchor("model B", [lengthB, 0.0]),
            new LandscapeAnchor("model C", [c1, c2]),
        };
        return new LandscapeDirections(LandscapeDirectionKind.Plane, ["u1 (A→B)", "u2 (⊥, toward C)"], [u1.MoveToOuterDisposeScope(), u2.MoveToOuterDisposeScope()],
            a.MoveToOuterDisposeScope(), anchors: anchors);
    }

    private static Tensor Check(Tensor model, ParameterSpace reference, string name)
    {
        Guard.Valid(model, name);
        if (model.dim() != 1 || model.numel() != reference.Dimension)
            throw new ArgumentException($"{name} must be a flat parameter vector [{reference.Dimension}] but has shape {Guard.Shape(model)}; build it with ParameterVectors.FromModule.", name);
        Guard.AllFinite(model, name, "Pass a finite checkpoint.");
        return model.detach().to(ScalarType.Float64).to(reference.Device);
    }
}
