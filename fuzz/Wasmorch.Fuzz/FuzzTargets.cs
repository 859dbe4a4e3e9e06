using System.Buffers;
using System.Text;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fuzz;

/// <summary>
/// The fuzz targets. Each takes any bytes; it throws (a "crash" to afl-fuzz) only when the code
/// under test breaks a rule: an exception where a typed error was due, a line over the limit, a
/// round trip that changes meaning.
/// </summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["agent-lines"] = AgentLines,
        ["agent-session"] = AgentSessionTarget.Run,
        ["host-api"] = HostApi,
    };

    /// <summary>Line framing (over a sequence split in three segments), parsing, rebuild and args.</summary>
    public static void AgentLines(byte[] input)
    {
        var buffer = Segments.Split(input);
        var framer = new LineFramer();
        FrameStatus status;
        while ((status = framer.TryRead(ref buffer, out var line)) != FrameStatus.NeedMore)
        {
            if (status == FrameStatus.TooLong)
            {
                continue;
            }
            Check(line.Length < ProtocolLimits.MaxLineLength, $"a framed line of {line.Length} bytes");
            if (!AgentLineParser.TryParse(line, out var parsed, out _))
            {
                continue;
            }
            var rebuilt = new AgentLineBuilder(parsed!.Verb);
            foreach (var (key, value) in parsed.Fields)
            {
                rebuilt.Add(key, value);
            }
            var bytes = rebuilt.ToBytes();
            Check(bytes.Length <= ProtocolLimits.MaxLineLength, $"a rebuilt line of {bytes.Length} bytes");
            Check(AgentLineParser.TryParse(bytes.AsSpan(0, bytes.Length - 1), out var again, out var error), $"a rebuilt line does not parse: {error}");
            // The builder may shorten the last quoted value to fit; everything else must survive.
            Check(again!.Verb == parsed.Verb && again.Fields.Count == parsed.Fields.Count, $"rebuild changed {parsed} into {again}");
            if (parsed["args"] is { } args && FuncArgs.TryParse(args, out var list, out _))
            {
                Check(FuncArgs.TryParse(FuncArgs.Format(list), out var relisted, out _) && relisted.SequenceEqual(list), $"args '{args}' do not round trip");
            }
            if (parsed["crc32"] is { } crc && Crc32Hex.TryParse(crc, out var crcValue))
            {
                Check(string.Equals(Crc32Hex.Format(crcValue), crc, StringComparison.OrdinalIgnoreCase) || crc.Length != 8, $"crc32 '{crc}' does not round trip");
            }
        }
    }

    /// <summary>The host API reader: request lines of any bytes give a request or a typed error, and round trip.</summary>
    public static void HostApi(byte[] input)
    {
        foreach (var line in input.AsSpan().Split((byte)'\n'))
        {
            var bytes = input.AsSpan()[line];
            if (HostJson.TryParseRequest(bytes, out var request, out var error))
            {
                var again = HostJson.Serialize(request!);
                Check(HostJson.TryParseRequest(again, out var reparsed, out error), $"a serialized request does not parse: {error}");
                Check(Encoding.UTF8.GetString(HostJson.Serialize(reparsed!)) == Encoding.UTF8.GetString(again), "a request changed on its second round trip");
            }
            else
            {
                Check(!string.IsNullOrEmpty(error), "a refused request without an error message");
            }
            Check(HostJson.TryParseResponse(bytes, out _, out var responseError) || responseError.Length > 0, "a refused response without an error message");
        }
    }

    internal static void Check(bool condition, string rule)
    {
        if (!condition)
        {
            throw new FuzzFailureException(rule);
        }
    }
}

public sealed class FuzzFailureException : Exception
{
    public FuzzFailureException(string message)
        : base(message)
    {
    }

    public FuzzFailureException()
    {
    }

    public FuzzFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Bytes as a three-segment sequence, cut where the input's first bytes say: boundaries are part of what is fuzzed.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] input)
    {
        if (input.Length < 4)
        {
            return new ReadOnlySequence<byte>(input);
        }
        var a = input[0] % input.Length;
        var b = Math.Max(a, input[1] % input.Length);
        var first = new Segment(input.AsMemory(0, a));
        var last = first.Append(input.AsMemory(a, b - a)).Append(input.AsMemory(b));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
