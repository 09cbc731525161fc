using System.Globalization;

namespace HessianGeometry.Operators.Engines;

/// <summary>
/// How informative the Monte-Carlo Fisher's label draws were (cross-entropy). For an input predicted with probability
/// 1 − ε, a draw of the predicted class contributes an outer product of size ~ε², a draw of another class (probability ε)
/// one of size ~1, and those rare draws carry almost all of E[g gᵀ] = Λ. With m = k·Σ_i ε_i such draws expected over
/// the data, the estimate's relative error is about 1/√m; at a confident minimum m can be far below 1, and then the
/// eigenvalues and traces of one draw are typically far below their expectation, the GGN (for cross-entropy the exact
/// Fisher).
/// </summary>
/// <param name="Draws">n·k labels drawn.</param>
/// <param name="ExpectedInformativeDraws">m = k·Σ_i (1 − max_c p_ic): draws expected outside each input's predicted class.</param>
/// <param name="InformativeDraws">Draws that landed outside the predicted class in this run (seeded).</param>
public sealed record MonteCarloDraws(long Draws, double ExpectedInformativeDraws, long InformativeDraws)
{
    /// <summary>Below this many expected informative draws (relative error ≳ 1/√10 ≈ 0.3) the report warns.</summary>
    public const double MinimumExpectedInformativeDraws = 10;

    /// <summary>True when the estimate rests on fewer than <see cref="MinimumExpectedInformativeDraws"/> expected informative draws.</summary>
    public bool TooFewInformativeDraws => ExpectedInformativeDraws < MinimumExpectedInformativeDraws;

    /// <summary>The warning line for the report, or null when the draws suffice.</summary>
    public string? Warning(int samplesPerInput) => !TooFewInformativeDraws ? null : string.Create(CultureInfo.InvariantCulture,
        $"Monte-Carlo Fisher: of {Draws} label draws only {ExpectedInformativeDraws:G3} are expected outside the inputs' predicted classes ({InformativeDraws} were), " +
        $"and those rare draws carry almost all of the Fisher at a point the model fits this confidently, so its eigenvalues and traces are typically far below their expectation, the GGN " +
        $"(relative error about 1/√{ExpectedInformativeDraws:G2}). Raise fisherSamples (now {samplesPerInput}; CLI --fisher-samples) to about " +
        $"{Math.Ceiling(samplesPerInput * MinimumExpectedInformativeDraws / Math.Max(ExpectedInformativeDraws, 1e-300)):G3}, or use the GGN (CurvatureKind.Ggn, CLI --curvature ggn), which is the exact Fisher for cross-entropy.");
}
