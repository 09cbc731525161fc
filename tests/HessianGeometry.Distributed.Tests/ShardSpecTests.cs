using HessianGeometry.Distributed;
using Xunit;

namespace HessianGeometry.Distributed.Tests;

public class ShardSpecTests
{
    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("2/3", 2, 3)]
    [InlineData(" 1/2 ", 1, 2)]
    public void Parse_ValidText_GivesIndexAndCount(string text, int index, int count) =>
        Assert.Equal(new ShardSpec(index, count), ShardSpec.Parse(text));

    [Theory]
    [InlineData("3/3")]
    [InlineData("-1/3")]
    [InlineData("1/0")]
    [InlineData("1")]
    [InlineData("a/b")]
    public void Parse_InvalidText_Throws(string text) => Assert.Throws<FormatException>(() => ShardSpec.Parse(text));

    [Theory]
    [InlineData(7, 3)]
    [InlineData(10, 4)]
    [InlineData(2, 3)]
    public void Ranges_PartitionTheSamples(long n, int count)
    {
        long next = 0;
        for (var i = 0; i < count; i++)
        {
            var s = new ShardSpec(i, count);
            Assert.Equal(next, s.Start(n));
            next += s.Length(n);
        }
        Assert.Equal(n, next);
    }
}
