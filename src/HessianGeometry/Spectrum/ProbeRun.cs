namespace HessianGeometry.Spectrum;

/// <summary>The per-probe samples of one run of <see cref="RademacherProbeLoop"/> and how it ended.</summary>
/// <param name="TraceSamples">zᵀAz per probe (empty when not asked for).</param>
/// <param name="SquareSamples">‖Az‖² per probe (empty when not asked for).</param>
/// <param name="Applications">Operator applications spent.</param>
/// <param name="Probes">Probes drawn.</param>
/// <param name="Reached">Whether the relative standard-error target was met before the budget ran out.</param>
internal sealed record ProbeRun(List<double> TraceSamples, List<double> SquareSamples, long Applications, int Probes, bool Reached)
{
    /// <summary>The estimate (mean ± standard error) of <paramref name="samples"/>, with this run's cost and outcome.</summary>
    public TraceEstimate Estimate(string method, List<double> samples)
    {
        var (mean, se) = HessianGeometry.Spectrum.TraceSamples.MeanAndStandardError(samples);
        return new TraceEstimate(method, mean, se, samples.Count, Applications, Reached);
    }
}
