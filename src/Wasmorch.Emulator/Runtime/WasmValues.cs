using System.Globalization;
using Wasmorch.Protocol.Agent;
using Wasmtime;

namespace Wasmorch.Emulator.Runtime;

/// <summary>Converts positional protocol arguments to a function's parameter types, and results back to text.</summary>
public static class WasmValues
{
    public static bool TryConvert(IReadOnlyList<FuncArg> args, IReadOnlyList<ValueKind> parameters, out ValueBox[] values, out string error)
    {
        values = [];
        if (args.Count != parameters.Count)
        {
            error = $"function takes {parameters.Count} argument(s) ({Describe(parameters)}), got {args.Count}";
            return false;
        }
        var converted = new ValueBox[args.Count];
        for (var i = 0; i < args.Count; i++)
        {
            if (!TryConvertOne(args[i].Text, parameters[i], out converted[i]))
            {
                error = $"argument {i + 1}{(args[i].Name is null ? "" : $" ({args[i].Name})")}: '{args[i].Text}' is not a valid {TypeName(parameters[i])}";
                return false;
            }
        }
        values = converted;
        error = string.Empty;
        return true;
    }

    private static bool TryConvertOne(string text, ValueKind kind, out ValueBox value)
    {
        value = default;
        switch (kind)
        {
            case ValueKind.Int32 when FuncArgs.TryParseInt64(text, out var i) && i is >= int.MinValue and <= uint.MaxValue:
                value = unchecked((int)i);
                return true;
            case ValueKind.Int64 when FuncArgs.TryParseInt64(text, out var l):
                value = l;
                return true;
            case ValueKind.Float32 when FuncArgs.TryParseDouble(text, out var f):
                value = (float)f;
                return true;
            case ValueKind.Float64 when FuncArgs.TryParseDouble(text, out var d):
                value = d;
                return true;
            default:
                return false;
        }
    }

    public static string Describe(IReadOnlyList<ValueKind> kinds) => kinds.Count == 0 ? "none" : string.Join(',', kinds.Select(TypeName));

    public static string TypeName(ValueKind kind) => kind switch
    {
        ValueKind.Int32 => "i32",
        ValueKind.Int64 => "i64",
        ValueKind.Float32 => "f32",
        ValueKind.Float64 => "f64",
        _ => kind.ToString().ToLowerInvariant(),
    };

    public static bool IsSupported(ValueKind kind) => kind is ValueKind.Int32 or ValueKind.Int64 or ValueKind.Float32 or ValueKind.Float64;

    /// <summary>The text of a result value in its own type: integers in decimal, floats round-trippable.</summary>
    public static string Format(object? value) => value switch
    {
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        float f => FormatFloat(f),
        double d => FormatFloat(d),
        object[] many => string.Join(',', many.Select(Format)),
        _ => "?",
    };

    private static string FormatFloat(double d) =>
        double.IsNaN(d) ? "nan" : double.IsPositiveInfinity(d) ? "inf" : double.IsNegativeInfinity(d) ? "-inf" : d.ToString("R", CultureInfo.InvariantCulture);

    private static string FormatFloat(float f) =>
        float.IsNaN(f) ? "nan" : float.IsPositiveInfinity(f) ? "inf" : float.IsNegativeInfinity(f) ? "-inf" : f.ToString("R", CultureInfo.InvariantCulture);
}
