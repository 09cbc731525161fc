using HessianGeometry.Internal;
using HessianGeometry.Operators.Engines;

namespace HessianGeometry.Operators;

/// <summary>
/// Builds the operator of each <see cref="CurvatureKind"/> over one empirical risk, with an engine note saying what
/// runs; and the residual H − G. All share the risk, so they see the same model, data, parameters and precision.
/// </summary>
public static class CurvatureOperators
{
    /// <summary>The operator of <paramref name="kind"/> over <paramref name="risk"/> (which the caller keeps and disposes).</summary>
    /// <param name="risk">The empirical risk.</param>
    /// <param name="kind">The matrix.</param>
    /// <param name="options">Graph mode, engine, Fisher samples and seed, determinism check (default: defaults).</param>
    /// <exception cref="NotSupportedException">The loss has no such matrix here (e.g. the GGN of NLL or of a custom loss).</exception>
    public static CurvatureOperator Create(EmpiricalRisk risk, CurvatureKind kind, CurvatureOptions? options = null)
    {
        Guard.NotNull(risk, nameof(risk));
        Guard.Defined(kind, nameof(kind));
        options ??= new CurvatureOptions();
        if (kind == CurvatureKind.Hessian)
        {
            return new LossHessianOperator(risk, new LossHessianOptions
            {
                GraphMode = options.GraphMode,
                Engine = options.Engine,
                CheckDeterministic = options.CheckDeterministic,
                AnalysisDType = risk.DType,
                AllowTrainingMode = risk.Options.AllowTrainingMode,
            });
        }
        string note;
        var engine = kind switch
        {
            CurvatureKind.Ggn => CurvatureEngineFactory.CreateGgn(risk, options.Engine, out note),
            CurvatureKind.Fisher => CurvatureEngineFactory.CreateFisher(risk, options.FisherSamples, options.Seed, out note),
            _ => CurvatureEngineFactory.CreateEmpiricalFisher(risk, out note),
        };
        var op = new CurvatureOperator(risk, engine, options.GraphMode, note);
        if (options.CheckDeterministic)
        {
            try
            {
                op.CheckDeterministic();
            }
            catch
            {
                op.Dispose();
                throw;
            }
        }
        return op;
    }

    /// <summary>The report name of <paramref name="kind"/>, as the CLI spells it: hessian, ggn, fisher, empirical-fisher.</summary>
    public static string NameOf(CurvatureKind kind) => kind switch
    {
        CurvatureKind.Hessian => "hessian",
        CurvatureKind.Ggn => "ggn",
        CurvatureKind.Fisher => "fisher",
        CurvatureKind.EmpiricalFisher => "empirical-fisher",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Use Hessian, Ggn, Fisher or EmpiricalFisher."),
    };

    /// <summary>Parses hessian, ggn, fisher or empirical-fisher (as the CLI spells them; case-insensitive).</summary>
    public static CurvatureKind Parse(string name)
    {
        Guard.NotNull(name, nameof(name));
        return name.Trim().ToLowerInvariant() switch
        {
            "hessian" => CurvatureKind.Hessian,
            "ggn" => CurvatureKind.Ggn,
            "fisher" => CurvatureKind.Fisher,
            "empirical-fisher" or "ef" => CurvatureKind.EmpiricalFisher,
            _ => throw new ArgumentException($"Unknown curvature '{name}'. Use hessian, ggn, fisher or empirical-fisher.", nameof(name)),
        };
    }
}
