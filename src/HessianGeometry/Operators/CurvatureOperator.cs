using HessianGeometry.Internal;
using HessianGeometry.Operators.Engines;
using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>
/// A curvature matrix of an empirical risk as a symmetric linear operator: C v = Σ_batches C_B v, where the
/// <see cref="ICurvatureEngine"/> applies each batch's share and <see cref="EmpiricalRisk"/> supplies the batches with
/// their weights. With a cached graph the engine's per-batch quantities are built on the first product and kept, so each
/// further product skips the forward and first-order passes; streamed, every product rebuilds them one batch at a time
/// and memory stays bounded by one batch.
/// </summary>
public class CurvatureOperator : LinearOperator, IDisposable
{
    private readonly bool ownsRisk;
    private readonly string engineNote;
    private List<IBatchCurvature>? cache;
    private bool disposed;

    /// <summary>Combines a risk and an engine.</summary>
    /// <param name="risk">The empirical risk (not disposed by this operator unless <paramref name="ownsRisk"/>).</param>
    /// <param name="engine">The product engine.</param>
    /// <param name="graphMode">Cache per-batch quantities between products, or stream (Auto: cache for one batch).</param>
    /// <param name="engineNote">Why this engine, for reports (default: the engine's name).</param>
    /// <param name="ownsRisk">Dispose <paramref name="risk"/> with the operator.</param>
    public CurvatureOperator(EmpiricalRisk risk, ICurvatureEngine engine, HessianGraphMode graphMode = HessianGraphMode.Auto, string? engineNote = null, bool ownsRisk = false)
    {
        Guard.NotNull(risk, nameof(risk));
        Guard.NotNull(engine, nameof(engine));
        if (!Enum.IsDefined(graphMode))
            throw new ArgumentOutOfRangeException(nameof(graphMode), graphMode, "Use HessianGraphMode.Auto, Cached or Streamed.");
        Risk = risk;
        CurvatureEngine = engine;
        this.engineNote = engineNote ?? engine.Name;
        this.ownsRisk = ownsRisk;
        IsGraphCached = graphMode == HessianGraphMode.Cached || (graphMode == HessianGraphMode.Auto && risk.Data.IsSingleBatch);
    }

    /// <summary>The empirical risk: model, loss, data, parameter selection and precision.</summary>
    public EmpiricalRisk Risk { get; }

    /// <summary>The engine the products run on.</summary>
    public ICurvatureEngine CurvatureEngine { get; }

    /// <summary>
    /// Why <see cref="CurvatureEngine"/> was chosen; for a Jacobian-sandwich engine (generic GGN, Fisher) also whether its
    /// products have run by double-vjp or on a materialised Jacobian so far (read it after the analysis).
    /// </summary>
    public string EngineNote => CurvatureEngine is IJacobianSandwichEngine { Materialisation: { } ledger } && IsGraphCached
        ? $"{engineNote}; {ledger.Describe()}"
        : engineNote;

    /// <summary>True when each batch's product quantities (graph or forward quantities) are kept between products.</summary>
    public bool IsGraphCached { get; }

    /// <summary>The selected parameters θ, in flat-vector order.</summary>
    public ParameterSpace Parameters => Risk.Parameters;

    /// <inheritdoc />
    public override long Dimension => Risk.Dimension;

    /// <inheritdoc />
    public override ScalarType DType => Risk.DType;

    /// <inheritdoc />
    public override Device Device => Risk.Device;

    /// <summary>The mean loss L(θ) over the whole data set.</summary>
    public virtual double Loss()
    {
        ThrowIfDisposed();
        return Risk.Loss();
    }

    /// <summary>
    /// The mean loss and the accuracy over the whole data set (see <see cref="EmpiricalRisk.LossAndAccuracy"/>); an
    /// operator whose products run elsewhere (a cluster) computes them where its products run.
    /// </summary>
    public virtual (double Loss, double? Accuracy) LossAndAccuracy()
    {
        ThrowIfDisposed();
        return Risk.LossAndAccuracy();
    }

    /// <summary>The gradient ∇_θ L(θ) over the whole data set, flat [p].</summary>
    public virtual Tensor Gradient()
    {
        ThrowIfDisposed();
        return Risk.Gradient();
    }

    /// <summary>
    /// Checks that the curvature is a deterministic function of the parameters (curvlinops' <c>check_deterministic</c>):
    /// the risk's data, loss and gradient (<see cref="EmpiricalRisk.CheckDeterministic"/>), and a product with a seeded
    /// random vector, each evaluated twice. The two products count in <see cref="LinearOperator.ApplicationCount"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A quantity differs between the two evaluations; the message says which.</exception>
    public void CheckDeterministic()
    {
        ThrowIfDisposed();
        Risk.CheckDeterministic();
        using var scope = NewDisposeScope();
        var v = RandomVectors.Gaussian(Dimension, null, RandomVectors.CreateGenerator(0), DType, Device);
        DeterminismCheck.Compare(ProductName, DeterminismCheck.ToArray(Apply(v)), DeterminismCheck.ToArray(Apply(v)), DeterminismCheck.Tolerance(DType));
    }

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor vector)
    {
        Tensor? sum = null;
        ForEachBatch((batch, keep) =>
        {
            var product = batch.Product(vector, keep);
            sum = sum is null ? product.MoveToOuterDisposeScope() : sum.add_(product);
        });
        return sum!;
    }

    /// <inheritdoc />
    protected override Tensor ApplyBlockCore(Tensor block)
    {
        // Rows of the transposed block: one transpose each way instead of k strided column gathers and scatters.
        var rows = block.T.contiguous();
        var sums = zeros(block.shape[1], Dimension, dtype: DType, device: Device);
        ForEachBatch((batch, keep) => batch.AddProductRows(rows, sums, keep));
        return sums.T.contiguous();
    }

    /// <inheritdoc />
    protected override ArithmeticException NonFiniteProduct(Tensor input, long vectors)
    {
        var application = ApplicationCount;
        string? where;
        try
        {
            where = NonFiniteProductDiagnosis.Locate(Risk, CurvatureEngine, input);
        }
        catch (Exception ex) when (ex is System.Runtime.InteropServices.ExternalException or ArithmeticException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            where = null;
        }
        return where is null
            ? base.NonFiniteProduct(input, vectors)
            : new ArithmeticException($"The {ProductName} (operator application #{application}, {vectors} vector(s)) contains NaN or Inf: {where}");
    }

    /// <summary>"Hessian-vector product" for a Hessian engine, otherwise e.g. "GenericGgn curvature-vector product" (for messages).</summary>
    private string ProductName => CurvatureEngine is Engines.DoubleBackwardHessianEngine or Engines.AnalyticMlpHessianEngine
        ? "Hessian-vector product"
        : $"{CurvatureEngine.Name} curvature-vector product";

    /// <summary>Frees the cached batch quantities (and the risk when owned).</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the cached batch quantities and, when owned, the risk.</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (disposed)
            return;
        disposed = true;
        foreach (var batch in cache ?? [])
            batch.Dispose();
        cache = null;
        if (ownsRisk)
            Risk.Dispose();
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> once the operator is disposed.</summary>
    protected void ThrowIfDisposed()
    {
        if (disposed)
            throw new ObjectDisposedException(GetType().Name, $"This {GetType().Name} has been disposed: its cached graph and float64 twins are freed. Create a new operator, or dispose it only after the analysis.");
    }

    /// <summary>Runs <paramref name="body"/> on each batch's curvature, each in its own dispose scope.</summary>
    private void ForEachBatch(Action<IBatchCurvature, bool> body)
    {
        ThrowIfDisposed();
        // A parameter frozen after creation must fail the same way on every engine, before any native call.
        ModelChecks.Differentiable(Risk.AnalysisParameters);
        if (!IsGraphCached)
        {
            Risk.ForEachBatch(batch => body(CurvatureEngine.Prepare(batch), false));
            return;
        }
        if (cache is null)
        {
            var batches = new List<IBatchCurvature>();
            try
            {
                Risk.ForEachBatch(batch => batches.Add(CurvatureEngine.Prepare(batch).Detach()));
            }
            catch
            {
                foreach (var b in batches)
                    b.Dispose();
                throw;
            }
            cache = batches;
        }
        foreach (var batch in cache)
        {
            using var scope = NewDisposeScope();
            body(batch, true);
        }
    }
}
