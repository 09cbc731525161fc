using HessianGeometry.Operators;
using static TorchSharp.torch;

namespace HessianGeometry.Internal;

/// <summary>
/// The comparisons behind the determinism check (curvlinops' <c>check_deterministic</c>): the same quantity evaluated
/// twice at the same parameters must agree to a relative sup-norm tolerance.
/// </summary>
internal static class DeterminismCheck
{
    /// <summary>1e-9 in float64, 1e-4 in float32: loose enough for non-deterministic GPU reductions.</summary>
    public static double Tolerance(ScalarType dtype) => dtype == ScalarType.Float64 ? 1e-9 : 1e-4;

    public const string RandomDataFix =
        "A DataSource is enumerated once per Hessian-vector product, so it must yield the same batches in the same order every time: " +
        "shuffle once before the analysis rather than inside the enumeration, and turn off random augmentation.";

    /// <summary>
    /// The risk's part of the check: the data source yields the same batches on two enumerations, and the loss and the
    /// gradient agree when evaluated twice.
    /// </summary>
    public static void Run(EmpiricalRisk risk)
    {
        using var scope = NewDisposeScope();
        var tolerance = Tolerance(risk.DType);
        var first = BatchFingerprints(risk.Data);
        var second = BatchFingerprints(risk.Data);
        if (first.Count != second.Count)
            throw new InvalidOperationException($"The data source yielded {first.Count} batches, then {second.Count}. {RandomDataFix}");
        for (var i = 0; i < first.Count; i++)
        {
            if (first[i].Shapes != second[i].Shapes)
                throw new InvalidOperationException($"The data source yielded batch {i} with shapes {first[i].Shapes}, then {second[i].Shapes}. {RandomDataFix}");
            if (RelativeDifference(first[i].Values, second[i].Values) > tolerance)
                throw new InvalidOperationException($"The data source yielded different values in batch {i} on two enumerations. {RandomDataFix}");
        }
        Compare("loss", [risk.Loss()], [risk.Loss()], tolerance);
        using var g1 = risk.Gradient();
        using var g2 = risk.Gradient();
        Compare("gradient", ToArray(g1), ToArray(g2), tolerance);
    }

    private static List<(string Shapes, double[] Values)> BatchFingerprints(DataSource data)
    {
        using var _ = no_grad();
        var prints = new List<(string, double[])>();
        foreach (var (x, y) in data.Batches())
            prints.Add(($"{Guard.Shape(x)} {Guard.Shape(y)}", [.. Fingerprint(x), .. Fingerprint(y)]));
        return prints;
    }

    /// <summary>
    /// The sum of a batch tensor and its sum weighted by row and by position within the row (weights in [1, 2]):
    /// reordered rows, resampled rows and flipped or shifted features change the second number.
    /// </summary>
    public static double[] Fingerprint(Tensor t)
    {
        using var scope = NewDisposeScope();
        var rows = t.detach().reshape(t.shape[0], -1).to(ScalarType.Float64);
        var rowWeights = linspace(1, 2, rows.shape[0], dtype: ScalarType.Float64, device: rows.device);
        var columnWeights = linspace(1, 2, rows.shape[1], dtype: ScalarType.Float64, device: rows.device);
        return [rows.sum().item<double>(), rows.mv(columnWeights).dot(rowWeights).item<double>()];
    }

    public static double[] ToArray(Tensor t) => t.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();

    public static double RelativeDifference(double[] a, double[] b)
    {
        double difference = 0, scale = 0;
        for (var i = 0; i < a.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs(a[i] - b[i]));
            scale = Math.Max(scale, Math.Max(Math.Abs(a[i]), Math.Abs(b[i])));
        }
        return difference == 0 ? 0 : difference / Math.Max(scale, double.Epsilon);
    }

    /// <summary>Throws when two evaluations of <paramref name="what"/> differ by more than <paramref name="tolerance"/>.</summary>
    public static void Compare(string what, double[] first, double[] second, double tolerance)
    {
        var difference = RelativeDifference(first, second);
        if (!(difference <= tolerance))
        {
            throw new InvalidOperationException(
                $"The {what} differs between two evaluations at the same parameters (relative difference {difference:G3}, tolerance {tolerance:G1}), " +
                "so the Hessian would be random. Usual causes: dropout, batch-norm or another random layer active in the forward pass (call model.eval()), " +
                "or random augmentation inside the model. Make the forward pass deterministic, or switch the check off " +
                "(LossHessianOptions.CheckDeterministic = false, HessianAnalysisBuilder.CheckDeterminism(false)).");
        }
    }
}
