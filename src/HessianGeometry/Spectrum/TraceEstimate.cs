namespace HessianGeometry.Spectrum;

/// <summary>A stochastic estimate of a trace with its error bar.</summary>
/// <param name="Method">"Hutchinson", "Hutchinson tr(A²)" or "Hutch++".</param>
/// <param name="Value">The estimate.</param>
/// <param name="StandardError">
/// s/√n, the sample standard deviation of the n independent samples the estimate averages, divided by √n. The interval
/// Value ± 2·SE covers the true trace in about 95% of runs (a little less for small n, where s is itself noisy).
/// </param>
/// <param name="Probes">n, the number of independent random samples the standard error is computed from.</param>
/// <param name="OperatorApplications">Vectors multiplied by the operator (Hessian-vector products for a Hessian).</param>
/// <param name="ReachedTarget">
/// True when the requested relative standard error was reached (for Hutch++, which spends a fixed budget: always true).
/// False when the probe budget ran out first; the value and its error bar are still valid, only wider than asked.
/// </param>
public sealed record TraceEstimate(string Method, double Value, double StandardError, int Probes, long OperatorApplications, bool ReachedTarget)
{
    /// <summary>SE/|Value| (infinite when the value is 0 and the error is not).</summary>
    public double RelativeStandardError => StandardError == 0 ? 0 : StandardError / Math.Abs(Value);
}
