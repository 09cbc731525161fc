using HessianGeometry.Interop;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Interop;

/// <summary>Reads dtypes.safetensors, written by PyTorch through fixtures/generate_fixtures.py, and checks every value.</summary>
public sealed class SafetensorsReaderTests
{
    private static SafetensorsFile DTypes() => SafetensorsFile.Read(Fixtures.PathOf("dtypes.safetensors"));

    private static double[] AsDoubles(Tensor t) => t.to(ScalarType.Float64).reshape(-1).data<double>().ToArray();

    [Theory]
    [InlineData("f64", SafetensorsDType.F64, ScalarType.Float64, new long[] { 2, 3 }, new[] { 0.1, -2.5, 1e-300, 1.7976931348623157e308, -0.0, 3.0 })]
    [InlineData("f32", SafetensorsDType.F32, ScalarType.Float32, new long[] { 2, 2 }, new[] { (double)0.1f, -2.5, (double)float.MaxValue, (double)float.Epsilon })]
    [InlineData("f16", SafetensorsDType.F16, ScalarType.Float16, new long[] { 6 }, new[] { 1.0, -2.5, 0.0999755859375, 65504.0, 6.103515625e-05, 5.960464477539063e-08 })]
    [InlineData("bf16", SafetensorsDType.BF16, ScalarType.BFloat16, new long[] { 2, 2 }, new[] { 1.0, -2.5, 3.140625, 3.3895313892515355e38 })]
    [InlineData("scalar_f64", SafetensorsDType.F64, ScalarType.Float64, new long[0], new[] { 2.5 })]
    [InlineData("empty_f32", SafetensorsDType.F32, ScalarType.Float32, new long[] { 0, 3 }, new double[0])]
    public void FloatingTensor_LoadsInItsOwnDType_WithExactValues(string name, SafetensorsDType stored, ScalarType loaded, long[] shape, double[] values)
    {
        using var scope = NewDisposeScope();
        var file = DTypes();
        Assert.Equal(stored, file[name].DType);
        Assert.Equal(shape, file[name].Shape);
        var t = file.LoadTensor(name);
        Assert.Equal(loaded, t.dtype);
        Assert.Equal(shape, t.shape);
        var actual = AsDoubles(t);
        Assert.Equal(values.Length, actual.Length);
        for (var i = 0; i < values.Length; i++)
        {
            // Bitwise: every stored value is exactly representable, and -0.0 must keep its sign.
            Assert.True(BitConverter.DoubleToInt64Bits(values[i]) == BitConverter.DoubleToInt64Bits(actual[i]), $"{name}[{i}]: expected {values[i]:R}, got {actual[i]:R}");
        }
    }

    [Fact]
    public void IntegerAndBoolTensors_LoadWithExactValues_IncludingExtremes()
    {
        using var scope = NewDisposeScope();
        var file = DTypes();
        var i64 = file.LoadTensor("i64");
        Assert.Equal(ScalarType.Int64, i64.dtype);
        Assert.Equal([long.MinValue, 0L, long.MaxValue], i64.data<long>().ToArray());
        var i32 = file.LoadTensor("i32");
        Assert.Equal(ScalarType.Int32, i32.dtype);
        Assert.Equal([2L, 2L], i32.shape);
        Assert.Equal([int.MinValue, -1, 1, int.MaxValue], i32.data<int>().ToArray());
        var i16 = file.LoadTensor("i16");
        Assert.Equal(ScalarType.Int16, i16.dtype);
        Assert.Equal([short.MinValue, short.MaxValue], i16.data<short>().ToArray());
        var i8 = file.LoadTensor("i8");
        Assert.Equal(ScalarType.Int8, i8.dtype);
        Assert.Equal([sbyte.MinValue, sbyte.MaxValue, (sbyte)0], i8.data<sbyte>().ToArray());
        var u8 = file.LoadTensor("u8");
        Assert.Equal(ScalarType.Byte, u8.dtype);
        Assert.Equal([(byte)0, (byte)255, (byte)7], u8.data<byte>().ToArray());
        var b = file.LoadTensor("bool");
        Assert.Equal(ScalarType.Bool, b.dtype);
        Assert.Equal([true, false, true], b.data<bool>().ToArray());
    }

    [Fact]
    public void ThreeDimensionalTensor_IsRowMajor()
    {
        using var scope = NewDisposeScope();
        var cube = DTypes().LoadTensor("cube_i32");
        Assert.Equal([2L, 3L, 4L], cube.shape);
        // arange(24).reshape(2, 3, 4): element [i, j, k] = 12 i + 4 j + k.
        for (var i = 0; i < 2; i++)
            for (var j = 0; j < 3; j++)
                for (var k = 0; k < 4; k++)
                    Assert.Equal(12 * i + 4 * j + k, cube[i, j, k].item<int>());
    }

    [Fact]
    public void Entries_AreInDataOrder_WhileTheHeaderListsKeysAlphabetically()
    {
        var file = DTypes();
        Assert.Equal(13, file.Count);
        var begins = file.Entries.Select(e => e.DataBegin).ToList();
        Assert.Equal(begins.Order().ToList(), begins);
        // The generator writes tensors in insertion order (f64 first) but sorts the JSON keys (bf16 first).
        Assert.Equal("f64", file.Entries[0].Name);
        Assert.Equal(0, file.Entries[0].DataBegin);
        Assert.Equal(file.Entries.Select(e => e.Name), file.Keys);
        Assert.True(file.ContainsKey("bf16"));
        Assert.False(file.ContainsKey("missing"));
        Assert.Equal(8 + file.HeaderLength + file.Entries[^1].DataEnd, new FileInfo(Fixtures.PathOf("dtypes.safetensors")).Length);
    }

    [Fact]
    public void Metadata_IsRead()
    {
        var file = DTypes();
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("dtype coverage", file.Metadata["purpose"]);
        Assert.Equal(2, file.Metadata.Count);
    }

    [Fact]
    public void ReadFrom_SeekableAndNonSeekableStreams_EqualsReadFromPath()
    {
        using var scope = NewDisposeScope();
        var bytes = File.ReadAllBytes(Fixtures.PathOf("dtypes.safetensors"));
        var fromPath = DTypes();
        using var seekable = new MemoryStream(bytes);
        using var forwardOnly = new ForwardOnlyStream(bytes);
        foreach (var fromStream in new[] { SafetensorsFile.ReadFrom(seekable), SafetensorsFile.ReadFrom(forwardOnly) })
        {
            Assert.Null(fromStream.Path);
            Assert.Equal(fromPath.Entries, fromStream.Entries);
            foreach (var name in fromPath.Keys)
                AssertIdentical(fromPath.LoadTensor(name), fromStream.LoadTensor(name), name);
        }
    }

    [Fact]
    public void LoadTensor_UnknownName_ThrowsKeyNotFound_ListingTheNamesPresent()
    {
        var ex = Assert.Throws<KeyNotFoundException>(() => DTypes().LoadTensor("f128"));
        Assert.Contains("'f128'", ex.Message);
        Assert.Contains("bf16", ex.Message);
        Assert.Throws<KeyNotFoundException>(() => DTypes()["f128"]);
    }

    [Fact]
    public void LoadAll_ReturnsEveryTensor()
    {
        using var scope = NewDisposeScope();
        var all = DTypes().LoadAll();
        Assert.Equal(13, all.Count);
        Assert.Equal(2.5, all["scalar_f64"].item<double>());
    }

    [Fact]
    public void FileChangedOnDisk_AfterRead_IsDetectedAtLoad()
    {
        using var temp = Fixtures.TemporaryFile(File.ReadAllBytes(Fixtures.PathOf("dtypes.safetensors")));
        var file = SafetensorsFile.Read(temp.Path);
        File.AppendAllText(temp.Path, "x");
        var ex = Assert.Throws<SafetensorsFormatException>(() => file.LoadTensor("f64"));
        Assert.Contains("changed on disk", ex.Message);
    }

    internal static void AssertIdentical(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.eq(actual).all().item<bool>(), $"{what}: values differ");
    }

    /// <summary>A stream that cannot seek or report its length, like a network stream.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream inner = new(bytes);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
