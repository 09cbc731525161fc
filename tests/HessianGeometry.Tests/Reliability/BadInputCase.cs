namespace HessianGeometry.Tests.Reliability;

/// <summary>Where a row of the bad-input matrix runs.</summary>
internal enum Isolation
{
    /// <summary>In the test process: the input never reaches a native call that could abort.</summary>
    InProcess,

    /// <summary>
    /// In a child process: without the library's check the input would reach torch.autograd.grad (or another native
    /// call) that aborts the process; if a check ever regresses, only the child dies and the row fails with its output.
    /// </summary>
    ChildProcess,
}

/// <summary>One row of the bad-input matrix: a bad input, the .NET exception it must raise, and what the message must say.</summary>
/// <param name="Name">Unique row name (also the child-process argument).</param>
/// <param name="Area">The category (NaN/Inf, training mode, parameters, data, memory, solver options, cancellation, files).</param>
/// <param name="Expected">The exact exception type.</param>
/// <param name="Fragments">Substrings the message must contain: what is wrong, and how to fix it.</param>
/// <param name="Run">Builds the bad input and calls the library; it must throw.</param>
/// <param name="Isolation">Where the row runs.</param>
internal sealed record BadInputCase(string Name, string Area, Type Expected, string[] Fragments, Action Run, Isolation Isolation = Isolation.InProcess);
