using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// Finds the inputs whose reinforcing gradient g(x) = Jᵀ δ, δ = ∂ℓ/∂z, a plain pipeline cannot resolve, and recounts
/// the boundary complexity without them.
/// </summary>
/// <remarks>
/// <para>
/// For cross-entropy δ = p − e_t, whose largest entry is 1 − p_t. A pipeline that forms it as p_t − 1 (as
/// <c>F.cross_entropy</c>'s backward does) computes p_t with a relative error of about u and then subtracts it from 1,
/// so the result carries an absolute error of order u: once 1 − p_t &lt; u it has no correct digit, and below u/4 p_t rounds
/// to 1 and the component is exactly 0. The library differentiates a cancellation-free form
/// (<see cref="ReinforcingLoss.StableCrossEntropy"/>), so its g(x) stays accurate, but its direction there is set by the
/// remaining p_c (c ≠ t), which a naive pipeline keeps while losing the t-component: its alignments are then artefacts of
/// precision. The cosine is scale-free, so such inputs count fully in m_i however small ‖g‖ is.
/// </para>
/// <para>
/// The same test, ‖δ‖_∞ &lt; u, is applied to any loss (for MSE δ is proportional to f − y, formed from outputs accurate to
/// about u). u is float32's 2⁻²³ ≈ 1.19e-7 (a float32 model trained and analysed in float32) and float64's
/// 2⁻⁵² ≈ 2.2e-16 (a float64 pipeline that forms p_t − 1).
/// </para>
/// </remarks>
public static class SaturatedInputs
{
    /// <summary>Measures saturation and recounts G without the saturated inputs.</summary>
    /// <param name="risk">The empirical risk of the Hessian.</param>
    /// <param name="inputs">The inputs of <paramref name="alignment"/> (same rows, same order).</param>
    /// <param name="alignment">The alignment of the counted eigenvectors with these inputs.</param>
    /// <param name="parameterCount">p, for G = count / p.</param>
    /// <param name="epsilon">
    /// The thresholds of the full count. An explicit ε is kept; a random baseline is measured again on the kept inputs
    /// with the same seed and number of directions (the directions are the same, only the inputs averaged over change).
    /// </param>
    /// <param name="options">The alignment options of <paramref name="alignment"/> (labels, batch size).</param>
    /// <param name="cancellationToken">Checked once per batch.</param>
    public static InputSaturation Measure(EmpiricalRisk risk, Tensor inputs, AlignmentResult alignment, long parameterCount, EpsilonBaseline epsilon,
        AlignmentOptions? options = null, CancellationToken cancellationToken = default)
    {
        ReinforcingLoss.CheckRisk(risk);
        Guard.NotNull(alignment, nameof(alignment));
        Guard.NotNull(epsilon, nameof(epsilon));
        Guard.Positive(parameterCount, nameof(parameterCount), "Pass the operator's Dimension.");
        options = ReinforcingGradients.CheckOptions(options);
        using var scope = NewDisposeScope();
        var x = ReinforcingLoss.PrepareInputs(risk, inputs, nameof(inputs));
        if (x.shape[0] != alignment.InputCount)
            throw new ArgumentException($"{x.shape[0]} inputs were given but the alignment has {alignment.InputCount} rows; pass the inputs the alignment was computed on.", nameof(inputs));
        return MeasureOn(new LocalSampleGeometry(risk, x), risk, alignment, parameterCount, epsilon, options, cancellationToken);
    }

    /// <summary>
    /// <see cref="Measure(EmpiricalRisk, Tensor, AlignmentResult, long, EpsilonBaseline, AlignmentOptions?, CancellationToken)"/>
    /// with the per-sample rows (output-gradient scales, the random directions' alignment) from <paramref name="geometry"/>;
    /// <paramref name="risk"/> gives the dimension and device of the random directions, drawn here.
    /// </summary>
    internal static InputSaturation MeasureOn(ISampleGeometry geometry, EmpiricalRisk risk, AlignmentResult alignment, long parameterCount, EpsilonBaseline epsilon,
        AlignmentOptions? options, CancellationToken cancellationToken)
    {
        ReinforcingLoss.CheckRisk(risk);
        Guard.NotNull(alignment, nameof(alignment));
        Guard.NotNull(epsilon, nameof(epsilon));
        Guard.Positive(parameterCount, nameof(parameterCount), "Pass the operator's Dimension.");
        options = ReinforcingGradients.CheckOptions(options);
        if (geometry.InputCount != alignment.InputCount)
            throw new ArgumentException($"{geometry.InputCount} inputs were given but the alignment has {alignment.InputCount} rows; pass the inputs the alignment was computed on.", nameof(alignment));
        using var scope = NewDisposeScope();
        var scale = geometry.OutputGradientScale(options, cancellationToken);

        // The random directions of the baseline, aligned once with all inputs; each level averages over its kept rows.
        using var random = epsilon.Explicit ? null : RandomAlignment(geometry, risk, epsilon, options, cancellationToken);
        return new InputSaturation(scale, alignment.GradientNorms,
            Level("float32", EigenvalueClustering.Float32Epsilon, scale, alignment, random, parameterCount, epsilon),
            Level("float64-naive", EigenvalueClustering.Float64Epsilon, scale, alignment, random, parameterCount, epsilon));
    }

    /// <summary>‖∂ℓ_j/∂z_j‖_∞ per input, with the cross-entropy in its cancellation-free form.</summary>
    /// <param name="risk">The empirical risk.</param>
    /// <param name="inputs">Inputs [n, ...].</param>
    /// <param name="labels">Targets [n]; null uses ŷ = argmax f(x).</param>
    /// <param name="batchSize">Inputs per forward pass.</param>
    /// <param name="cancellationToken">Checked once per batch.</param>
    public static double[] OutputGradientScale(EmpiricalRisk risk, Tensor inputs, Tensor? labels = null, int batchSize = 1024, CancellationToken cancellationToken = default)
    {
        ReinforcingLoss.CheckRisk(risk);
        Guard.Positive(batchSize, nameof(batchSize), "Pass at least 1, e.g. 1024.");
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var x = ReinforcingLoss.PrepareInputs(risk, inputs, nameof(inputs));
        var n = x.shape[0];
        var y = ReinforcingLoss.PrepareLabels(risk, labels, n, ReinforcingLoss.ClassCount(risk, x), nameof(labels));
        var result = new double[n];
        for (long start = 0; start < n; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var batch = NewDisposeScope();
            var b = Math.Min(batchSize, n - start);
            Tensor output;
            using (no_grad())
                output = risk.Forward(x.narrow(0, start, b));
            ReinforcingLoss.CheckOutput(output, b);
            var z = output.detach().requires_grad_(true);
            var targets = ReinforcingLoss.Targets(z, y?.narrow(0, start, b));
            var losses = ReinforcingLoss.PerSample(risk, z, targets);
            var delta = torch.autograd.grad([losses.sum()], [z])[0];
            delta.abs().amax([1L]).to(ScalarType.Float64).cpu().data<double>().CopyTo(result.AsSpan((int)start, (int)b));
        }
        return result;
    }

    private static AlignmentResult RandomAlignment(ISampleGeometry geometry, EmpiricalRisk risk, EpsilonBaseline epsilon, AlignmentOptions options, CancellationToken ct)
    {
        // The same directions as BoundaryComplexityMeasure.RandomBaseline draws for this seed (in the caller's scope,
        // which also holds the result's alignment).
        using var random = RandomVectors.Gaussian(risk.Dimension, epsilon.Directions, RandomVectors.CreateGenerator(epsilon.Seed), ScalarType.Float64, risk.Device);
        return geometry.Alignment(random, options, explicitGradients: false, ct);
    }

    private static SaturationLevel Level(string precision, double u, double[] scale, AlignmentResult alignment, AlignmentResult? random, long p, EpsilonBaseline epsilon)
    {
        var kept = Enumerable.Range(0, scale.Length).Where(j => !(scale[j] < u)).ToArray();
        var saturated = scale.Length - kept.Length;
        var largestSaturatedNorm = Enumerable.Range(0, scale.Length).Where(j => scale[j] < u).Select(j => alignment.GradientNorms[j]).DefaultIfEmpty(0).Max();
        if (kept.Length == 0)
            return new SaturationLevel(precision, u, saturated, largestSaturatedNorm, 0, 0, 0, 0, 0, double.NaN, double.NaN);
        using var scope = NewDisposeScope();
        var rows = tensor(kept.Select(j => (long)j).ToArray(), dtype: ScalarType.Int64);
        var (mean, max) = Statistics(alignment.Alignment, rows);
        var (epsMean, epsMax) = random is null
            ? (epsilon.MeanVariant, epsilon.MaxVariant)
            : Baseline(random.Alignment, rows);
        var countMean = mean.Count(m => m > epsMean);
        var countMax = max.Count(m => m > epsMax);
        return new SaturationLevel(precision, u, saturated, largestSaturatedNorm, kept.Length, countMean, countMax,
            (double)countMean / p, (double)countMax / p, epsMean, epsMax);
    }

    private static (double[] Mean, double[] Max) Statistics(Tensor alignment, Tensor rows)
    {
        var a = alignment.to(ScalarType.Float64).cpu().index_select(0, rows).abs();
        return (a.mean([0L]).data<double>().ToArray(), a.amax([0L]).data<double>().ToArray());
    }

    private static (double Mean, double Max) Baseline(Tensor randomAlignment, Tensor rows)
    {
        var (mean, max) = Statistics(randomAlignment, rows);
        return (mean.Average(), max.Average());
    }
}
