namespace HessianGeometry.Cli.Tests;

/// <summary>Runs the tool in this process with standard error captured: the tests of refused input read its messages.</summary>
internal static class CliRun
{
    /// <summary>The exit code of <c>hessian-geometry ARGS</c> and what it wrote to stderr.</summary>
    public static (int Code, string Error) Capturing(params string[] args)
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            return (Program.Main(args), error.ToString());
        }
        finally
        {
            Console.SetError(original);
        }
    }
}
