using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// The margin estimate of Sabanayagam, Behrens, Adomaityte, Dawid (2025), "Unveiling the Hessian's Connection to the
/// Decision Boundary". For an eigenvector v (default v_1): x_t^max and x_t^min are the inputs with the largest and
/// smallest signed alignment A(x); x_b is an input whose reinforcing gradient is parallel to v, found by minimising
/// ((g(x)·v)²/‖g(x)‖² − 1)² over x; the margin is min(‖x_t^max − x_b‖, ‖x_t^min − x_b‖).
/// </summary>
/// <remarks>
/// The objective contains g(x) = ∂ℓ/∂θ, so its gradient in x needs a double backward: g is built with
/// <c>create_graph</c> and <c>retain_graph</c> w.r.t. θ, then differentiated w.r.t. x. The optimiser (Adam or SGD) is
/// written out on tensors; each step runs in its own dispose scope, so memory does not grow with the step count.
/// Beyond the paper, the estimate reports the logit gap at x_b and the class change on the segment x_t^max → x_t^min
/// (by bisection), which check that x_b does lie on the boundary.
/// </remarks>
public static class MarginEstimator
{
    /// <summary>Estimates the margin along one eigenvector.</summary>
    /// <param name="risk">The empirical risk (forward passes and parameters in its analysis dtype).</param>
    /// <param name="inputs">The inputs the alignment was computed on, [n, ...], n ≥ 2.</param>
    /// <param name="alignment">Their alignment with the eigenvectors (from <see cref="AlignmentAnalyzer.Compute"/>).</param>
    /// <param name="eigenvector">v, shape [p] (or [p, 1]): column <see cref="MarginOptions.EigenvectorIndex"/> of the eigenvectors behind <paramref name="alignment"/>.</param>
    /// <param name="options">Optimiser settings (default: Adam with early stopping; <see cref="MarginOptions.PaperPreset"/> for the paper's).</param>
    /// <param name="cancellationToken">Checked once per optimisation step.</param>
    public static MarginEstimate Estimate(EmpiricalRisk risk, Tensor inputs, AlignmentResult alignment, Tensor eigenvector,
        MarginOptions? options = null, CancellationToken cancellationToken = default)
    {
        ReinforcingLoss.CheckRisk(risk);
        using var scope = NewDisposeScope();
        var x = ReinforcingLoss.PrepareInputs(risk, inputs, nameof(inputs));
        if (x.shape[0] < 2)
            throw new ArgumentException($"The margin needs at least two inputs (x_t^max and x_t^min) but got {x.shape[0]}.", nameof(inputs));
        return EstimateOn(risk, new LocalSampleGeometry(risk, x), alignment, eigenvector, options, cancellationToken);
    }

    /// <summary>
    /// <see cref="Estimate(EmpiricalRisk, Tensor, AlignmentResult, Tensor, MarginOptions?, CancellationToken)"/> with the
    /// inputs behind <paramref name="geometry"/>: only the two extreme inputs x_t^max and x_t^min are read from it (the
    /// alignment already holds every per-sample value the choice needs); the optimisation runs here on the model alone.
    /// </summary>
    internal static MarginEstimate EstimateOn(EmpiricalRisk risk, ISampleGeometry geometry, AlignmentResult alignment, Tensor eigenvector,
        MarginOptions? options, CancellationToken cancellationToken)
    {
        ReinforcingLoss.CheckRisk(risk);
        Guard.NotNull(alignment, nameof(alignment));
        Guard.Valid(alignment.Alignment, "alignment.Alignment");
        options ??= new MarginOptions();
        CheckOptions(options, alignment.EigenvectorCount);
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var n = geometry.InputCount;
        if (n < 2)
            throw new ArgumentException($"The margin needs at least two inputs (x_t^max and x_t^min) but got {n}.", nameof(geometry));
        if (alignment.InputCount != n)
            throw new ArgumentException($"The alignment covers {alignment.InputCount} inputs but {n} were passed. Pass the same inputs the alignment was computed on.", nameof(alignment));
        var v = PrepareEigenvector(risk, eigenvector);

        var column = alignment.Alignment.select(1, options.EigenvectorIndex).to(ScalarType.Float64).cpu().data<double>().ToArray();
        var maxIndex = ArgExtreme(column, largest: true);
        var minIndex = ArgExtreme(column, largest: false);
        var extremes = risk.PrepareInputs(geometry.InputRows([maxIndex, minIndex]));
        var xMax = extremes.narrow(0, 0, 1);
        var xMin = extremes.narrow(0, 1, 1);
        ReinforcingLoss.CheckOutput(ForwardNoGrad(risk, xMax), 1);

        Tensor? best = null;
        var bestCosineSquared = double.NegativeInfinity;
        var bestSteps = 0;
        for (var r = 0; r < options.Restarts; r++)
        {
            using var restartScope = NewDisposeScope();
            var start = StartPoint(xMax, xMin, options, r);
            var (point, cosineSquared, steps) = Optimise(risk, start, v, options, cancellationToken);
            if (cosineSquared > bestCosineSquared)
            {
                best?.Dispose();
                best = point.MoveToOuterDisposeScope();
                bestCosineSquared = cosineSquared;
                bestSteps = steps;
            }
        }

        var (finalCosineSquared, _) = Evaluate(risk, best!, v, MarginObjective.Paper);
        var optimised = ToArray(best!);
        // The optimiser stops near the boundary, not on it: finish with Newton steps on the logit gap.
        var projection = BoundaryProjection.Project(risk, best!);
        var boundary = projection.OnBoundary ? projection.Point : optimised;
        var boundaryTensor = projection.OnBoundary ? tensor(boundary, dtype: ScalarType.Float64).to(risk.DType).reshape(best!.shape) : best!;
        var (_, gaps) = ReinforcingLoss.Predictions(ForwardNoGrad(risk, boundaryTensor));
        var maxPoint = ToArray(xMax);
        var minPoint = ToArray(xMin);
        var margin = Math.Min(Distance(maxPoint, boundary), Distance(minPoint, boundary));
        var bisection = Bisect(risk, xMax, xMin, options.BisectionSteps);
        return new MarginEstimate(
            margin,
            boundary,
            maxPoint,
            minPoint,
            maxIndex,
            minIndex,
            Math.Sqrt(Math.Clamp(finalCosineSquared, 0, 1)),
            gaps.to(ScalarType.Float64).item<double>(),
            Math.Pow(finalCosineSquared - 1, 2),
            bestSteps,
            bisection,
            bisection is null ? null : Distance(bisection, boundary),
            optimised,
            projection.OnBoundary,
            projection.OnBoundary ? projection.Distance : null,
            projection.Classes);
    }

    /// <summary>
    /// One optimisation run from <paramref name="start"/>. Returns the best point seen (by c²), its c², and the number of
    /// update steps taken.
    /// </summary>
    private static (Tensor Point, double CosineSquared, int Steps) Optimise(EmpiricalRisk risk, Tensor start, Tensor v, MarginOptions options,
        CancellationToken cancellationToken)
    {
        var x = start.detach().clone();
        var best = x.clone();
        var bestCosineSquared = double.NegativeInfinity;
        var m = zeros_like(x);
        var s = zeros_like(x);
        var lr = options.LearningRate;
        var plateauBest = double.PositiveInfinity;
        var sinceImprovement = 0;
        var steps = 0;
        const double beta1 = 0.9, beta2 = 0.999, adamEpsilon = 1e-8;
        for (var t = 1; t <= options.MaxSteps; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // MultiStepLR semantics: after LearningRateDecayStep completed steps the rate is multiplied once.
            if (options.LearningRateDecayStep is { } decayStep && t - 1 == decayStep)
                lr *= options.LearningRateDecayFactor;
            using var step = NewDisposeScope();
            var (cosineSquared, objective, gradient) = EvaluateWithGradient(risk, x, v, options.Objective);
            if (cosineSquared > bestCosineSquared)
            {
                bestCosineSquared = cosineSquared;
                best.copy_(x);
            }
            if (options.EarlyStopping && objective <= options.ObjectiveTolerance)
                break;
            using (no_grad())
            {
                if (options.WeightDecay > 0)
                    gradient = gradient.PlusScaled(x, options.WeightDecay);
                if (options.Optimizer == MarginOptimizer.Sgd)
                {
                    x.AddScaledInPlace(gradient, -lr);
                }
                else
                {
                    m.TimesInPlace(beta1).AddScaledInPlace(gradient, 1 - beta1);
                    s.TimesInPlace(beta2).AddScaledInPlace(gradient.square(), 1 - beta2);
                    var mHat = m.DividedBy(1 - Math.Pow(beta1, t));
                    var sHat = s.DividedBy(1 - Math.Pow(beta2, t));
                    x.AddScaledInPlace(mHat / sHat.sqrt().AddInPlace(adamEpsilon), -lr);
                }
            }
            steps = t;
            if (options.EarlyStopping)
            {
                if (objective < plateauBest * (1 - 1e-3))
                {
                    plateauBest = objective;
                    sinceImprovement = 0;
                }
                else if (++sinceImprovement >= options.Patience)
                {
                    lr *= 0.5;
                    sinceImprovement = 0;
                    if (lr < options.MinLearningRateRatio * options.LearningRate)
                        break;
                }
            }
        }
        // The last update has not been evaluated yet.
        using (NewDisposeScope())
        {
            var (last, _) = Evaluate(risk, x, v, options.Objective);
            if (last > bestCosineSquared)
            {
                bestCosineSquared = last;
                best.copy_(x);
            }
        }
        return (best, bestCosineSquared, steps);
    }

    private static (double CosineSquared, double Objective, Tensor Gradient) EvaluateWithGradient(EmpiricalRisk risk, Tensor x, Tensor v, MarginObjective objective)
    {
        var leaf = x.detach().requires_grad_(true);
        var (cosineSquared, value) = CosineSquared(risk, leaf, v, differentiable: true);
        var descended = Descended(value, objective);
        Tensor gradient;
        if (descended.requires_grad)
        {
            var grads = torch.autograd.grad([descended], [leaf], allow_unused: true);
            gradient = grads[0] is null || grads[0].IsInvalid ? zeros_like(x) : grads[0];
        }
        else
        {
            gradient = zeros_like(x);
        }
        return (cosineSquared, descended.to(ScalarType.Float64).item<double>(), gradient.detach());
    }

    private static (double CosineSquared, double Objective) Evaluate(EmpiricalRisk risk, Tensor x, Tensor v, MarginObjective objective)
    {
        using var scope = NewDisposeScope();
        var (cosineSquared, value) = CosineSquared(risk, x.detach(), v, differentiable: false);
        return (cosineSquared, Descended(value, objective).to(ScalarType.Float64).item<double>());
    }

    /// <summary>
    /// c²(x) = ⟨g(x), v⟩² / ‖g(x)‖² for unit v. When <paramref name="differentiable"/>, g is built with create_graph so that
    /// the value carries its graph back to x (which must then require grad).
    /// </summary>
    private static (double CosineSquared, Tensor Value) CosineSquared(EmpiricalRisk risk, Tensor x, Tensor v, bool differentiable)
    {
        var output = risk.Forward(x);
        ReinforcingLoss.CheckOutput(output, 1);
        var loss = ReinforcingLoss.PerSample(risk, output, ReinforcingLoss.Targets(output, null)).sum();
        var g = ReinforcingLoss.FlatGradient(risk, loss, createGraph: differentiable);
        var tiny = risk.DType == ScalarType.Float32 ? 1e-30 : 1e-300;
        using var floor = tiny.ToScalar();
        var value = g.dot(v).square() / g.dot(g).clamp_min(floor);
        return (value.to(ScalarType.Float64).item<double>(), value);
    }

    private static Tensor Descended(Tensor cosineSquared, MarginObjective objective) => objective switch
    {
        MarginObjective.Paper => cosineSquared.Plus(-1).square(),
        _ => cosineSquared.neg().AddInPlace(1),
    };

    private static Tensor StartPoint(Tensor xMax, Tensor xMin, MarginOptions options, int restart)
    {
        var d = xMax.numel();
        var generator = RandomVectors.CreateGenerator(options.Seed + restart);
        if (options.Start == MarginStart.StandardNormal)
            return RandomVectors.Gaussian(d, null, generator, xMax.dtype, xMax.device).view(xMax.shape);
        var midpoint = (xMax + xMin).DividedBy(2);
        if (restart == 0)
            return midpoint;
        var scale = options.StartSpread * (xMax - xMin).to(ScalarType.Float64).norm().item<double>() / Math.Sqrt(d);
        return midpoint.PlusScaled(RandomVectors.Gaussian(d, null, generator, xMax.dtype, xMax.device).view(xMax.shape), scale);
    }

    /// <summary>The point where the predicted class changes on the segment from x_t^max to x_t^min, or null.</summary>
    private static double[]? Bisect(EmpiricalRisk risk, Tensor xMax, Tensor xMin, int steps)
    {
        using var scope = NewDisposeScope();
        var classAtMax = PredictedClass(risk, xMax);
        if (classAtMax == PredictedClass(risk, xMin))
            return null;
        double lo = 0, hi = 1;
        for (var i = 0; i < steps; i++)
        {
            using var step = NewDisposeScope();
            var mid = (lo + hi) / 2;
            if (PredictedClass(risk, xMax + mid * (xMin - xMax)) == classAtMax)
                lo = mid;
            else
                hi = mid;
        }
        return ToArray(xMax + (lo + hi) / 2 * (xMin - xMax));
    }

    private static long PredictedClass(EmpiricalRisk risk, Tensor x) => ForwardNoGrad(risk, x).argmax(1).item<long>();

    private static Tensor ForwardNoGrad(EmpiricalRisk risk, Tensor x)
    {
        using var _ = no_grad();
        return risk.Forward(x);
    }

    private static Tensor PrepareEigenvector(EmpiricalRisk risk, Tensor eigenvector)
    {
        Guard.Valid(eigenvector, nameof(eigenvector));
        var p = risk.Dimension;
        var column = eigenvector.dim() == 2 && eigenvector.shape[1] == 1 ? eigenvector.reshape(-1) : eigenvector;
        if (column.dim() != 1 || column.shape[0] != p)
            throw new ArgumentException($"eigenvector must have shape [{p}] (one entry per parameter) but has shape {Guard.Shape(eigenvector)}. Pass one column of the eigenvector matrix, e.g. vectors[.., 0].", nameof(eigenvector));
        var v = ReinforcingLoss.PrepareDirections(risk, column.unsqueeze(1), nameof(eigenvector)).squeeze(1);
        var norm = v.norm().to(ScalarType.Float64).item<double>();
        if (!(norm > 0))
            throw new ArgumentException("eigenvector is zero; pass a non-zero eigenvector.", nameof(eigenvector));
        return v.DividedBy(norm);
    }

    private static void CheckOptions(MarginOptions options, int eigenvectorCount)
    {
        Guard.Positive(options.LearningRate, "MarginOptions.LearningRate", "Pass e.g. 0.01.");
        Guard.NonNegative(options.WeightDecay, "MarginOptions.WeightDecay");
        Guard.Positive(options.MaxSteps, "MarginOptions.MaxSteps", "Pass e.g. 5000.");
        Guard.Positive(options.Restarts, "MarginOptions.Restarts", "Pass at least 1.");
        Guard.Positive(options.Patience, "MarginOptions.Patience", "Pass e.g. 50.");
        Guard.Positive(options.LearningRateDecayFactor, "MarginOptions.LearningRateDecayFactor", "Pass e.g. 0.1.");
        Guard.NonNegative(options.ObjectiveTolerance, "MarginOptions.ObjectiveTolerance");
        Guard.NonNegative(options.StartSpread, "MarginOptions.StartSpread");
        Guard.InRange(options.BisectionSteps, 0, 1000, "MarginOptions.BisectionSteps", "60 steps already resolve the segment to 2⁻⁶⁰ of its length.");
        if (!(options.MinLearningRateRatio > 0 && options.MinLearningRateRatio <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.MinLearningRateRatio, $"MarginOptions.MinLearningRateRatio must lie in (0, 1] but was {options.MinLearningRateRatio}. Pass e.g. 1e-4.");
        if (options.LearningRateDecayStep is { } decay)
            Guard.Positive(decay, "MarginOptions.LearningRateDecayStep", "Pass the step after which the rate decays, or null for none.");
        Guard.InRange(options.EigenvectorIndex, 0, eigenvectorCount - 1, "MarginOptions.EigenvectorIndex", $"The alignment has {eigenvectorCount} eigenvector column(s).");
    }

    private static int ArgExtreme(double[] values, bool largest)
    {
        var index = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (largest ? values[i] > values[index] : values[i] < values[index])
                index = i;
        }
        return index;
    }

    private static double[] ToArray(Tensor t) => t.detach().to(ScalarType.Float64).cpu().contiguous().reshape(-1).data<double>().ToArray();

    private static double Distance(double[] a, double[] b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
            sum += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(sum);
    }
}
