namespace Wasmorch.Protocol.Modules;

/// <summary>
/// The <c>lzss1</c> codec of compressed uploads (docs/protocol.md §6b): byte-aligned LZSS with a
/// 4096-byte window and <see cref="Lzss1Preset"/> standing before the module. A stream is
/// groups of a flag byte and up to 8 items, the flag's bits taken from the least significant: 0 a
/// literal byte; 1 a reference of two bytes <c>b0 b1</c>: distance
/// <c>((b0 &lt;&lt; 4) | (b1 &gt;&gt; 4)) + 1</c> (1-4096) back from the next output byte, length
/// <c>(b1 &amp; 15) + 3</c> (3-18), copied a byte at a time (so it may overlap what it writes).
/// Chosen for a microcontroller: the decoder needs no RAM but the module buffer and its few
/// bytes of <see cref="Decoder"/> state, works a byte at a time as they arrive, and can stop and
/// resume at any byte (a resumed upload carries on with the same state).
/// </summary>
public static class Lzss1
{
    public const string Name = "lzss1";

    public const int Window = 4096;

    public const int MinMatch = 3;

    public const int MaxMatch = 18;

    /// <summary>The longest stream a module of <paramref name="size"/> bytes may take: all literals, a flag byte per 8.</summary>
    public static long MaxStreamSize(long size) => size + (size + 7) / 8;

    /// <summary>Compresses <paramref name="module"/> (greedy, hash chains over the window).</summary>
    public static byte[] Compress(ReadOnlySpan<byte> module)
    {
        var dictionary = Lzss1Preset.Bytes;
        var all = new byte[dictionary.Length + module.Length];
        dictionary.CopyTo(all);
        module.CopyTo(all.AsSpan(dictionary.Length));
        const int HashSize = 1 << 14;
        var head = new int[HashSize];
        var previous = new int[all.Length];
        Array.Fill(head, -1);
        int Hash(int at) => ((all[at] << 10) ^ (all[at + 1] << 5) ^ all[at + 2]) & (HashSize - 1);
        void Insert(int at)
        {
            if (at + 2 < all.Length)
            {
                var h = Hash(at);
                previous[at] = head[h];
                head[h] = at;
            }
        }
        for (var i = 0; i < dictionary.Length; i++)
        {
            Insert(i);
        }

        var output = new List<byte>(module.Length + module.Length / 8 + 1);
        var flagAt = -1;
        var items = 8;
        var pos = dictionary.Length;
        while (pos < all.Length)
        {
            if (items == 8)
            {
                flagAt = output.Count;
                output.Add(0);
                items = 0;
            }
            var (length, distance) = LongestMatch(all, pos, head, previous, Hash);
            if (length >= MinMatch)
            {
                output[flagAt] |= (byte)(1 << items);
                var d = distance - 1;
                output.Add((byte)(d >> 4));
                output.Add((byte)(((d & 15) << 4) | (length - MinMatch)));
                for (var k = 0; k < length; k++)
                {
                    Insert(pos + k);
                }
                pos += length;
            }
            else
            {
                output.Add(all[pos]);
                Insert(pos);
                pos++;
            }
            items++;
        }
        return [.. output];
    }

    private static (int Length, int Distance) LongestMatch(byte[] all, int pos, int[] head, int[] previous, Func<int, int> hash)
    {
        if (pos + MinMatch > all.Length)
        {
            return (0, 0);
        }
        var best = 0;
        var bestDistance = 0;
        var limit = Math.Min(MaxMatch, all.Length - pos);
        var tries = 256;
        for (var candidate = head[hash(pos)]; candidate >= 0 && pos - candidate <= Window && tries-- > 0; candidate = previous[candidate])
        {
            var length = 0;
            while (length < limit && all[candidate + length] == all[pos + length])
            {
                length++;
            }
            if (length > best)
            {
                best = length;
                bestDistance = pos - candidate;
                if (length == limit)
                {
                    break;
                }
            }
        }
        return (best, bestDistance);
    }

    /// <summary>Decompresses a whole stream into a module of <paramref name="size"/> bytes; the error names what is wrong.</summary>
    public static byte[] Decompress(ReadOnlySpan<byte> stream, int size)
    {
        var module = new byte[size];
        var decoder = new Decoder();
        if ((decoder.Feed(stream, module) ?? decoder.Finish(module.Length)) is { } error)
        {
            throw new InvalidDataException(error);
        }
        return module;
    }

    /// <summary>
    /// The decoder's whole state between bytes: where the output is, the flag byte being read and
    /// how many of its items are left, and the first byte of a reference whose second has not come.
    /// </summary>
    public sealed class Decoder
    {
        private int _flags;
        private int _itemsLeft;
        private int _referenceFirst = -1;

        /// <summary>Module bytes written so far.</summary>
        public int Written { get; private set; }

        /// <summary>Stream bytes taken so far.</summary>
        public long Consumed { get; private set; }

        /// <summary>
        /// Takes <paramref name="stream"/> bytes, writing the module into <paramref name="module"/>
        /// (exactly the module's size); null, or what makes the stream malformed (a reference before
        /// the dictionary's start, output past the module's end). Nothing after an error counts.
        /// </summary>
        public string? Feed(ReadOnlySpan<byte> stream, Span<byte> module)
        {
            var dictionary = Lzss1Preset.Bytes;
            foreach (var b in stream)
            {
                if (Written == module.Length && _referenceFirst < 0)
                {
                    return $"the stream goes on after the module's {module.Length} bytes (at stream byte {Consumed})";
                }
                Consumed++;
                if (_itemsLeft == 0)
                {
                    _flags = b;
                    _itemsLeft = 8;
                    continue;
                }
                if ((_flags & 1) == 0)
                {
                    module[Written++] = b;
                }
                else if (_referenceFirst < 0)
                {
                    _referenceFirst = b;
                    continue;
                }
                else
                {
                    var distance = ((_referenceFirst << 4) | (b >> 4)) + 1;
                    var length = (b & 15) + MinMatch;
                    _referenceFirst = -1;
                    if (distance > Written + dictionary.Length)
                    {
                        return $"a reference {distance} bytes back from module byte {Written} reaches before the dictionary (stream byte {Consumed - 1})";
                    }
                    if (length > module.Length - Written)
                    {
                        return $"a reference of {length} bytes at module byte {Written} runs past the module's {module.Length} bytes (stream byte {Consumed - 1})";
                    }
                    for (var k = 0; k < length; k++)
                    {
                        var from = Written - distance;
                        module[Written++] = from >= 0 ? module[from] : dictionary[dictionary.Length + from];
                    }
                }
                _flags >>= 1;
                _itemsLeft--;
            }
            return null;
        }

        /// <summary>After the last stream byte: null when the module is whole, else why not.</summary>
        public string? Finish(int size) => Written == size && _referenceFirst < 0
            ? null
            : $"the stream ends after {Consumed} bytes with {Written} of the module's {size} bytes written";
    }
}
