using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// Monte-Carlo Fisher products: (1/n) Σ_i J_iᵀ [(1/k) Σ_s g_is g_isᵀ] J_i, g_is = ∇_f ℓ(f_i, ŷ_is), with k labels per
/// input drawn from the model's predictive distribution: ŷ ~ Categorical(softmax f_i) for cross-entropy, and
/// ŷ ~ N(f_i, (C/2) I) for MSE (the Gaussian whose negative log-likelihood is ℓ = (1/C)‖f − y‖² up to a constant). Then
/// E[g gᵀ] = Λ_i, so the estimate is unbiased for the GGN and positive semi-definite. Draw s of sample i is a function of
/// (seed, i, s) only, with i the sample's index in the whole data set (<see cref="RiskBatch.FirstSample"/>): a streamed
/// operator redraws the same labels for every product, so the operator is one fixed symmetric matrix, and it is the
/// same matrix for any batch size and for any split of the data over cluster shards.
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

    /// <summary>
    /// How informative the labels this engine draws are (cross-entropy; null for MSE, whose Gaussian draws all carry
    /// weight): one forward pass without gradients over <paramref name="risk"/>'s data, the same draws as the products
    /// (a function of seed, sample index and draw only), so a cluster's client gets the workers' numbers.
    /// </summary>
    /// <param name="risk">The empirical risk the Fisher is taken over.</param>
    /// <param name="samples">k, labels per input.</param>
    /// <param name="seed">Seed of the draws.</param>
    public static MonteCarloDraws? Survey(EmpiricalRisk risk, int samples, long seed)
    {
        Guard.NotNull(risk, nameof(risk));
        Guard.Positive(samples, nameof(samples), "Draw at least 1 label per input.");
        if (risk.LossFunction.Kind != LossKind.CrossEntropy)
            return null;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long draws = 0, informative = 0;
        double expected = 0;
        risk.ForEachBatch(batch =>
        {
            var (_, stats) = DrawLabels(GgnEngine.RequireLogits(risk.Forward(batch.Inputs), "The Monte-Carlo Fisher").softmax(1), samples, seed, batch.FirstSample);
            draws += stats.Draws;
            expected += stats.Expected;
            informative += stats.Informative;
        });
        return new MonteCarloDraws(draws, expected, informative);
    }

    /// <inheritdoc />
    public IBatchCurvature Prepare(RiskBatch batch) => JacobianBatch.Prepare(risk, batch, SampledOuterProducts, Materialisation);

    private IOutputSpaceMatrix SampledOuterProducts(Tensor outputs, RiskBatch batch)
    {
        using var scope = NewDisposeScope();
        var b = outputs.shape[0];
        Tensor gradients;
        if (risk.LossFunction.Kind == LossKind.CrossEntropy)
        {
            // g = p − e_ŷ, the gradient of −log softmax(f)_ŷ.
            var p = GgnEngine.RequireLogits(outputs, "The Monte-Carlo Fisher").softmax(1);
            var classes = (int)p.shape[1];
            var (labels, _) = DrawLabels(p, samples, seed, batch.FirstSample);
            var onehot = nn.functional.one_hot(tensor(labels, [b, samples]).to(outputs.device), classes).to(p.dtype);
            gradients = p.unsqueeze(1) - onehot;
        }
        else
        {
            // ŷ = f + √(C/2) ε gives g = (2/C)(f − ŷ) = −√(2/C) ε; the sign drops out of g gᵀ.
            var c = (int)(outputs.numel() / Math.Max(b, 1));
            var noise = new double[b * samples * c];
            for (var r = 0; r < b; r++)
            {
                for (var s = 0; s < samples; s++)
                {
                    for (var j = 0; j < c; j++)
                        noise[(((r * samples) + s) * c) + j] = SampleKeyedRandom.Gaussian(seed, batch.FirstSample + r, s, j);
                }
            }
            gradients = tensor(noise, [b, samples, c], dtype: outputs.dtype).to(outputs.device).Times(Math.Sqrt(2.0 / c));
        }
        return new OuterProductOutputMatrix(gradients.contiguous().MoveToOuterDisposeScope(), batch.Scale);
    }

    /// <summary>
    /// Draw s of row r is Categorical(p_r) at the uniform keyed by (seed, first + r, s); also counts the draws, those
    /// expected outside each row's predicted class, and those that landed there.
    /// </summary>
    private static (long[] Labels, (long Draws, double Expected, long Informative) Stats) DrawLabels(Tensor p, int samples, long seed, long first)
    {
        var b = (int)p.shape[0];
        var classes = (int)p.shape[1];
        var probabilities = p.detach().cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var labels = new long[b * samples];
        double expected = 0;
        long informative = 0;
        for (var r = 0; r < b; r++)
        {
            var row = probabilities.AsSpan(r * classes, classes);
            var predicted = ArgMax(row);
            expected += samples * (1 - row[predicted]);
            for (var s = 0; s < samples; s++)
            {
                var label = Categorical(row, SampleKeyedRandom.Uniform(seed, first + r, s, 0));
                labels[(r * samples) + s] = label;
                if (label != predicted)
                    informative++;
            }
        }
        return (labels, ((long)b * samples, expected, informative));
    }

    private static int ArgMax(ReadOnlySpan<double> values)
    {
        var best = 0;
        for (var k = 1; k < values.Length; k++)
        {
            if (values[k] > values[best])
                best = k;
        }
        return best;
    }

    /// <summary>The first class whose cumulative probability exceeds u · Σ p (the inverse CDF; Σ p is 1 up to rounding).</summary>
    private static long Categorical(ReadOnlySpan<double> probabilities, double u)
    {
        double total = 0;
        foreach (var q in probabilities)
            total += q;
        var target = u * total;
        double cumulative = 0;
        for (var k = 0; k < probabilities.Length; k++)
        {
            cumulative += probabilities[k];
            if (target < cumulative)
                return k;
        }
        return probabilities.Length - 1;
    }
}
