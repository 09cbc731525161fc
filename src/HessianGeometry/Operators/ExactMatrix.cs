using static TorchSharp.torch;

namespace HessianGeometry.Operators;

/// <summary>A materialised curvature matrix and how it was built.</summary>
/// <param name="Matrix">The dense p×p matrix; the caller owns it.</param>
/// <param name="Build">Block products or the structural MLP build.</param>
/// <param name="Note">What was built and, for block products under <see cref="ExactHessianBuild.Auto"/>, why the structural build was not used.</param>
/// <param name="OperatorApplications">Products with the operator the build spent (p for block products, 1 for the structural build's check).</param>
public sealed record ExactMatrix(Tensor Matrix, ExactHessianBuild Build, string Note, long OperatorApplications);
