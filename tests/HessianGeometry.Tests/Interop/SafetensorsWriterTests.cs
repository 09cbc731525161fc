using HessianGeometry.Interop;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Interop;

public sealed class SafetensorsWriterTests
{
    /// <summary>One tensor of every supported dtype, with awkward layouts: transposed, sliced, scalar, empty.</summary>
    private static Dictionary<string, Tensor> Sample()
    {
        var g = new Generator(42);
        var f64 = randn(4, 3, dtype: ScalarType.Float64, generator: g);
        return new Dictionary<string, Tensor>
        {
            ["f64.transposed"] = f64.T,
            ["f32"] = randn(5, dtype: ScalarType.Float32, generator: g),
            ["f16"] = randn(2, 3, dtype: ScalarType.Float32, generator: g).to(ScalarType.Float16),
            ["bf16"] = randn(3, 2, dtype: ScalarType.Float32, generator: g).to(ScalarType.BFloat16),
            ["i64.sliced"] = arange(20, dtype: ScalarType.Int64).reshape(4, 5)[.., 1..4],
            ["i32"] = tensor(new[] { int.MinValue, 0, int.MaxValue }),
            ["i16"] = tensor(new short[] { -7, 7 }),
            ["i8"] = tensor(new sbyte[] { -128, 127 }),
            ["u8"] = tensor(new byte[] { 0, 200, 255 }),
            ["bool"] = tensor(new[] { true, false, false, true }),
            ["scalar"] = tensor(3.25),
            ["empty"] = zeros(0, 4, dtype: ScalarType.Float32),
            ["with.grad"] = randn(3, dtype: ScalarType.Float64, generator: g).requires_grad_(),
        };
    }

    [Fact]
    public void WriteThenRead_PreservesEveryDTypeShapeValueAndMetadata()
    {
        using var scope = NewDisposeScope();
        var tensors = Sample();
        using var temp = Fixtures.TemporaryFile();
        SafetensorsWriter.Write(temp.Path, tensors, new Dictionary<string, string> { ["spec"] = "mlp:3-5-2:tanh", ["note"] = "ünïcödé \"quoted\"" });
        var file = SafetensorsFile.Read(temp.Path);
        Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), file.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, expected) in tensors)
            SafetensorsReaderTests.AssertIdentical(expected.detach().contiguous(), file.LoadTensor(name), name);
        Assert.Equal("mlp:3-5-2:tanh", file.Metadata["spec"]);
        Assert.Equal("ünïcödé \"quoted\"", file.Metadata["note"]);
        Assert.False(File.Exists(temp.Path + ".tmp-" + Environment.ProcessId), "the temporary file was left behind");
    }

    [Fact]
    public void Layout_AlignsEveryTensorToItsElementSize_AndIsDeterministic()
    {
        using var scope = NewDisposeScope();
        var tensors = Sample();
        using var first = new MemoryStream();
        using var second = new MemoryStream();
        SafetensorsWriter.WriteTo(first, tensors);
        SafetensorsWriter.WriteTo(second, tensors);
        Assert.Equal(first.ToArray(), second.ToArray());

        var file = SafetensorsFile.ReadFrom(new MemoryStream(first.ToArray()));
        Assert.Equal(0, (8 + file.HeaderLength) % 8);
        foreach (var e in file.Entries)
            Assert.True(e.DataBegin % e.ElementSize == 0, $"{e.Name} starts at {e.DataBegin}, not a multiple of {e.ElementSize}");
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void TensorLargerThanOneCopyChunk_RoundTrips()
    {
        using var scope = NewDisposeScope();
        // 5·2^20 float32 values = 20 MiB, more than the 16 MiB copied per native call, so both loops take several chunks.
        var big = arange(5L << 20, dtype: ScalarType.Float32).reshape(5, -1) * 0.5f;
        using var stream = new MemoryStream();
        SafetensorsWriter.WriteTo(stream, new Dictionary<string, Tensor> { ["big"] = big });
        stream.Position = 0;
        SafetensorsReaderTests.AssertIdentical(big, SafetensorsFile.ReadFrom(stream).LoadTensor("big"), "big");
        using var temp = Fixtures.TemporaryFile(stream.ToArray());
        SafetensorsReaderTests.AssertIdentical(big, SafetensorsFile.Read(temp.Path).LoadTensor("big"), "big from file");
    }

    [Fact]
    public void Write_ReplacesAnExistingFile()
    {
        using var scope = NewDisposeScope();
        using var temp = Fixtures.TemporaryFile([1, 2, 3]);
        SafetensorsWriter.Write(temp.Path, new Dictionary<string, Tensor> { ["x"] = ones(2) });
        Assert.Equal(1f, SafetensorsFile.Read(temp.Path).LoadTensor("x")[1].item<float>());
    }

    [Fact]
    public void UnsupportedDType_IsRejectedBeforeAnythingIsWritten()
    {
        using var scope = NewDisposeScope();
        using var temp = Fixtures.TemporaryFile();
        var tensors = new Dictionary<string, Tensor> { ["ok"] = ones(2), ["z"] = zeros(2, dtype: ScalarType.ComplexFloat64) };
        var ex = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(temp.Path, tensors));
        Assert.Contains("'z'", ex.Message);
        Assert.Contains("ComplexFloat64", ex.Message);
        Assert.False(File.Exists(temp.Path));
    }

    [Fact]
    public void ReservedName_AndDisposedTensor_AreRejected()
    {
        using var stream = new MemoryStream();
        var reserved = Assert.Throws<ArgumentException>(() => SafetensorsWriter.WriteTo(stream, new Dictionary<string, Tensor> { ["__metadata__"] = ones(1) }));
        Assert.Contains("__metadata__", reserved.Message);
        var disposed = ones(1);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => SafetensorsWriter.WriteTo(stream, new Dictionary<string, Tensor> { ["gone"] = disposed }));
        Assert.Equal(0, stream.Length);
    }
}
