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
        new MlpKernelBatch(kernel, kernel.Prepare(batch.Inputs, batch.Targets, batch.Scale));
}
