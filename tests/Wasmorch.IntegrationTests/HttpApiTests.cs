using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 18, the host API over HTTP (docs/http.md): the gateway process started with --http, an
/// emulated board, real HTTP requests: the same ops, fields and errors as the TCP host API, the
/// token as a bearer header, live streams as Server-Sent Events, the OpenAPI document.
/// </summary>
public sealed class HttpApiTests
{
    private const string Token = "http-api-test-token-0123456789";

    /// <summary>Every op of the host API, each with a body it could take.</summary>
    private static readonly string[] Ops =
        ["deploy", "build_and_deploy", "start", "stop", "status", "devices", "ping", "unload", "logs", "scan", "jobs", "history", "rollback", "apply", "diff", "rollout"];

    private static SystemUnderTest Start()
    {
        var system = new SystemUnderTest();
        system.StartBoard("b1", 0);
        system.GatewayArgs.AddRange(["--http", "127.0.0.1:0"]);
        system.GatewayEnvironment["WASMORCH_TOKEN"] = Token;
        system.StartGateway();
        return system;
    }

    private static HttpClient Client(SystemUnderTest system, string? token = Token)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://{system.Http}/"), Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return http;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string op, string json)
    {
        using var response = await http.PostAsync(new Uri($"api/{op}", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.Clone());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.Clone());
    }

    private static string Code(JsonElement body) => body.GetProperty("error").GetProperty("code").GetString()!;

    [Fact]
    public async Task Every_op_answers_over_http_as_the_tcp_api_does_and_none_without_the_token()
    {
        await using var system = Start();
        using var anonymous = Client(system, token: null);
        using var wrong = Client(system, token: "not-the-token-at-all-000");
        foreach (var op in Ops)
        {
            var (refusedStatus, body) = await PostAsync(anonymous, op, "{\"device\":\"b1\",\"module_id\":\"m\"}");
            Assert.Equal(HttpStatusCode.Unauthorized, refusedStatus);
            Assert.Equal("UNAUTHORIZED", Code(body));
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(wrong, op, "{}")).Status);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(anonymous, "api/status?device=b1")).Status);
        Assert.Contains("modules=-", (await system.CliAsync("--token", Token, "--device", "b1", "status")).Stdout, StringComparison.Ordinal);

        using var http = Client(system);
        var source = JsonSerializer.Serialize(await File.ReadAllTextAsync(RepoPaths.Module("math_ops.c")));
        var (deployed, deploy) = await PostAsync(http, "build_and_deploy", $"{{\"device\":\"b1\",\"module_id\":\"math_ops\",\"source\":{source},\"source_name\":\"math_ops.c\"}}");
        Assert.Equal(HttpStatusCode.OK, deployed);
        Assert.Equal(1, deploy.GetProperty("version").GetInt32());
        var (ran, add) = await PostAsync(http, "start", "{\"device\":\"b1\",\"module_id\":\"math_ops\",\"func\":\"add\",\"args\":\"a=10,b=15\",\"wait_result\":true}");
        Assert.Equal(HttpStatusCode.OK, ran);
        Assert.Equal(25, add.GetProperty("value").GetInt32());
        Assert.True(add.GetProperty("timing").GetProperty("device_ms").GetDouble() >= 0);

        // Read-only ops also answer GET, with the same fields as over TCP.
        var (_, status) = await GetAsync(http, "api/status?device=b1");
        Assert.Equal("IDLE", status.GetProperty("status").GetString());
        Assert.Equal("math_ops", status.GetProperty("agent").GetProperty("modules").GetString());
        var (_, jobs) = await GetAsync(http, "api/jobs?device=b1&limit=5");
        var job = Assert.Single(jobs.GetProperty("jobs").EnumerateArray());
        Assert.Equal(("add", "OK", "25"), (job.GetProperty("func").GetString(), job.GetProperty("status").GetString(), job.GetProperty("value").GetString()));
        var (_, history) = await GetAsync(http, "api/history?module_id=math_ops");
        Assert.Equal(deploy.GetProperty("sha256").GetString(), Assert.Single(history.GetProperty("versions").EnumerateArray()).GetProperty("sha256").GetString());
        var (_, devices) = await GetAsync(http, "api/devices");
        Assert.Equal("b1", Assert.Single(devices.GetProperty("devices").EnumerateArray()).GetProperty("name").GetString());
        var tcp = await system.CliAsync("--token", Token, "--json", "--device", "b1", "status");
        using (var tcpStatus = JsonDocument.Parse(tcp.Stdout))
        {
            Assert.Equal(tcpStatus.RootElement.GetProperty("agent").GetProperty("modules").GetString(), status.GetProperty("agent").GetProperty("modules").GetString());
        }

        // Errors keep their codes, and say them in the HTTP status too.
        var (noModule, refused) = await PostAsync(http, "start", "{\"device\":\"b1\",\"module_id\":\"nothing_here\",\"func\":\"f\",\"wait_result\":true}");
        Assert.Equal((HttpStatusCode.Conflict, "NO_MODULE"), (noModule, Code(refused)));
        var (unknown, nobody) = await GetAsync(http, "api/status?device=nowhere");
        Assert.Equal((HttpStatusCode.NotFound, "UNKNOWN_DEVICE"), (unknown, Code(nobody)));
        var (badOp, frob) = await PostAsync(http, "frobnicate", "{}");
        Assert.Equal((HttpStatusCode.BadRequest, "BAD_REQUEST"), (badOp, Code(frob)));
        Assert.Contains("unknown op 'frobnicate'", frob.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        var (badBody, garbled) = await PostAsync(http, "deploy", "{\"device\": ");
        Assert.Equal((HttpStatusCode.BadRequest, "BAD_REQUEST"), (badBody, Code(garbled)));
        var (mismatch, twoOps) = await PostAsync(http, "status", "{\"op\":\"stop\",\"device\":\"b1\"}");
        Assert.Equal(HttpStatusCode.BadRequest, mismatch);
        Assert.Equal("the body says op 'stop' and the path 'status'", twoOps.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await GetAsync(http, "api/start?device=b1")).Status);
        var (typo, misspelt) = await GetAsync(http, "api/status?devcie=b1");
        Assert.Equal(HttpStatusCode.BadRequest, typo);
        Assert.Equal("unknown query parameter 'devcie' (device, module_id, limit, topic)", misspelt.GetProperty("error").GetProperty("message").GetString());
        var (wrongType, typed) = await PostAsync(http, "jobs", "{\"limit\":\"many\"}");
        Assert.Equal((HttpStatusCode.BadRequest, "BAD_REQUEST"), (wrongType, Code(typed)));

        // Every op, with the token: HTTP answers as the TCP host API does to the same request.
        foreach (var op in Ops)
        {
            // A module id the board does not hold: unload and rollback change nothing, so the second asking finds what the first did.
            var body = $"{{\"device\":\"b1\",\"module_id\":\"absent\",\"action\":\"status\",\"limit\":1,\"desired\":[]}}";
            var (_, overHttp) = await PostAsync(http, op, body);
            using var overTcp = JsonDocument.Parse(await system.HostExchangeAsync(Encoding.UTF8.GetBytes(body.Insert(1, $"\"op\":\"{op}\",\"token\":\"{Token}\","))));
            var sameOverTcp = overTcp.RootElement;
            Assert.True(sameOverTcp.GetProperty("ok").GetBoolean() == overHttp.GetProperty("ok").GetBoolean(), $"{op}: tcp {sameOverTcp} http {overHttp}");
            if (!sameOverTcp.GetProperty("ok").GetBoolean())
            {
                Assert.Equal((op, Code(sameOverTcp)), (op, Code(overHttp)));
                Assert.NotEqual("UNAUTHORIZED", Code(overHttp));
            }
        }

        // The OpenAPI document names every op, and the request's fields as the gateway reads them.
        var (_, openapi) = await GetAsync(anonymous, "openapi.json");
        Assert.Equal("3.1.0", openapi.GetProperty("openapi").GetString());
        var paths = openapi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.All(Ops, op => Assert.Contains($"/api/{op}", paths));
        // Every route the server maps (issue 30, item 16): the GET forms of the ops that change nothing, and the four streams.
        Assert.Superset(new HashSet<string> { "/api/jobs/stream", "/api/events/stream", "/api/logs/stream", "/api/published/stream" }, paths);
        string[] readOnly = ["status", "devices", "jobs", "logs", "history", "ping", "diff", "scan", "events"];
        var documentedPaths = openapi.GetProperty("paths");
        Assert.All(Ops, op => Assert.Equal((op, readOnly.Contains(op)), (op, documentedPaths.GetProperty($"/api/{op}").TryGetProperty("get", out _))));
        Assert.Equal("415", documentedPaths.GetProperty("/api/start").GetProperty("post").GetProperty("responses").EnumerateObject().Select(r => r.Name).First(n => n.StartsWith('4')));
        var requestFields = openapi.GetProperty("components").GetProperty("schemas").GetProperty("HostRequest").GetProperty("properties");
        Assert.Equal("string", requestFields.GetProperty("module_id").GetProperty("type").GetString());
        Assert.Equal("boolean", requestFields.GetProperty("wait_result").GetProperty("type").GetString());
        Assert.Equal("#/components/schemas/DesiredModule", requestFields.GetProperty("desired").GetProperty("items").GetProperty("$ref").GetString());
    }

    [Fact]
    public async Task Job_events_and_log_lines_arrive_as_server_sent_events()
    {
        await using var system = Start();
        using var http = Client(system);
        var source = JsonSerializer.Serialize(await File.ReadAllTextAsync(RepoPaths.Module("counter.c")));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, "build_and_deploy", $"{{\"device\":\"b1\",\"module_id\":\"counter\",\"source\":{source}}}")).Status);

        using var streams = new HttpClient { BaseAddress = http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        // A browser's EventSource cannot set headers: streams also take ?token=.
        using var jobs = await streams.GetAsync(new Uri($"api/jobs/stream?device=b1&token={Token}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        using var logs = await streams.GetAsync(new Uri($"api/logs/stream?device=b1&token={Token}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", jobs.Content.Headers.ContentType!.MediaType);
        using var jobEvents = new StreamReader(await jobs.Content.ReadAsStreamAsync());
        using var logEvents = new StreamReader(await logs.Content.ReadAsStreamAsync());
        Assert.Equal(": wasmorch", await jobEvents.ReadLineAsync());
        Assert.Equal(": wasmorch", await logEvents.ReadLineAsync());

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, "start", "{\"device\":\"b1\",\"module_id\":\"counter\",\"func\":\"count\",\"args\":\"3,10\",\"wait_result\":true}")).Status);
        using var within = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var started = await NextEventAsync(jobEvents, "job", within.Token);
        var ended = await NextEventAsync(jobEvents, "job", within.Token);
        var startedJob = started.GetProperty("jobs")[0];
        var endedJob = ended.GetProperty("jobs")[0];
        Assert.Equal(("b1", "counter", "count", "RUNNING"), (startedJob.GetProperty("device").GetString(), startedJob.GetProperty("module_id").GetString(), startedJob.GetProperty("func").GetString(), startedJob.GetProperty("status").GetString()));
        Assert.Equal(("OK", startedJob.GetProperty("job").GetInt64()), (endedJob.GetProperty("status").GetString(), endedJob.GetProperty("job").GetInt64()));

        // The log stream starts with the recent lines (event: logs), then each line as it comes.
        var recent = await NextEventAsync(logEvents, "logs", within.Token);
        var lines = recent.GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("message").GetString()).ToList();
        while (!lines.Contains("done"))
        {
            lines.Add((await NextEventAsync(logEvents, "log", within.Token)).GetProperty("log").GetProperty("message").GetString());
        }
        Assert.Equal(["1", "2", "3", "done"], lines.Where(l => l is not null).TakeLast(4));
    }

    [Fact]
    public async Task In_a_fleet_one_gateways_event_stream_carries_the_other_gateways_deploys_and_jobs_with_their_gateway()
    {
        await using var nats = NatsServer.Start();
        await using var a = new SystemUnderTest();
        a.StartBoard("a1", 0);
        a.GatewayArgs.AddRange(["--nats", nats.Url, "--name", "gw-a", "--fleet", "lab", "--fleet-insecure", "--http", "127.0.0.1:0"]);
        a.StartGateway();
        await using var b = new SystemUnderTest();
        b.StartBoard("b1", 0);
        b.GatewayArgs.AddRange(["--nats", nats.Url, "--name", "gw-b", "--fleet", "lab", "--fleet-insecure"]);
        b.StartGateway();

        using var streams = new HttpClient { BaseAddress = new Uri($"http://{a.Http}/"), Timeout = Timeout.InfiniteTimeSpan };
        using var stream = await streams.GetAsync(new Uri("api/events/stream?device=b1", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        using var events = new StreamReader(await stream.Content.ReadAsStreamAsync());
        Assert.Equal(": wasmorch", await events.ReadLineAsync());

        // Both made on gw-b, which owns b1: gw-a's stream hears of them through the fleet.
        CliAssert.Exit(0, await b.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "m", "--source", RepoPaths.Module("math_ops.c")));
        CliAssert.Exit(0, await b.CliAsync("--device", "b1", "start", "--module-id", "m", "--func-name", "add", "--func-args", "a=2,b=3", "--wait-result"));
        using var within = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        // First the link to b1 (gw-b connects on first use): the board's boot and the connection.
        var linked = await NextEventAsync(events, "device", within.Token);
        Assert.Equal(("b1", "gw-b"), (linked.GetProperty("device").GetString(), linked.GetProperty("gateway").GetString()));
        var loaded = await NextEventAsync(events, "module", within.Token, skipping: "device");
        Assert.Equal(("b1", "gw-b", "m", "LOADED"), (loaded.GetProperty("device").GetString(), loaded.GetProperty("gateway").GetString(), loaded.GetProperty("module_id").GetString(), loaded.GetProperty("status").GetString()));
        var started = await NextEventAsync(events, "job", within.Token);
        var ended = await NextEventAsync(events, "job", within.Token);
        Assert.Equal(("gw-b", "RUNNING"), (started.GetProperty("gateway").GetString(), started.GetProperty("jobs")[0].GetProperty("status").GetString()));
        Assert.Equal(("gw-b", "OK", "5"), (ended.GetProperty("gateway").GetString(), ended.GetProperty("jobs")[0].GetProperty("status").GetString(), ended.GetProperty("jobs")[0].GetProperty("value").GetString()));
    }

    /// <summary>The data of the next Server-Sent Event, which must be named <paramref name="name"/>.</summary>
    [Fact]
    public async Task Published_events_are_listed_by_topic_and_stream_as_server_sent_events()
    {
        await using var system = Start();
        using var http = Client(system);
        var source = JsonSerializer.Serialize("""
            #include "wasmorch.h"
            WASMORCH_EXPORT("say") int32_t say(int32_t n) {
                for (int32_t i = 0; i < n; i++) { publish("http/said", "hi", 2); publish("other", "x", 1); }
                return n;
            }
            """);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, "build_and_deploy", $"{{\"device\":\"b1\",\"module_id\":\"talker\",\"source\":{source},\"source_name\":\"talker.c\"}}")).Status);
        using var streams = new HttpClient { BaseAddress = http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var published = await streams.GetAsync(new Uri($"api/published/stream?device=b1&topic=http/said&token={Token}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        using var events = new StreamReader(await published.Content.ReadAsStreamAsync());
        Assert.Equal(": wasmorch", await events.ReadLineAsync());
        using var within = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Assert.Empty((await NextEventAsync(events, "events", within.Token)).GetProperty("events").EnumerateArray());

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, "start", "{\"device\":\"b1\",\"module_id\":\"talker\",\"func\":\"say\",\"args\":\"2\",\"wait_result\":true}")).Status);
        for (var i = 0; i < 2; i++)
        {
            var one = (await NextEventAsync(events, "published", within.Token)).GetProperty("published");
            Assert.Equal(("talker", "http/said", "6869", "hi"), (one.GetProperty("module_id").GetString(), one.GetProperty("topic").GetString(), one.GetProperty("data").GetString(), one.GetProperty("text").GetString()));
        }
        var (status, body) = await GetAsync(http, "api/events?device=b1&topic=other");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["x", "x"], body.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("text").GetString()));
    }

    private static async Task<JsonElement> NextEventAsync(StreamReader events, string name, CancellationToken ct, string? skipping = null)
    {
        string? eventName = null;
        while (await events.ReadLineAsync(ct) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventName != skipping)
            {
                Assert.Equal(name, eventName);
                using var data = JsonDocument.Parse(line["data: ".Length..]);
                return data.RootElement.Clone();
            }
        }
        throw new EndOfStreamException("the event stream ended");
    }

    [Fact]
    public async Task Metrics_for_prometheus_count_exactly_the_requests_jobs_and_uploads_the_test_made()
    {
        await using var system = Start();
        using var http = Client(system);
        using var anonymous = Client(system, token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("metrics", UriKind.Relative))).StatusCode);

        var source = JsonSerializer.Serialize(await File.ReadAllTextAsync(RepoPaths.Module("math_ops.c")));
        var (_, deploy) = await PostAsync(http, "build_and_deploy", $"{{\"device\":\"b1\",\"module_id\":\"math_ops\",\"source\":{source}}}");
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, "start", "{\"device\":\"b1\",\"module_id\":\"math_ops\",\"func\":\"add\",\"args\":\"1,2\",\"wait_result\":true}")).Status);
        }
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "api/status?device=b1")).Status);
        }
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(http, "start", "{\"device\":\"b1\",\"module_id\":\"nothing\",\"func\":\"f\"}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, "api/status?device=nowhere")).Status);
        // Made-up names (issue 30, item 13) are not labels: they share one "other" series.
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, $"api/status?device=ghost-{i}")).Status);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(http, "made-up-op", "{\"device\":\"b1\"}")).Status);

        // The exporter caches a scrape briefly: read until the last request is in.
        Dictionary<string, List<(Dictionary<string, string> Labels, double Value)>> metrics = [];
        double Value(string name, params string[] labels) => metrics.GetValueOrDefault(name, [])
            .Where(m => labels.All(l => m.Labels.GetValueOrDefault(l.Split('=')[0]) == l.Split('=')[1])).Sum(m => m.Value);
        await LinkFaultTests.EventuallyAsync(async () =>
        {
            metrics = Parse(await http.GetStringAsync(new Uri("metrics", UriKind.Relative)));
            return Value("wasmorch_requests_total", "op=status", "outcome=UNKNOWN_DEVICE") == 51 && Value("wasmorch_requests_total", "op=other") == 1;
        }, TimeSpan.FromSeconds(10));
        Assert.Equal(1, Value("wasmorch_requests_total", "op=build_and_deploy", "device=b1", "outcome=ok"));
        Assert.Equal(2, Value("wasmorch_requests_total", "op=start", "device=b1", "outcome=ok"));
        Assert.Equal(1, Value("wasmorch_requests_total", "op=start", "device=b1", "outcome=NO_MODULE"));
        Assert.Equal(3, Value("wasmorch_requests_total", "op=status", "device=b1", "outcome=ok"));
        Assert.Equal(51, Value("wasmorch_requests_total", "op=status", "device=other", "outcome=UNKNOWN_DEVICE"));
        Assert.Equal(["b1", "other"], metrics["wasmorch_requests_total"].Select(m => m.Labels.GetValueOrDefault("device", "-")).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(1, Value("wasmorch_requests_total", "op=other", "device=b1", "outcome=BAD_REQUEST"));
        Assert.Equal(2, Value("wasmorch_request_duration_seconds_count", "op=start", "outcome=ok"));
        Assert.Equal(2, Value("wasmorch_jobs_total", "device=b1", "status=OK"));
        // A hit or a miss, as this machine's artifact cache has it: one build either way.
        Assert.Equal(1, Value("wasmorch_compiles_total"));
        Assert.Equal(deploy.GetProperty("size").GetInt64(), Value("wasmorch_upload_bytes_total", "device=b1"));
        Assert.Equal(1, Value("wasmorch_upload_rate_bytes_per_second_count", "device=b1"));
        Assert.Equal(1, Value("wasmorch_device_connects_total", "device=b1"));
        Assert.Equal(0, Value("wasmorch_compile_queue"));
        Assert.True(Value("wasmorch_device_duration_seconds_sum", "op=start", "device=b1") > 0);
    }

    /// <summary>Prometheus text format: name{label="value",…} value, comments skipped.</summary>
    private static Dictionary<string, List<(Dictionary<string, string> Labels, double Value)>> Parse(string text)
    {
        var metrics = new Dictionary<string, List<(Dictionary<string, string>, double)>>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            var match = System.Text.RegularExpressions.Regex.Match(line, @"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)");
            Assert.True(match.Success, $"not a Prometheus sample: {line}");
            var labels = System.Text.RegularExpressions.Regex.Matches(match.Groups[2].Value, "([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"")
                .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
            var value = match.Groups[3].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                var number => double.Parse(number, System.Globalization.CultureInfo.InvariantCulture),
            };
            (metrics.TryGetValue(match.Groups[1].Value, out var list) ? list : metrics[match.Groups[1].Value] = []).Add((labels, value));
        }
        return metrics;
    }

    [Fact]
    public async Task With_a_tls_certificate_the_http_api_is_https_with_the_same_certificate_and_plain_http_gets_nothing()
    {
        var dir = Directory.CreateTempSubdirectory("wasmorch-https-").FullName;
        try
        {
            var cert = Path.Combine(dir, "gateway.pem");
            TlsTests.WriteSelfSigned(cert, Path.Combine(dir, "gateway.key"), "127.0.0.1");
            await using var system = new SystemUnderTest();
            system.StartBoard("b1", 0);
            system.GatewayArgs.AddRange(["--tls-cert", cert, "--tls-key", Path.Combine(dir, "gateway.key"), "--http", "127.0.0.1:0"]);
            system.GatewayEnvironment["WASMORCH_TOKEN"] = Token;
            system.StartGateway();
            using var trusted = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(cert));
            using var handler = new HttpClientHandler
            {
                // Exactly the gateway's certificate, as the CLI's --tls-ca pins it.
                ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented is not null && presented.RawData.AsSpan().SequenceEqual(trusted.RawData),
            };
            using var https = new HttpClient(handler) { BaseAddress = new Uri($"https://{system.Http}/") };
            https.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            var (status, body) = await GetAsync(https, "api/status?device=b1");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("IDLE", body.GetProperty("status").GetString());
            using var plain = new HttpClient { BaseAddress = new Uri($"http://{system.Http}/") };
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync(new Uri("api/status?device=b1", UriKind.Relative)));
            // The gateway still serves after the refused plain request.
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(https, "api/devices")).Status);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("0.0.0.0:0", "refusing to serve HTTP on 0.0.0.0:0 without a token")]
    [InlineData("localhost", "http 'localhost' is not address:port with an IP address (for instance 127.0.0.1:9080; names go in [gateway] http_hosts)")]
    public async Task An_http_address_that_is_wrong_or_open_without_a_token_stops_the_gateway(string address, string message)
    {
        var gateway = RunningProcess.StartCli(["gateway", "--port", "0", "--state", "off", "--http", address]);
        await using var _ = gateway;
        Assert.Equal(2, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(message, gateway.Output, StringComparison.Ordinal);
    }
}
