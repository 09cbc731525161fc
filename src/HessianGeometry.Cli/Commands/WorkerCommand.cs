using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using HessianGeometry.Cli.Distributed;
using HessianGeometry.Distributed;
using HessianGeometry.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HessianGeometry.Cli.Commands;

/// <summary>
/// <c>hessian-geometry worker</c>: an Orleans silo that serves one shard of a data file to <c>analyze --cluster</c>
/// (docs/distributed.md). It prints one line starting with <see cref="ReadyPrefix"/> once it serves, so that scripts and
/// tests can wait for it, and runs until Ctrl+C or SIGTERM.
/// </summary>
internal static class WorkerCommand
{
    /// <summary>The start of the line printed once the silo serves its shard.</summary>
    public const string ReadyPrefix = "worker ready:";

    public static Command Create()
    {
        var siloPort = new Option<int>("--silo-port") { Description = "Port the silo talks to other silos on.", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Port clients (analyze --cluster) connect to.", DefaultValueFactory = _ => 30000 };
        var primary = new Option<string?>("--primary") { Description = "HOST:SILO_PORT of the first worker (development clustering); omit on the first worker itself." };
        var model = new Option<string>("--model") { Description = "The model, as for analyze: a TorchScript file, or a state dict with --arch. Every worker and the client must load the same weights (checked by hash).", Required = true };
        var arch = new Option<string?>("--arch") { Description = "Architecture of a state dict, mlp:IN-H1-...-OUT:ACT. Not for TorchScript files." };
        var data = new Option<string>("--data") { Description = "Data (safetensors) every worker can read; this worker serves its --shard of the samples.", Required = true };
        var xKey = new Option<string>("--x-key") { Description = "Name of the inputs tensor in --data.", DefaultValueFactory = _ => "x_train" };
        var yKey = new Option<string>("--y-key") { Description = "Name of the targets tensor in --data.", DefaultValueFactory = _ => "y_train" };
        var shard = new Option<string>("--shard") { Description = "i/N: this worker serves samples [floor(i·n/N), floor((i+1)·n/N)), i counted from 0.", Required = true };
        var threads = TorchThreads.CreateOption();
        var command = new Command("worker", "Serve one shard of a data set to analyze --cluster: an Orleans silo that computes loss, gradient and curvature products on its samples.")
        {
            siloPort, gatewayPort, primary, model, arch, data, xKey, yKey, shard, threads,
        };
        command.SetAction((parse, ct) => ExitCodes.RunAsync(() =>
        {
            TorchThreads.Apply(parse.GetValue(threads));
            var options = Options(parse.GetValue(threads), parse.GetValue(siloPort), parse.GetValue(gatewayPort), parse.GetValue(primary), parse.GetValue(model)!, parse.GetValue(arch),
                parse.GetValue(data)!, parse.GetValue(xKey)!, parse.GetValue(yKey)!, parse.GetValue(shard)!);
            return Serve(options, ct);
        }));
        return command;
    }

    /// <summary>The worker's options, every argument checked before the silo starts (exit 2 with the fix).</summary>
    internal static WorkerOptions Options(int threads, int siloPort, int gatewayPort, string? primary, string model, string? arch, string data, string xKey, string yKey,
        string shard)
    {
        CheckPort(siloPort, "--silo-port");
        CheckPort(gatewayPort, "--gateway-port");
        if (siloPort == gatewayPort)
            throw new ArgumentException($"--silo-port and --gateway-port are both {siloPort}; a silo needs two different ports (e.g. 11111 and 30000).");
        if (!File.Exists(model))
            throw new FileNotFoundException($"No model file at '{model}'. Pass --model with a TorchScript file or a state dict.", model);
        if (ModelFiles.Detect(model) == ModelFileKind.PyTorchPickle)
        {
            throw new ArgumentException($"'{model}' is a torch.save pickle; a worker reads a TorchScript file or a safetensors state dict (with --arch). " +
                "Save the weights with safetensors.torch.save_file(model.state_dict(), path), or export the model with torch.jit.script.");
        }
        if (!File.Exists(data))
            throw new FileNotFoundException($"No data file at '{data}'. Pass --data with a safetensors file every worker can read.", data);
        var spec = ParseShard(shard);
        var primaryEndpoint = primary is null ? null : Endpoints.Parse(primary, "--primary");
        if (primaryEndpoint is not null && primaryEndpoint.Port == siloPort && (IPAddress.IsLoopback(primaryEndpoint.Address) || primaryEndpoint.Address.Equals(IPAddress.Any)))
            throw new ArgumentException($"--primary {primary} is this worker's own silo port; omit --primary on the first worker, and give the others its HOST:{siloPort}.");
        CheckFree(siloPort, "--silo-port");
        CheckFree(gatewayPort, "--gateway-port");
        return new WorkerOptions
        {
            ModelPath = model,
            Arch = arch,
            DataPath = data,
            XKey = xKey,
            YKey = yKey,
            Shard = spec,
            SiloPort = siloPort,
            GatewayPort = gatewayPort,
            Primary = primaryEndpoint,
            Threads = threads,
        };
    }

    private static ShardSpec ParseShard(string text)
    {
        try
        {
            return ShardSpec.Parse(text);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new ArgumentException($"--shard '{text}' is not i/N with 0 ≤ i < N (e.g. 0/2 and 1/2 for two workers): {ex.Message}", ex);
        }
    }

    private static async Task<int> Serve(WorkerOptions options, CancellationToken ct)
    {
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        var log = loggers.CreateLogger("hessian-geometry.worker");
        IHost host;
        try
        {
            host = await ShardWorker.StartAsync(options, log, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Console.WriteLine("worker stopped before it was ready.");
            return ExitCodes.Success;
        }
        try
        {
            var primary = options.Primary is null ? "primary (development clustering)" : $"joined primary {options.Primary}";
            Console.WriteLine($"{ReadyPrefix} shard {options.Shard.Index}/{options.Shard.Count} of {options.DataPath}, silo port {options.SiloPort}, " +
                $"gateway port {options.GatewayPort}, {primary}. Ctrl+C stops it.");
            // The host's console lifetime turns SIGTERM and Ctrl+C into a stop; the silo then leaves the cluster (within the
            // host's shutdown timeout) so the others do not have to detect its death.
            await host.WaitForShutdownAsync(ct).ConfigureAwait(false);
            Console.WriteLine("worker stopped.");
            return ExitCodes.Success;
        }
        finally
        {
            host.Dispose();
        }
    }

    private static void CheckPort(int port, string option)
    {
        if (port is < 1 or > 65535)
            throw new ArgumentException($"{option} must be a port from 1 to 65535 but was {port}.");
    }

    /// <summary>A port another process holds would otherwise fail deep inside the silo's start with a socket error.</summary>
    private static void CheckFree(int port, string option)
    {
        var listener = new TcpListener(IPAddress.Any, port);
        try
        {
            listener.Start();
        }
        catch (SocketException ex)
        {
            throw new ArgumentException($"{option} {port} is in use on this machine ({ex.SocketErrorCode}); pick another port (each worker on one machine needs its own two ports).", ex);
        }
        finally
        {
            listener.Stop();
        }
    }
}
