using System.Text.Json;
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
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("[yellow]Cancelled.[/]");
            return AnalysisFailure;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or SafetensorsFormatException or FileNotFoundException
            or DirectoryNotFoundException or JsonException or InvalidOperationException or NotSupportedException or InsufficientMemoryException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return BadInput;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"analysis failed: {ex.GetType().Name}: {ex.Message}");
            return AnalysisFailure;
        }
    }
}
