using System.Diagnostics;

namespace HessianGeometry.Benchmarks.Distributed;

/// <summary>
/// One <c>hessian-geometry worker</c> child process for <see cref="BenchmarkCluster"/> in process mode
/// (HG_CLUSTER_WORKERS=processes): started with <c>dotnet hessian-geometry.dll worker …</c>, ready once it prints
/// "worker ready:", killed (with anything it started) on dispose.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly ManualResetEventSlim ready = new();
    private readonly System.Text.StringBuilder output = new();

    private WorkerProcess(string cliDll, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(cliDll);
        start.ArgumentList.Add("worker");
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Seen(e.Data);
        process.ErrorDataReceived += (_, e) => Seen(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Starts a worker and waits for its ready line; throws with its output when it does not come within <paramref name="timeout"/>.</summary>
    public static WorkerProcess Start(string cliDll, TimeSpan timeout, params string[] args)
    {
        var worker = new WorkerProcess(cliDll, args);
        if (!worker.ready.Wait(timeout))
        {
            string log;
            lock (worker.output)
                log = worker.output.ToString();
            worker.Dispose();
            throw new TimeoutException($"A benchmark worker process did not print 'worker ready:' within {timeout.TotalMinutes} min. Its output:\n{log}");
        }
        return worker;
    }

    /// <summary>
    /// The CLI assembly: HG_CLI_DLL, else src/HessianGeometry.Cli/bin/Release/net10.0/hessian-geometry.dll above the
    /// benchmark's folder (build the CLI in Release first).
    /// </summary>
    public static string FindCli()
    {
        if (Environment.GetEnvironmentVariable("HG_CLI_DLL") is { Length: > 0 } configured)
            return File.Exists(configured) ? configured : throw new FileNotFoundException($"HG_CLI_DLL points to {configured}, which does not exist.");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "HessianGeometry.Cli", "bin", "Release", "net10.0", "hessian-geometry.dll");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException("HG_CLUSTER_WORKERS=processes needs the CLI: run `dotnet build src/HessianGeometry.Cli -c Release` or set HG_CLI_DLL.");
    }

    private void Seen(string? line)
    {
        if (line is null)
            return;
        lock (output)
            output.AppendLine(line);
        if (line.Contains("worker ready:", StringComparison.Ordinal))
            ready.Set();
    }

    /// <summary>Kills the worker (SIGKILL of its process tree) and waits for it.</summary>
    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It had already exited.
        }
        process.Dispose();
        ready.Dispose();
    }
}
