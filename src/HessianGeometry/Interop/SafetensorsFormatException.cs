namespace HessianGeometry.Interop;

/// <summary>
/// A safetensors file or stream breaks the format (Hugging Face safetensors specification): a bad header length,
/// invalid JSON, an unknown dtype, a shape that disagrees with its byte range, overlapping or out-of-range offsets, a
/// hole in the data region, or a truncated file. The message says what is wrong and where (byte offset or tensor name).
/// </summary>
public sealed class SafetensorsFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SafetensorsFormatException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SafetensorsFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the underlying parser or I/O failure.</summary>
    public SafetensorsFormatException(string message, Exception innerException) : base(message, innerException) { }

    internal SafetensorsFormatException(string source, string problem, string? tensorName = null, Exception? innerException = null)
        : base($"Invalid safetensors {source}: {problem}", innerException)
    {
        Origin = source;
        TensorName = tensorName;
    }

    /// <summary>What was being read: <c>file '…'</c> or <c>stream</c> (null when created through the public constructors).</summary>
    public string? Origin { get; }

    /// <summary>The tensor the problem concerns, when it concerns one.</summary>
    public string? TensorName { get; }
}
