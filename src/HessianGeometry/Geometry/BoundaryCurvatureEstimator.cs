using HessianGeometry.Internal;
using HessianGeometry.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace HessianGeometry.Geometry;

/// <summary>
/// Principal curvatures of the decision boundary between classes a and b, the level set {x : s(x) = 0} of the logit
/// gap s = z_a − z_b, at points on it: with g = ∇s, n = g/‖g‖, H = ∇²s (the input Hessian, by double backward) and Q
/// an orthonormal basis of the tangent space n⊥, the shape operator is −Qᵀ H Q / ‖g‖ and its eigenvalues are the
/// principal curvatures κ_i; the mean curvature is their average.
/// </summary>
/// <remarks>
/// Sign: the normal n points into class a's side (s &gt; 0). κ &gt; 0 means the boundary bends towards a's side, i.e. a's
/// region is locally convex: for z_a = r² − ‖x − c‖², z_b = 0 (a's region the ball of radius r) every κ_i = +1/r.
/// Method: for d ≤ <see cref="SampleMarginOptions.DenseCurvatureMaxDimension"/> the dense H comes from d batched
/// backward passes of the gradient (one per input coordinate, all points at once, since samples are independent),
/// Q from the Householder reflector that maps n to e₁, and all d − 1 curvatures from a symmetric eigensolve. Above
/// it, Lanczos with full reorthogonalisation on the operator v ↦ −P H P v / ‖g‖ (P = I − n nᵀ) started in n⊥ gives
/// the extremal curvatures (Ritz values whose residual bound is below 1e-8 of the largest), and the mean comes from
/// the exact trace tr(H) − nᵀ H n (d + 1 Hessian-vector products).
/// </remarks>
public static class BoundaryCurvatureEstimator
{
    /// <summary>The curvature at each row of <paramref name="points"/> [m, ...], of the boundary between classA[i] and classB[i].</summary>
    /// <param name="risk">The risk whose model is measured (analysis dtype).</param>
    /// <param name="points">Points on the boundary, [m, ...] (any input shape).</param>
    /// <param name="classA">The class whose side is positive, one per point.</param>
    /// <param name="classB">The other class, one per point.</param>
    /// <param name="options">Dense/Lanczos threshold, Lanczos steps and seed.</param>
    /// <param name="cancellationToken">Checked once per backward pass.</param>
    public static BoundaryCurvature[] Compute(EmpiricalRisk risk, Tensor points, int[] classA, int[] classB, SampleMarginOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        Guard.NotNull(risk, nameof(risk));
        options = SampleMarginEstimator.CheckOptions(options);
        Guard.NotNull(classA, nameof(classA));
        Guard.NotNull(classB, nameof(classB));
        Guard.Valid(points, nameof(points));
        if (!points.is_floating_point())
            throw new ArgumentException($"Boundary curvature is taken in input space and needs floating-point inputs, but the points are {points.dtype}.", nameof(points));
        using var scope = NewDisposeScope();
        var x = ReinforcingLoss.PrepareInputs(risk, points, nameof(points));
        var m = (int)x.shape[0];
        if (classA.Length != m || classB.Length != m)
            throw new ArgumentException($"Pass one class pair per point: {m} points but {classA.Length} and {classB.Length} classes.", nameof(classA));
        var classes = SampleMarginEstimator.ClassCount(risk, x, nameof(points));
        for (var i = 0; i < m; i++)
        {
            if (classA[i] < 0 || classA[i] >= classes || classB[i] < 0 || classB[i] >= classes || classA[i] == classB[i])
                throw new ArgumentOutOfRangeException(nameof(classA), $"Point {i} has the class pair ({classA[i]}, {classB[i]}), but a boundary needs two different classes in [0, {classes - 1}].");
        }
        var d = x[0].numel();
        if (d <= options.DenseCurvatureMaxDimension)
            return Dense(risk, x, classA, classB, cancellationToken);
        var result = new BoundaryCurvature[m];
        for (var i = 0; i < m; i++)
            result[i] = Lanczos(risk, x.narrow(0, i, 1), classA[i], classB[i], options, cancellationToken);
        return result;
    }

    /// <summary>s_i = z_{a_i}(x_i) − z_{b_i}(x_i) for every row, with its graph to <paramref name="leaf"/>.</summary>
    private static Tensor Gaps(EmpiricalRisk risk, Tensor leaf, int[] a, int[] b)
    {
        var z = risk.Forward(leaf);
        ReinforcingLoss.CheckOutput(z, leaf.shape[0]);
        using var ia = tensor(a.Select(v => (long)v).ToArray(), device: z.device);
        using var ib = tensor(b.Select(v => (long)v).ToArray(), device: z.device);
        return z.gather(1, ia.view(-1, 1)).squeeze(1) - z.gather(1, ib.view(-1, 1)).squeeze(1);
    }

    /// <summary>g_i = ∇s_i with create_graph, flattened [m, d]; null when s does not depend on the input.</summary>
    private static Tensor? FirstGradient(Tensor s, Tensor leaf)
    {
        if (!s.requires_grad)
            return null;
        var g = torch.autograd.grad([s.sum()], [leaf], retain_graph: true, create_graph: true, allow_unused: true);
        return g[0] is null || g[0].IsInvalid ? null : g[0].reshape(leaf.shape[0], -1);
    }

    /// <summary>
    /// v ↦ H_i v_i for every row at once: ∂(Σ_i g_i·v_i)/∂x. Zero when g carries no graph (the gap is affine in x).
    /// </summary>
    private static Tensor HessianTimes(Tensor? g, Tensor leaf, Tensor v)
    {
        var m = leaf.shape[0];
        if (g is null || !g.requires_grad)
            return zeros_like(v);
        var h = torch.autograd.grad([(g * v).sum()], [leaf], retain_graph: true, allow_unused: true);
        return h[0] is null || h[0].IsInvalid ? zeros_like(v) : h[0].reshape(m, -1).detach();
    }

    private static BoundaryCurvature[] Dense(EmpiricalRisk risk, Tensor x, int[] a, int[] b, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var m = x.shape[0];
        var leaf = x.detach().requires_grad_(true);
        var s = Gaps(risk, leaf, a, b);
        var g = FirstGradient(s, leaf);
        var d = x[0].numel();
        var gd = g is null ? zeros(m, d, dtype: x.dtype, device: x.device) : g.detach();
        var rows = new Tensor[d];
        for (var j = 0; j < d; j++)
        {
            ct.ThrowIfCancellationRequested();
            using var e = zeros(m, d, dtype: x.dtype, device: x.device);
            e.select(1, j).fill_(1);
            rows[j] = HessianTimes(g, leaf, e);
        }
        var h = stack(rows, 1).to(ScalarType.Float64); // [m, d, d], row j = H e_j
        h = (h + h.transpose(1, 2)).DividedBy(2);
        var gradient64 = gd.to(ScalarType.Float64);
        var norms = gradient64.norm(1, false).cpu().data<double>().ToArray();
        var zeroHessian = h.abs().amax([1L, 2L]).eq(0).cpu().data<bool>().ToArray();
        var result = new BoundaryCurvature[m];
        for (var i = 0; i < m; i++)
            result[i] = FromDense(h[i], gradient64[i], norms[i], [a[i], b[i]], zeroHessian[i]);
        return result;
    }

    private static BoundaryCurvature FromDense(Tensor h, Tensor g, double norm, int[] classes, bool zeroHessian)
    {
        using var scope = NewDisposeScope();
        var d = g.shape[0];
        if (!(norm > 0) || !double.IsFinite(norm) || d < 2)
            return new BoundaryCurvature(d < 2 ? [] : Enumerable.Repeat(double.NaN, (int)d - 1).ToArray(), double.NaN, norm, classes, "dense", zeroHessian);
        var q = TangentBasis(g.DividedBy(norm));
        var shape = q.t().matmul(h).matmul(q).DividedBy(-norm);
        shape = (shape + shape.t()).DividedBy(2);
        var kappa = linalg.eigvalsh(shape).cpu().data<double>().Reverse().ToArray();
        return new BoundaryCurvature(kappa, kappa.Average(), norm, classes, "dense", zeroHessian);
    }

    /// <summary>Columns 2..d of the Householder reflector I − 2 u uᵀ/‖u‖², u = n + sign(n₀) e₀, which maps n to ∓e₀: an orthonormal basis of n⊥.</summary>
    internal static Tensor TangentBasis(Tensor n)
    {
        var d = n.shape[0];
        var u = n.clone();
        var first = n[0].item<double>();
        u[0] = u[0] + (first >= 0 ? 1.0 : -1.0);
        var reflector = eye(d, dtype: n.dtype, device: n.device) - outer(u, u).Times(2 / u.dot(u).item<double>());
        return reflector.narrow(1, 1, d - 1);
    }

    private static BoundaryCurvature Lanczos(EmpiricalRisk risk, Tensor x, int a, int b, SampleMarginOptions options, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var leaf = x.detach().requires_grad_(true);
        var s = Gaps(risk, leaf, [a], [b]);
        var g = FirstGradient(s, leaf);
        var d = x.numel();
        int[] classes = [a, b];
        if (g is null)
            return new BoundaryCurvature(Enumerable.Repeat(double.NaN, Math.Min(options.LanczosSteps, (int)d - 1)).ToArray(), double.NaN, 0, classes, "lanczos", true);
        var g64 = g.detach().reshape(-1).to(ScalarType.Float64);
        var norm = g64.norm().item<double>();
        if (!(norm > 0) || !double.IsFinite(norm))
            return new BoundaryCurvature([], double.NaN, norm, classes, "lanczos", false);
        var n = g64.DividedBy(norm);
        Tensor Project(Tensor v) => v - n * n.dot(v);
        Tensor Apply(Tensor v)
        {
            ct.ThrowIfCancellationRequested();
            var hv = HessianTimes(g, leaf, Project(v).to(x.dtype).reshape(1, -1)).reshape(-1).to(ScalarType.Float64);
            return Project(hv).DividedBy(-norm);
        }

        // Lanczos with full reorthogonalisation, started in n⊥.
        var steps = (int)Math.Min(options.LanczosSteps, d - 1);
        var generator = RandomVectors.CreateGenerator(options.Seed);
        var v0 = Project(RandomVectors.Gaussian(d, null, generator, ScalarType.Float64, x.device).reshape(-1));
        var basis = new List<Tensor> { v0.DividedBy(v0.norm().item<double>()) };
        var alpha = new List<double>();
        var beta = new List<double>();
        var anyNonZero = false;
        for (var j = 0; j < steps; j++)
        {
            using var stepScope = NewDisposeScope();
            var w = Apply(basis[j]);
            anyNonZero |= w.abs().max().item<double>() > 0;
            alpha.Add(w.dot(basis[j]).item<double>());
            foreach (var q in basis)
                w = w - q * q.dot(w);
            w = Project(w);
            var bj = w.norm().item<double>();
            if (j == steps - 1 || !(bj > 1e-12 * Math.Max(1, Math.Abs(alpha[j]))))
            {
                beta.Add(bj);
                break;
            }
            beta.Add(bj);
            basis.Add(w.DividedBy(bj).MoveToOuterDisposeScope());
        }
        var k = alpha.Count;
        var t = zeros(k, k, dtype: ScalarType.Float64);
        for (var i = 0; i < k; i++)
        {
            t[i, i] = alpha[i];
            if (i + 1 < k)
            {
                t[i, i + 1] = beta[i];
                t[i + 1, i] = beta[i];
            }
        }
        var (theta, y) = linalg.eigh(t);
        var values = theta.data<double>().ToArray();
        var lastRow = y[k - 1].data<double>().ToArray();
        var largest = values.Select(Math.Abs).DefaultIfEmpty(0).Max();
        var principal = values.Select((value, i) => (value, residual: Math.Abs(beta[k - 1] * lastRow[i])))
            .Where(p => p.residual <= 1e-8 * Math.Max(largest, double.Epsilon) || k == steps && steps == d - 1)
            .Select(p => p.value).OrderDescending().ToArray();
        var mean = MeanFromTrace(g, leaf, n, norm, d, ct);
        return new BoundaryCurvature(principal, mean, norm, classes, "lanczos", !anyNonZero && mean == 0);
    }

    /// <summary>−(tr H − nᵀ H n) / ((d − 1) ‖g‖), the diagonal of H from d Hessian-vector products with unit vectors.</summary>
    private static double MeanFromTrace(Tensor g, Tensor leaf, Tensor n, double norm, long d, CancellationToken ct)
    {
        var trace = 0.0;
        for (long j = 0; j < d; j++)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var e = zeros(1, d, dtype: leaf.dtype, device: leaf.device);
            e[0, j] = 1;
            trace += HessianTimes(g, leaf, e)[0, j].to(ScalarType.Float64).item<double>();
        }
        using var normalScope = NewDisposeScope();
        var hn = HessianTimes(g, leaf, n.to(leaf.dtype).reshape(1, -1)).reshape(-1).to(ScalarType.Float64);
        var normal = n.dot(hn).item<double>();
        return -(trace - normal) / ((d - 1) * norm);
    }
}
