using Wasmtime;

namespace Wasmorch.Emulator.Runtime;

/// <summary>Short, stable trap messages, the same words the firmware agent uses.</summary>
public static class TrapMessages
{
    public static string Describe(Exception ex)
    {
        if (ex is TrapException trap)
        {
            return trap.Type switch
            {
                TrapCode.Unreachable => "unreachable executed",
                TrapCode.IntegerDivisionByZero => "integer divide by zero",
                TrapCode.IntegerOverflow => "integer overflow",
                TrapCode.MemoryOutOfBounds => "out of bounds memory access",
                TrapCode.StackOverflow => "call stack exhausted",
                TrapCode.IndirectCallToNull or TrapCode.TableOutOfBounds => "undefined element in table",
                TrapCode.BadSignature => "indirect call type mismatch",
                TrapCode.BadConversionToInteger => "invalid conversion to integer",
                TrapCode.Interrupt => "interrupted",
                _ => "trap: " + FirstLine(trap.Message),
            };
        }
        // A native that throws (bad GPIO pin, bad pointer) surfaces wrapped by Wasmtime.
        if (ex.InnerException is { } inner and not WasmtimeException)
        {
            return "native: " + inner.Message;
        }
        return FirstLine(ex.Message);
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? text : text[..end];
    }
}
