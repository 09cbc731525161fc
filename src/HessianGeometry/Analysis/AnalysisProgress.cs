namespace HessianGeometry.Analysis;

/// <summary>Progress of <c>AnalyzeMinimum()</c>: which stage runs, and how far along the whole analysis is.</summary>
/// <param name="Stage">Stage name (loss, exact-hessian, eigenpairs, bottom-eigenpairs, trace, density, alignment, complexity, margin).</param>
/// <param name="StageIndex">0-based index of the stage.</param>
/// <param name="StageCount">Number of stages in this analysis.</param>
/// <param name="Message">A human-readable line.</param>
public sealed record AnalysisProgress(string Stage, int StageIndex, int StageCount, string Message)
{
    /// <summary>Fraction of stages started, in [0, 1].</summary>
    public double Fraction => StageCount == 0 ? 1 : (double)StageIndex / StageCount;
}
