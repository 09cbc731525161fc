using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// Hessian-vector products of a plain MLP by Pearlmutter's R-operator written out layer by layer, without autograd
/// (<see cref="HvpEngine.AnalyticMlp"/>). Created by <see cref="CurvatureEngineFactory"/> after a first product matched
/// double backward.
/// </summary>
internal sealed class AnalyticMlpHessianEngine(MlpCurvatureKernel kernel) : ICurvatureEngine
{
    public string Name => nameof(HvpEngine.AnalyticMlp);

    /// <summary>The layers, for the engine note.</summary>
    public string Describe() => kernel.Describe();

    public IBatchCurvature Prepare(RiskBatch batch) =>
        new Batch(kernel, kernel.Prepare(batch.Inputs, batch.Targets, batch.Scale));

    private sealed class Batch(MlpCurvatureKernel kernel, MlpBatchState state) : IBatchCurvature
    {
        public Tensor Product(Tensor vector, bool keep) => kernel.Product(state, vector);

        public void AddProductRows(Tensor rows, Tensor sum, bool keep) => kernel.AddProductRows(state, rows, sum);

        public IBatchCurvature Detach()
        {
            state.Detach();
            return this;
        }

        public void Dispose() => state.Dispose();
    }
}
