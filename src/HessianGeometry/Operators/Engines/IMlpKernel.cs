using static TorchSharp.torch;

namespace HessianGeometry.Operators.Engines;

/// <summary>The products an analytic MLP kernel (Hessian or GGN) applies to one prepared batch.</summary>
internal interface IMlpKernel
{
    /// <summary>C_B v for one vector [p].</summary>
    Tensor Product(MlpBatchState state, Tensor vector);

    /// <summary>Adds C_B v_j to row j of <paramref name="sum"/> for the rows of <paramref name="rows"/>.</summary>
    void AddProductRows(MlpBatchState state, Tensor rows, Tensor sum);
}
