using System.CommandLine;
using System.Diagnostics;
using Wasmorch.Flashing;

namespace Wasmorch.Cli.Commands;

/// <summary>
/// <c>wasmorch flash</c>: the agent's prebuilt image onto a physical board, no toolchain needed:
/// copied to the ST-LINK's USB drive (NUCLEO boards), or programmed through openocd when it is
/// installed. The image is checked against the board before a byte is written.
/// </summary>
public static class FlashCommand
{
    public static Command Create()
    {
        var board = new Option<string>("--board") { Description = $"The board: {string.Join(", ", FlashBoard.All.Select(b => b.Name))}", Required = true };
        var image = new Option<string>("--image") { Description = "The raw image (default build/firmware/<board>/zephyr.bin, from the firmware build)" };
        var via = new Option<string>("--via") { Description = "auto (default: the probe's drive when mounted, else openocd), drive or openocd", DefaultValueFactory = _ => "auto" };
        var drive = new Option<string>("--drive") { Description = "The probe's USB drive (its mount point, such as /media/you/NODE_F446RE; not a symlink) instead of looking for it" };
        var waitMs = new Option<int>("--wait-ms") { Description = "How long to wait for the probe to take the image from its drive", DefaultValueFactory = _ => 15_000 };
        var command = new Command("flash", "Write the agent's firmware image to a physical board (ST-LINK drive or openocd)") { board, image, via, drive, waitMs };
        command.SetAction(async (pr, ct) =>
        {
            try
            {
                var name = pr.GetValue(board)!;
                var target = FlashBoard.Find(name) ?? throw new FlashException(FlashFailure.Usage,
                    FlashBoard.NotFlashable.TryGetValue(name, out var why) ? why : $"unknown board '{name}' (known: {string.Join(", ", FlashBoard.All.Select(b => b.Name))})");
                var mode = pr.GetValue(via)!;
                if (mode is not ("auto" or "drive" or "openocd"))
                {
                    throw new FlashException(FlashFailure.Usage, $"--via {mode}: must be auto, drive or openocd");
                }
                if (pr.GetValue(waitMs) is < 0 or > 600_000)
                {
                    throw new FlashException(FlashFailure.Usage, $"--wait-ms {pr.GetValue(waitMs)} is out of range (0 to 600000)");
                }
                var firmware = FirmwareImage.Load(pr.GetValue(image) ?? FirmwareImage.DefaultPath(Directory.GetCurrentDirectory(), target.Name), target);
                var clock = Stopwatch.StartNew();
                var probe = mode == "openocd" ? null : FindDrive(target, pr.GetValue(drive), required: mode == "drive");
                var openocd = probe is not null ? null : OpenOcd.Find() ?? throw new FlashException(FlashFailure.NoBoard, mode == "openocd"
                    ? "openocd is not installed (apt-get install openocd)"
                    : $"no ST-LINK drive for {target.Name}{(target.DriveLabel is { } l ? $" (a mounted {l})" : "")} and no openocd: plug the board in, or install openocd (apt-get install openocd)");
                Console.WriteLine($"flashing {target.Name} with {firmware.Path} ({firmware.Bytes.Length} bytes, sha256 {firmware.Sha256})");
                if (probe is not null)
                {
                    Console.WriteLine($"through the ST-LINK drive {probe.Root}");
                    if (!await probe.ProgramAsync(firmware, $"wasmorch-{target.Name}.bin", TimeSpan.FromMilliseconds(pr.GetValue(waitMs)), ct))
                    {
                        await Console.Error.WriteLineAsync($"warning: the image is still on {probe.Root} after {pr.GetValue(waitMs)} ms: the probe has not taken it (unplug and plug the board, then look for FAIL.TXT)");
                        return ExitCodes.Timeout;
                    }
                }
                else
                {
                    Console.WriteLine($"through openocd ({openocd} {string.Join(' ', OpenOcd.Arguments(target, firmware.Path))})");
                    await OpenOcd.ProgramAsync(openocd!, target, firmware, ct);
                }
                Console.WriteLine($"flashed {target.Name} in {clock.Elapsed.TotalSeconds:0.0} s");
                Console.WriteLine("next: map it in wasmorch.toml (`wasmorch devices --scan` on the gateway's machine shows the ports), e.g.");
                Console.WriteLine($"  [devices.{target.Name.Split('_')[0]}] endpoint = \"{target.Endpoint}\"");
                return ExitCodes.Ok;
            }
            catch (FlashException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ex.Failure switch
                {
                    FlashFailure.Usage => ExitCodes.Usage,
                    FlashFailure.WrongImage => ExitCodes.Refused,
                    _ => ExitCodes.DeviceUnavailable,
                };
            }
        });
        return command;
    }

    /// <summary>The board's probe drive: the one named, else the mounted one with the board's label; null when none (and not required).</summary>
    private static StLinkDrive? FindDrive(FlashBoard board, string? named, bool required)
    {
        if (named is not null)
        {
            if (StLinkDrive.Problem(named) is { } problem)
            {
                throw new FlashException(FlashFailure.NoBoard, problem);
            }
            var drive = new StLinkDrive(named);
            if (board.DriveLabel is { } label && !string.Equals(drive.Label, label, StringComparison.OrdinalIgnoreCase))
            {
                throw new FlashException(FlashFailure.NoBoard, $"{named} is the drive of a {drive.Label}, not of {board.Name} ({label})");
            }
            return drive;
        }
        var mounted = StLinkDrive.Mounted();
        var match = mounted.FirstOrDefault(d => string.Equals(d.Label, board.DriveLabel, StringComparison.OrdinalIgnoreCase));
        if (match is null && required)
        {
            throw new FlashException(FlashFailure.NoBoard, $"no mounted ST-LINK drive named {board.DriveLabel ?? "(this board's probe has none)"}" +
                (mounted.Count > 0 ? $"; found {string.Join(", ", mounted.Select(d => $"{d.Label} at {d.Root}"))}" : ""));
        }
        return match;
    }
}
