using System.Buffers.Binary;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// `wasmorch flash` as a process against what stands in for a board here: a tmpfs mounted where an
/// ST-LINK's USB drive would be, holding its files (a task plays the probe: it takes the file, or
/// writes FAIL.TXT), and a fake openocd on PATH that records its arguments. Images are checked
/// before a byte is written. Mounting needs root: those tests are skipped elsewhere (RootFact).
/// </summary>
public sealed class FlashTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wasmorch-flash-").FullName;
    private readonly List<string> _mounted = [];

    public void Dispose()
    {
        foreach (var mount in _mounted)
        {
            Run("umount", mount);
        }
        Directory.Delete(_dir, recursive: true);
    }

    private static void Run(string program, params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program, args) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)}: {error}");
    }

    /// <summary>A raw image whose vector table points into the F446RE's RAM and flash, with the build's footprint.txt.</summary>
    private string Image(uint stack = 0x2001_7b80, uint reset = 0x0800_0225, string board = "nucleo_f446re")
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "build-" + board + "-" + reset.ToString("x", System.Globalization.CultureInfo.InvariantCulture))).FullName;
        var bytes = new byte[2048];
        Random.Shared.NextBytes(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, stack);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), reset);
        File.WriteAllBytes(Path.Combine(folder, "zephyr.bin"), bytes);
        File.WriteAllText(Path.Combine(folder, "footprint.txt"), $"board {board}: FLASH 2048 B, RAM 1000 B of 128 KB\n");
        return Path.Combine(folder, "zephyr.bin");
    }

    /// <summary>A mounted drive with the probe's files (<paramref name="mounted"/> false: a plain directory that only looks like one).</summary>
    private string Drive(string label, bool mounted = true)
    {
        var drive = Directory.CreateDirectory(Path.Combine(_dir, "media", label)).FullName;
        if (mounted)
        {
            Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", drive);
            _mounted.Add(drive);
        }
        File.WriteAllText(Path.Combine(drive, "MBED.HTM"), "<html>ST-LINK</html>");
        File.WriteAllText(Path.Combine(drive, "DETAILS.TXT"), "Version: V2J40M27\n");
        return drive;
    }

    /// <summary>Plays the probe: waits for a .bin on the drive, keeps its bytes, then takes it (or fails with <paramref name="failure"/>).</summary>
    private static async Task<byte[]> ProbeAsync(string drive, string? failure = null)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var written = Directory.GetFiles(drive, "*.bin");
            if (written.Length == 1)
            {
                await Task.Delay(100, limit.Token);
                var bytes = await File.ReadAllBytesAsync(written[0], limit.Token);
                File.Delete(written[0]);
                if (failure is not null)
                {
                    await File.WriteAllTextAsync(Path.Combine(drive, "FAIL.TXT"), failure, limit.Token);
                }
                return bytes;
            }
            await Task.Delay(20, limit.Token);
        }
    }

    private static Task<CliResult> FlashAsync(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        CliRunner.RunLocalAsync(environment, ["flash", .. args]);

    /// <summary>PATH with a fake openocd first (recording its arguments, failing when told) and no real one.</summary>
    private Dictionary<string, string> FakeOpenOcd(int exitCode = 0)
    {
        var bin = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        var script = Path.Combine(bin, "openocd");
        File.WriteAllText(script, $"#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > {_dir}/openocd.args\necho 'Error: init mode failed (unable to connect to the target)' >&2\nexit {exitCode}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return new Dictionary<string, string> { ["PATH"] = $"{bin}:/usr/bin:/bin" };
    }

    [RootFact]
    public async Task Flash_copies_the_image_to_the_boards_stlink_drive_and_reports_once_the_probe_took_it()
    {
        var image = Image();
        var drive = Drive("NODE_F446RE");
        var probe = ProbeAsync(drive);
        var result = await FlashAsync(null, "--board", "nucleo_f446re", "--image", image, "--drive", drive);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(image), await probe);
        Assert.Matches($@"(?m)^through the ST-LINK drive {System.Text.RegularExpressions.Regex.Escape(drive)}$", result.Stdout);
        Assert.Matches(@"(?m)^flashed nucleo_f446re in [\d.]+ s$", result.Stdout);
        Assert.Matches(@"(?m)^  \[devices\.nucleo\] endpoint = ""serial://usb/0483:374b\?baud=115200""$", result.Stdout);
    }

    [RootFact]
    public async Task A_probe_that_writes_FAIL_TXT_fails_the_flash_with_its_words()
    {
        var drive = Drive("NODE_F446RE");
        var probe = ProbeAsync(drive, "The interface firmware FAILED to reach the target MCU");
        var result = await FlashAsync(null, "--board", "nucleo_f446re", "--image", Image(), "--drive", drive);
        await probe;
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("FAIL.TXT says \"The interface firmware FAILED to reach the target MCU\"", result.Stderr, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task An_image_for_another_board_is_refused_before_a_byte_is_written()
    {
        var drive = Drive("NODE_F446RE");
        // The MPS2 image's vector table: flash at 0, not at 0x08000000.
        var mps2 = await FlashAsync(null, "--board", "nucleo_f446re", "--image", Image(stack: 0x2004_52c8, reset: 0x0001_2b95), "--drive", drive);
        Assert.Equal(7, mps2.ExitCode);
        Assert.Contains("is not an image for nucleo_f446re: its vector table starts with stack 0x200452c8 and reset 0x00012b95", mps2.Stderr, StringComparison.Ordinal);
        // A Discovery build fits the same addresses: its footprint.txt tells them apart.
        var disco = await FlashAsync(null, "--board", "nucleo_f446re", "--image", Image(board: "stm32f4_disco"), "--drive", drive);
        Assert.Equal(7, disco.ExitCode);
        Assert.Contains("says it was built for stm32f4_disco", disco.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(drive, "*.bin"));
    }

    [RootFact]
    public async Task The_drive_of_another_board_and_a_board_that_runs_under_qemu_are_refused()
    {
        var other = await FlashAsync(null, "--board", "nucleo_f446re", "--image", Image(), "--drive", Drive("NODE_L476RG"));
        Assert.Equal(4, other.ExitCode);
        Assert.Contains("is the drive of a NODE_L476RG, not of nucleo_f446re (NODE_F446RE)", other.Stderr, StringComparison.Ordinal);
        var qemu = await FlashAsync(null, "--board", "mps2_an385");
        Assert.Equal(2, qemu.ExitCode);
        Assert.Contains("mps2_an385 runs under QEMU", qemu.Stderr, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task A_wait_out_of_range_is_a_usage_error_and_nothing_is_written()
    {
        var drive = Drive("NODE_F446RE");
        var result = await FlashAsync(null, "--board", "nucleo_f446re", "--image", Image(), "--drive", drive, "--wait-ms", "-5");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--wait-ms -5 is out of range (0 to 600000)", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(drive, "*.bin"));
    }

    [Fact]
    public async Task A_directory_that_only_looks_like_a_drive_is_refused_and_nothing_is_written()
    {
        var fake = Drive("NODE_F446RE", mounted: false);
        var result = await FlashAsync(null, "--board", "nucleo_f446re", "--image", Image(), "--drive", fake);
        Assert.Equal(4, result.ExitCode);
        Assert.Contains($"error: {fake} is not an ST-LINK drive: it is not a mount point", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(fake, "*.bin"));
    }

    [RootFact]
    public async Task A_symlink_to_a_mounted_drive_is_refused()
    {
        var drive = Drive("NODE_F446RE");
        var link = Path.Combine(_dir, "NODE_F446RE");
        Directory.CreateSymbolicLink(link, drive);
        var result = await FlashAsync(null, "--board", "nucleo_f446re", "--image", Image(), "--drive", link);
        Assert.Equal(4, result.ExitCode);
        Assert.Contains($"error: {link} is not an ST-LINK drive: {link} is a symbolic link (name the drive's mount point itself)", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(drive, "*.bin"));
    }

    [RootFact]
    public async Task An_image_name_on_the_drive_that_is_a_symlink_is_not_written_through()
    {
        var drive = Drive("NODE_F446RE");
        var victim = Path.Combine(_dir, "victim.txt");
        await File.WriteAllTextAsync(victim, "keep me");
        var planted = Path.Combine(drive, "wasmorch-nucleo_f446re.bin");
        File.CreateSymbolicLink(planted, victim);
        var result = await FlashAsync(null, "--board", "nucleo_f446re", "--image", Image(), "--drive", drive);
        Assert.Equal(4, result.ExitCode);
        Assert.Contains($"error: {planted} is a symbolic link (to {victim}): the image is not written through it", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(victim));
    }

    [Fact]
    public async Task Through_openocd_the_board_is_programmed_verified_and_reset_with_its_own_script()
    {
        var image = Image();
        var result = await FlashAsync(FakeOpenOcd(), "--board", "nucleo_f446re", "--image", image, "--via", "openocd");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["-f", "board/st_nucleo_f4.cfg", "-c", $"program {{{image}}} 0x08000000 verify reset exit"], await File.ReadAllLinesAsync(Path.Combine(_dir, "openocd.args")));
        Assert.Matches(@"(?m)^flashed nucleo_f446re in ", result.Stdout);
    }

    [Fact]
    public async Task A_failing_openocd_and_no_way_to_the_board_are_errors_that_say_what_to_do()
    {
        var failed = await FlashAsync(FakeOpenOcd(exitCode: 1), "--board", "nucleo_f446re", "--image", Image(), "--via", "openocd");
        Assert.Equal(4, failed.ExitCode);
        Assert.Contains("openocd failed (exit 1): Error: init mode failed (unable to connect to the target)", failed.Stderr, StringComparison.Ordinal);

        var nothing = await FlashAsync(new Dictionary<string, string> { ["PATH"] = "/nonexistent" }, "--board", "nucleo_f446re", "--image", Image());
        Assert.Equal(4, nothing.ExitCode);
        Assert.Contains("no ST-LINK drive for nucleo_f446re (a mounted NODE_F446RE) and no openocd: plug the board in, or install openocd", nothing.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("flashing", nothing.Stdout, StringComparison.Ordinal);
    }
}
