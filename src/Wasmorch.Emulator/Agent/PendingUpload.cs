using Wasmorch.Protocol.Modules;

namespace Wasmorch.Emulator.Agent;

/// <summary>
/// One XLOAD (docs/protocol.md §6b) as far as it got: the module buffer, the stream bytes taken and
/// the decoder's state. Kept by the board when the link drops or stalls, so that the same XLOAD
/// on the next link resumes at <see cref="Consumed"/>.
/// </summary>
internal sealed class PendingUpload
{
    private readonly Lzss1.Decoder? _decoder;

    public PendingUpload(string id, int size, uint crc, string codec, int streamSize)
    {
        Id = id;
        Size = size;
        Crc = crc;
        Codec = codec;
        StreamSize = streamSize;
        Module = new byte[size];
        _decoder = codec == Lzss1.Name ? new Lzss1.Decoder() : null;
    }

    public string Id { get; }

    public int Size { get; }

    public uint Crc { get; }

    public string Codec { get; }

    public int StreamSize { get; }

    public byte[] Module { get; }

    /// <summary>
    /// Held by the link receiving the stream. A board has one link, but an emulated one may see the
    /// next connection before the last has taken the bytes it had: a resume waits for them.
    /// </summary>
    public SemaphoreSlim Receiving { get; } = new(1, 1);

    /// <summary>Stream bytes taken (and decoded) so far: where a resumed XLOAD starts.</summary>
    public int Consumed { get; private set; }

    /// <summary>The first thing wrong with the stream; the rest of it is taken and dropped.</summary>
    public string? Malformed { get; private set; }

    public bool IsSameTransfer(PendingUpload other) =>
        Id == other.Id && Size == other.Size && Crc == other.Crc && Codec == other.Codec && StreamSize == other.StreamSize && Malformed is null;

    public void Feed(ReadOnlySpan<byte> stream)
    {
        if (Malformed is null)
        {
            if (_decoder is null)
            {
                stream.CopyTo(Module.AsSpan(Consumed));
            }
            else
            {
                Malformed = _decoder.Feed(stream, Module);
            }
        }
        Consumed += stream.Length;
    }

    /// <summary>After the last stream byte: null when the module is whole, else what is wrong with the stream.</summary>
    public string? Finish() => Malformed ?? _decoder?.Finish(Size);
}
