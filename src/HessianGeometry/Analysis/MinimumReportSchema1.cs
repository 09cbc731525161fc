using System.Text.Json.Nodes;

namespace HessianGeometry.Analysis;

/// <summary>
/// Reads a schema-1 report: rewrites its flat fields into the schema-2 sections (which <see cref="MinimumReport"/>
/// stores) so that reports saved by earlier versions, e.g. a training history, keep their measurements. Quantities that
/// schema 1 did not record (relative residuals, per-pair convergence, iterations, trace probes) stay empty, and
/// targets count as reached, since schema 1 could not say otherwise.
/// </summary>
internal static class MinimumReportSchema1
{
    public static JsonObject ToSchema2(JsonObject v1)
    {
        var v2 = new JsonObject();
        foreach (var name in new[] { "schemaVersion", "libraryVersion", "label", "alignment", "wolkowiczStyan" })
            Copy(v1, name, v2, name);
        var settings = v1["settings"] as JsonObject ?? [];
        v2["model"] = Object(v1, ("parameters", "parameters"), ("samples", "samples"), ("lossFunction", "lossFunction"), ("loss", "loss"),
            ("accuracy", "accuracy"), ("precision", "precision"));
        ((JsonObject)v2["model"]!)["hvpEngine"] = settings["hvpEngine"]?.DeepClone();
        var solver = v1["solver"]?.DeepClone();
        if (v1["eigenvalues"] is JsonArray top)
            v2["topEigenpairs"] = Pairs(v1, top, "residualNorms", "LargestAlgebraic", solver, v1["eigenpairsConverged"]?.GetValue<bool>() ?? true);
        if (v1["bottomEigenvalues"] is JsonArray bottom)
            v2["bottomEigenpairs"] = Pairs(v1, bottom, "bottomResidualNorms", "SmallestAlgebraic", solver, true);
        if (v1["trace"] is not null)
        {
            var traces = Object(v1, ("trace", "trace"), ("traceStandardError", "traceStandardError"), ("traceOfSquare", "traceOfSquare"),
                ("traceOfSquareStandardError", "traceOfSquareStandardError"));
            traces["method"] = v1["traceMethod"]?.GetValue<string>().ToLowerInvariant() switch
            {
                "exact" => "Exact",
                "hutch++" => "HutchPlusPlus",
                "exact-closed-form" => "ExactClosedForm",
                _ => "Hutchinson",
            };
            traces["reachedTarget"] = true;
            v2["traces"] = traces;
        }
        if (v1["spectralDensity"] is JsonObject density)
        {
            var section = (JsonObject)density.DeepClone();
            section["hesd"] = v1["hesd"]?.DeepClone();
            section["runs"] = (density["nodes"] as JsonArray)?.Count ?? 0;
            v2["spectralDensity"] = section;
        }
        if (v1["meanAbsAlignment"] is not null || v1["maxAbsAlignment"] is not null)
            v2["alignmentSummary"] = Object(v1, ("meanAbsAlignment", "meanAbsAlignment"), ("maxAbsAlignment", "maxAbsAlignment"));
        if (v1["complexity"] is JsonObject complexity)
        {
            var section = (JsonObject)complexity.DeepClone();
            Copy(v1, "complexityMean", section, "complexityMean");
            Copy(v1, "complexityMax", section, "complexityMax");
            Copy(v1, "encodingEigenvectors", section, "encodingEigenvectors");
            Copy(v1, "epsilon", section, "epsilon");
            v2["complexity"] = section;
        }
        if (v1["marginDetails"] is JsonObject margin)
        {
            var section = (JsonObject)margin.DeepClone();
            Copy(v1, "margin", section, "margin");
            Copy(v1, "boundaryPoint", section, "boundaryPoint");
            v2["marginDetails"] = section;
        }
        v2["timings"] = Timings(v1);
        v2["options"] = Options(settings);
        return v2;
    }

    private static JsonObject Pairs(JsonObject v1, JsonArray values, string residuals, string which, JsonNode? solver, bool converged) => new()
    {
        ["solver"] = solver?.DeepClone() ?? "",
        ["which"] = which,
        ["requested"] = values.Count,
        ["eigenvalues"] = values.DeepClone(),
        ["residualNorms"] = v1[residuals]?.DeepClone() ?? new JsonArray(),
        ["converged"] = converged,
    };

    private static JsonObject Timings(JsonObject v1)
    {
        var seconds = v1["timingsSeconds"] as JsonObject ?? [];
        var hvps = v1["hvpCounts"] as JsonObject ?? [];
        var stages = new JsonArray();
        foreach (var name in seconds.Select(s => s.Key).Concat(hvps.Select(h => h.Key)).Distinct(StringComparer.Ordinal))
        {
            stages.Add(new JsonObject
            {
                ["stage"] = name,
                ["seconds"] = seconds[name]?.DeepClone() ?? 0,
                ["operatorApplications"] = hvps[name]?.DeepClone() ?? 0,
            });
        }
        return new JsonObject { ["stages"] = stages };
    }

    private static JsonObject Options(JsonObject settings)
    {
        bool On(string name) => settings[name]?.GetValue<bool>() == true;
        var kind = settings["solver"]?.GetValue<string>() is { } name && EigenSolvers.EigenSolverFactory.AllNames.Contains(name.Trim().ToLowerInvariant())
            ? EigenSolvers.EigenSolverFactory.Parse(name).ToString()
            : AnalysisDefaults.Solver.ToString();
        JsonObject Pairs(string count) => new()
        {
            ["count"] = settings[count]?.DeepClone() ?? 0,
            ["tolerance"] = settings["tolerance"]?.DeepClone() ?? AnalysisDefaults.Tolerance,
            ["maxOperatorApplications"] = settings["maxOperatorApplications"]?.DeepClone() ?? AnalysisDefaults.MaxOperatorApplications,
        };
        return new JsonObject
        {
            ["seed"] = settings["seed"]?.DeepClone() ?? 0,
            ["solver"] = new JsonObject { ["kind"] = On("exactHessian") ? "Exact" : kind },
            ["topEigenpairs"] = Pairs("topEigenpairs"),
            ["bottomEigenpairs"] = Pairs("bottomEigenpairs"),
            ["trace"] = On("trace") ? new JsonObject() : null,
            ["spectralDensity"] = On("spectralDensity") ? new JsonObject() : null,
            ["hesd"] = On("spectralDensity") ? new JsonObject() : null,
            ["alignment"] = On("alignment") ? new JsonObject() : null,
            ["complexity"] = On("boundaryComplexity") ? new JsonObject { ["epsilon"] = settings["epsilon"]?.DeepClone() } : null,
            ["margin"] = On("margin") ? new JsonObject() : null,
            ["precision"] = settings["precision"]?.GetValue<string>() switch
            {
                "Float32" => "Float32",
                "model" => "Model",
                _ => "Float64",
            },
            ["batchSize"] = settings["batchSize"]?.DeepClone(),
        };
    }

    private static JsonObject Object(JsonObject source, params (string From, string To)[] fields)
    {
        var result = new JsonObject();
        foreach (var (from, to) in fields)
            Copy(source, from, result, to);
        return result;
    }

    private static void Copy(JsonObject source, string from, JsonObject target, string to)
    {
        if (source[from] is { } value)
            target[to] = value.DeepClone();
    }
}
