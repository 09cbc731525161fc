namespace HessianGeometry.Cli.Tests;

/// <summary>A fresh folder under the system temp path, deleted on dispose (set HG_KEEP_PLOTS=1 to keep it for a look).</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hg-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("HG_KEEP_PLOTS") != "1")
            Directory.Delete(Path, recursive: true);
    }
}
