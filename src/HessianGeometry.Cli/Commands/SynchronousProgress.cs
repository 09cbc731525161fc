namespace HessianGeometry.Cli.Commands;

/// <summary>An IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool and may reorder).</summary>
internal sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
