using System.Text.Json;
using HessianGeometry.Cli.Distributed;
using HessianGeometry.Distributed;
using HessianGeometry.Interop;
using Spectre.Console;

namespace HessianGeometry.Cli.Commands;

/// <summary>0 success, 2 bad arguments or input files, 1 analysis failure — never a native crash.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int AnalysisFailure = 1;
    public const int BadInput = 2;

    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception ex)
        {
            return Report(ex);
        }
    }

    /// <summary>As <see cref="Run"/>, for commands that wait (the worker).</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return Report(ex);
        }
    }

    private static int Report(Exception ex)
    {
        switch (ClusterFailure(ex) ?? ex)
        {
            case OperationCanceledException:
                AnsiConsole.MarkupLine("[yellow]Cancelled.[/]");
                return AnalysisFailure;
            // A worker that died, timed out or does not match: the analysis failed, and the message names the shard.
            case ClusterShardException or ClusterConnectionException:
                Console.Error.WriteLine($"cluster error: {(ClusterFailure(ex) ?? ex).Message}");
                return AnalysisFailure;
            case ArgumentException or FormatException or SafetensorsFormatException or FileNotFoundException or DirectoryNotFoundException or JsonException
                or InvalidOperationException or NotSupportedException or InsufficientMemoryException:
                Console.Error.WriteLine($"error: {ex.Message}");
                return BadInput;
            default:
                Console.Error.WriteLine($"analysis failed: {ex.GetType().Name}: {ex.Message}");
                return AnalysisFailure;
        }
    }

    /// <summary>A shard failure wherever it sits (a stage or a task may wrap it): its message is the one that names the shard.</summary>
    private static ClusterShardException? ClusterFailure(Exception? ex) => ex switch
    {
        null => null,
        ClusterShardException shard => shard,
        AggregateException aggregate => aggregate.InnerExceptions.Select(ClusterFailure).FirstOrDefault(e => e is not null),
        _ => ClusterFailure(ex.InnerException),
    };
}
