using HessianGeometry.Operators;

namespace HessianGeometry.Analysis;

/// <summary>The model and data an analysis measured: sizes, loss, accuracy, dtype and product engine.</summary>
public sealed record ModelSection
{
    /// <summary>p, the number of parameters the Hessian is taken over.</summary>
    public long Parameters { get; init; }

    /// <summary>n, the number of samples the mean loss runs over.</summary>
    public long Samples { get; init; }

    /// <summary>Name of the loss function (cross-entropy, nll, mse or the custom loss's name).</summary>
    public string LossFunction { get; init; } = string.Empty;

    /// <summary>The mean loss L(θ) over the data.</summary>
    public double Loss { get; init; }

    /// <summary>Fraction of samples whose argmax output equals the class label (null for regression targets).</summary>
    public double? Accuracy { get; init; }

    /// <summary>The dtype the analysis ran in (e.g. Float64 for a float32 model analysed in float64).</summary>
    public string Precision { get; init; } = string.Empty;

    /// <summary>The engine the Hessian-vector products ran on: AnalyticMlp or DoubleBackward.</summary>
    public string HvpEngine { get; init; } = string.Empty;

    /// <summary>The section for the operator's model and data, with the loss and accuracy measured on it.</summary>
    /// <param name="op">The analysed loss Hessian.</param>
    /// <param name="loss">Mean loss.</param>
    /// <param name="accuracy">Accuracy, or null for regression targets.</param>
    public static ModelSection From(LossHessianOperator op, double loss, double? accuracy) => From((CurvatureOperator)op, loss, accuracy);

    /// <summary>The section for any curvature operator; <see cref="HvpEngine"/> is then its engine's name (e.g. GenericGgn).</summary>
    /// <param name="op">The analysed curvature.</param>
    /// <param name="loss">Mean loss.</param>
    /// <param name="accuracy">Accuracy, or null for regression targets.</param>
    public static ModelSection From(CurvatureOperator op, double loss, double? accuracy)
    {
        ArgumentNullException.ThrowIfNull(op);
        return new ModelSection
        {
            Parameters = op.Dimension,
            Samples = op.Risk.SampleCount,
            LossFunction = op.Risk.LossFunction.Name,
            Loss = loss,
            Accuracy = accuracy,
            Precision = op.DType.ToString(),
            HvpEngine = op.CurvatureEngine.Name,
        };
    }
}
