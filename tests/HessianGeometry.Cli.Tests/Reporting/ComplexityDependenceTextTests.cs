using System.Text;
using HessianGeometry.Analysis;
using HessianGeometry.Cli.Reporting;
using HessianGeometry.Geometry;

namespace HessianGeometry.Cli.Tests.Reporting;

public sealed class ComplexityDependenceTextTests
{
    private static ComplexitySection Section(bool basisDependent)
    {
        var bulk = new DegenerateClusterSummary(1, 10057, 1e-9, -2e-10, 646, false, 0.001, 0.4, 3, 80,
            CountDistribution.Of([90, 95, 100]), CountDistribution.Of([300, 310, 320]));
        var degeneracy = new ComplexityDegeneracy(54, 612, 640, 10063, 2, 3, 80,
            CountDistribution.Of([144, 149, 154]), CountDistribution.Of([912, 922, 932]), basisDependent, [bulk], null, 2.5e-12, 1e-13, 3, 0);
        var level = new SaturationLevel("float32", 1.19e-7, 143, 9e-9, 7, 4, 120, 4.0 / 10703, 120.0 / 10703, 0.02, 0.1);
        var saturation = new SaturationSection(150, level, level with { Precision = "float64-naive", Threshold = 2.2e-16, SaturatedCount = 12, InputsKept = 138, EncodingCountMean = 40 });
        return new ComplexitySection { EncodingCountMean = 57, EncodingCountMax = 692, Degeneracy = degeneracy, Saturation = saturation };
    }

    [Fact]
    public void Basis_SaysWellDefinedPartAndRangeOverBases()
    {
        var text = ComplexityDependenceText.Basis(Section(true));
        Assert.Equal("well-defined part 54 / 612; basis-dependent: 10063 eigenvalues in 2 degenerate clusters; over 3 random bases 144–154 / 912–932", text);
        Assert.StartsWith("well-defined part 54 / 612; not basis-dependent", ComplexityDependenceText.Basis(Section(false)), StringComparison.Ordinal);
        Assert.Null(ComplexityDependenceText.Basis(new ComplexitySection()));
    }

    [Fact]
    public void Saturation_CountsBothLevels()
    {
        Assert.Equal("143 of 150 inputs below float32, 12 below naive float64; counts without them 4 / 120 and 40 / 120", ComplexityDependenceText.Saturation(Section(true)));
    }

    [Fact]
    public void Markdown_HasTheClusterTableAndTheFlag()
    {
        var md = new StringBuilder();
        ComplexityDependenceText.Markdown(md, Section(true));
        var text = md.ToString();
        Assert.Contains("**G is basis-dependent**.", text, StringComparison.Ordinal);
        Assert.Contains("| 10057 | [-2E-10, 1E-09] | 0.001 | 0.4 | 3 / 80 | 95 [90, 100] / 310 [300, 320] |", text, StringComparison.Ordinal);
        Assert.Contains("**Saturated inputs**", text, StringComparison.Ordinal);
    }
}
