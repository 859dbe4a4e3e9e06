using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 30, the HTTP API as a web page in the operator's browser and a client on the LAN would
/// attack it (docs/security.md): cross-site requests, DNS rebinding, framing, path-case tricks,
/// connection floods.
/// </summary>
public sealed class HttpSecurityTests
{
    private const string Token = "http-security-test-token-0123";

    private static SystemUnderTest Start(string? token = null, string? config = null)
    {
        var system = new SystemUnderTest();
        system.StartBoard("b1", 0);
        system.GatewayArgs.AddRange(["--http", "127.0.0.1:0"]);
        if (config is not null)
        {
            var path = Path.Combine(Path.GetTempPath(), $"gw_{Guid.NewGuid():n}.toml");
            File.WriteAllText(path, config);
            system.GatewayArgs.AddRange(["--config", path]);
        }
        if (token is not null)
        {
            system.GatewayEnvironment["WASMORCH_TOKEN"] = token;
        }
        system.StartGateway();
        return system;
    }

    private static async Task<(HttpStatusCode Status, string Code)> SendAsync(SystemUnderTest system, HttpRequestMessage request)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{system.Http}/") };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var body = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
        var code = body.RootElement.TryGetProperty("error", out var error) ? error.GetProperty("code").GetString()! : "";
        return (response.StatusCode, code);
    }

    private static HttpRequestMessage Status(string? host = null, string? origin = null, string? site = null, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "api/status?device=b1");
        if (host is not null)
        {
            request.Headers.Host = host;
        }
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        if (site is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", site);
        }
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }

    [Fact]
    public async Task A_page_on_another_site_cannot_deploy_or_start_a_module_through_the_operators_browser()
    {
        // The default set-up: HTTP on loopback, no token. The attacker's page is served by a real
        // web server on another name (localhost vs 127.0.0.1: another site to the browser).
        await using var system = Start();
        var gateway = $"http://{system.Http}";
        var site = Directory.CreateTempSubdirectory("wasmorch-attacker-").FullName;
        var source = JsonSerializer.Serialize(await File.ReadAllTextAsync(RepoPaths.Module("math_ops.c")));
        var deploy = JsonSerializer.Serialize($"{{\"device\":\"b1\",\"module_id\":\"evil\",\"source\":{source},\"source_name\":\"evil.c\"}}");
        var start = JsonSerializer.Serialize("{\"device\":\"b1\",\"module_id\":\"evil\",\"func\":\"add\",\"args\":\"1,2\",\"wait_result\":true}");
        await File.WriteAllTextAsync(Path.Combine(site, "index.html"), $$"""
            <!doctype html><title>cute cats</title><script>
            const opts = body => ({ method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body });
            (async () => {
              const outcomes = [];
              for (const [op, body] of [['build_and_deploy', {{deploy}}], ['start', {{start}}]]) {
                try { await fetch('{{gateway}}/api/' + op, opts(body)); outcomes.push(op + ':sent'); } catch (e) { outcomes.push(op + ':' + e); }
              }
              // A JSON body needs a CORS preflight: the gateway must not grant it.
              try { await fetch('{{gateway}}/api/start', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: {{start}} }); outcomes.push('json:sent'); }
              catch (e) { outcomes.push('json:blocked'); }
              document.title = 'done ' + outcomes.join(' ');
            })();
            </script>
            """);
        var port = TcpPorts.Unused();
        await using var server = RunningProcess.Start("python3", "-u", "-m", "http.server", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--directory", site);
        server.WaitForLine("Serving HTTP");

        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu");
        using var browser = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        try
        {
            browser.Navigate().GoToUrl($"http://localhost:{port}/index.html");
            var title = new WebDriverWait(browser, TimeSpan.FromSeconds(30)).Until(d => d.Title.StartsWith("done", StringComparison.Ordinal) ? d.Title : null);
            // The browser sent both no-cors requests (the page cannot tell what happened to them) and blocked the JSON one.
            Assert.Equal("done build_and_deploy:sent start:sent json:blocked", title);
        }
        finally
        {
            browser.Quit();
        }
        var status = await system.CliAsync("--device", "b1", "status", "--json");
        CliAssert.Exit(0, status);
        using var parsed = JsonDocument.Parse(status.Stdout);
        Assert.Equal("-", parsed.RootElement.GetProperty("agent").GetProperty("modules").GetString());
        var jobs = await system.CliAsync("jobs", "--json");
        CliAssert.Exit(0, jobs);
        using var jobList = JsonDocument.Parse(jobs.Stdout);
        Assert.Equal(0, jobList.RootElement.GetProperty("jobs").GetArrayLength());
        Directory.Delete(site, recursive: true);
    }

    [Fact]
    public async Task A_post_body_that_is_not_json_is_refused_before_anything_is_done()
    {
        await using var system = Start();
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/unload") { Content = new StringContent("{\"device\":\"b1\",\"module_id\":\"m\"}", Encoding.UTF8, "text/plain") };
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "BAD_REQUEST"), await SendAsync(system, request));
        using var form = new HttpRequestMessage(HttpMethod.Post, "api/status") { Content = new FormUrlEncodedContent([new("device", "b1")]) };
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "BAD_REQUEST"), await SendAsync(system, form));
        using var json = new HttpRequestMessage(HttpMethod.Post, "api/status") { Content = new StringContent("{\"device\":\"b1\"}", Encoding.UTF8, "application/json") };
        Assert.Equal((HttpStatusCode.OK, ""), await SendAsync(system, json));
    }

    [Fact]
    public async Task Only_the_gateways_own_host_names_and_origin_are_answered()
    {
        await using var system = Start(config: "[gateway]\nhttp_hosts = [\"gw.lab.example\"]\n");
        var port = system.Http!.Split(':')[1];
        // DNS rebinding: the attacker's name now points at 127.0.0.1, the browser sends it as Host.
        Assert.Equal((HttpStatusCode.MisdirectedRequest, "FORBIDDEN"), await SendAsync(system, Status(host: "attacker.example")));
        Assert.Equal((HttpStatusCode.MisdirectedRequest, "FORBIDDEN"), await SendAsync(system, Status(host: $"attacker.example:{port}")));
        Assert.Equal((HttpStatusCode.MisdirectedRequest, "FORBIDDEN"), await SendAsync(system, Status(host: "10.1.2.3")));
        Assert.Equal((HttpStatusCode.OK, ""), await SendAsync(system, Status(host: $"localhost:{port}")));
        Assert.Equal((HttpStatusCode.OK, ""), await SendAsync(system, Status(host: $"gw.lab.example:{port}")));
        Assert.Equal((HttpStatusCode.OK, ""), await SendAsync(system, Status()));
        // Another origin, and what a browser says of a request from another site.
        Assert.Equal((HttpStatusCode.Forbidden, "FORBIDDEN"), await SendAsync(system, Status(origin: "http://attacker.example")));
        Assert.Equal((HttpStatusCode.Forbidden, "FORBIDDEN"), await SendAsync(system, Status(origin: "null")));
        Assert.Equal((HttpStatusCode.Forbidden, "FORBIDDEN"), await SendAsync(system, Status(site: "cross-site")));
        Assert.Equal((HttpStatusCode.Forbidden, "FORBIDDEN"), await SendAsync(system, Status(site: "same-site")));
        Assert.Equal((HttpStatusCode.OK, ""), await SendAsync(system, Status(origin: $"http://{system.Http}", site: "same-origin")));
    }

    [Fact]
    public async Task No_answer_can_be_framed_by_another_page()
    {
        await using var system = Start();
        using var http = new HttpClient { BaseAddress = new Uri($"http://{system.Http}/") };
        foreach (var path in new[] { "", "dashboard/app.js", "api/status?device=b1", "openapi.json", "api/nonexistent" })
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(["DENY"], response.Headers.GetValues("X-Frame-Options"));
            Assert.Contains("frame-ancestors 'none'", string.Join(";", response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Metrics_need_the_token_however_the_path_is_spelled()
    {
        await using var system = Start(token: Token);
        foreach (var path in new[] { "metrics", "Metrics", "METRICS", "MeTrIcS/", "metrics/", "%6Detrics", "API/STATUS?device=b1", "Api/Logs/Stream?device=b1" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            var (status, code) = await SendAsync(system, request);
            Assert.True(status == HttpStatusCode.Unauthorized && code == "UNAUTHORIZED", $"{path}: {status} {code}");
        }
        using var http = new HttpClient { BaseAddress = new Uri($"http://{system.Http}/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var metrics = await http.GetAsync(new Uri("metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }

    [Fact]
    public async Task Connections_from_one_address_beyond_its_cap_are_closed_and_the_apis_keep_serving()
    {
        await using var system = Start(config: "[gateway]\nmax_connections_per_peer = 8\n");
        var (address, port) = (system.Http!.Split(':')[0], int.Parse(system.Http.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(address, port);
                // Half a request: the connection stays open, as a slow or hostile client's would.
                await client.GetStream().WriteAsync("GET /api/status HTTP/1.1\r\n"u8.ToArray());
                held.Add(client);
            }
            Assert.Equal(0, await AnswerBytesAsync(address, port));
            // The TCP host API is untouched, and HTTP answers again as soon as one is given back.
            CliAssert.Exit(0, await system.CliAsync("--device", "b1", "status"));
            held[0].Dispose();
            held.RemoveAt(0);
            await WaitUntilAsync(async () => (await SendAsync(system, Status())).Status == HttpStatusCode.OK);
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }
    }

    /// <summary>How many bytes of an answer to a whole request come back: 0 when the server closes (or resets) the connection.</summary>
    private static async Task<int> AnswerBytesAsync(string address, int port)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var client = new TcpClient();
        try
        {
            // The server may close it before the connect is even complete here.
            await client.ConnectAsync(address, port, deadline.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("GET /api/status?device=b1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray(), deadline.Token);
            return await stream.ReadAsync(new byte[256], deadline.Token);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            return 0;
        }
    }

    /// <summary>Tries <paramref name="condition"/> until it holds, for at most 10 s (a freed slot is seen when Kestrel notices the close).</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < until)
            {
                // Still at the cap: the server closed this one too.
            }
            Assert.True(DateTime.UtcNow < until, "the HTTP API did not answer again after a connection was given back");
            await Task.Delay(50);
        }
    }
}
