using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wasmorch.Protocol.HostApi;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(HostRequest))]
[JsonSerializable(typeof(HostResponse))]
[JsonSerializable(typeof(string))]
public sealed partial class HostJsonContext : JsonSerializerContext;

/// <summary>Reads and writes host API lines. Malformed JSON is a typed failure, never an escaping exception.</summary>
public static class HostJson
{
    /// <summary>Largest request line the gateway accepts (a 256 KiB module in base64, plus slack).</summary>
    public const int MaxRequestBytes = 1 << 20;

    public static byte[] Serialize(HostRequest request) =>
        JsonSerializer.SerializeToUtf8Bytes(request, HostJsonContext.Default.HostRequest);

    public static byte[] Serialize(HostResponse response) =>
        JsonSerializer.SerializeToUtf8Bytes(response, HostJsonContext.Default.HostResponse);

    public static bool TryParseRequest(ReadOnlySpan<byte> line, out HostRequest? request, out string error)
    {
        try
        {
            request = JsonSerializer.Deserialize(line, HostJsonContext.Default.HostRequest);
            error = request is null ? "request is null" : string.Empty;
            return request is not null;
        }
        catch (JsonException ex)
        {
            request = null;
            error = Describe(ex);
            return false;
        }
    }

    /// <summary>What is wrong with a request, in the host API's own words (field names and JSON types, never .NET type names).</summary>
    private static string Describe(JsonException ex)
    {
        var field = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        if (field is not null && ExpectedTypes.TryGetValue(field.Split('[')[0], out var expected))
        {
            return $"malformed request: field '{field}' must be {expected}";
        }
        var position = ex.BytePositionInLine is { } at ? $" at byte {at}" : "";
        return field is null ? $"malformed JSON{position}" : $"malformed request: field '{field}' has a value of the wrong type{position}";
    }

    private static readonly Dictionary<string, string> ExpectedTypes = new(StringComparer.Ordinal)
    {
        ["id"] = "a whole number",
        ["timeout_ms"] = "a whole number of milliseconds (32 bits)",
        ["stack_size"] = "a whole number of bytes (32 bits)",
        ["limit"] = "a whole number (32 bits)",
        ["version"] = "a whole number (32 bits)",
        ["by"] = "a string",
        ["dry_run"] = "true or false",
        ["max_failures"] = "a whole number (32 bits)",
        ["soak_ms"] = "a whole number of milliseconds (32 bits)",
        ["desired"] = "a list of objects (module_id, selector, source or module, mode, autostart)",
        ["wait_result"] = "true or false",
        ["force"] = "true or false",
        ["progress"] = "true or false",
        ["follow"] = "true or false",
        ["exports"] = "a list of strings",
        ["op"] = "a string",
        ["device"] = "a string",
        ["module_id"] = "a string",
        ["func"] = "a string",
        ["args"] = "a string",
        ["token"] = "a string",
        ["source"] = "a string",
        ["source_name"] = "a string",
        ["lang"] = "a string (c, cpp, rust, as)",
        ["files"] = "an object of file name → text",
        ["module"] = "a string (base64)",
        ["mode"] = "a string",
        ["opt_level"] = "a string",
        ["signature"] = "a string (base64)",
    };

    public static bool TryParseResponse(ReadOnlySpan<byte> line, out HostResponse? response, out string error)
    {
        try
        {
            response = JsonSerializer.Deserialize(line, HostJsonContext.Default.HostResponse);
            error = response is null ? "response is null" : string.Empty;
            return response is not null;
        }
        catch (JsonException ex)
        {
            response = null;
            error = $"malformed JSON: {ex.Message}";
            return false;
        }
    }
}
