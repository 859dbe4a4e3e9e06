using Wasmorch.Protocol.Modules;

namespace Wasmorch.Protocol.Tests;

/// <summary>The lzss1 codec of compressed uploads (docs/protocol.md §6b).</summary>
public sealed class Lzss1Tests
{
    [Fact]
    public void Random_modules_of_every_kind_come_back_byte_for_byte_fed_in_any_fragmentation()
    {
        // A new seed each run, named in every failure: a failure is replayed by fixing it here.
        var seed = Environment.TickCount;
        var random = new Random(seed);
        for (var round = 0; round < 200; round++)
        {
            var size = random.Next(0, 3000);
            var module = new byte[size];
            // Noise, runs, repeats at every distance, and pieces of the dictionary.
            for (var i = 0; i < size; i++)
            {
                module[i] = random.Next(4) switch
                {
                    0 => (byte)random.Next(256),
                    1 => i > 0 ? module[i - 1] : (byte)0,
                    2 => i > 5000 % (i + 1) ? module[random.Next(i)] : (byte)7,
                    _ => Lzss1Preset.Bytes[i % Lzss1Preset.Bytes.Length],
                };
            }
            var stream = Lzss1.Compress(module);
            Assert.True(stream.Length <= Lzss1.MaxStreamSize(size), $"seed {seed} round {round}: {stream.Length} bytes for {size}");
            var decoder = new Lzss1.Decoder();
            var output = new byte[size];
            for (var at = 0; at < stream.Length;)
            {
                var piece = Math.Min(random.Next(1, 40), stream.Length - at);
                Assert.True(decoder.Feed(stream.AsSpan(at, piece), output) is null, $"seed {seed} round {round}");
                at += piece;
            }
            Assert.True(decoder.Finish(size) is null, $"seed {seed} round {round}");
            Assert.True(module.AsSpan().SequenceEqual(output), $"seed {seed} round {round}");
        }
    }

    [Fact]
    public void The_project_modules_compress_and_a_module_sharing_the_dictionary_compresses_better()
    {
        var module = Lzss1Preset.Bytes[..400].ToArray();
        var stream = Lzss1.Compress(module);
        Assert.True(stream.Length < module.Length / 4, $"{stream.Length} bytes");
        Assert.Equal(module, Lzss1.Decompress(stream, module.Length));
    }

    [Theory]
    // A reference (flag bit 0 set) 4096 back from the first byte: 1205 dictionary bytes only.
    [InlineData(new byte[] { 0x01, 0xff, 0xf0 }, 3, "reaches before the dictionary")]
    // Literal 'a' then a reference of 18 bytes into a module of 4.
    [InlineData(new byte[] { 0x02, 0x61, 0x00, 0x0f }, 4, "runs past the module's 4 bytes")]
    // Two literals for a module of one byte.
    [InlineData(new byte[] { 0x00, 0x61, 0x62 }, 1, "goes on after the module's 1 bytes")]
    // A literal for a module of two bytes: the stream ends short.
    [InlineData(new byte[] { 0x00, 0x61 }, 2, "ends after 2 bytes with 1 of the module's 2 bytes")]
    // A reference cut after its first byte.
    [InlineData(new byte[] { 0x01, 0x00 }, 3, "ends after 2 bytes with 0 of the module's 3 bytes")]
    public void A_malformed_stream_is_refused_with_what_is_wrong_and_never_writes_past_the_module(byte[] stream, int size, string why)
    {
        var error = Assert.Throws<InvalidDataException>(() => Lzss1.Decompress(stream, size));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_claiming_far_more_output_than_declared_stops_at_the_declared_size()
    {
        // 1000 groups of 8 references of 18 bytes each: 144000 bytes claimed, 64 declared.
        var bomb = Enumerable.Repeat<byte[]>([0xff, 0, 0x0f, 0, 0x0f, 0, 0x0f, 0, 0x0f, 0, 0x0f, 0, 0x0f, 0, 0x0f, 0, 0x0f], 1000).SelectMany(g => g).ToArray();
        var module = new byte[64];
        var error = new Lzss1.Decoder().Feed(bomb, module);
        Assert.Contains("runs past the module's 64 bytes", error, StringComparison.Ordinal);
    }
}
