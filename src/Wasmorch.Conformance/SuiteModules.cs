using Wasmtime;

namespace Wasmorch.Conformance;

/// <summary>
/// The modules the suite loads, in WAT so that each is exactly what a case needs (no compiler in
/// the way) and the suite runs where no clang is installed. All export a one-page memory, as a
/// board module built with the seed's flags does.
/// </summary>
public static class SuiteModules
{
    public static byte[] Math { get; } = Convert("""
        (module
          (memory (export "memory") 1 1)
          (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
          (func (export "add_i64") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
          (func (export "mul_f32") (param f32 f32) (result f32) (f32.mul (local.get 0) (local.get 1)))
          (func (export "add_f64") (param f64 f64) (result f64) (f64.add (local.get 0) (local.get 1)))
          (func (export "nothing")))
        """);

    /// <summary>A different module to replace <see cref="Math"/> under the same id.</summary>
    public static byte[] MathV2 { get; } = Convert("""
        (module
          (memory (export "memory") 1 1)
          (func (export "sub") (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1))))
        """);

    /// <summary>Toggles pin 0 every <c>period</c> ms until STOP: cooperative through both natives.</summary>
    public static byte[] Blink { get; } = Convert("""
        (module
          (import "env" "gpio_toggle" (func $toggle (param i32)))
          (import "env" "delay_ms" (func $delay (param i32) (result i32)))
          (import "env" "should_stop" (func $should_stop (result i32)))
          (memory (export "memory") 1 1)
          (func (export "blink") (param $period i32) (result i32)
            (local $n i32)
            (block $done
              (loop $again
                (br_if $done (call $should_stop))
                (call $toggle (i32.const 0))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (br_if $done (call $delay (local.get $period)))
                (br $again)))
            (local.get $n)))
        """);

    /// <summary>Loops without calling any native: only the runtime's backstop can end it.</summary>
    public static byte[] Spin { get; } = Convert("""
        (module
          (memory (export "memory") 1 1)
          (func (export "spin") (loop $forever (br $forever))))
        """);

    /// <summary>
    /// <see cref="Spin"/> without a memory, for the AOT case: an AOT instance with a whole 64 KiB
    /// page does not fit beside the runtime on a 128 KB board (the NUCLEO's pool), and the loop
    /// needs none.
    /// </summary>
    public static byte[] SpinNoMemory { get; } = Convert("""
        (module
          (func (export "spin") (loop $forever (br $forever))))
        """);

    public static byte[] Traps { get; } = Convert("""
        (module
          (memory (export "memory") 1 1)
          (func (export "unreachable") unreachable)
          (func (export "div_zero") (param i32) (result i32) (i32.div_s (local.get 0) (i32.const 0)))
          (func (export "out_of_bounds") (result i32) (i32.load (i32.const 0x7ffffff0)))
          (func $recurse (export "recurse") (param i32) (result i32)
            (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1))))
        """);

    public static byte[] Logger { get; } = Convert("""
        (module
          (import "env" "log_i32" (func $log (param i32)))
          (memory (export "memory") 1 1)
          (func (export "log3") (result i32)
            (call $log (i32.const 1)) (call $log (i32.const 2)) (call $log (i32.const 3)) (i32.const 3)))
        """);

    public static byte[] UnknownImport { get; } = Convert("""
        (module
          (import "env" "launch_rockets" (func $launch (param i32)))
          (memory (export "memory") 1 1)
          (func (export "go") (call $launch (i32.const 3))))
        """);

    /// <summary>§6c events: two events (3 bytes, then none) to topic cf/topic; a flood; data outside the memory.</summary>
    public static byte[] Publisher { get; } = Convert("""
        (module
          (import "env" "publish" (func $publish (param i32 i32 i32) (result i32)))
          (memory (export "memory") 1 1)
          (data (i32.const 16) "cf/topic\00")
          (data (i32.const 32) "\01\02\ff")
          (func (export "two") (result i32)
            (i32.add (call $publish (i32.const 16) (i32.const 32) (i32.const 3))
                     (call $publish (i32.const 16) (i32.const 32) (i32.const 0))))
          (func (export "flood") (param $n i32) (result i32)
            (local $sent i32)
            (block $done
              (loop $next
                (br_if $done (i32.eqz (local.get $n)))
                (if (i32.eqz (call $publish (i32.const 16) (i32.const 32) (i32.const 1)))
                  (then (local.set $sent (i32.add (local.get $sent) (i32.const 1)))))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $next)))
            (local.get $sent))
          (func (export "outside") (result i32) (call $publish (i32.const 16) (i32.const 65530) (i32.const 10))))
        """);

    /// <summary>§6c kv: a value put by one job and read by the next.</summary>
    public static byte[] KeyValue { get; } = Convert("""
        (module
          (import "env" "kv_set" (func $set (param i32 i32 i32) (result i32)))
          (import "env" "kv_get" (func $get (param i32 i32 i32) (result i32)))
          (memory (export "memory") 1 1)
          (data (i32.const 16) "cf_key\00")
          (func (export "put") (param i32) (result i32)
            (i32.store (i32.const 64) (local.get 0))
            (call $set (i32.const 16) (i32.const 64) (i32.const 4)))
          (func (export "get") (result i32)
            (if (result i32) (i32.eq (call $get (i32.const 16) (i32.const 128) (i32.const 4)) (i32.const 4))
              (then (i32.load (i32.const 128)))
              (else (i32.const -1000)))))
        """);

    /// <summary>§6c timer: a zero period refused (EINVAL), then n ticks of a period; returns the ticks missed.</summary>
    public static byte[] Ticker { get; } = Convert("""
        (module
          (import "env" "timer_start" (func $start (param i32) (result i32)))
          (import "env" "timer_wait" (func $wait (result i32)))
          (memory (export "memory") 1 1)
          (func (export "zero") (result i32) (call $start (i32.const 0)))
          (func (export "ticks") (param $period i32) (param $n i32) (result i32)
            (local $missed i32) (local $r i32)
            (drop (call $start (local.get $period)))
            (block $done
              (loop $next
                (br_if $done (i32.eqz (local.get $n)))
                (local.set $r (call $wait))
                (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
                (local.set $missed (i32.add (local.get $missed) (local.get $r)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $next)))
            (local.get $missed)))
        """);

    /// <summary>§6c adc: a channel's counts.</summary>
    public static byte[] Sampler { get; } = Convert("""
        (module
          (import "env" "adc_read" (func $read (param i32) (result i32)))
          (memory (export "memory") 1 1)
          (func (export "read") (param i32) (result i32) (call $read (local.get 0))))
        """);

    /// <summary>§6c i2c0: transfers with an address, a length or a buffer out of bounds.</summary>
    public static byte[] I2cChecks { get; } = Convert("""
        (module
          (import "env" "i2c0_read" (func $read (param i32 i32 i32) (result i32)))
          (memory (export "memory") 1 1)
          (func (export "bad_address") (result i32) (call $read (i32.const 128) (i32.const 64) (i32.const 1)))
          (func (export "too_long") (result i32) (call $read (i32.const 72) (i32.const 64) (i32.const 33)))
          (func (export "outside") (result i32) (call $read (i32.const 72) (i32.const 65535) (i32.const 2))))
        """);

    /// <summary>§6c pwm: set channel 0.</summary>
    public static byte[] Dimmer { get; } = Convert("""
        (module
          (import "env" "pwm_set" (func $set (param i32 i32 i32) (result i32)))
          (memory (export "memory") 1 1)
          (func (export "set") (param i32 i32) (result i32) (call $set (i32.const 0) (local.get 0) (local.get 1))))
        """);

    /// <summary>§6c gpio: wait for an edge.</summary>
    public static byte[] EdgeWaiter { get; } = Convert("""
        (module
          (import "env" "gpio_wait_edge" (func $wait (param i32 i32 i32) (result i32)))
          (memory (export "memory") 1 1)
          (func (export "wait") (param i32 i32 i32) (result i32) (call $wait (local.get 0) (local.get 1) (local.get 2))))
        """);

    /// <summary>A module importing <paramref name="native"/> (of wasmorch.h), to offer an agent a native it may not have.</summary>
    public static byte[] Importing(Protocol.Modules.Native native)
    {
        static string Types(string kind, Protocol.Modules.WasmType[] types) =>
            types.Length == 0 ? "" : $"({kind} {string.Join(' ', types.Select(t => t.ToString().ToLowerInvariant()))})";
        return Convert($"""
            (module
              (import "env" "{native.Name}" (func {Types("param", native.Params)} {Types("result", native.Results)}))
              (memory (export "memory") 1 1)
              (func (export "f") (result i32) (i32.const 0)))
            """);
    }

    /// <summary>Asks for 1 MiB of linear memory: more than any of our boards has.</summary>
    public static byte[] HugeMemory { get; } = Convert("""
        (module
          (memory (export "memory") 16 16)
          (func (export "f") (result i32) (i32.const 0)))
        """);

    private static byte[] Convert(string wat) => Module.ConvertText(wat);
}
