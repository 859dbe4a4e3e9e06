using System.Buffers;
using System.Text;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Protocol.Tests;

public class LineFramerTests
{
    private static List<string> FeedInChunks(LineFramer framer, string input, int chunk)
    {
        var results = new List<string>();
        var pending = Array.Empty<byte>();
        var bytes = Encoding.ASCII.GetBytes(input);
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            pending = [.. pending, .. bytes.AsSpan(offset, Math.Min(chunk, bytes.Length - offset))];
            var buffer = new ReadOnlySequence<byte>(pending);
            FrameStatus status;
            while ((status = framer.TryRead(ref buffer, out var line)) != FrameStatus.NeedMore)
            {
                results.Add(status == FrameStatus.Line ? Encoding.ASCII.GetString(line.ToArray()) : "<too long>");
            }
            pending = buffer.ToArray();
        }
        return results;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    public void Splits_lines_in_any_fragmentation(int chunk)
    {
        var lines = FeedInChunks(new LineFramer(), "STATUS\nSTOP module_id=a\r\n\nPING\n", chunk);
        Assert.Equal(["STATUS", "STOP module_id=a\r", "", "PING"], lines);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(10_000)]
    public void Over_long_line_is_reported_once_and_the_next_line_survives(int chunk)
    {
        var input = new string('A', 1000) + "\nSTATUS\n";
        var lines = FeedInChunks(new LineFramer(), input, chunk);
        Assert.Equal(["<too long>", "STATUS"], lines);
    }

    [Fact]
    public void A_line_of_exactly_the_limit_passes_and_one_more_byte_does_not()
    {
        var max = new string('A', ProtocolLimits.MaxLineLength - 1) + "\n";
        var over = new string('A', ProtocolLimits.MaxLineLength) + "\n";
        Assert.Equal([max.TrimEnd('\n')], FeedInChunks(new LineFramer(), max, 50));
        Assert.Equal(["<too long>"], FeedInChunks(new LineFramer(), over, 50));
    }
}
