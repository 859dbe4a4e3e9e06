using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Http;

/// <summary>
/// The OpenAPI 3.1 document of the HTTP API, made from the host API's own JSON contract (the
/// source-generated metadata of <see cref="HostRequest"/> and <see cref="HostResponse"/>), so it
/// cannot drift from what the gateway reads and writes.
/// </summary>
public static class OpenApiDocument
{
    /// <param name="ops">Every op: each is a POST.</param>
    /// <param name="readOnlyOps">The ops that change nothing: each is also a GET with query parameters.</param>
    public static byte[] For(IReadOnlyList<string> ops, IReadOnlySet<string> readOnlyOps)
    {
        var schemas = new JsonObject();
        var request = Schema(HostJsonContext.Default.HostRequest, schemas);
        var response = Schema(HostJsonContext.Default.HostResponse, schemas);
        var paths = new JsonObject();
        foreach (var op in ops)
        {
            paths[$"/api/{op}"] = new JsonObject
            {
                ["post"] = new JsonObject
                {
                    ["operationId"] = op,
                    ["summary"] = $"The host API's '{op}' (docs/protocol.md §9): the request as a TCP host API line, op taken from the path",
                    ["requestBody"] = new JsonObject { ["required"] = true, ["content"] = Json(request.DeepClone()) },
                    ["responses"] = Responses(response),
                },
            };
            if (readOnlyOps.Contains(op))
            {
                paths[$"/api/{op}"]!["get"] = new JsonObject
                {
                    ["operationId"] = op + "_get",
                    ["summary"] = $"The host API's '{op}', which changes nothing, with its fields as query parameters",
                    ["parameters"] = new JsonArray(Query("device", "string"), Query("module_id", "string"), Query("limit", "integer"), Query("topic", "string")),
                    ["responses"] = Responses(response),
                };
            }
        }
        paths["/api/logs/stream"] = Stream("Log lines as they come (event: logs with the recent ones first, then event: log)", "log");
        paths["/api/jobs/stream"] = Stream("Jobs of this gateway's devices as they start and end (event: job; data: a response with jobs: [one])", "job");
        paths["/api/events/stream"] = Stream("The dashboard's live feed: job, module (loaded, unloaded) and device (connected, link lost, reset) events", "job, module, device");
        paths["/api/published/stream"] = Stream("What modules publish (event: events with the recent ones, then event: published per event)", "published", Query("topic", "string"));
        var document = new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject { ["title"] = "Wasmorch gateway", ["version"] = "1", ["description"] = "The host API over HTTP: docs/http.md" },
            ["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() }),
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["schemas"] = schemas,
                ["securitySchemes"] = new JsonObject { ["bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer" } },
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(document, OpenApiJsonContext.Default.JsonObject);
    }

    private static JsonObject Json(JsonNode schema) => new() { ["application/json"] = new JsonObject { ["schema"] = schema } };

    private static JsonObject Query(string name, string type) =>
        new() { ["name"] = name, ["in"] = "query", ["required"] = false, ["schema"] = new JsonObject { ["type"] = type } };

    private static JsonObject Responses(JsonNode response) => new()
    {
        ["200"] = new JsonObject { ["description"] = "ok: true", ["content"] = Json(response.DeepClone()) },
        ["415"] = new JsonObject { ["description"] = "the body is not Content-Type: application/json (BAD_REQUEST)", ["content"] = Json(response.DeepClone()) },
        ["421"] = new JsonObject { ["description"] = "the Host header is not a name of this gateway (FORBIDDEN)", ["content"] = Json(response.DeepClone()) },
        ["default"] = new JsonObject { ["description"] = "ok: false; error.code decides the status (400, 401, 403, 404, 409, 422, 500, 501, 503, 504)", ["content"] = Json(response.DeepClone()) },
    };

    private static JsonObject Stream(string summary, string eventName, params JsonObject[] extra) => new()
    {
        ["get"] = new JsonObject
        {
            ["summary"] = summary,
            ["parameters"] = new JsonArray([Query("device", "string"), Query("token", "string"), .. extra]),
            ["responses"] = new JsonObject
            {
                ["200"] = new JsonObject
                {
                    ["description"] = $"Server-Sent Events (event: {eventName}), each data a host API response",
                    ["content"] = new JsonObject { ["text/event-stream"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string" } } },
                },
            },
        },
    };

    /// <summary>A reference to the schema of <paramref name="info"/>'s type, added to <paramref name="schemas"/> (with those of the types it holds) the first time.</summary>
    private static JsonObject Schema(JsonTypeInfo info, JsonObject schemas)
    {
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Enumerable:
                return new JsonObject { ["type"] = "array", ["items"] = Schema(info.Options.GetTypeInfo(info.ElementType!), schemas) };
            case JsonTypeInfoKind.Dictionary:
                return new JsonObject { ["type"] = "object", ["additionalProperties"] = Schema(info.Options.GetTypeInfo(info.ElementType!), schemas) };
            case JsonTypeInfoKind.Object:
                var name = info.Type.Name;
                if (!schemas.ContainsKey(name))
                {
                    var properties = new JsonObject();
                    schemas[name] = new JsonObject { ["type"] = "object", ["properties"] = properties };
                    foreach (var property in info.Properties)
                    {
                        properties[property.Name] = Schema(property.PropertyType == typeof(object) ? null : info.Options.GetTypeInfo(property.PropertyType), schemas, property.PropertyType);
                    }
                }
                return new JsonObject { ["$ref"] = $"#/components/schemas/{name}" };
            default:
                return Primitive(info.Type);
        }
    }

    private static JsonObject Schema(JsonTypeInfo? info, JsonObject schemas, Type type) => info is null ? new JsonObject() : Schema(info, schemas);

    private static JsonObject Primitive(Type type)
    {
        var plain = System.Nullable.GetUnderlyingType(type) ?? type;
        return new JsonObject
        {
            ["type"] = plain == typeof(string) ? "string"
                : plain == typeof(bool) ? "boolean"
                : plain == typeof(int) || plain == typeof(long) || plain == typeof(ulong) || plain == typeof(uint) ? "integer"
                : plain == typeof(double) || plain == typeof(float) || plain == typeof(decimal) ? "number"
                : "string",
        };
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
internal sealed partial class OpenApiJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
