using System.Diagnostics;

namespace Wasmorch.Transport;

/// <summary>
/// Carries at most <c>bytesPerSecond</c> in each direction, like a UART (8N1: baud / 10 bytes per
/// second). Pseudo-terminals ignore the baud rate; this makes an emulated board's link take the
/// wire time a real one would, so that timings and progress bars are realistic.
/// </summary>
public sealed class ThrottledStream : DelegatingStream
{
    private readonly double _ticksPerByte;
    private readonly int _chunk;
    private long _readFree;
    private long _writeFree;

    public ThrottledStream(Stream inner, int bytesPerSecond)
        : base(inner)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        _ticksPerByte = (double)Stopwatch.Frequency / bytesPerSecond;
        // About 5 ms of wire time per step: smooth, without a timer per byte.
        _chunk = Math.Max(1, bytesPerSecond / 200);
    }

    public static int BytesPerSecond(int baud) => Math.Max(1, baud / 10);

    /// <summary>Waits until the wire would have carried the previous bytes, then books <paramref name="count"/> more.</summary>
    private static async Task PaceAsync(long wireFree, CancellationToken ct)
    {
        var wait = wireFree - Stopwatch.GetTimestamp();
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct);
        }
    }

    /// <summary>
    /// Books wire time for <paramref name="count"/> bytes. A timer that wakes late leaves up to
    /// 20 ms of wire time unused; that credit is spent first, so oversleeping does not add up
    /// and the long-run rate stays at the baud rate (a token bucket with a 20 ms burst).
    /// </summary>
    private long Book(ref long wireFree, int count)
    {
        var start = Math.Max(Stopwatch.GetTimestamp() - Stopwatch.Frequency / 50, wireFree);
        wireFree = start + (long)(count * _ticksPerByte);
        return wireFree;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await Inner.ReadAsync(buffer[..Math.Min(buffer.Length, _chunk)], cancellationToken);
        if (read > 0)
        {
            await PaceAsync(Book(ref _readFree, read), cancellationToken);
        }
        return read;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        for (var offset = 0; offset < buffer.Length; offset += _chunk)
        {
            var piece = buffer.Slice(offset, Math.Min(_chunk, buffer.Length - offset));
            await Inner.WriteAsync(piece, cancellationToken);
            await PaceAsync(Book(ref _writeFree, piece.Length), cancellationToken);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("use ReadAsync: pacing is asynchronous");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("use WriteAsync: pacing is asynchronous");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
