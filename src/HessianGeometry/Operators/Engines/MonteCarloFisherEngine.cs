using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// Monte-Carlo Fisher products: (1/n) Σ_i J_iᵀ [(1/k) Σ_s g_is g_isᵀ] J_i, g_is = ∇_f ℓ(f_i, ŷ_is), with k labels per
/// input drawn from the model's predictive distribution: ŷ ~ Categorical(softmax f_i) for cross-entropy, and
/// ŷ ~ N(f_i, (C/2) I) for MSE (the Gaussian whose negative log-likelihood is ℓ = (1/C)‖f − y‖² up to a constant). Then
/// E[g gᵀ] = Λ_i, so the estimate is unbiased for the GGN and positive semi-definite. The draws of batch b come from a
/// generator seeded with (seed, b): a streamed operator redraws the same labels for every product, so the operator is
/// one fixed symmetric matrix.
/// </summary>
public sealed class MonteCarloFisherEngine : ICurvatureEngine, IJacobianSandwichEngine
{
    private readonly EmpiricalRisk risk;
    private readonly int samples;
    private readonly long seed;

    /// <summary>Creates the engine over <paramref name="risk"/>.</summary>
    /// <param name="risk">The empirical risk (cross-entropy or MSE).</param>
    /// <param name="samples">k ≥ 1, labels drawn per input.</param>
    /// <param name="seed">Seed of the draws.</param>
    public MonteCarloFisherEngine(EmpiricalRisk risk, int samples, long seed)
        : this(risk, samples, seed, new JacobianMaterialisation())
    {
    }

    /// <summary>Creates the engine with the given materialisation rule (null: always the double-vjp path).</summary>
    internal MonteCarloFisherEngine(EmpiricalRisk risk, int samples, long seed, JacobianMaterialisation? materialisation)
    {
        Materialisation = materialisation;
        Guard.NotNull(risk, nameof(risk));
        Guard.Positive(samples, nameof(samples), "Draw at least 1 label per input (curvlinops' default is 1; more samples lower the Monte-Carlo error as 1/√k).");
        GgnEngine.RequireConvexOutputLoss(risk.LossFunction, "The Monte-Carlo Fisher");
        this.risk = risk;
        this.samples = samples;
        this.seed = seed;
    }

    /// <inheritdoc />
    JacobianMaterialisation? IJacobianSandwichEngine.Materialisation => Materialisation;

    /// <summary>When cached batches switch to a materialised Jacobian (see <see cref="JacobianMaterialisation"/>).</summary>
    internal JacobianMaterialisation? Materialisation { get; }

    /// <inheritdoc />
    public string Name => "MonteCarloFisher";

    /// <summary>k, labels drawn per input.</summary>
    public int Samples => samples;

    /// <inheritdoc />
    public IBatchCurvature Prepare(RiskBatch batch) => JacobianBatch.Prepare(risk, batch, SampledOuterProducts, Materialisation);

    private IOutputSpaceMatrix SampledOuterProducts(Tensor outputs, RiskBatch batch)
    {
        using var scope = NewDisposeScope();
        using var generator = RandomVectors.CreateGenerator(unchecked(seed * 1_000_003 + batch.Index));
        var b = outputs.shape[0];
        Tensor gradients;
        if (risk.LossFunction.Kind == LossKind.CrossEntropy)
        {
            // g = p − e_ŷ, the gradient of −log softmax(f)_ŷ.
            var p = GgnEngine.RequireLogits(outputs, "The Monte-Carlo Fisher").softmax(1);
            var labels = multinomial(p.cpu().to(ScalarType.Float64), samples, replacement: true, generator: generator).to(outputs.device);
            var onehot = nn.functional.one_hot(labels, p.shape[1]).to(p.dtype);
            gradients = p.unsqueeze(1) - onehot;
        }
        else
        {
            // ŷ = f + √(C/2) ε gives g = (2/C)(f − ŷ) = −√(2/C) ε; the sign drops out of g gᵀ.
            var c = outputs.numel() / Math.Max(b, 1);
            var noise = RandomVectors.Gaussian(b * samples * c, null, generator, outputs.dtype, outputs.device);
            gradients = noise.reshape(b, samples, c).Times(Math.Sqrt(2.0 / c));
        }
        return new OuterProductOutputMatrix(gradients.contiguous().MoveToOuterDisposeScope(), batch.Scale);
    }
}
