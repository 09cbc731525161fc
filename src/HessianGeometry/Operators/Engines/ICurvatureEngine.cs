namespace HessianGeometry.Operators.Engines;

/// <summary>
/// How a curvature matrix C (the Hessian today; a GGN or Fisher is another engine) is applied to vectors, one batch at a
/// time: <see cref="Prepare"/> computes what a batch's products share (a first-order graph, forward quantities), and the
/// returned <see cref="IBatchCurvature"/> applies that batch's share C_B of C = Σ_B C_B. A
/// <see cref="CurvatureOperator"/> sums the batch products and decides whether prepared batches are kept between
/// products (cached) or rebuilt for each (streamed); engines never iterate over data themselves.
/// </summary>
public interface ICurvatureEngine
{
    /// <summary>The engine's name as reports record it (e.g. DoubleBackward, AnalyticMlp).</summary>
    string Name { get; }

    /// <summary>The vector-independent quantities of one batch, in the caller's dispose scope.</summary>
    /// <param name="batch">A batch from <see cref="EmpiricalRisk.ForEachBatch(System.Func{RiskBatch, bool})"/>, already carrying its weight 1/n.</param>
    IBatchCurvature Prepare(RiskBatch batch);
}
