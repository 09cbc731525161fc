using System.Net;
using System.Net.Sockets;

namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>
/// Bad arguments of <c>worker</c> and <c>analyze --cluster</c> exit 2 with a message naming the fix, before any silo or
/// client starts (so none of these waits on the network).
/// </summary>
public sealed class ClusterArgumentTests : IDisposable
{
    private readonly TempFolder temp = new();
    private readonly ClusterProblem problem;

    public ClusterArgumentTests() => problem = ClusterProblem.Write(temp.Path, samples: 30, seed: 1);

    public void Dispose() => temp.Dispose();

    public static TheoryData<string, string[], string> BadWorkerArguments => new()
    {
        { "shard index past the count", ["--shard", "2/2"], "--shard" },
        { "shard that is no fraction", ["--shard", "half"], "--shard" },
        { "same silo and gateway port", ["--silo-port", "30123", "--gateway-port", "30123"], "two different ports" },
        { "port out of range", ["--silo-port", "70000"], "--silo-port" },
        { "primary without a port", ["--primary", "127.0.0.1"], "HOST:PORT" },
        { "primary with a bad port", ["--primary", "127.0.0.1:0"], "port" },
        { "IPv6 primary without brackets", ["--primary", "::1:11111"], "brackets" },
        { "missing model file", ["--model", "/nonexistent/model.safetensors"], "No model file" },
        { "missing data file", ["--data", "/nonexistent/data.safetensors"], "No data file" },
        { "torch.save pickle model", ["--model", Path.Combine(AppContext.BaseDirectory, "fixtures", "models", "mlp_state_dict.pt"), "--arch", "mlp:4-8-3:tanh"], "torch.save pickle" },
    };

    [Theory]
    [MemberData(nameof(BadWorkerArguments))]
    public void Worker_WithBadArguments_ExitsTwo_NamingTheFix(string scenario, string[] overrides, string fragment)
    {
        var ports = FreePorts.Take(2);
        var (code, error) = Run(WorkerArgs(ports[0], ports[1], overrides));
        Assert.True(code == 2, $"{scenario}: exit code {code}; {error}");
        Assert.Contains(fragment, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Worker_OnAPortInUse_ExitsTwo_SayingSo()
    {
        var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        try
        {
            var busy = ((IPEndPoint)listener.LocalEndpoint).Port;
            var free = FreePorts.Take(1)[0];
            var (code, error) = Run(WorkerArgs(busy, free, []));
            Assert.Equal(2, code);
            Assert.Contains($"--silo-port {busy} is in use", error, StringComparison.Ordinal);
        }
        finally
        {
            listener.Stop();
        }
    }

    public static TheoryData<string, string[], string> BadAnalyzeArguments => new()
    {
        { "neither data nor cluster", [], "Pass --data" },
        { "data and cluster", ["--data", "DATA", "--cluster", "127.0.0.1:30000"], "exclude each other" },
        { "gateway without a port", ["--cluster", "127.0.0.1"], "HOST:PORT" },
        { "gateway port out of range", ["--cluster", "127.0.0.1:99999"], "65535" },
        { "gateway named twice", ["--cluster", "127.0.0.1:30000, 127.0.0.1:30000"], "more than once" },
        { "empty gateway list", ["--cluster", ","], "at least one" },
        { "product timeout without a cluster", ["--data", "DATA", "--product-timeout", "10"], "only with --cluster" },
        { "non-positive product timeout", ["--cluster", "127.0.0.1:30000", "--product-timeout", "0"], "positive" },
    };

    [Theory]
    [MemberData(nameof(BadAnalyzeArguments))]
    public void AnalyzeCluster_WithBadArguments_ExitsTwo_NamingTheFix(string scenario, string[] args, string fragment)
    {
        var resolved = args.Select(a => a == "DATA" ? problem.Data : a);
        var (code, error) = Run(["analyze", "--model", problem.Model, "--arch", ClusterProblem.Arch, "--x-key", "x", "--y-key", "y", "--top", "2",
            "--out", temp.File("out"), .. resolved]);
        Assert.True(code == 2, $"{scenario}: exit code {code}; {error}");
        Assert.Contains(fragment, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.File("out")));
    }

    private string[] WorkerArgs(int silo, int gateway, string[] overrides)
    {
        var args = new Dictionary<string, string>
        {
            ["--silo-port"] = $"{silo}", ["--gateway-port"] = $"{gateway}", ["--model"] = problem.Model, ["--arch"] = ClusterProblem.Arch,
            ["--data"] = problem.Data, ["--x-key"] = "x", ["--y-key"] = "y", ["--shard"] = "0/2",
        };
        for (var i = 0; i < overrides.Length; i += 2)
            args[overrides[i]] = overrides[i + 1];
        return ["worker", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })];
    }

    private static (int Code, string Error) Run(string[] args) => CliRun.Capturing(args);
}
