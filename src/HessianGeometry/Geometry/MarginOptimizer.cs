namespace HessianGeometry.Geometry;

/// <summary>The optimiser that moves the boundary point x_b in input space.</summary>
public enum MarginOptimizer
{
    /// <summary>Adam (Kingma and Ba 2015) with β = (0.9, 0.999): steps of about the learning rate whatever the gradient scale.</summary>
    Adam,

    /// <summary>Plain gradient descent with optional weight decay, as in the paper's procedure.</summary>
    Sgd,
}
