using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace HessianGeometry.Cli.Tests.Distributed;

/// <summary>
/// The hessian-geometry tool as a child process (<c>dotnet hessian-geometry.dll …</c> from the test's output folder),
/// its stdout and stderr collected line by line. Dispose kills it (and anything it started) if it still runs, so a failed
/// or timed-out test leaves no worker behind.
/// </summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> lines = new();
    private readonly StringBuilder log = new();
    private readonly SemaphoreSlim lineArrived = new(0);

    private CliProcess(string name, IEnumerable<string> args)
    {
        Name = name;
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "hessian-geometry.dll"));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Add(e.Data, string.Empty);
        process.ErrorDataReceived += (_, e) => Add(e.Data, "stderr: ");
        if (!process.Start())
            throw new InvalidOperationException($"{name}: the process did not start.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>A label for messages ("worker 1/2").</summary>
    public string Name { get; }

    /// <summary>Everything the process printed so far, stderr lines prefixed.</summary>
    public string Output
    {
        get
        {
            lock (log)
                return log.ToString();
        }
    }

    public bool HasExited => process.HasExited;

    public int ProcessId => process.Id;

    public int ExitCode => process.ExitCode;

    /// <summary>Starts <c>hessian-geometry ARGS</c>.</summary>
    public static CliProcess Start(string name, params string[] args) => new(name, args);

    /// <summary>
    /// Waits until a line containing <paramref name="text"/> was printed; false when the time ran out or the process ended
    /// without printing it.
    /// </summary>
    public bool WaitForLine(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var seen = 0;
        while (true)
        {
            var snapshot = lines.ToArray();
            for (; seen < snapshot.Length; seen++)
            {
                if (snapshot[seen].Contains(text, StringComparison.Ordinal))
                    return true;
            }
            if (process.HasExited && lines.Count == seen)
            {
                // Let the last asynchronous reads land before deciding.
                process.WaitForExit();
                if (lines.Count == seen)
                    return false;
                continue;
            }
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
                return false;
            lineArrived.Wait(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Waits for the exit (and for the output to be read); false when it still runs after <paramref name="timeout"/>.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
            return false;
        process.WaitForExit();
        return true;
    }

    /// <summary>SIGKILL, the way a machine or process dies: no goodbye to the cluster.</summary>
    public void Kill()
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        process.WaitForExit(30_000);
    }

    public void Dispose()
    {
        if (!process.HasExited)
            Kill();
        process.Dispose();
        // lineArrived is not disposed: a late output event must not find it gone (it holds no handle).
    }

    private void Add(string? line, string prefix)
    {
        if (line is null)
            return;
        lock (log)
            log.Append(prefix).AppendLine(line);
        lines.Enqueue(prefix + line);
        lineArrived.Release();
    }

    /// <summary>The dotnet host that runs the tests (the SDK sets DOTNET_HOST_PATH for dotnet test), else dotnet on the PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
            return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
            return self;
        return "dotnet";
    }
}
