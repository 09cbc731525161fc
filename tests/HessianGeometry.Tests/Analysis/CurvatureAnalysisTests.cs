using HessianGeometry.Analysis;
using HessianGeometry.EigenSolvers;
using HessianGeometry.Operators;
using HessianGeometry.Tests.Operators;
using HessianGeometry.Tests.Reliability;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Analysis;

/// <summary>
/// <c>WithCurvature</c> and <c>WithDecomposition</c> against dense references of an MLP fixture: PyTorch's Hessian and
/// the explicit-Jacobian GGN (fixtures/generate_ggn_fixtures.py), decomposed here with <c>linalg.eigh</c>.
/// </summary>
public sealed class CurvatureAnalysisTests(ITestOutputHelper output)
{
    private const string Fixture = "mlp_tanh_ce";

    private static (Tensor H, Tensor G) References()
    {
        var (_, _, _, file) = GgnOperatorTests.LoadMlp(Fixture);
        return (file.LoadTensor("reference.hessian"), GgnOperatorTests.ReferenceGgn(Fixture));
    }

    private static double[] Descending(Tensor symmetric) =>
        linalg.eigvalsh(symmetric).flip(0).data<double>().ToArray();

    [Fact]
    public void WithCurvatureGgn_EigenvaluesAndTraceAreTheGgns_AndTheReportSaysGgn()
    {
        using var scope = NewDisposeScope();
        var (model, data, loss, _) = GgnOperatorTests.LoadMlp(Fixture);
        var before = ModelState.Of(model);
        var report = HessianAnalysis.For(model).WithLoss(loss).WithData(data).WithCurvature(CurvatureKind.Ggn)
            .TopEigenpairs(4, 1e-9).WithTrace().WithAlignment().AnalyzeMinimum();
        before.AssertUnchanged(model);
        var (_, g) = References();
        var expected = Descending(g);
        for (var i = 0; i < 4; i++)
            Assert.Equal(expected[i], report.Eigenvalues![i], 1e-8 * expected[0]);
        var exactTrace = g.trace().item<double>();
        Assert.True(Math.Abs(report.Trace!.Value - exactTrace) <= 4 * report.TraceStandardError!.Value, $"tr G {report.Trace} ± {report.TraceStandardError} vs {exactTrace}");
        Assert.Equal("ggn", report.Curvature);
        Assert.Equal("AnalyticMlpGgn", report.Model!.HvpEngine);
        var json = MinimumReportJson.Serialize(report);
        Assert.Contains("\"curvature\": \"ggn\"", json);
        Assert.Equal(CurvatureKind.Ggn, MinimumReportJson.Deserialize(json).Options.Curvature);
    }

    [Theory]
    [InlineData(CurvatureKind.Fisher, "fisher")]
    [InlineData(CurvatureKind.EmpiricalFisher, "empirical-fisher")]
    [InlineData(CurvatureKind.Hessian, "hessian")]
    public void EveryCurvature_RunsTheEigenpairStage_WithItsOwnOperator(CurvatureKind kind, string name)
    {
        using var scope = NewDisposeScope();
        var (model, data, loss, _) = GgnOperatorTests.LoadMlp(Fixture, batchSize: 8);
        var report = HessianAnalysis.For(model).WithLoss(loss).WithData(data).WithCurvature(kind, fisherSamples: 4)
            .TopEigenpairs(2).Seed(3).AnalyzeMinimum();
        Assert.Equal(name, report.Curvature);
        Assert.True(report.EigenpairsConverged);
        // The Fisher variants are PSD, and with the same data and weights their top eigenvalue differs from the Hessian's.
        var (h, _) = References();
        if (kind != CurvatureKind.Hessian)
        {
            Assert.True(report.Eigenvalues!.All(l => l > 0));
            Assert.NotEqual(Descending(h)[0], report.Eigenvalues![0], 1e-3);
        }
        else
        {
            Assert.Equal(Descending(h)[0], report.Eigenvalues![0], 1e-7);
        }
    }

    [Theory]
    [InlineData(CurvatureKind.Hessian)]
    [InlineData(CurvatureKind.Ggn)]
    [InlineData(CurvatureKind.EmpiricalFisher)]
    public void Decomposition_MatchesDenseReferences(CurvatureKind analysed)
    {
        using var scope = NewDisposeScope();
        const int k = 4;
        var (model, data, loss, _) = GgnOperatorTests.LoadMlp(Fixture);
        var before = ModelState.Of(model);
        var report = HessianAnalysis.For(model).WithLoss(loss).WithData(data).WithCurvature(analysed)
            .TopEigenpairs(k, 1e-10).WithDecomposition(new DecompositionOptions { TraceProbes = 200 }).Seed(2).AnalyzeMinimum();
        before.AssertUnchanged(model);
        var d = report.Decomposition!;
        var (h, g) = References();
        var (hValues, hVectors) = linalg.eigh(h);
        var (gValues, gVectors) = linalg.eigh(g);
        var expectedH = hValues.flip(0).data<double>().Take(k).ToArray();
        var expectedG = gValues.flip(0).data<double>().Take(k).ToArray();
        var expectedR = linalg.eigvalsh(h - g).data<double>().OrderByDescending(Math.Abs).Take(k).ToArray();
        var scale = expectedH[0];
        Assert.True(d.Converged);
        for (var i = 0; i < k; i++)
        {
            Assert.Equal(expectedH[i], d.HessianEigenvalues[i], 1e-8 * scale);
            Assert.Equal(expectedG[i], d.GgnEigenvalues[i], 1e-8 * scale);
            Assert.Equal(expectedR[i], d.ResidualEigenvalues[i], 1e-8 * scale);
        }
        var cosines = linalg.svdvals(hVectors[.., ^k..].T.matmul(gVectors[.., ^k..])).data<double>().ToArray();
        output.WriteLine($"{analysed}: H {string.Join(", ", d.HessianEigenvalues.Select(v => v.ToString("G4")))}; GGN {string.Join(", ", d.GgnEigenvalues.Select(v => v.ToString("G4")))}; " +
            $"R {string.Join(", ", d.ResidualEigenvalues.Select(v => v.ToString("G4")))}; cosines {string.Join(", ", d.SubspaceOverlap.Cosines.Select(v => v.ToString("F4")))}");
        for (var i = 0; i < k; i++)
            Assert.Equal(cosines[i], d.SubspaceOverlap.Cosines[i], 1e-6);
        Assert.Equal(cosines.Sum(c => c * c) / k, d.SubspaceOverlap.MeanSquaredCosine, 1e-6);

        var t = d.Traces;
        Assert.Equal(t.Hessian, t.Ggn + t.Residual, 1e-12 * Math.Abs(t.Hessian));
        Assert.Equal(200, t.Probes);
        double traceH = h.trace().item<double>(), traceG = g.trace().item<double>();
        Assert.True(Math.Abs(t.Hessian - traceH) <= 4 * t.HessianStandardError, $"tr H {t.Hessian} ± {t.HessianStandardError} vs {traceH}");
        Assert.True(Math.Abs(t.Ggn - traceG) <= 4 * t.GgnStandardError, $"tr G {t.Ggn} ± {t.GgnStandardError} vs {traceG}");
        Assert.True(Math.Abs(t.Residual - (traceH - traceG)) <= 4 * t.ResidualStandardError, $"tr R {t.Residual} ± {t.ResidualStandardError} vs {traceH - traceG}");
        Assert.True(d.HessianProducts > 0 && d.GgnProducts > 0);
        var json = MinimumReportJson.Serialize(report);
        foreach (var field in new[] { "\"decomposition\"", "\"hessianEigenvalues\"", "\"ggnEigenvalues\"", "\"residualEigenvalues\"", "\"subspaceOverlap\"", "\"traces\"" })
            Assert.Contains(field, json);
    }

    [Fact]
    public void Decomposition_WithTheExactSolver_HasExactTraces()
    {
        using var scope = NewDisposeScope();
        var (model, data, loss, _) = GgnOperatorTests.LoadMlp(Fixture);
        var report = HessianAnalysis.For(model).WithLoss(loss).WithData(data).UseSolver(EigenSolverKind.Exact)
            .TopEigenpairs(3).WithDecomposition().AnalyzeMinimum();
        var d = report.Decomposition!;
        var (h, g) = References();
        Assert.Equal("exact", d.Traces.Method);
        Assert.Equal(h.trace().item<double>(), d.Traces.Hessian, 1e-10);
        Assert.Equal(g.trace().item<double>(), d.Traces.Ggn, 1e-10);
        Assert.Equal((h - g).trace().item<double>(), d.Traces.Residual, 1e-10);
        Assert.Equal(Descending(g)[0], d.GgnEigenvalues[0], 1e-10);
        Assert.Equal(0, d.Traces.HessianStandardError);
    }

    [Fact]
    public void Decomposition_WithoutTopEigenpairs_IsRefusedWithTheFix()
    {
        var (model, data, loss, _) = GgnOperatorTests.LoadMlp(Fixture);
        var ex = Assert.Throws<InvalidOperationException>(() => HessianAnalysis.For(model).WithLoss(loss).WithData(data).WithDecomposition().Build());
        Assert.Contains("TopEigenpairs(k)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => HessianAnalysis.For(model).WithLoss(loss).WithData(data).TopEigenpairs(2)
            .WithCurvature(CurvatureKind.Fisher, fisherSamples: 0).Build());
    }
}
