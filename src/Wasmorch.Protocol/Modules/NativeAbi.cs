namespace Wasmorch.Protocol.Modules;

/// <summary>
/// The return codes and bounds of the capability natives (modules/include/wasmorch.h, same
/// numbers): every one checks its arguments and answers a negative code instead of trapping, so a
/// module's mistake never ends its job (the seed natives keep their documented traps).
/// </summary>
public static class NativeAbi
{
    /// <summary>An argument out of range: a pin, channel, address, length, period.</summary>
    public const int Invalid = -1;

    /// <summary>A pointer and length that do not lie inside the module's linear memory.</summary>
    public const int Fault = -2;

    /// <summary>Nothing answers there (no such channel on this board, an I2C address that does not ACK).</summary>
    public const int NoDevice = -3;

    /// <summary>The peripheral failed (a bus error).</summary>
    public const int Io = -4;

    public const int TimedOut = -5;

    /// <summary>The job was asked to STOP while it waited: return.</summary>
    public const int Stopped = -6;

    /// <summary>publish: over the job's event rate; the event is dropped and counted (STATUS events_dropped).</summary>
    public const int RateLimited = -7;

    /// <summary>kv_set: no room for another key or a longer value.</summary>
    public const int NoSpace = -8;

    /// <summary>kv_get, kv_delete: no such key.</summary>
    public const int NotFound = -9;

    /// <summary>A topic: 1–32 of <c>[A-Za-z0-9_.-/]</c>, NUL-terminated in linear memory.</summary>
    public const int MaxTopicLength = 32;

    /// <summary>An event's data: at most 48 bytes (96 hex digits keep the EVENT line within 256 bytes).</summary>
    public const int MaxEventBytes = 48;

    /// <summary>A kv key: 1–15 of <c>[A-Za-z0-9_.-]</c>, NUL-terminated.</summary>
    public const int MaxKeyLength = 15;

    public const int MaxValueBytes = 64;

    /// <summary>Keys one module may hold.</summary>
    public const int MaxKeys = 16;

    /// <summary>I2C transfers move at most this many bytes each way.</summary>
    public const int MaxI2cBytes = 32;

    /// <summary>GPIO edges <c>gpio_wait_edge</c> waits for (a bit mask).</summary>
    public const int EdgeRising = 1;

    public const int EdgeFalling = 2;

    public const int EdgeBoth = 3;

    public static bool IsValidTopic(ReadOnlySpan<char> topic) => IsName(topic, MaxTopicLength, allowSlash: true);

    public static bool IsValidKey(ReadOnlySpan<char> key) => IsName(key, MaxKeyLength, allowSlash: false);

    private static bool IsName(ReadOnlySpan<char> text, int max, bool allowSlash)
    {
        if (text.IsEmpty || text.Length > max)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' || (allowSlash && c == '/')))
            {
                return false;
            }
        }
        return true;
    }
}
