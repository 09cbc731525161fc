namespace HessianGeometry.Operators.Engines;

/// <summary>
/// An engine whose products are Jacobian sandwiches J_Bᵀ M_B J_B (<see cref="JacobianBatch"/>): it says whether its
/// cached batches switched to materialised Jacobians, so that the operator's engine note reports which path ran.
/// </summary>
internal interface IJacobianSandwichEngine
{
    /// <summary>The engine's materialisation ledger; null when it never materialises (the autograd reference).</summary>
    JacobianMaterialisation? Materialisation { get; }
}
