using System.Buffers;

namespace Wasmorch.Protocol.Agent;

public enum FrameStatus
{
    /// <summary>No complete line yet; read more bytes.</summary>
    NeedMore,

    /// <summary>A complete line (without its terminator) was taken from the buffer.</summary>
    Line,

    /// <summary>An over-long line was discarded up to and including its terminator.</summary>
    TooLong,
}

/// <summary>
/// Splits a byte stream into protocol lines, bounded by <see cref="ProtocolLimits.MaxLineLength"/>.
/// An over-long line is skipped to its terminator and reported once, so one bad line never
/// desynchronises the lines after it and never grows a buffer without bound.
/// </summary>
public sealed class LineFramer
{
    private readonly int _maxLength;
    private bool _discarding;

    public LineFramer(int maxLength = ProtocolLimits.MaxLineLength) => _maxLength = maxLength;

    /// <summary>True while the framer is skipping the rest of an over-long line.</summary>
    public bool IsDiscarding => _discarding;

    public FrameStatus TryRead(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        line = default;
        var newline = buffer.PositionOf((byte)'\n');
        if (_discarding)
        {
            if (newline is null)
            {
                buffer = buffer.Slice(buffer.End);
                return FrameStatus.NeedMore;
            }
            buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
            _discarding = false;
            return FrameStatus.TooLong;
        }
        if (newline is null)
        {
            if (buffer.Length >= _maxLength)
            {
                _discarding = true;
                buffer = buffer.Slice(buffer.End);
            }
            return FrameStatus.NeedMore;
        }
        var content = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        if (content.Length + 1 > _maxLength)
        {
            return FrameStatus.TooLong;
        }
        line = content;
        return FrameStatus.Line;
    }
}
