namespace HessianGeometry;

/// <summary>TorchSharp's native library could not be loaded; the message names the cause and the fix.</summary>
public sealed class TorchSharpLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TorchSharpLoadException() { }

    /// <summary>Creates the exception with a message.</summary>
    public TorchSharpLoadException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the original TorchSharp failure.</summary>
    public TorchSharpLoadException(string message, Exception innerException) : base(message, innerException) { }
}
