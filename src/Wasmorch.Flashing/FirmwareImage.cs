using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Wasmorch.Flashing;

/// <summary>
/// A raw flash image (.bin) checked against the board it is meant for, before a byte is written:
/// its size fits the flash, its vector table's initial stack pointer lies in the board's RAM and its
/// reset handler in the board's flash, and the footprint.txt the firmware build writes beside it
/// (when there) names this board.
/// </summary>
public sealed record FirmwareImage(string Path, byte[] Bytes)
{
    public string Sha256 => Convert.ToHexStringLower(SHA256.HashData(Bytes));

    /// <summary>Where the firmware build leaves a board's image (firmware/README.md, Images).</summary>
    public static string DefaultPath(string repoOrCwd, string board) => System.IO.Path.Combine(repoOrCwd, "build", "firmware", board, "zephyr.bin");

    /// <exception cref="FlashException">The image is missing, unreadable or not for <paramref name="board"/>.</exception>
    public static FirmwareImage Load(string path, FlashBoard board)
    {
        if (!path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
        {
            throw new FlashException(FlashFailure.Usage, $"{path}: give the raw image (zephyr.bin), which is what a board's flash holds");
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlashException(FlashFailure.Usage, $"{path}: {ex.Message} (build the firmware first: firmware/README.md, or pass --image)");
        }
        if (bytes.Length < 8)
        {
            throw new FlashException(FlashFailure.WrongImage, $"{path}: {bytes.Length} bytes is not a firmware image");
        }
        if (bytes.Length > board.FlashBytes)
        {
            throw new FlashException(FlashFailure.WrongImage, $"{path}: {bytes.Length} bytes do not fit {board.Name}'s {board.FlashBytes / 1024} KB of flash");
        }
        var stack = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        var reset = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4));
        var resetAddress = reset & ~1u;
        if (stack < board.RamBase || stack > board.RamBase + board.RamBytes || resetAddress < board.FlashBase || resetAddress >= board.FlashBase + (uint)bytes.Length || (reset & 1) == 0)
        {
            throw new FlashException(FlashFailure.WrongImage,
                $"{path} is not an image for {board.Name}: its vector table starts with stack 0x{stack:x8} and reset 0x{reset:x8}, " +
                $"where {board.Name} has RAM at 0x{board.RamBase:x8} and flash at 0x{board.FlashBase:x8} (another board's build?)");
        }
        var footprint = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, "footprint.txt");
        if (File.Exists(footprint) && File.ReadAllText(footprint).Split(' ', ':') is [_, var built, ..] && built != board.Name)
        {
            throw new FlashException(FlashFailure.WrongImage, $"{path} is not an image for {board.Name}: {footprint} says it was built for {built}");
        }
        return new FirmwareImage(path, bytes);
    }
}

/// <summary>Why a flash did not happen (the CLI's exit code follows it).</summary>
public enum FlashFailure
{
    /// <summary>Unknown board, no image at the path, not a .bin.</summary>
    Usage,

    /// <summary>The image is not for this board, or does not fit it: refused before a byte is written.</summary>
    WrongImage,

    /// <summary>No probe drive for the board and no openocd, or the drive named is not the board's.</summary>
    NoBoard,

    /// <summary>The probe or openocd tried and failed.</summary>
    ProbeFailed,
}

/// <summary>A flash that cannot or must not happen, with the reason a user needs.</summary>
public sealed class FlashException(FlashFailure failure, string message) : Exception(message)
{
    public FlashFailure Failure { get; } = failure;
}
