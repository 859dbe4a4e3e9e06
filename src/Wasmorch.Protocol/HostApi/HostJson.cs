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
            error = $"malformed JSON: {ex.Message}";
            return false;
        }
    }

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
