namespace HessianGeometry.Models;

/// <summary>
/// What a model file is, from its first bytes and, for a zip archive, its entries: PyTorch writes both TorchScript
/// modules and <c>torch.save</c> pickles as zip archives, told apart by TorchScript's <c>code/</c> folder.
/// </summary>
public enum ModelFileKind
{
    /// <summary>Not a file this library reads.</summary>
    Unknown,

    /// <summary>A TorchScript archive (<c>torch.jit.save</c>): <c>…/code/</c> and <c>…/data.pkl</c>.</summary>
    TorchScript,

    /// <summary>A <c>torch.save</c> pickle archive (a state dict or a whole pickled model): <c>…/data.pkl</c> without <c>code/</c>.</summary>
    PyTorchPickle,

    /// <summary>A safetensors file: an 8-byte little-endian header length followed by a JSON header.</summary>
    Safetensors,
}
