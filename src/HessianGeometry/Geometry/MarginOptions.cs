namespace HessianGeometry.Geometry;

/// <summary>
/// Options of <see cref="MarginEstimator"/>: how the boundary point x_b with g(x_b) ∥ v is found. The default is a
/// faster-converging variant of the paper's procedure (Adam on sin² with a plateau schedule, early stopping, several
/// seeded restarts from the midpoint of x_t^max and x_t^min); <see cref="PaperPreset"/> reproduces the paper's settings.
/// </summary>
public sealed record MarginOptions
{
    /// <summary>
    /// The procedure of Sabanayagam et al. (2025), "Unveiling the Hessian's Connection to the Decision Boundary": SGD with
    /// learning rate 0.01 and weight decay 1e-3 on (c² − 1)² for 20,000 steps, learning rate × 0.1 once after 5,000 steps,
    /// one start at x ~ N(0, I), no early stopping.
    /// </summary>
    public static MarginOptions PaperPreset { get; } = new()
    {
        Optimizer = MarginOptimizer.Sgd,
        Objective = MarginObjective.Paper,
        LearningRate = 0.01,
        WeightDecay = 1e-3,
        MaxSteps = 20_000,
        LearningRateDecayStep = 5_000,
        LearningRateDecayFactor = 0.1,
        EarlyStopping = false,
        Start = MarginStart.StandardNormal,
        Restarts = 1,
    };

    /// <summary>The optimiser (default Adam).</summary>
    public MarginOptimizer Optimizer { get; init; } = MarginOptimizer.Adam;

    /// <summary>The function of c² that is descended (default <see cref="MarginObjective.SineSquared"/>).</summary>
    public MarginObjective Objective { get; init; } = MarginObjective.SineSquared;

    /// <summary>Initial learning rate, in input units (default 0.05, for inputs of order one; the paper uses 0.01 with SGD).</summary>
    public double LearningRate { get; init; } = 0.05;

    /// <summary>L2 weight decay on x (the paper uses 1e-3; default 0, which leaves the optimum unbiased).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Most optimisation steps per restart (default 5,000).</summary>
    public int MaxSteps { get; init; } = 5_000;

    /// <summary>When set, the learning rate is multiplied by <see cref="LearningRateDecayFactor"/> once, at this step (the paper: 5,000).</summary>
    public int? LearningRateDecayStep { get; init; }

    /// <summary>Factor of the one-time decay (default 0.1).</summary>
    public double LearningRateDecayFactor { get; init; } = 0.1;

    /// <summary>
    /// Stop a restart when the descended objective is below <see cref="ObjectiveTolerance"/>, and halve the learning rate
    /// when the best objective has not improved by a relative 1e-3 for <see cref="Patience"/> steps, stopping once it has
    /// fallen below <see cref="MinLearningRateRatio"/> × the initial rate (default true).
    /// </summary>
    public bool EarlyStopping { get; init; } = true;

    /// <summary>Early stopping: stop when the descended objective is at or below this (default 1e-14: for sin², an angle of 1e-7 between g(x) and v).</summary>
    public double ObjectiveTolerance { get; init; } = 1e-14;

    /// <summary>Early stopping: steps without improvement before the learning rate is halved (default 50).</summary>
    public int Patience { get; init; } = 50;

    /// <summary>Early stopping: stop once the learning rate is below this fraction of its initial value (default 1e-4).</summary>
    public double MinLearningRateRatio { get; init; } = 1e-4;

    /// <summary>Where each restart starts (default <see cref="MarginStart.Midpoint"/>).</summary>
    public MarginStart Start { get; init; } = MarginStart.Midpoint;

    /// <summary>
    /// With <see cref="MarginStart.Midpoint"/>, restarts after the first add Gaussian noise of standard deviation
    /// StartSpread · ‖x_t^max − x_t^min‖ / √d per coordinate to the midpoint (default 0.25).
    /// </summary>
    public double StartSpread { get; init; } = 0.25;

    /// <summary>Number of optimisation runs; the one with the lowest objective wins (default 3).</summary>
    public int Restarts { get; init; } = 3;

    /// <summary>Seeds the start points (restart r uses seed Seed + r).</summary>
    public long Seed { get; init; }

    /// <summary>Which column of the alignment the eigenvector is (default 0, the top eigenvector v_1).</summary>
    public int EigenvectorIndex { get; init; }

    /// <summary>Bisection steps for the class change between x_t^max and x_t^min (default 60: the segment shrinks by 2⁻⁶⁰).</summary>
    public int BisectionSteps { get; init; } = 60;
}
