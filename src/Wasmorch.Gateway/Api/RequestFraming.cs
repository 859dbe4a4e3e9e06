using System.Buffers;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Gateway.Api.Ops;

namespace Wasmorch.Gateway.Api;

/// <summary>One thing read from a host connection: a request, or the answer owed to a line that is not one.</summary>
public readonly record struct Framed(HostRequest? Request, HostResponse? Refusal);

/// <summary>
/// The host API's framing: newline-delimited JSON, each line at most <see cref="HostJson.MaxRequestBytes"/>.
/// Pure over the received bytes: an over-long or unreadable line becomes a BAD_REQUEST answer and
/// the lines after it are read normally; blank lines are skipped.
/// </summary>
public sealed class RequestFraming
{
    private readonly LineFramer _framer = new(HostJson.MaxRequestBytes);

    /// <summary>True while the rest of an over-long line is being skipped.</summary>
    public bool IsDiscarding => _framer.IsDiscarding;

    /// <summary>Takes the next complete line out of <paramref name="buffer"/>; false when more bytes are needed.</summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, out Framed framed)
    {
        while (true)
        {
            var status = _framer.TryRead(ref buffer, out var line);
            if (status == FrameStatus.NeedMore)
            {
                framed = default;
                return false;
            }
            if (status == FrameStatus.TooLong)
            {
                framed = new(null, Replies.Failure(HostErrorCodes.BadRequest, $"request exceeds {HostJson.MaxRequestBytes} bytes"));
                return true;
            }
            if (IsBlank(line))
            {
                continue;
            }
            framed = HostJson.TryParseRequest(line.ToArray(), out var request, out var error)
                ? new(request, null)
                : new(null, Replies.Failure(HostErrorCodes.BadRequest, error));
            return true;
        }
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t'))
                {
                    return false;
                }
            }
        }
        return true;
    }
}
