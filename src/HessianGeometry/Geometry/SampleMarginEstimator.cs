using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// Per-sample distances to the decision boundary: multi-class DeepFool (Moosavi-Dezfooli, Fawzi, Frossard 2016) on the
/// linearised logit gaps f_c(x) = z_c(x) − z_k(x) of every class c ≠ k (k the input's predicted class), then a
/// bisection on the segment from the input to the crossed point so that the result lies on the boundary.
/// </summary>
/// <remarks>
/// Step: with w_c = ∇f_c(x), l = argmin_{c≠k} |f_c| / ‖w_c‖ and r ← r + (|f_l| / ‖w_l‖²) w_l, the iterate is
/// x₀ + (1 + η) r (η the overshoot), repeated until the predicted class changes. For an affine classifier the first
/// step lands exactly on the nearest boundary (the complement of class k's region is the union of the half-spaces
/// f_c ≥ 0, and the distance to a union is the smallest distance to one of them), so the bisection returns the analytic
/// distance. The bisection then finds t with g(t) = z_k − max_{c≠k} z_c = 0 on x₀ + t (x_cross − x₀), alternating
/// bisection and false-position steps, until |g| ≤ tol · (1 + max_c |z_c|) (tol 1e-12 in float64, 1e-5 in float32).
/// All inputs of a batch move together: one forward pass and C input-gradient passes per iteration. The gradients
/// are per-sample because the model treats samples independently in eval mode (the risk refuses training mode).
/// </remarks>
public static class SampleMarginEstimator
{
    /// <summary>Finds, for every input, a point on the nearest decision boundary along DeepFool's path.</summary>
    /// <param name="risk">The empirical risk whose model and analysis dtype are used (the data are not).</param>
    /// <param name="inputs">Inputs x₀, [n, ...] of any shape after the first axis, floating point.</param>
    /// <param name="options">Budgets and tolerances (defaults: 50 DeepFool steps, overshoot 0.02, no distance limit).</param>
    /// <param name="cancellationToken">Checked once per DeepFool and bisection step.</param>
    public static SampleMargins Estimate(EmpiricalRisk risk, Tensor inputs, SampleMarginOptions? options = null, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(risk, nameof(risk));
        options = CheckOptions(options);
        Guard.Valid(inputs, nameof(inputs));
        if (!inputs.is_floating_point())
            throw new ArgumentException($"Per-sample margins are distances in input space and need floating-point inputs, but the inputs are {inputs.dtype} (e.g. token ids). Pass continuous inputs, or embed tokens first.", nameof(inputs));
        using var scope = NewDisposeScope();
        var x = ReinforcingLoss.PrepareInputs(risk, inputs, nameof(inputs));
        ClassCount(risk, x, nameof(inputs));
        var n = (int)x.shape[0];
        var tolerance = options.GapTolerance ?? (risk.DType == ScalarType.Float64 ? 1e-12 : 1e-5);
        var distances = new double[n];
        var classes = new int[n][];
        var status = new SampleMarginStatus[n];
        var points = new double[n][];
        var gaps = new double[n];
        var iterations = new int[n];
        for (var start = 0; start < n; start += options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            var length = Math.Min(options.BatchSize, n - start);
            var batch = new BatchResult(length);
            RunBatch(risk, x.narrow(0, start, length), options, tolerance, batch, cancellationToken);
            Array.Copy(batch.Distances, 0, distances, start, length);
            Array.Copy(batch.Classes, 0, classes, start, length);
            Array.Copy(batch.Status, 0, status, start, length);
            Array.Copy(batch.Points, 0, points, start, length);
            Array.Copy(batch.Gaps, 0, gaps, start, length);
            Array.Copy(batch.Iterations, 0, iterations, start, length);
        }
        return new SampleMargins(distances, classes, status, points, gaps, iterations, DistributionSummary.Of(distances));
    }

    private sealed class BatchResult(int m)
    {
        public double[] Distances { get; } = Enumerable.Repeat(double.NaN, m).ToArray();
        public int[][] Classes { get; } = new int[m][];
        public SampleMarginStatus[] Status { get; } = new SampleMarginStatus[m];
        public double[][] Points { get; } = new double[m][];
        public double[] Gaps { get; } = Enumerable.Repeat(double.NaN, m).ToArray();
        public int[] Iterations { get; } = new int[m];
    }

    private static void RunBatch(EmpiricalRisk risk, Tensor x0, SampleMarginOptions options, double tolerance, BatchResult result, CancellationToken ct)
    {
        var m = (int)x0.shape[0];
        var shape = x0.shape;
        var flat0 = x0.reshape(m, -1);
        var (z0, _) = Logits(risk, x0, withGraph: false);
        var k = z0.argmax(1);
        var own = k.cpu().data<long>().ToArray();
        var classCount = z0.shape[1];

        // 0 = searching, 1 = crossed, 2 = on the boundary already, 3 = failed (status says why).
        var state = new int[m];
        var (gap0, runnerUp0, scale0) = Gap(z0, k);
        for (var i = 0; i < m; i++)
        {
            result.Status[i] = SampleMarginStatus.NotCrossed;
            if (gap0[i] <= tolerance * scale0[i])
            {
                state[i] = 2;
                result.Status[i] = SampleMarginStatus.OnBoundary;
                result.Classes[i] = [(int)own[i], (int)runnerUp0[i]];
                result.Gaps[i] = Math.Abs(gap0[i]);
            }
        }

        var r = zeros_like(flat0);
        var current = flat0.clone();
        var crossed = flat0.clone();
        for (var iteration = 0; iteration <= options.MaxIterations && state.Contains(0); iteration++)
        {
            ct.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            var (z, leaf) = Logits(risk, current.reshape(shape), withGraph: true);
            var predicted = z.detach().argmax(1).cpu().data<long>().ToArray();
            var crossedNow = new List<long>();
            for (var i = 0; i < m; i++)
            {
                if (state[i] == 0 && predicted[i] != own[i])
                {
                    state[i] = 1;
                    crossedNow.Add(i);
                }
            }
            if (crossedNow.Count > 0)
            {
                using var rows = tensor(crossedNow.ToArray(), device: x0.device);
                crossed.index_copy_(0, rows, current.index_select(0, rows));
            }
            if (iteration == options.MaxIterations || !state.Contains(0))
                break;

            var ratio = full(new long[] { m, classCount }, double.PositiveInfinity, dtype: ScalarType.Float64, device: x0.device);
            Tensor? w = null, f = null;
            if (z.requires_grad)
            {
                var gradients = new Tensor[classCount];
                for (var c = 0; c < classCount; c++)
                {
                    var g = torch.autograd.grad([z.select(1, c).sum()], [leaf], retain_graph: c < classCount - 1, allow_unused: true);
                    gradients[c] = g[0] is null || g[0].IsInvalid ? zeros_like(flat0) : g[0].reshape(m, -1);
                }
                var jacobian = stack(gradients, 1); // [m, C, d]
                var ownGradient = jacobian.gather(1, k.view(m, 1, 1).expand(m, 1, jacobian.shape[2]));
                w = jacobian - ownGradient;
                var zd = z.detach();
                f = zd - zd.gather(1, k.view(m, 1));
                var norms = w.norm(2, true).squeeze(2).to(ScalarType.Float64);
                var candidate = f.abs().to(ScalarType.Float64) / norms;
                var usable = isfinite(candidate).logical_and(norms > 0);
                ratio = where(usable, candidate, ratio);
                ratio.masked_fill_(nn.functional.one_hot(k, classCount).to(ScalarType.Bool), double.PositiveInfinity);
            }
            var (best, l) = ratio.min(1);
            var bestValues = best.cpu().data<double>().ToArray();
            var active = new double[m];
            for (var i = 0; i < m; i++)
            {
                if (state[i] != 0)
                    continue;
                if (!double.IsFinite(bestValues[i]))
                {
                    state[i] = 3;
                    result.Status[i] = SampleMarginStatus.ZeroGradient;
                    continue;
                }
                active[i] = 1;
                result.Iterations[i]++;
            }
            if (w is null || f is null)
                continue;
            Tensor next;
            using (no_grad())
            {
                var wl = w.gather(1, l.view(m, 1, 1).expand(m, 1, w.shape[2])).squeeze(1);
                var fl = f.gather(1, l.view(m, 1)).squeeze(1).abs();
                var factor = fl / wl.square().sum(1).clamp_min(double.Epsilon);
                using var mask = tensor(active, dtype: r.dtype, device: r.device);
                r.add_(wl * (factor * mask).unsqueeze(1));
                next = (flat0 + r.Times(1 + options.Overshoot)).MoveToOuterDisposeScope();
            }
            current.Dispose();
            current = next;
            if (options.MaxDistance is { } span)
            {
                var far = (current - flat0).norm(1, false).to(ScalarType.Float64).cpu().data<double>().ToArray();
                for (var i = 0; i < m; i++)
                {
                    if (state[i] == 0 && far[i] > span)
                    {
                        state[i] = 3;
                        result.Status[i] = SampleMarginStatus.OutOfSpan;
                    }
                }
            }
        }

        Bisect(risk, flat0, crossed, shape, k, own, state, tolerance, options.BisectionSteps, result, ct);
        using var finalScope = NewDisposeScope();
        for (var i = 0; i < m; i++)
        {
            if (state[i] == 2)
                result.Points[i] = ToArray(flat0[i]);
            else if (state[i] is 0 or 3)
                result.Points[i] = ToArray(current[i]);
            result.Classes[i] ??= [(int)own[i], -1];
            if (result.Status[i] == SampleMarginStatus.OnBoundary)
                result.Distances[i] = Distance(result.Points[i], ToArray(flat0[i]));
        }
    }

    /// <summary>
    /// Finds t ∈ (0, 1] with g(t) = z_k − max_{c≠k} z_c = 0 on x₀ + t (x_cross − x₀) for every crossed input: g(0) &gt; 0
    /// and g(1) ≤ 0. Even steps bisect, odd steps take the false-position point (exact on an affine piece); the interval
    /// at least halves every two steps.
    /// </summary>
    private static void Bisect(EmpiricalRisk risk, Tensor flat0, Tensor crossed, long[] shape, Tensor k, long[] own, int[] state, double tolerance, int steps,
        BatchResult result, CancellationToken ct)
    {
        var rows = Enumerable.Range(0, state.Length).Where(i => state[i] == 1).ToArray();
        if (rows.Length == 0)
            return;
        using var scope = NewDisposeScope();
        using var index = tensor(rows.Select(i => (long)i).ToArray(), device: flat0.device);
        var start = flat0.index_select(0, index);
        var direction = crossed.index_select(0, index) - start;
        var kk = k.index_select(0, index);
        var count = rows.Length;
        var lo = new double[count];
        var hi = Enumerable.Repeat(1.0, count).ToArray();
        var gLo = Evaluate(risk, start, direction, lo, shape, kk).Gap;
        var (gHi, runnerHi, scaleHi) = Evaluate(risk, start, direction, hi, shape, kk);
        var done = new bool[count];
        var t = new double[count];
        var finalGap = new double[count];
        var finalRunner = new long[count];
        for (var j = 0; j < count; j++)
        {
            if (Math.Abs(gHi[j]) <= tolerance * scaleHi[j])
            {
                done[j] = true;
                t[j] = 1;
                finalGap[j] = gHi[j];
                finalRunner[j] = runnerHi[j];
            }
        }
        for (var s = 0; s < steps && done.Contains(false); s++)
        {
            ct.ThrowIfCancellationRequested();
            var probe = new double[count];
            for (var j = 0; j < count; j++)
            {
                var mid = 0.5 * (lo[j] + hi[j]);
                var secant = lo[j] + gLo[j] / (gLo[j] - gHi[j]) * (hi[j] - lo[j]);
                probe[j] = s % 2 == 1 && double.IsFinite(secant) && secant > lo[j] && secant < hi[j] ? secant : mid;
            }
            var (g, runner, scale) = Evaluate(risk, start, direction, probe, shape, kk);
            for (var j = 0; j < count; j++)
            {
                if (done[j])
                    continue;
                if (Math.Abs(g[j]) <= tolerance * scale[j])
                {
                    done[j] = true;
                    t[j] = probe[j];
                    finalGap[j] = g[j];
                    finalRunner[j] = runner[j];
                }
                else if (g[j] > 0)
                {
                    lo[j] = probe[j];
                    gLo[j] = g[j];
                }
                else
                {
                    hi[j] = probe[j];
                    gHi[j] = g[j];
                }
            }
        }
        using var tensorT = tensor(done.Select((d, j) => d ? t[j] : hi[j]).ToArray(), dtype: start.dtype, device: start.device);
        var points = start + direction * tensorT.unsqueeze(1);
        var final = Evaluate(risk, start, direction, done.Select((d, j) => d ? t[j] : hi[j]).ToArray(), shape, kk);
        for (var j = 0; j < count; j++)
        {
            var i = rows[j];
            result.Points[i] = ToArray(points[j]);
            var runnerUp = done[j] ? finalRunner[j] : final.RunnerUp[j];
            result.Classes[i] = [(int)own[i], (int)runnerUp];
            result.Gaps[i] = Math.Abs(done[j] ? finalGap[j] : final.Gap[j]);
            result.Status[i] = done[j] ? SampleMarginStatus.OnBoundary : SampleMarginStatus.ToleranceNotReached;
        }
    }

    private static (double[] Gap, long[] RunnerUp, double[] Scale) Evaluate(EmpiricalRisk risk, Tensor start, Tensor direction, double[] t, long[] shape, Tensor k)
    {
        using var scope = NewDisposeScope();
        using var tt = tensor(t, dtype: start.dtype, device: start.device);
        var points = start + direction * tt.unsqueeze(1);
        var rowShape = shape.ToArray();
        rowShape[0] = points.shape[0];
        var (z, _) = Logits(risk, points.reshape(rowShape), withGraph: false);
        return Gap(z, k);
    }

    /// <summary>g = z_k − max_{c≠k} z_c, the runner-up class, and the logit scale 1 + max_c |z_c|, per row.</summary>
    internal static (double[] Gap, long[] RunnerUp, double[] Scale) Gap(Tensor z, Tensor k)
    {
        using var scope = NewDisposeScope();
        var m = z.shape[0];
        var zd = z.detach().to(ScalarType.Float64);
        var own = zd.gather(1, k.view(m, 1)).squeeze(1);
        var others = zd.masked_fill(nn.functional.one_hot(k, zd.shape[1]).to(ScalarType.Bool), double.NegativeInfinity);
        var (runnerValue, runner) = others.max(1);
        var gap = (own - runnerValue).cpu().data<double>().ToArray();
        var scale = zd.abs().amax([1L]).cpu().data<double>().Select(v => 1 + v).ToArray();
        return (gap, runner.cpu().data<long>().ToArray(), scale);
    }

    private static (Tensor Logits, Tensor Leaf) Logits(EmpiricalRisk risk, Tensor x, bool withGraph)
    {
        if (!withGraph)
        {
            using var _ = no_grad();
            var z = risk.Forward(x.detach());
            ReinforcingLoss.CheckOutput(z, x.shape[0]);
            return (z, x);
        }
        using var grad = enable_grad();
        var leaf = x.detach().requires_grad_(true);
        var output = risk.Forward(leaf);
        ReinforcingLoss.CheckOutput(output, x.shape[0]);
        return (output, leaf);
    }

    /// <summary>
    /// C from one forward pass without gradients (a shape error there is a catchable native error; inside autograd
    /// it would not be), turned into an exception that names the inputs.
    /// </summary>
    internal static long ClassCount(EmpiricalRisk risk, Tensor preparedInputs, string name)
    {
        try
        {
            return ReinforcingLoss.ClassCount(risk, preparedInputs);
        }
        catch (System.Runtime.InteropServices.ExternalException ex)
        {
            throw new ArgumentException(
                $"The model cannot run on {name} of shape {Guard.Shape(preparedInputs)}: {ex.Message.Split('\n')[0]} Pass inputs shaped like the model's training inputs, samples along the first axis.", name, ex);
        }
    }

    internal static SampleMarginOptions CheckOptions(SampleMarginOptions? options)
    {
        options ??= new SampleMarginOptions();
        Guard.Positive(options.MaxIterations, "SampleMarginOptions.MaxIterations", "Pass e.g. 50.");
        Guard.NonNegative(options.Overshoot, "SampleMarginOptions.Overshoot");
        Guard.Finite(options.Overshoot, "SampleMarginOptions.Overshoot", "Pass e.g. 0.02.");
        if (options.MaxDistance is { } span)
            Guard.Positive(span, "SampleMarginOptions.MaxDistance", "Pass a positive distance in input units, or null for no limit.");
        Guard.InRange(options.BisectionSteps, 1, 10_000, "SampleMarginOptions.BisectionSteps", "Pass e.g. 200.");
        if (options.GapTolerance is { } tol && !(tol > 0 && tol < 1))
            throw new ArgumentOutOfRangeException(nameof(options), tol, $"SampleMarginOptions.GapTolerance must lie in (0, 1) (relative to the logit scale) but was {tol}. Pass e.g. 1e-12, or null for the default.");
        Guard.Positive(options.BatchSize, "SampleMarginOptions.BatchSize", "Pass e.g. 256.");
        Guard.Positive(options.DenseCurvatureMaxDimension, "SampleMarginOptions.DenseCurvatureMaxDimension", "Pass e.g. 1024.");
        Guard.InRange(options.LanczosSteps, 2, 1000, "SampleMarginOptions.LanczosSteps", "Pass e.g. 40.");
        Guard.InRange(options.PieceSamples, 2, 10_000_000, "SampleMarginOptions.PieceSamples", "Pass e.g. 2048.");
        return options;
    }

    internal static double[] ToArray(Tensor t) => t.detach().to(ScalarType.Float64).cpu().contiguous().reshape(-1).data<double>().ToArray();

    internal static double Distance(double[] a, double[] b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
            sum += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(sum);
    }
}
