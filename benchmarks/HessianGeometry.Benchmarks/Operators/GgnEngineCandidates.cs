using HessianGeometry.Operators;
using HessianGeometry.Operators.Engines;

namespace HessianGeometry.Benchmarks.Operators;

/// <summary>
/// A GGN product engine the GGN suite measures: its name in the parameter column, whether it reads only plain MLPs, and
/// how it is created for an empirical risk (null engine with the reason when it cannot run the model).
/// </summary>
/// <param name="Name">Short name for the parameter column.</param>
/// <param name="MlpOnly">True for an engine that runs only on the MLP problems (not the TorchScript fixtures).</param>
/// <param name="TryCreate">Creates the engine, or returns a null engine and the reason.</param>
/// <param name="Reference">
/// For an engine of another matrix than the GGN (a Fisher): the engine its products are checked against before timing
/// (the same matrix by the other product path; both paths are tested against explicit per-sample references). Null: the
/// GGN reference, autograd's Jᵀ∇²ℓJ v.
/// </param>
public sealed record GgnEngineCandidate(string Name, bool MlpOnly, Func<EmpiricalRisk, (ICurvatureEngine? Engine, string Note)> TryCreate,
    Func<EmpiricalRisk, ICurvatureEngine>? Reference = null)
{
    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>
/// The GGN (and Fisher) engines <see cref="GgnBenchmarks"/> measures — the seam where another GGN engine joins the suite with one
/// line, no reflection: a generic engine (any module, J v by the double-vjp trick) is added with <c>MlpOnly: false</c>
/// and is then measured on every MLP problem and on the residual CNN and attention fixtures too.
/// </summary>
public static class GgnEngineCandidates
{
    /// <summary>Every GGN engine of this build.</summary>
    public static IReadOnlyList<GgnEngineCandidate> All { get; } =
    [
        new("analytic MLP", MlpOnly: true, risk => (AnalyticMlpGgnEngine.TryCreate(risk, out var note), note)),
        new("generic", MlpOnly: false, risk => (new GgnEngine(risk, null), "generic GGN (J v by the double-vjp trick)")),
        // Cached batches build J_B at once (no rent-or-buy wait), so a cached case times the materialised steady state.
        new("generic, materialised J", MlpOnly: false, risk => (new GgnEngine(risk, new JacobianMaterialisation { PayoffProducts = 0 }), "generic GGN (materialised Jacobian when cached)")),
        new("empirical Fisher", MlpOnly: false, risk => (new EmpiricalFisherEngine(risk, null), "empirical Fisher (double-vjp)"),
            risk => new EmpiricalFisherEngine(risk, new JacobianMaterialisation { PayoffProducts = 0 })),
        new("empirical Fisher, materialised J", MlpOnly: false, risk => (new EmpiricalFisherEngine(risk, new JacobianMaterialisation { PayoffProducts = 0 }), "empirical Fisher (materialised Jacobian when cached)"),
            risk => new EmpiricalFisherEngine(risk, null)),
        new("MC Fisher", MlpOnly: false, risk => (new MonteCarloFisherEngine(risk, 1, 0, null), "Monte-Carlo Fisher, 1 sample (double-vjp)"),
            risk => new MonteCarloFisherEngine(risk, 1, 0, new JacobianMaterialisation { PayoffProducts = 0 })),
        new("MC Fisher, materialised J", MlpOnly: false, risk => (new MonteCarloFisherEngine(risk, 1, 0, new JacobianMaterialisation { PayoffProducts = 0 }), "Monte-Carlo Fisher, 1 sample (materialised Jacobian when cached)"),
            risk => new MonteCarloFisherEngine(risk, 1, 0, null)),
    ];
}
