namespace HessianGeometry.Landscapes;

/// <summary>
/// A named point of the landscape's coordinate system: a model (interpolation and plane) or a checkpoint of a training
/// trajectory projected on the PCA directions. Loss and accuracy are filled in when the point itself was evaluated.
/// </summary>
/// <param name="Name">What the point is, e.g. "model A" or "checkpoint 3".</param>
/// <param name="Coordinates">Its coordinates, one per direction.</param>
/// <param name="Loss">The loss evaluated at exactly this point (null when not evaluated; a trajectory point off the plane is not).</param>
/// <param name="Accuracy">The accuracy there, for classification (null otherwise or when not evaluated).</param>
public sealed record LandscapeAnchor(string Name, double[] Coordinates, double? Loss = null, double? Accuracy = null);
