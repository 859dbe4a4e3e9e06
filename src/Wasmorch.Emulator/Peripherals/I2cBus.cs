using Wasmorch.Protocol.Modules;

namespace Wasmorch.Emulator.Peripherals;

/// <summary>A part on an emulated I2C bus: answers a write or a read at its address with 0 or a negative NativeAbi code.</summary>
public interface II2cTarget
{
    int Write(ReadOnlySpan<byte> data);

    int Read(Span<byte> data);
}

/// <summary>
/// An emulated I2C bus: 7-bit addresses, one transfer at a time (a module's job is the only
/// master). An address nobody answers is <see cref="NativeAbi.NoDevice"/>, as a NACK is on a board.
/// </summary>
public sealed class I2cBus
{
    private readonly Dictionary<int, II2cTarget> _targets = [];

    public I2cBus Attach(int address, II2cTarget target)
    {
        _targets[address] = target;
        return this;
    }

    public int Write(int address, ReadOnlySpan<byte> data) =>
        Target(address, out var target) is var code && code != 0 ? code : target!.Write(data);

    public int Read(int address, Span<byte> data) =>
        Target(address, out var target) is var code && code != 0 ? code : target!.Read(data);

    private int Target(int address, out II2cTarget? target)
    {
        target = null;
        if (address is < 0 or > 0x7F)
        {
            return NativeAbi.Invalid;
        }
        return _targets.TryGetValue(address, out target) ? 0 : NativeAbi.NoDevice;
    }
}
