namespace Wasmorch.Flashing;

/// <summary>
/// A board `wasmorch flash` can write: where its flash and RAM are (to tell its images from
/// another board's), the volume label its ST-LINK's USB drive has, and openocd's script for it.
/// </summary>
/// <param name="DriveLabel">The ST-LINK mass-storage volume's name (null: the probe has no drive).</param>
/// <param name="Endpoint">How a gateway then reaches the agent's UART (what `flash` suggests for wasmorch.toml).</param>
public sealed record FlashBoard(string Name, uint FlashBase, uint FlashBytes, uint RamBase, uint RamBytes, string? DriveLabel, string OpenOcdScript, string Endpoint)
{
    public static IReadOnlyList<FlashBoard> All { get; } =
    [
        // NUCLEO-F446RE: 512 KB flash, 128 KB SRAM; ST-LINK/V2-1 shows a drive named NODE_F446RE.
        new("nucleo_f446re", 0x0800_0000, 512 * 1024, 0x2000_0000, 128 * 1024, "NODE_F446RE", "board/st_nucleo_f4.cfg",
            "serial://usb/0483:374b?baud=115200"),
        // STM32F4DISCOVERY (F407VG): 1 MB flash, 128 KB SRAM. Its ST-LINK/V2 has no drive on most
        // units and no virtual COM port: USART2 (PA2/PA3) goes through a USB-serial adapter.
        new("stm32f4_disco", 0x0800_0000, 1024 * 1024, 0x2000_0000, 128 * 1024, "DIS_F407VG", "board/stm32f4discovery.cfg",
            "serial:///dev/ttyUSB0?baud=115200"),
    ];

    /// <summary>Boards the agent builds for that are not flashed (they run under an emulator).</summary>
    public static IReadOnlyDictionary<string, string> NotFlashable { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["mps2_an385"] = "mps2_an385 runs under QEMU, not on a board: firmware/qemu/run-agent.sh",
    };

    public static FlashBoard? Find(string name) => All.FirstOrDefault(b => b.Name == name);
}
