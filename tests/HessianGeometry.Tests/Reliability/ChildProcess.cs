using System.Diagnostics;
using System.Text.Json;

namespace HessianGeometry.Tests.Reliability;

/// <summary>What a child run of this test assembly printed and how it ended.</summary>
/// <param name="ExitCode">0 when the child finished normally; 134 (SIGABRT) is a native abort.</param>
/// <param name="Results">Every line the child marked as a result, parsed as JSON.</param>
/// <param name="Output">Everything the child printed (stdout then stderr), for failure messages.</param>
internal sealed record ChildRun(int ExitCode, IReadOnlyList<JsonElement> Results, string Output)
{
    /// <summary>The single result line, with the whole output in the failure message when there is not exactly one.</summary>
    public JsonElement Single()
    {
        if (ExitCode != 0 || Results.Count != 1)
            throw new Xunit.Sdk.XunitException($"The child process exited with code {ExitCode} and printed {Results.Count} result line(s):\n{Output}");
        return Results[0];
    }
}

/// <summary>
/// Runs this test assembly as a separate process (its entry point is <see cref="ChildProcessProgram"/>), so that a
/// scenario that could end in a native abort (SIGABRT inside libtorch) takes down only the child, and so that memory and
/// determinism can be measured in a process where nothing else runs.
/// </summary>
internal static class ChildProcess
{
    public const string ResultMarker = "@@result ";

    public static ChildRun Run(TimeSpan timeout, params string[] arguments) => Run(timeout, new Dictionary<string, string>(), arguments);

    public static ChildRun Run(TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        RunAssembly(typeof(ChildProcess).Assembly.Location, timeout, environment, arguments);

    /// <summary>Runs a copy of this test assembly at another path (for example in a staged application folder).</summary>
    public static ChildRun RunAssembly(string assembly, TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // A deliberate abort may leave a core file in the working directory: keep it out of the build output.
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the child process.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"The child process ({string.Join(' ', arguments)}) did not finish within {timeout.TotalSeconds} s.\n{stdout.Result}\n{stderr.Result}");
        }
        process.WaitForExit();
        var output = stdout.Result;
        var results = output.Split('\n')
            .Where(line => line.StartsWith(ResultMarker, StringComparison.Ordinal))
            .Select(line => JsonDocument.Parse(line[ResultMarker.Length..]).RootElement.Clone())
            .ToList();
        return new ChildRun(process.ExitCode, results, output + stderr.Result);
    }

    /// <summary>The dotnet host running the tests (the SDK exports it as DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
            return fromSdk;
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            return self;
        return "dotnet";
    }
}
