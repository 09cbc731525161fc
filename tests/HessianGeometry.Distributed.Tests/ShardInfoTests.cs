using Xunit;

namespace HessianGeometry.Distributed.Tests;

public class ShardInfoTests
{
    [Fact]
    public void ToString_ListsTheReplicas_NotTheListType()
    {
        var info = new ShardInfo(new ShardSpec(1, 3), 7, 8, 23, 43, "ab12", "cd34", "S127.0.0.1:11111:1", ["S127.0.0.1:11111:1", "S127.0.0.1:11112:2"]);
        Assert.Equal(
            "ShardInfo { Shard = 1/3, Start = 7, Length = 8, TotalSamples = 23, ParameterCount = 43, ModelHash = ab12, DataHash = cd34, Worker = S127.0.0.1:11111:1, Replicas = [S127.0.0.1:11111:1, S127.0.0.1:11112:2] }",
            info.ToString());
    }
}
