using System.Text;
using Wasmorch.Emulator.Peripherals;
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
        DefineCapabilities(linker);
    }

    /// <summary>
    /// The capability natives (§6c). Each checks its arguments and answers a NativeAbi code
    /// instead of trapping; LOAD refuses a module importing one whose capability the board does not
    /// offer, so these run only on boards that offer them.
    /// </summary>
    private static void DefineCapabilities(Linker linker)
    {
        linker.DefineFunction("env", "gpio_wait_edge", (Caller c, int pin, int edges, int timeoutMs) =>
            Job(c) is var job && job.StopRequested ? NativeAbi.Stopped : job.Edges.Wait(pin, edges, timeoutMs, job.StopHandle));
        linker.DefineFunction("env", "adc_read", (Caller c, int channel) =>
            channel is < 0 or > 15 ? NativeAbi.Invalid : channel != 0 ? NativeAbi.NoDevice : Job(c).Board.AdcRead());
        linker.DefineFunction("env", "i2c0_write", (Caller c, int address, int data, int length) =>
            LinearMemory.TryGetSpan(c, data, length, NativeAbi.MaxI2cBytes, out var span, out var code) ? Job(c).Board.I2c0.Write(address, span) : code);
        linker.DefineFunction("env", "i2c0_read", (Caller c, int address, int data, int length) =>
            LinearMemory.TryGetSpan(c, data, length, NativeAbi.MaxI2cBytes, out var span, out var code) ? Job(c).Board.I2c0.Read(address, span) : code);
        linker.DefineFunction("env", "i2c0_write_read", (Caller c, int address, int write, int writeLength, int read, int readLength) =>
            I2cWriteRead(c, Job(c).Board.I2c0, address, write, writeLength, read, readLength));
        // No emulated board has a second bus: a module that imports these is refused at LOAD.
        linker.DefineFunction("env", "i2c1_write", (Caller c, int address, int data, int length) => NativeAbi.NoDevice);
        linker.DefineFunction("env", "i2c1_read", (Caller c, int address, int data, int length) => NativeAbi.NoDevice);
        linker.DefineFunction("env", "i2c1_write_read", (Caller c, int address, int write, int writeLength, int read, int readLength) => NativeAbi.NoDevice);
        linker.DefineFunction("env", "pwm_set", (Caller c, int channel, int periodUs, int pulseUs) => Job(c).Board.Pwm.Set(channel, periodUs, pulseUs));
        linker.DefineFunction("env", "timer_start", (Caller c, int periodMs) => TimerStart(Job(c), periodMs));
        linker.DefineFunction("env", "timer_wait", (Caller c) => TimerWait(Job(c)));
        linker.DefineFunction("env", "publish", (Caller c, int topic, int data, int length) => Publish(c, topic, data, length));
        linker.DefineFunction("env", "kv_get", (Caller c, int key, int buffer, int capacity) =>
            Key(c, key, out var name, out var code) && LinearMemory.TryGetSpan(c, buffer, capacity, int.MaxValue, out var span, out code)
                ? Job(c).Board.Kv.Get(Job(c).ModuleId, name!, span) : code);
        linker.DefineFunction("env", "kv_set", (Caller c, int key, int data, int length) =>
            Key(c, key, out var name, out var code) && LinearMemory.TryGetSpan(c, data, length, NativeAbi.MaxValueBytes, out var span, out code)
                ? Job(c).Board.Kv.Set(Job(c).ModuleId, name!, span) : code);
        linker.DefineFunction("env", "kv_delete", (Caller c, int key) =>
            Key(c, key, out var name, out var code) ? Job(c).Board.Kv.Delete(Job(c).ModuleId, name!) : code);
    }

    private static bool Key(Caller caller, int address, out string? name, out int code)
    {
        name = LinearMemory.ReadName(caller, address, NativeAbi.MaxKeyLength, k => NativeAbi.IsValidKey(k), out code);
        return name is not null;
    }

    private static int I2cWriteRead(Caller caller, Peripherals.I2cBus bus, int address, int write, int writeLength, int read, int readLength)
    {
        if (!LinearMemory.TryGetSpan(caller, write, writeLength, NativeAbi.MaxI2cBytes, out var output, out var code))
        {
            return code;
        }
        var written = bus.Write(address, output);
        // The read span is taken after the write: both may name the same bytes.
        return written != 0 ? written
            : LinearMemory.TryGetSpan(caller, read, readLength, NativeAbi.MaxI2cBytes, out var input, out code) ? bus.Read(address, input) : code;
    }

    private static int Publish(Caller caller, int topicAddress, int data, int length)
    {
        var topic = LinearMemory.ReadName(caller, topicAddress, NativeAbi.MaxTopicLength, t => NativeAbi.IsValidTopic(t), out var code);
        if (topic is null)
        {
            return code;
        }
        return LinearMemory.TryGetSpan(caller, data, length, NativeAbi.MaxEventBytes, out var bytes, out code)
            ? Job(caller).Board.Publish(Job(caller), topic, bytes)
            : code;
    }

    /// <summary>Longest timer period: a day.</summary>
    public const int MaxTimerPeriodMs = 86_400_000;

    private static int TimerStart(JobContext job, int periodMs)
    {
        if (periodMs is < 1 or > MaxTimerPeriodMs)
        {
            return NativeAbi.Invalid;
        }
        job.TimerPeriod = TimeSpan.FromMilliseconds(periodMs);
        job.TimerNext = job.Board.Uptime + job.TimerPeriod;
        return 0;
    }

    /// <summary>Sleeps to the timer's next tick: 0, or the ticks missed since the last wait (a late caller does not drift).</summary>
    private static int TimerWait(JobContext job)
    {
        if (job.TimerPeriod == TimeSpan.Zero)
        {
            return NativeAbi.Invalid;
        }
        var now = job.Board.Uptime;
        var missed = 0;
        while (job.TimerNext <= now - job.TimerPeriod)
        {
            job.TimerNext += job.TimerPeriod;
            missed++;
        }
        var tick = job.TimerNext;
        job.TimerNext += job.TimerPeriod;
        // WaitOne takes whole milliseconds: round up, so the tick is never early.
        var wait = tick - now;
        if (job.StopRequested || (wait > TimeSpan.Zero && job.StopHandle.WaitOne((int)Math.Ceiling(wait.TotalMilliseconds))))
        {
            return NativeAbi.Stopped;
        }
        return missed;
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
