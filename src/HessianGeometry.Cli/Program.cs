using System.CommandLine;
using HessianGeometry.Cli.Datasets;
using Spectre.Console;

namespace HessianGeometry.Cli;

/// <summary>Entry point of the hessian-geometry tool: demo, analyze, landscape, worker, datasets.</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Hessian geometry of trained networks: eigenvalues, trace, spectral density, decision-boundary alignment, complexity and margin.");

        var datasets = new Command("datasets", "List the built-in data sets.");
        datasets.SetAction(_ =>
        {
            var table = new Table().AddColumns("name", "n", "d", "classes");
            foreach (var name in BuiltInDatasets.Names)
            {
                using var data = BuiltInDatasets.Load(name, seed: 0);
                table.AddRow(name, data.Count.ToString(), data.Dimension.ToString(), data.Classes.ToString());
            }
            AnsiConsole.Write(table);
            return 0;
        });
        root.Subcommands.Add(datasets);
        root.Subcommands.Add(Commands.DemoCommand.Create());
        root.Subcommands.Add(Commands.AnalyzeCommand.Create());
        root.Subcommands.Add(Commands.LandscapeCommand.Create());
        root.Subcommands.Add(Commands.WorkerCommand.Create());

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !args.Any(a => a is "-h" or "--help" or "-?"))
        {
            foreach (var error in parse.Errors)
                Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run 'hessian-geometry --help' for usage.");
            return Commands.ExitCodes.BadInput;
        }
        return parse.Invoke();
    }
}
