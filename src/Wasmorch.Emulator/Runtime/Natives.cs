using System.Text;
using Wasmorch.Protocol.Modules;
using Wasmtime;

namespace Wasmorch.Emulator.Runtime;

/// <summary>
/// The natives of modules/include/wasmorch.h, bound into a Linker. They find their job through the
/// store's data so that one Linker serves every board and job in the process.
/// </summary>
public static class Natives
{
    /// <summary>A native's signature (Wasmorch.Protocol's table) in Wasmtime's terms.</summary>
    public static ValueKind Kind(WasmType type) => type switch
    {
        WasmType.I32 => ValueKind.Int32,
        WasmType.I64 => ValueKind.Int64,
        WasmType.F32 => ValueKind.Float32,
        _ => ValueKind.Float64,
    };

    public const int MaxLogBytes = 120;

    public static void Define(Linker linker)
    {
        linker.DefineFunction("env", "gpio_write", (Caller c, int pin, int value) => Job(c).Board.Gpio.Write(pin, value != 0));
        linker.DefineFunction("env", "gpio_toggle", (Caller c, int pin) => Job(c).Board.Gpio.Toggle(pin));
        linker.DefineFunction("env", "gpio_read", (Caller c, int pin) => Job(c).Board.Gpio.Read(pin) ? 1 : 0);
        linker.DefineFunction("env", "delay_ms", (Caller c, int ms) => Delay(Job(c), ms));
        linker.DefineFunction("env", "uptime_ms", (Caller c) => Job(c).Board.UptimeMs);
        linker.DefineFunction("env", "should_stop", (Caller c) => Job(c).StopRequested ? 1 : 0);
        linker.DefineFunction("env", "log_i32", (Caller c, int value) => Job(c).Board.Log(Job(c), value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        linker.DefineFunction("env", "log_str", (Caller c, int address) => Job(c).Board.Log(Job(c), ReadCString(c, address)));
    }

    private static JobContext Job(Caller caller) => (JobContext)caller.GetData()!;

    private static int Delay(JobContext job, int ms)
    {
        if (job.StopRequested)
        {
            return 1;
        }
        // The wasm call is synchronous on the runner's own thread: blocking it here is the
        // emulated equivalent of k_sleep, and the stop handle wakes it at once on STOP.
        return ms > 0 && job.StopHandle.WaitOne(ms) ? 1 : (job.StopRequested ? 1 : 0);
    }

    private static string ReadCString(Caller caller, int address)
    {
        var memory = caller.GetMemory("memory") ?? throw new NativeFaultException("log_str: module exports no memory");
        var length = memory.GetLength();
        if (address < 0 || address >= length)
        {
            throw new NativeFaultException($"log_str: address 0x{address:x} is outside linear memory");
        }
        var count = (int)Math.Min(MaxLogBytes, length - address);
        var bytes = memory.GetSpan(address, count);
        var end = bytes.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
