using System.Collections.Concurrent;
using System.Net;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 18, traces (docs/http.md): gateways started with --otlp send their spans over OTLP/HTTP to
/// a collector (here a real HTTP listener that decodes the protobuf): one trace per host request,
/// a span for each part of the latency breakdown, one trace across the gateways of a fleet.
/// </summary>
public sealed class TraceTests
{
    [Fact]
    public async Task A_deploy_and_a_run_are_each_one_trace_with_a_span_per_part_of_their_latency()
    {
        await using var collector = OtlpCollector.Start();
        await using var system = new SystemUnderTest();
        system.StartBoard("b1", 0);
        system.GatewayArgs.AddRange(["--otlp", collector.Url]);
        system.StartGateway();
        CliAssert.Exit(0, await system.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        CliAssert.Exit(0, await system.CliAsync("--device", "b1", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "1,2", "--wait-result"));

        // Each process exports in its own batches, a child often before its parent: wait for every span looked at.
        await LinkFaultTests.EventuallyAsync(() => Task.FromResult(collector.Has("wasmorch build_and_deploy", "compile", "transfer", "device verify", "wasmorch start", "device execution")), TimeSpan.FromSeconds(15));
        var spans = collector.Spans.ToList();
        var deploy = Assert.Single(spans, s => s.Name == "wasmorch build_and_deploy");
        Assert.Equal("", deploy.ParentId);
        Assert.Equal(("b1", "math_ops", "ok"), (deploy.Attributes["wasmorch.device"], deploy.Attributes["wasmorch.module_id"], deploy.Attributes["wasmorch.outcome"]));
        foreach (var part in new[] { "compile", "transfer", "device verify" })
        {
            var child = Assert.Single(spans, s => s.Name == part);
            Assert.Equal((deploy.TraceId, deploy.SpanId), (child.TraceId, child.ParentId));
        }
        var run = Assert.Single(spans, s => s.Name == "wasmorch start");
        Assert.NotEqual(deploy.TraceId, run.TraceId);
        var execution = Assert.Single(spans, s => s.Name == "device execution");
        Assert.Equal((run.TraceId, run.SpanId), (execution.TraceId, execution.ParentId));
        Assert.Equal("OK", execution.Attributes["wasmorch.status"]);
    }

    [Fact]
    public async Task A_request_forwarded_across_a_fleet_is_one_trace_over_both_gateways()
    {
        await using var collector = OtlpCollector.Start();
        await using var nats = NatsServer.Start();
        await using var a = FleetMember(nats, collector, "gw-a", "a1");
        await using var b = FleetMember(nats, collector, "gw-b", "b1");
        CliAssert.Exit(0, await a.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        CliAssert.Exit(0, await a.CliAsync("--device", "b1", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "1,2", "--wait-result"));

        await LinkFaultTests.EventuallyAsync(() => Task.FromResult(
            collector.Has("device execution") && collector.Spans.Count(s => s.Name == "wasmorch start") == 2
            && collector.Spans.Any(s => s.Name == "fleet serve" && collector.Spans.Any(e => e.Name == "wasmorch start" && e.Service == "gw-a" && e.SpanId == s.ParentId))),
            TimeSpan.FromSeconds(15));
        var spans = collector.Spans.ToList();
        // gw-a's span of the request, gw-b serving it, gw-b's own request span, the device's run: parent to child, one trace.
        var entry = Assert.Single(spans, s => s.Name == "wasmorch start" && s.Service == "gw-a");
        var serve = Assert.Single(spans, s => s.Name == "fleet serve" && s.ParentId == entry.SpanId);
        var owner = Assert.Single(spans, s => s.Name == "wasmorch start" && s.Service == "gw-b");
        var execution = Assert.Single(spans, s => s.Name == "device execution");
        Assert.Equal("gw-b", serve.Service);
        Assert.Equal(serve.SpanId, owner.ParentId);
        Assert.Equal(owner.SpanId, execution.ParentId);
        Assert.All(new[] { serve, owner, execution }, s => Assert.Equal(entry.TraceId, s.TraceId));
        Assert.Equal("", entry.ParentId);
    }

    [Theory]
    [InlineData("127.0.0.1:4318")]
    [InlineData("grpc://collector:4317")]
    public async Task A_collector_that_is_not_an_http_url_stops_the_gateway(string url)
    {
        var gateway = RunningProcess.StartCli(["gateway", "--port", "0", "--state", "off", "--otlp", url]);
        await using var _ = gateway;
        Assert.Equal(2, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"otlp '{url}' is not an OTLP/HTTP collector URL with its scheme (for instance http://127.0.0.1:4318)", gateway.Output, StringComparison.Ordinal);
    }

    private static SystemUnderTest FleetMember(NatsServer nats, OtlpCollector collector, string gateway, string board)
    {
        var system = new SystemUnderTest();
        system.StartBoard(board, 0);
        system.GatewayArgs.AddRange(["--nats", nats.Url, "--name", gateway, "--fleet", "lab", "--fleet-insecure", "--otlp", collector.Url]);
        system.StartGateway();
        return system;
    }
}

/// <summary>
/// An OTLP/HTTP trace collector for tests: takes POST /v1/traces (protobuf
/// ExportTraceServiceRequest) and keeps each span's service instance, ids, name and string attributes.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    public sealed record Span(string Service, string TraceId, string SpanId, string ParentId, string Name, Dictionary<string, string> Attributes);

    private readonly HttpListener _listener = new();
    private readonly Task _serving;

    public ConcurrentBag<Span> Spans { get; } = [];

    public string Url { get; }

    /// <summary>Whether a span of each name has come in.</summary>
    public bool Has(params string[] names) => names.All(name => Spans.Any(s => s.Name == name));

    private OtlpCollector(int port)
    {
        Url = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _serving = ServeAsync();
    }

    public static OtlpCollector Start() => new(TcpPorts.Unused());

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url!.AbsolutePath == "/v1/traces")
            {
                Read(body.ToArray());
            }
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    private void Read(ReadOnlyMemory<byte> request)
    {
        foreach (var resourceSpans in Protobuf.Messages(request, 1))
        {
            var service = Protobuf.Messages(resourceSpans, 1).SelectMany(r => Attributes(r)).FirstOrDefault(a => a.Key == "service.instance.id").Value ?? "";
            foreach (var span in Protobuf.Messages(resourceSpans, 2).SelectMany(scope => Protobuf.Messages(scope, 2)))
            {
                var fields = Protobuf.Fields(span).ToList();
                string Hex(int field) => Convert.ToHexStringLower(fields.FirstOrDefault(f => f.Number == field).Bytes.Span);
                Spans.Add(new Span(service, Hex(1), Hex(2), Hex(4), System.Text.Encoding.UTF8.GetString(fields.First(f => f.Number == 5).Bytes.Span),
                    Attributes(span, 9).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal)));
            }
        }
    }

    /// <summary>KeyValue messages (field <paramref name="field"/>) with a string (AnyValue 1) or integer (AnyValue 3) value.</summary>
    private static IEnumerable<KeyValuePair<string, string>> Attributes(ReadOnlyMemory<byte> message, int field = 1)
    {
        foreach (var keyValue in Protobuf.Messages(message, field))
        {
            var parts = Protobuf.Fields(keyValue).ToList();
            var key = System.Text.Encoding.UTF8.GetString(parts.First(p => p.Number == 1).Bytes.Span);
            var any = Protobuf.Fields(parts.First(p => p.Number == 2).Bytes).First();
            yield return new(key, any.Number switch
            {
                1 => System.Text.Encoding.UTF8.GetString(any.Bytes.Span),
                3 => ((long)any.Varint).ToString(System.Globalization.CultureInfo.InvariantCulture),
                2 => any.Varint != 0 ? "true" : "false",
                _ => "?",
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Close alone: after Stop, Linux's managed HttpListener.Close looks its port up again and
        // binds it anew to do so, which fails ("Address already in use") once another process took it.
        _listener.Close();
        await _serving;
    }
}

/// <summary>Just enough of the protobuf wire format to read OTLP: fields of a message, nested messages by field number.</summary>
internal static class Protobuf
{
    public readonly record struct Field(int Number, int Wire, ulong Varint, ReadOnlyMemory<byte> Bytes);

    public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int field) =>
        Fields(message).Where(f => f.Number == field && f.Wire == 2).Select(f => f.Bytes);

    public static IEnumerable<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var at = 0;
        while (at < message.Length)
        {
            var tag = ReadVarint(message.Span, ref at);
            var wire = (int)(tag & 7);
            var number = (int)(tag >> 3);
            switch (wire)
            {
                case 0:
                    yield return new Field(number, wire, ReadVarint(message.Span, ref at), default);
                    break;
                case 1:
                    yield return new Field(number, wire, 0, message.Slice(at, 8));
                    at += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message.Span, ref at);
                    yield return new Field(number, wire, 0, message.Slice(at, length));
                    at += length;
                    break;
                case 5:
                    yield return new Field(number, wire, 0, message.Slice(at, 4));
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"protobuf wire type {wire} at {at}");
            }
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
