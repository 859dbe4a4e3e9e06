using System.Security.Cryptography;

namespace Wasmorch.Transport;

/// <summary>
/// The link key (docs/protocol.md §6a) on disk: 32 random bytes as 64 hex digits, readable by its
/// owner only. One per installation by default (<see cref="DefaultPath"/>), created by whichever of
/// <c>emulate</c> and <c>gateway</c> starts first, so the two find the same key.
/// </summary>
public static class LinkKeyFile
{
    public const int KeyBytes = 32;

    /// <summary><c>$XDG_CONFIG_HOME/wasmorch/link.key</c>, else <c>~/.config/wasmorch/link.key</c>.</summary>
    public static string DefaultPath()
    {
        var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(config, "wasmorch", "link.key");
    }

    /// <summary>Reads the key at <paramref name="path"/>, creating it (0600, in a 0700 folder) when there is none.</summary>
    public static byte[] LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Create(path);
        }
        return Load(path);
    }

    /// <summary>Reads an existing key; refuses one that others may read, or that is not 64 hex digits.</summary>
    public static byte[] Load(string path)
    {
        string text;
        try
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            {
                throw new LinkKeyException($"link key {path} can be read or written by other users; make it private: chmod 600 {path}");
            }
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LinkKeyException($"cannot read link key {path}: {ex.Message}");
        }
        if (text.Length != KeyBytes * 2 || !text.All(char.IsAsciiHexDigit))
        {
            throw new LinkKeyException($"link key {path} must hold {KeyBytes * 2} hex digits (it holds {text.Length} characters)");
        }
        return Convert.FromHexString(text);
    }

    private static void Create(string path)
    {
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(folder);
            }
            else
            {
                Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            // Written beside, then moved in without overwriting: two processes starting at once end up with one key.
            var temporary = path + $".{Environment.ProcessId}.tmp";
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var file = new StreamWriter(temporary, System.Text.Encoding.ASCII, options))
            {
                file.WriteLine(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(KeyBytes)));
            }
            try
            {
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LinkKeyException($"cannot create link key {path}: {ex.Message}");
        }
    }
}

public sealed class LinkKeyException : Exception
{
    public LinkKeyException(string message)
        : base(message)
    {
    }

    public LinkKeyException()
    {
    }

    public LinkKeyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
