using HessianGeometry.Internal;
using static TorchSharp.torch;

namespace HessianGeometry.Landscapes;

/// <summary>
/// The coordinate system of a loss landscape: an origin θ₀ and one or two directions d_k, so that the grid point with
/// coordinates (c₁, c₂) is θ₀ + c₁ d₁ + c₂ d₂. Built by <see cref="EigenvectorDirections"/>,
/// <see cref="FilterNormalizedDirections"/>, <see cref="ModelInterpolation"/> or <see cref="TrajectoryPca"/>; evaluated by
/// <see cref="LossLandscape"/>. Vectors are float64, flat in <see cref="Operators.ParameterSpace"/> order.
/// </summary>
public sealed class LandscapeDirections : IDisposable
{
    private readonly Tensor[] vectors;
    private readonly Tensor? origin;
    private bool disposed;

    internal LandscapeDirections(LandscapeDirectionKind kind, string[] names, Tensor[] vectors, Tensor? origin,
        double[]? eigenvalues = null, LandscapeAnchor[]? anchors = null, double[]? filterNormalizedNorms = null,
        double[]? explainedVariance = null, string[]? notes = null, long? seed = null)
    {
        if (vectors.Length is < 1 or > 2 || names.Length != vectors.Length)
            throw new ArgumentException($"A landscape has one or two directions with one name each, but got {vectors.Length} directions and {names.Length} names.", nameof(vectors));
        Kind = kind;
        Names = names;
        this.vectors = vectors.Select(v => v.DetachFromDisposeScope()).ToArray();
        this.origin = origin?.DetachFromDisposeScope();
        Eigenvalues = eigenvalues;
        Anchors = anchors ?? [];
        FilterNormalizedNorms = filterNormalizedNorms;
        ExplainedVariance = explainedVariance;
        Notes = notes ?? [];
        Seed = seed;
    }

    /// <summary>How the directions were chosen.</summary>
    public LandscapeDirectionKind Kind { get; }

    /// <summary>One name per direction, e.g. "v1", "random 1", "A→B".</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The directions d_k, float64 [p] each (unit norm except for interpolation, where d = θ_B − θ_A).</summary>
    public IReadOnlyList<Tensor> Vectors
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return vectors;
        }
    }

    /// <summary>The origin θ₀ (float64 [p]); null means the risk's current parameters θ*.</summary>
    public Tensor? Origin => origin;

    /// <summary>Number of directions: 1 (a curve) or 2 (a surface).</summary>
    public int Count => vectors.Length;

    /// <summary>λ_k for eigenvector directions (null otherwise).</summary>
    public double[]? Eigenvalues { get; }

    /// <summary>Named points in these coordinates: the models of an interpolation or plane, the checkpoints of a trajectory.</summary>
    public IReadOnlyList<LandscapeAnchor> Anchors { get; }

    /// <summary>
    /// For filter-normalised directions, ‖d_k‖ before the rescaling to unit norm (the norm of the filters the direction
    /// moves): a distance α here is α / ‖d_k‖ in Li et al.'s units.
    /// </summary>
    public double[]? FilterNormalizedNorms { get; }

    /// <summary>For PCA directions, the fraction of the trajectory's squared deviation each direction explains.</summary>
    public double[]? ExplainedVariance { get; }

    /// <summary>What the reader should know about arbitrary choices (signs, degenerate eigenvalues, non-orthogonal random pairs).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>The seed of the random draw, for random directions.</summary>
    public long? Seed { get; }

    /// <summary>The grid coordinates, one array per axis, for these directions and <paramref name="options"/>.</summary>
    public double[][] Axes(LandscapeGridOptions options)
    {
        Guard.NotNull(options, nameof(options));
        LandscapeAxes.Validate(options);
        return Kind switch
        {
            LandscapeDirectionKind.Interpolation => [LandscapeAxes.Segment(options.Steps, options.Span)],
            LandscapeDirectionKind.Plane => LandscapeAxes.Box(Anchors.Select(a => a.Coordinates).ToList(), options.Steps, options.Span),
            LandscapeDirectionKind.TrajectoryPca => Enumerable.Range(0, Count)
                .Select(k => LandscapeAxes.Symmetric(options.Steps, Math.Max(options.Span, 1.25 * Anchors.Select(a => Math.Abs(a.Coordinates[k])).DefaultIfEmpty(0).Max())))
                .ToArray(),
            _ => Enumerable.Range(0, Count).Select(_ => LandscapeAxes.Symmetric(options.Steps, options.Span)).ToArray(),
        };
    }

    /// <summary>Frees the direction and origin tensors.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        foreach (var v in vectors)
            v.Dispose();
        origin?.Dispose();
    }
}
