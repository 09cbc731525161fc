using System.Collections.Concurrent;

namespace HessianGeometry.Distributed.Worker;

/// <summary>
/// One dedicated thread that runs all of a shard's libtorch work in order. Thread-pool threads change from call to
/// call, and libtorch's intra-op parallelism is set up per calling thread, which changed the last bits of products
/// between runs; on one thread the same call gives the same bits, so the same seed gives the same report.
/// </summary>
internal sealed class TorchThread : IDisposable
{
    private readonly BlockingCollection<Action> work = [];
    private readonly Thread thread;

    private readonly int threads;

    public TorchThread(string name, int intraOpThreads)
    {
        threads = Math.Max(1, intraOpThreads);
        thread = new Thread(Loop) { IsBackground = true, Name = name };
        thread.Start();
    }

    public Task<T> Run<T>(Func<T> body, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellationToken);
                return;
            }
            try
            {
                done.TrySetResult(body());
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        }, CancellationToken.None);
        return done.Task;
    }

    public void Dispose()
    {
        work.CompleteAdding();
        if (Thread.CurrentThread != thread)
            thread.Join(TimeSpan.FromSeconds(30));
        work.Dispose();
    }

    private void Loop()
    {
        TorchSharp.torch.set_num_threads(threads);
        foreach (var action in work.GetConsumingEnumerable())
            action();
    }
}
