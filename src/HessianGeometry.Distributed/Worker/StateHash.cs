using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace HessianGeometry.Distributed.Worker;

/// <summary>
/// SHA-256 fingerprints that let the client refuse a worker whose model or shard differs from its own: of a model's
/// parameters and buffers (name, dtype, shape, raw values), and of rows of the data file's tensors as stored.
/// </summary>
internal static class StateHash
{
    public static string Of(nn.Module<Tensor, Tensor> model)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, p) in model.named_parameters())
            Append(hash, "p:" + name, p);
        foreach (var (name, b) in model.named_buffers())
            Append(hash, "b:" + name, b);
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    public static string OfRows(Tensor x, Tensor y, long start, long length)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, "x", x.narrow(0, start, length));
        Append(hash, "y", y.narrow(0, start, length));
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static void Append(IncrementalHash hash, string name, Tensor t)
    {
        using var scope = NewDisposeScope();
        hash.AppendData(Encoding.UTF8.GetBytes($"{name}|{t.dtype}|{string.Join(',', t.shape)}|"));
        if (t.numel() > 0)
            hash.AppendData(t.detach().cpu().contiguous().bytes);
    }
}
