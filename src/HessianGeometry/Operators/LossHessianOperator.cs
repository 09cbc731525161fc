using HessianGeometry.Operators.Engines;
using Module = TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace HessianGeometry.Operators;

/// <summary>
/// The Hessian H = ∇²_θ L(θ) of the mean loss L(θ) = (1/n) Σ_i ℓ(f_θ(x_i), y_i) over a whole data set, applied
/// matrix-free: an <see cref="EmpiricalRisk"/> and a Hessian product engine (double backward, H v = ∇_θ ⟨∇_θ L, v⟩
/// after Pearlmutter 1994, or the analytic MLP R-operator), chosen by <see cref="CurvatureEngineFactory"/>.
/// </summary>
/// <remarks>
/// With a single batch (or <see cref="HessianGraphMode.Cached"/>) each batch's first-order graph is built once and kept,
/// so each product is one backward pass per batch. Otherwise every product streams the mini-batches: forward, gradient
/// with <c>create_graph</c>, and a second backward per batch, each batch weighted by its size so the result is exact for
/// uneven batches. A block product reuses each batch's first-order graph for all k vectors.
/// </remarks>
public sealed class LossHessianOperator : CurvatureOperator, IHessianOperator
{
    /// <summary>Creates the operator and validates model, loss and data before any native differentiation.</summary>
    /// <param name="model">The trained model, in eval mode unless <see cref="LossHessianOptions.AllowTrainingMode"/>.</param>
    /// <param name="loss">The loss ℓ; the data-set loss is its mean.</param>
    /// <param name="data">The data the Hessian is taken over.</param>
    /// <param name="parameters">The parameters θ (default: all trainable parameters of <paramref name="model"/>).</param>
    /// <param name="options">Graph caching, analysis dtype, training-mode policy, engine, determinism check.</param>
    public LossHessianOperator(Module model, LossFunction loss, DataSource data, ParameterSpace? parameters = null, LossHessianOptions? options = null)
        : this(Compose(model, loss, data, parameters, options ?? new LossHessianOptions()), options ?? new LossHessianOptions(), ownsRisk: true)
    {
    }

    /// <summary>The Hessian of an existing risk, which the caller keeps and disposes (e.g. shared with geometry measures).</summary>
    /// <param name="risk">The empirical risk.</param>
    /// <param name="options">Graph caching, engine and determinism check (the risk's own options fix dtype and training mode).</param>
    public LossHessianOperator(EmpiricalRisk risk, LossHessianOptions? options = null)
        : this(Compose(risk, options ?? new LossHessianOptions()), options ?? new LossHessianOptions(), ownsRisk: false)
    {
    }

    private LossHessianOperator((EmpiricalRisk Risk, ICurvatureEngine Engine, string Note) parts, LossHessianOptions options, bool ownsRisk)
        : base(parts.Risk, parts.Engine, options.GraphMode, parts.Note, ownsRisk)
    {
        Options = options;
        if (!options.CheckDeterministic)
            return;
        try
        {
            CheckDeterministic();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The options in force.</summary>
    public LossHessianOptions Options { get; }

    /// <summary>The engine the products run on: <see cref="HvpEngine.AnalyticMlp"/> or <see cref="HvpEngine.DoubleBackward"/>.</summary>
    public HvpEngine Engine => CurvatureEngine is AnalyticMlpHessianEngine ? HvpEngine.AnalyticMlp : HvpEngine.DoubleBackward;

    /// <summary>n, the number of samples the mean loss runs over.</summary>
    public long SampleCount => Risk.SampleCount;

    /// <summary>The model the operator differentiates.</summary>
    public Module Model => Risk.Model;

    /// <summary>The loss.</summary>
    public LossFunction LossFunction => Risk.LossFunction;

    /// <summary>The data.</summary>
    public DataSource Data => Risk.Data;

    private static (EmpiricalRisk, ICurvatureEngine, string) Compose(Module model, LossFunction loss, DataSource data, ParameterSpace? parameters, LossHessianOptions options)
    {
        if (!Enum.IsDefined(options.Engine))
            throw new ArgumentOutOfRangeException(nameof(options), options.Engine, "LossHessianOptions.Engine must be HvpEngine.Auto, DoubleBackward or AnalyticMlp.");
        var risk = new EmpiricalRisk(model, loss, data, parameters,
            new EmpiricalRiskOptions { AnalysisDType = options.AnalysisDType, AllowTrainingMode = options.AllowTrainingMode });
        try
        {
            return Compose(risk, options);
        }
        catch
        {
            risk.Dispose();
            throw;
        }
    }

    private static (EmpiricalRisk, ICurvatureEngine, string) Compose(EmpiricalRisk risk, LossHessianOptions options)
    {
        Internal.Guard.NotNull(risk, nameof(risk));
        var engine = CurvatureEngineFactory.CreateHessian(risk, options.Engine, out var note);
        return (risk, engine, note);
    }
}
