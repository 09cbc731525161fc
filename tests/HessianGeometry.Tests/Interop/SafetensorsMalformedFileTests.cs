using HessianGeometry.Interop;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HessianGeometry.Tests.Interop;

/// <summary>
/// Every way a file can break the safetensors format is rejected with a <see cref="SafetensorsFormatException"/> whose
/// message names the problem and where it is, through both the path reader and the stream reader.
/// </summary>
public sealed class SafetensorsMalformedFileTests(ITestOutputHelper output)
{
    private static string Tensor(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    private static byte[] Zeros(int n) => new byte[n];

    public static TheoryData<string, byte[], string[]> Cases => new()
    {
        { "empty file", [], ["fewer than the 8-byte"] },
        { "five bytes", [1, 2, 3, 4, 5], ["5 bytes", "fewer than the 8-byte"] },
        { "header length past the end", Fixtures.Safetensors("{}", declaredLength: 100), ["header length", "100 bytes", "truncated"] },
        { "absurd header length", Fixtures.Safetensors("{}", declaredLength: 200_000_000), ["200000000", "over the format's limit"] },
        { "header length near 2^64", Fixtures.Safetensors("{}", declaredLength: ulong.MaxValue), ["18446744073709551615", "over the format's limit"] },
        { "header length zero", Fixtures.Safetensors("{}", declaredLength: 0), ["header length", "is 0"] },
        { "header not UTF-8", Fixtures.Safetensors(new byte[] { (byte)'{', 0xFF, (byte)'}' }), ["not valid UTF-8"] },
        { "header is a JSON array", Fixtures.Safetensors("[]"), ["must start with '{'"] },
        { "trailing comma", Fixtures.Safetensors("{" + Tensor("a", "F32", "[1]", 0, 4) + ",}", Zeros(4)), ["not valid JSON", "line 1"] },
        { "unterminated JSON", Fixtures.Safetensors("{\"a\":{\"dtype\":\"F32\""), ["not valid JSON"] },
        { "second JSON value after the object", Fixtures.Safetensors("{} {}"), ["not valid JSON"] },
        { "unknown dtype", Fixtures.Safetensors("{" + Tensor("w", "Q4", "[1]", 0, 1) + "}", Zeros(1)), ["tensor 'w'", "dtype \"Q4\"", "not supported", "F64, F32"] },
        { "dtype in lower case", Fixtures.Safetensors("{" + Tensor("w", "f32", "[1]", 0, 4) + "}", Zeros(4)), ["dtype \"f32\"", "not supported"] },
        { "dtype is a number", Fixtures.Safetensors("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", Zeros(4)), ["\"dtype\" of tensor 'w' must be a string", "header byte"] },
        { "missing data_offsets", Fixtures.Safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", Zeros(4)), ["tensor 'w'", "lacks data_offsets"] },
        { "missing dtype and shape", Fixtures.Safetensors("{\"w\":{\"data_offsets\":[0,4]}}", Zeros(4)), ["lacks dtype and shape"] },
        { "negative dimension", Fixtures.Safetensors("{" + Tensor("w", "F32", "[-1,2]", 0, 8) + "}", Zeros(8)), ["dimension 0", "-1", "non-negative"] },
        { "fractional dimension", Fixtures.Safetensors("{" + Tensor("w", "F32", "[1.5]", 0, 4) + "}", Zeros(4)), ["dimension 0", "1.5"] },
        { "dimension as a string", Fixtures.Safetensors("{" + Tensor("w", "F32", "[\"2\"]", 0, 8) + "}", Zeros(8)), ["dimension 0", "the string \"2\""] },
        { "three data_offsets", Fixtures.Safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", Zeros(8)), ["[begin, end]", "3 entries"] },
        { "begin after end", Fixtures.Safetensors("{" + Tensor("w", "F32", "[0]", 4, 0) + "}", Zeros(4)), ["[4, 0]", "begin is after end"] },
        { "offset beyond 2^63", Fixtures.Safetensors("{" + Tensor("w", "F32", "[1]", 0, -1).Replace("-1", "18446744073709551615", StringComparison.Ordinal) + "}", Zeros(4)), ["offset 1", "18446744073709551615"] },
        { "shape disagrees with byte count", Fixtures.Safetensors("{" + Tensor("w", "F32", "[2,2]", 0, 12) + "}", Zeros(12)), ["tensor 'w' (F32, shape [2, 2])", "needs 16 bytes", "span 12 bytes"] },
        { "shape overflows", Fixtures.Safetensors("{" + Tensor("w", "F32", "[4294967296,4294967296]", 0, 0) + "}"), ["tensor 'w'", "overflows"] },
        { "data truncated", Fixtures.Safetensors("{" + Tensor("w", "F32", "[4]", 0, 16) + "}", Zeros(8)), ["[0, 16]", "tensor 'w'", "run past the end", "8 bytes", "truncated"] },
        { "overlapping tensors", Fixtures.Safetensors("{" + Tensor("a", "F32", "[2]", 0, 8) + "," + Tensor("b", "F32", "[2]", 4, 12) + "}", Zeros(12)), ["tensor 'b'", "overlaps tensor 'a'", "[0, 8]"] },
        { "hole between tensors", Fixtures.Safetensors("{" + Tensor("a", "F32", "[1]", 0, 4) + "," + Tensor("b", "F32", "[1]", 8, 12) + "}", Zeros(12)), ["bytes [4, 8)", "before tensor 'b'", "without holes"] },
        { "hole at the start", Fixtures.Safetensors("{" + Tensor("a", "F32", "[1]", 4, 8) + "}", Zeros(8)), ["bytes [0, 4)", "before tensor 'a'"] },
        { "trailing bytes after the last tensor", Fixtures.Safetensors("{" + Tensor("a", "F32", "[1]", 0, 4) + "}", Zeros(8)), ["4 bytes after the last tensor", "belong to no tensor"] },
        { "duplicate tensor name", Fixtures.Safetensors("{" + Tensor("a", "F32", "[1]", 0, 4) + "," + Tensor("a", "F32", "[1]", 4, 8) + "}", Zeros(8)), ["tensor 'a' twice"] },
        { "metadata value not a string", Fixtures.Safetensors("{\"__metadata__\":{\"epoch\":3}}"), ["\"__metadata__\" entry 'epoch' must be a string", "a number"] },
        { "metadata not an object", Fixtures.Safetensors("{\"__metadata__\":[\"a\"]}"), ["\"__metadata__\" must be an object of strings", "an array"] },
        { "tensor record not an object", Fixtures.Safetensors("{\"w\":[1,2]}"), ["record of tensor 'w' must be an object", "an array"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MalformedStream_IsRejected_WithAMessageSayingWhatAndWhere(string problem, byte[] content, string[] fragments)
    {
        using var stream = new MemoryStream(content);
        var ex = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.ReadFrom(stream));
        AssertMentions(ex, problem, fragments);
        Assert.Equal("stream", ex.Origin);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MalformedFile_IsRejected_WithAMessageSayingWhatAndWhere(string problem, byte[] content, string[] fragments)
    {
        using var temp = Fixtures.TemporaryFile(content);
        var ex = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Read(temp.Path));
        AssertMentions(ex, problem, fragments);
        Assert.Contains(Path.GetFileName(temp.Path), ex.Message);
    }

    [Fact]
    public void BoolTensor_WithAByteOtherThanZeroOrOne_IsRejectedWhenLoaded()
    {
        var content = Fixtures.Safetensors("{" + Tensor("mask", "BOOL", "[3]", 0, 3) + "}", [1, 0, 2]);
        var file = SafetensorsFile.ReadFrom(new MemoryStream(content));
        var ex = Assert.Throws<SafetensorsFormatException>(() => file.LoadTensor("mask"));
        Assert.Contains("'mask'", ex.Message);
        Assert.Contains("byte 2 at element 2", ex.Message);
        Assert.Equal("mask", ex.TensorName);
    }

    [Fact]
    public void WellFormedEdgeCases_AreAccepted()
    {
        using var scope = NewDisposeScope();
        // Zero-size tensors at the same offset as a neighbour, unknown record fields, null metadata and space padding are all valid.
        var header = "{\"__metadata__\":null," + Tensor("e", "F64", "[0,5]", 0, 0) + "," + Tensor("s", "I32", "[]", 0, 4)
            + ",\"t\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6],\"note\":{\"x\":[1]}}," + Tensor("z", "F16", "[0]", 6, 6) + "}    ";
        var file = SafetensorsFile.ReadFrom(new MemoryStream(Fixtures.Safetensors(header, [7, 0, 0, 0, 9, 250])));
        Assert.Empty(file.Metadata);
        Assert.Equal(["e", "s", "t", "z"], file.Keys);
        Assert.Equal([0L, 5L], file.LoadTensor("e").shape);
        Assert.Equal(7, file.LoadTensor("s").item<int>());
        Assert.Equal([(byte)9, (byte)250], file.LoadTensor("t").data<byte>().ToArray());
        Assert.Equal(0, file.LoadTensor("z").numel());

        var empty = SafetensorsFile.ReadFrom(new MemoryStream(Fixtures.Safetensors("{}")));
        Assert.Empty(empty);
    }

    private void AssertMentions(SafetensorsFormatException ex, string problem, string[] fragments)
    {
        output.WriteLine(ex.Message);
        Assert.StartsWith("Invalid safetensors ", ex.Message);
        foreach (var fragment in fragments)
            Assert.True(ex.Message.Contains(fragment, StringComparison.Ordinal), $"{problem}: message lacks \"{fragment}\": {ex.Message}");
    }
}
