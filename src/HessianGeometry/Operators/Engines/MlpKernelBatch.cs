using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>One prepared batch of an analytic MLP engine: its forward state and the kernel that multiplies with it.</summary>
internal sealed class MlpKernelBatch(IMlpKernel kernel, MlpBatchState state) : IBatchCurvature
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
