using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Wasmorch.Flashing;

/// <summary>Programs a board through openocd (any ST-LINK, with or without a drive), when it is installed.</summary>
public static class OpenOcd
{
    /// <summary>openocd on PATH, or null.</summary>
    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, OperatingSystem.IsWindows() ? "openocd.exe" : "openocd"))
            .FirstOrDefault(File.Exists);

    /// <summary>The arguments: the board's script, then program, verify, reset and exit in one command.</summary>
    public static IReadOnlyList<string> Arguments(FlashBoard board, string imagePath) =>
    [
        "-f", board.OpenOcdScript,
        "-c", string.Create(CultureInfo.InvariantCulture, $"program {{{Path.GetFullPath(imagePath)}}} 0x{board.FlashBase:x8} verify reset exit"),
    ];

    /// <exception cref="FlashException">openocd could not be run, or failed (its last lines say why).</exception>
    public static async Task ProgramAsync(string openocd, FlashBoard board, FirmwareImage image, CancellationToken ct)
    {
        var info = new ProcessStartInfo(openocd) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in Arguments(board, image.Path))
        {
            info.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new FlashException(FlashFailure.ProbeFailed, $"cannot run {openocd}");
        }
        catch (Win32Exception ex)
        {
            throw new FlashException(FlashFailure.ProbeFailed, $"cannot run {openocd}: {ex.Message}");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new FlashException(FlashFailure.ProbeFailed, "openocd did not finish within 2 minutes and was stopped");
            }
            if (process.ExitCode != 0)
            {
                // openocd writes everything to stderr; its last lines name the failure.
                var said = string.Join('\n', ((await stderr) + (await stdout)).Trim().Split('\n').TakeLast(4));
                throw new FlashException(FlashFailure.ProbeFailed, $"openocd failed (exit {process.ExitCode}): {said}");
            }
        }
    }
}
