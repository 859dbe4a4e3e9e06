using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Net;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 30 items 2, 3, 5, 18, 19 (docs/security.md): a fleet set up as docs/fleet.md says
/// (`wasmorch fleet init`, `nats-server -c`, `wasmorch gateway --config`), and the attacks of the
/// issue made by a NATS client that holds a gateway's NATS password but not its signing key: each is
/// refused, and what the user sees is the real gateway's answer.
/// </summary>
public sealed class FleetZeroTrustTests
{
    private static readonly NatsRawSerializer<byte[]> Raw = NatsRawSerializer<byte[]>.Default;

    /// <summary>Two gateways (gw-a with board a1, gw-b with b1) of fleet "lab", exactly as docs/fleet.md's quick start.</summary>
    private sealed class SecureFleet : IAsyncDisposable
    {
        public required string Dir { get; init; }
        public required int Port { get; init; }
        public required NatsServer Nats { get; init; }
        public required SystemUnderTest A { get; init; }
        public required SystemUnderTest B { get; init; }

        /// <summary>The operator's address, as docs/fleet.md gives it.</summary>
        public string Operator => $"nats://127.0.0.1:{Port}?fleet=lab&keys={Path.Combine(Dir, "ops.toml")}";

        public static async Task<string> InitAsync(int port, params string[] more)
        {
            var dir = Path.Combine(Directory.CreateTempSubdirectory("wasmorch-fleet-init-").FullName, "lab");
            var init = await CliRunner.RunAsync("127.0.0.1:1", ["fleet", "init", "--dir", dir, "--fleet", "lab", "--gateways", "gw-a,gw-b", "--listen", $"127.0.0.1:{port}", .. more]);
            CliAssert.Exit(0, init);
            return dir;
        }

        public static async Task<SecureFleet> StartAsync(Dictionary<string, string>? environment = null)
        {
            var port = TcpPorts.Unused();
            var dir = await InitAsync(port);
            var nats = NatsServer.StartWithConfig(Path.Combine(dir, "nats-server.conf"), port);
            return new SecureFleet { Dir = dir, Port = port, Nats = nats, A = Member(dir, "gw-a", "a1", environment), B = Member(dir, "gw-b", "b1", environment) };
        }

        private static SystemUnderTest Member(string dir, string gateway, string board, Dictionary<string, string>? environment)
        {
            var system = new SystemUnderTest();
            foreach (var (name, value) in environment ?? [])
            {
                system.GatewayEnvironment[name] = value;
            }
            // Each gateway its own build cache, as on its own machine: what it does not build, it fetches from the fleet.
            system.GatewayEnvironment["XDG_CACHE_HOME"] = Path.Combine(dir, $"cache-{gateway}");
            system.StartBoard(board, 0);
            system.GatewayArgs.AddRange(["--config", Path.Combine(dir, $"{gateway}.toml")]);
            system.StartGateway();
            return system;
        }

        /// <summary>A NATS client with <paramref name="user"/>'s NATS password (from its config), but not its signing key.</summary>
        public async Task<NatsConnection> ForgerAsync(string user)
        {
            var url = Regex.Match(await File.ReadAllTextAsync(Path.Combine(Dir, $"{user}.toml")), "nats = \"([^\"]+)\"").Groups[1].Value;
            var nats = new NatsConnection(NatsOpts.Default with { Url = url, Name = "forger" });
            await nats.ConnectAsync();
            return nats;
        }

        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
            await Nats.DisposeAsync();
            Directory.Delete(Path.GetDirectoryName(Dir)!, recursive: true);
        }
    }

    [Fact]
    public async Task A_fleet_set_up_as_docs_fleet_md_says_serves_across_gateways_and_to_the_operator_and_signs_provenance()
    {
        await using var fleet = await SecureFleet.StartAsync();
        // The server lets nobody in without credentials.
        await using (var anonymous = new NatsConnection(NatsOpts.Default with { Url = $"nats://127.0.0.1:{fleet.Port}", MaxReconnectRetry = 0 }))
        {
            await Assert.ThrowsAnyAsync<NatsException>(async () => await anonymous.ConnectAsync());
        }

        var deploy = await fleet.A.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c"));
        CliAssert.Exit(0, deploy);
        Assert.Contains("gateway=gw-b", deploy.Stdout, StringComparison.Ordinal);
        var add = await fleet.A.CliAsync("--json", "--device", "b1", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "10,15", "--wait-result");
        CliAssert.Exit(0, add);
        using (var json = JsonDocument.Parse(add.Stdout))
        {
            Assert.Equal(25, json.RootElement.GetProperty("value").GetInt32());
            Assert.Equal("gw-b", json.RootElement.GetProperty("gateway").GetString());
        }

        // The operator, with the keys fleet init wrote, reaches every device with no gateway of its own.
        var devices = await CliRunner.RunAsync(fleet.Operator, "devices");
        CliAssert.Exit(0, devices);
        Assert.Matches(@"(?m)^a1\s+\S+\s+(not )?connected  gateway=gw-a", devices.Stdout);
        Assert.Matches(@"(?m)^b1\s+\S+\s+connected  gateway=gw-b", devices.Stdout);
        var mul = await CliRunner.RunAsync(fleet.Operator, "--device", "b1", "start", "--module-id", "math_ops", "--func-name", "mul", "--func-args", "6,7", "--wait-result");
        CliAssert.Exit(0, mul);
        Assert.Contains("value=42", mul.Stdout, StringComparison.Ordinal);
        CliAssert.Exit(0, await CliRunner.RunAsync(fleet.Operator, "--device", "a1", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        // The operator's NATS password without its keys: told at once what is missing.
        var opsUrl = Regex.Match(await File.ReadAllTextAsync(Path.Combine(fleet.Dir, "ops.toml")), "nats = \"([^\"]+)\"").Groups[1].Value;
        var keyless = await CliRunner.RunAsync($"{opsUrl}?fleet=lab", "--device", "b1", "status");
        Assert.NotEqual(0, keyless.ExitCode);
        Assert.Contains("UNAUTHORIZED: the claim on 'b1' cannot be checked: this fleet signs its messages and this side has no fleet keys", keyless.Stderr, StringComparison.Ordinal);

        // Item 19: who deployed is who signed; what the request says of itself is marked as claimed.
        var history = await fleet.B.CliAsync("history", "--module-id", "math_ops");
        CliAssert.Exit(0, history);
        Assert.Matches(@"by gateway gw-a \(signed\), for \S+ \(claimed\)", history.Stdout);
        var historyA = await fleet.A.CliAsync("history", "--module-id", "math_ops");
        Assert.Matches(@"by operator ops \(signed\), for \S+ \(claimed\)", historyA.Stdout);
        // A host's own request: its word, marked as such.
        CliAssert.Exit(0, await fleet.B.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "local", "--source", RepoPaths.Module("math_ops.c")));
        var local = await fleet.B.CliAsync("history", "--module-id", "local");
        Assert.Matches(@"by \S+@\S+ \(claimed\)", local.Stdout);
        Assert.DoesNotContain("(signed)", local.Stdout, StringComparison.Ordinal);

        // Under the narrowed permissions nothing was refused, and no message was refused as unsigned.
        foreach (var logs in new[] { fleet.A.Logs, fleet.B.Logs })
        {
            Assert.DoesNotContain("Permissions Violation", logs, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("refused a message", logs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_gateway_refuses_a_NATS_server_that_lets_it_in_without_credentials_unless_the_dev_flag_says_otherwise()
    {
        await using var open = NatsServer.Start();
        var dir = await SecureFleet.InitAsync(TcpPorts.Unused());
        try
        {
            var check = await CliRunner.RunAsync("127.0.0.1:1", "gateway", "--config", Path.Combine(dir, "gw-a.toml"), "--check-config");
            CliAssert.Exit(0, check);
            Assert.Matches(@"(?m)^ok    fleet: lab as gw-a at nats://gw-a:\*\*\*@127\.0\.0\.1:\d+, signing as gw-a, trusting 2 gateway\(s\) and 1 operator\(s\)$", check.Stdout);
            var devCheck = await CliRunner.RunAsync("127.0.0.1:1", "gateway", "--nats", open.Url, "--name", "gw-x", "--fleet-insecure", "--check-config");
            Assert.Contains("warn  fleet: insecure_dev", devCheck.Stdout, StringComparison.Ordinal);

            await using var refused = RunningProcess.StartCli("gateway", "--port", "0", "--state", "off", "--config", Path.Combine(dir, "gw-a.toml"), "--nats", open.Url);
            Assert.Equal(2, await refused.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Contains($"UNAUTHORIZED: NATS at {open.Url} let this gateway in without credentials", refused.Output, StringComparison.Ordinal);
            Assert.Contains("docs/fleet.md", refused.Output, StringComparison.Ordinal);

            // Without keys (and without the dev flag) a gateway does not even try to join.
            await using var noKeys = RunningProcess.StartCli("gateway", "--port", "0", "--state", "off", "--nats", open.Url, "--name", "gw-x");
            Assert.Equal(2, await noKeys.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Contains("needs this gateway's fleet key", noKeys.Output, StringComparison.Ordinal);

            await using var dev = RunningProcess.StartCli("gateway", "--port", "0", "--state", "off", "--config", Path.Combine(dir, "gw-a.toml"), "--nats", open.Url, "--fleet-insecure");
            dev.WaitForLine("gateway listening on");
            await LinkFaultTests.EventuallyAsync(() => Task.FromResult(dev.Output.Contains("crit: Wasmorch.Fleet[368231359] Fleet: INSECURE DEVELOPMENT MODE", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    [Fact]
    public async Task A_forged_request_on_a_gateways_api_subject_is_refused_and_the_board_runs_nothing()
    {
        await using var fleet = await SecureFleet.StartAsync();
        CliAssert.Exit(0, await fleet.B.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        await using var forger = await fleet.ForgerAsync("gw-a");
        var request = Encoding.UTF8.GetBytes("""{"op":"start","device":"b1","module_id":"math_ops","func":"add","args":"1,2","wait_result":true}""");
        var stamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var (forged, reason) in new[]
        {
            (request, "unsigned"),
            ([.. Encoding.ASCII.GetBytes($"WFE1 gw-a {stamp} 00aa {Convert.ToBase64String(new byte[64])}\n"), .. request], "a bad signature"),
            ([.. Encoding.ASCII.GetBytes($"WFE1 mallory {stamp} 00bb {Convert.ToBase64String(new byte[64])}\n"), .. request], "whose key this fleet does not trust"),
        })
        {
            var reply = await forger.RequestAsync<byte[], byte[]>("wasmorch.lab.gateway.gw-b.api", forged, requestSerializer: Raw, replySerializer: Raw);
            var text = Encoding.UTF8.GetString(reply.Data ?? []);
            Assert.Contains("UNAUTHORIZED", text, StringComparison.Ordinal);
            Assert.Contains(reason, text, StringComparison.Ordinal);
            // Unsigned: a refusal is nothing a gateway could be made to take for an answer.
            Assert.StartsWith("{", text, StringComparison.Ordinal);
        }

        var jobs = await fleet.B.CliAsync("--json", "jobs", "--device", "b1");
        CliAssert.Exit(0, jobs);
        using var json = JsonDocument.Parse(jobs.Stdout);
        Assert.Equal(0, json.RootElement.TryGetProperty("jobs", out var list) ? list.GetArrayLength() : 0);
        Assert.Contains("Fleet: refused a message on wasmorch.lab.gateway.gw-b.api: unsigned", fleet.B.Logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_whose_key_another_does_not_trust_is_refused_there_and_told_why()
    {
        var port = TcpPorts.Unused();
        var dir = await SecureFleet.InitAsync(port);
        try
        {
            // gw-b does not trust gw-a's key (a key rotated on one side only).
            var configB = Path.Combine(dir, "gw-b.toml");
            await File.WriteAllTextAsync(configB, Regex.Replace(await File.ReadAllTextAsync(configB), "gw-a = \"[^\"]+\", ", ""));
            await using var nats = NatsServer.StartWithConfig(Path.Combine(dir, "nats-server.conf"), port);
            await using var a = new SystemUnderTest();
            a.GatewayArgs.AddRange(["--config", Path.Combine(dir, "gw-a.toml")]);
            a.StartGateway();
            await using var b = new SystemUnderTest();
            b.StartBoard("b1", 0);
            b.GatewayArgs.AddRange(["--config", configB]);
            b.StartGateway();

            var refused = await a.CliAsync("--device", "b1", "status");
            CliAssert.Exit(4, refused);
            Assert.Contains("DEVICE_UNREACHABLE: gateway 'gw-b' fell silent", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains("it said, unsigned: UNAUTHORIZED: gateway 'gw-b' refused a forwarded request: signed by 'gw-a', whose key this fleet does not trust", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains("Fleet: refused a message on wasmorch.lab.gateway.gw-b.api: signed by 'gw-a', whose key this fleet does not trust", b.Logs, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    [Fact]
    public async Task A_forwarded_request_carries_no_token_and_a_forged_reply_is_not_taken_for_the_answer()
    {
        const string Token = "fleet-user-token-0123456789";
        await using var fleet = await SecureFleet.StartAsync(new() { ["WASMORCH_TOKEN"] = Token });
        // A job that takes its time: the forger's answer comes while the real one is being worked out.
        var slow = Path.Combine(fleet.Dir, "slow.c");
        await File.WriteAllTextAsync(slow, "#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"add\") int32_t add(int32_t a, int32_t b) { delay_ms(500); return a + b; }\n");
        CliAssert.Exit(0, await CliRunner.RunAsync(fleet.B.Gateway, "--token", Token, "--device", "b1", "build-and-deploy", "--module-id", "slow", "--source", slow));

        // gw-b's NATS password, not its key: it hears gw-b's requests and answers first.
        await using var forger = await fleet.ForgerAsync("gw-b");
        var heard = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await forger.SubscribeCoreAsync("wasmorch.lab.gateway.gw-b.api", serializer: Raw);
        var answering = Task.Run(async () =>
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync())
            {
                heard.TrySetResult(message.Data ?? []);
                await message.ReplyAsync(Encoding.UTF8.GetBytes("""{"ok":true,"value":"666","value_type":"i32","status":"OK"}"""), serializer: Raw);
            }
        });

        var add = await CliRunner.RunAsync(fleet.A.Gateway, "--token", Token, "--json", "--device", "b1", "start", "--module-id", "slow", "--func-name", "add", "--func-args", "10,15", "--wait-result");
        CliAssert.Exit(0, add);
        using (var json = JsonDocument.Parse(add.Stdout))
        {
            Assert.Equal(25, json.RootElement.GetProperty("value").GetInt32());
        }
        var forwarded = Encoding.UTF8.GetString(await heard.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.StartsWith("WFE1 gw-a ", forwarded, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, forwarded, StringComparison.Ordinal);
        Assert.DoesNotContain("\"token\"", forwarded, StringComparison.Ordinal);
        // The forged answer came first, and was refused (logs are written a moment later).
        await LinkFaultTests.EventuallyAsync(() => Task.FromResult(fleet.A.Logs.Contains("Fleet: refused a message on wasmorch.lab.reply.", StringComparison.Ordinal)));
        await subscription.UnsubscribeAsync();
        await answering;
    }

    [Fact]
    public async Task A_forged_claim_is_ignored_and_put_right_and_names_with_subject_wildcards_are_never_subjects()
    {
        await using var fleet = await SecureFleet.StartAsync();
        CliAssert.Exit(0, await fleet.A.CliAsync("--device", "b1", "status"));
        await using var forger = await fleet.ForgerAsync("gw-a");
        var devices = await forger.CreateKeyValueStoreContext().GetStoreAsync("wasmorch_lab_devices");

        await devices.PutAsync("b1", Encoding.UTF8.GetBytes("gw-ghost 99999999999999"), serializer: Raw);
        await devices.PutAsync("wild", Encoding.UTF8.GetBytes("* 99999999999999"), serializer: Raw);
        await devices.PutAsync("deep", Encoding.UTF8.GetBytes("> 99999999999999"), serializer: Raw);

        // gw-b sees its device pointed elsewhere and writes its own signed claim back.
        await LinkFaultTests.EventuallyAsync(async () =>
            Encoding.UTF8.GetString((await devices.GetEntryAsync<byte[]>("b1", serializer: Raw)).Value ?? []).StartsWith("WFE1 gw-b ", StringComparison.Ordinal));
        var status = await fleet.A.CliAsync("--device", "b1", "status");
        CliAssert.Exit(0, status);
        Assert.Contains("gateway=gw-b", status.Stdout, StringComparison.Ordinal);
        foreach (var name in new[] { "wild", "deep" })
        {
            var unknown = await fleet.A.CliAsync("--device", name, "status");
            CliAssert.Exit(4, unknown);
            Assert.Contains($"UNKNOWN_DEVICE", unknown.Stderr, StringComparison.Ordinal);
        }
        Assert.Contains("Fleet: the claim on device b1 is ignored: unsigned", fleet.B.Logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_claim_whose_lease_ran_out_is_taken_by_another_gateway_without_a_release()
    {
        var port = TcpPorts.Unused();
        var dir = await SecureFleet.InitAsync(port);
        try
        {
            // gw-a's [fleet] is the last section of its config: a lease of 10 s, renewed every 3.3 s.
            await File.AppendAllTextAsync(Path.Combine(dir, "gw-a.toml"), "claim_lease_ms = 10000\n");
            await using var nats = NatsServer.StartWithConfig(Path.Combine(dir, "nats-server.conf"), port);
            await using var a = new SystemUnderTest();
            a.StartBoard("nucleo", 0);
            a.GatewayArgs.AddRange(["--config", Path.Combine(dir, "gw-a.toml")]);
            a.StartGateway();
            CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "status"));
            await a.KillGatewayAsync();
            string[] gatewayB = ["gateway", "--port", "0", "--state", "off", "--config", Path.Combine(dir, "gw-b.toml"), "--add-device", $"nucleo=tcp://127.0.0.1:{a.BoardPorts["nucleo"]}"];

            // Within the lease, the claim holds.
            await using (var early = RunningProcess.StartCli(gatewayB))
            {
                Assert.Equal(2, await early.WaitForExitAsync(TimeSpan.FromSeconds(20)));
                Assert.Contains("DEVICE_CLAIMED: device 'nucleo' belongs to gateway 'gw-a' of fleet 'lab'", early.Output, StringComparison.Ordinal);
            }

            // Once the lease written in the claim has ended, gw-b takes the board over, no release needed.
            await using var reader = new NatsConnection(NatsOpts.Default with { Url = Regex.Match(await File.ReadAllTextAsync(Path.Combine(dir, "ops.toml")), "nats = \"([^\"]+)\"").Groups[1].Value });
            var claim = Encoding.UTF8.GetString((await (await reader.CreateKeyValueStoreContext().GetStoreAsync("wasmorch_lab_devices")).GetEntryAsync<byte[]>("nucleo", serializer: Raw)).Value!);
            var until = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(Regex.Match(claim, @"\ngw-a (\d+)$").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            if (until > DateTimeOffset.UtcNow)
            {
                await Task.Delay(until - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100));
            }
            await using var b = RunningProcess.StartCli(gatewayB);
            var listening = b.WaitForLine(@"gateway listening on (127\.0\.0\.1:\d+)").Groups[1].Value;
            var status = await CliRunner.RunAsync(listening, "--json", "--device", "nucleo", "status");
            CliAssert.Exit(0, status);
            var devices = await CliRunner.RunAsync($"nats://127.0.0.1:{port}?fleet=lab&keys={Path.Combine(dir, "ops.toml")}", "devices");
            Assert.Matches(@"(?m)^nucleo\s+\S+\s+connected  gateway=gw-b", devices.Stdout);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    [Fact]
    public async Task A_tampered_native_artifact_in_the_fleets_store_is_built_again_not_deployed()
    {
        await using var fleet = await SecureFleet.StartAsync();
        var source = Path.Combine(fleet.Dir, "unique.c");
        var value = Random.Shared.Next(1, 1_000_000);
        await File.WriteAllTextAsync(source, $"#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"id\") int32_t id(void) {{ return {value}; }}\n");
        CliAssert.Exit(0, await fleet.A.CliAsync("--device", "a1", "build-and-deploy", "--module-id", "unique", "--source", source, "--mode", "aot"));

        // Whoever can write the store rewrites every artifact gw-a published (one byte of each).
        await using var forger = await fleet.ForgerAsync("gw-a");
        var store = await forger.CreateObjectStoreContext().GetObjectStoreAsync("wasmorch_lab_artifacts");
        // Listed first: a put while listing is listed again.
        var names = new List<string>();
        await foreach (var item in store.ListAsync())
        {
            names.Add(item.Name);
        }
        Assert.True(names.Count >= 2, $"expected the wasm and the AOT artifact in the store, found {names.Count}");
        foreach (var name in names)
        {
            var bytes = await store.GetBytesAsync(name);
            bytes[^1] ^= 0x01;
            await store.PutAsync(name, bytes);
        }

        var second = await fleet.B.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "unique", "--source", source, "--mode", "aot");
        CliAssert.Exit(0, second);
        Assert.DoesNotContain("cache hit", second.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("fetched from the fleet", fleet.B.Logs, StringComparison.Ordinal);
        Assert.Contains("in the fleet's store is refused (a bad signature", fleet.B.Logs, StringComparison.Ordinal);
        var run = await fleet.B.CliAsync("--device", "b1", "start", "--module-id", "unique", "--func-name", "id", "--wait-result");
        CliAssert.Exit(0, run);
        Assert.Contains($"value={value}", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forged_desired_state_rollout_coordinator_and_job_records_are_ignored()
    {
        await using var fleet = await SecureFleet.StartAsync();
        CliAssert.Exit(0, await fleet.A.CliAsync("--device", "a1", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        CliAssert.Exit(0, await fleet.A.CliAsync("--device", "a1", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "1,1", "--wait-result"));
        await using var forger = await fleet.ForgerAsync("gw-a");
        var state = await forger.CreateKeyValueStoreContext().GetStoreAsync("wasmorch_lab_state");

        // A desired state that would prune every module (none desired), and a coordinator that does not exist.
        await state.PutAsync("desired", Encoding.UTF8.GetBytes("""{"op":"apply","desired":[],"prune":true}"""), serializer: Raw);
        await state.PutAsync("rollout", Encoding.UTF8.GetBytes("gw-ghost"), serializer: Raw);
        // A job record on gw-a's own subject (its NATS password allows that much), not signed by gw-a.
        var hex = Convert.ToHexStringLower(Encoding.UTF8.GetBytes("a1"));
        var ack = await forger.CreateJetStreamContext().PublishAsync($"wasmorch.lab.jobs.gw-a.{hex}",
            Encoding.UTF8.GetBytes("""{"ok":true,"jobs":[{"device":"a1","job":4242,"module_id":"evil","func":"f","status":"OK","value":"1","started_at":"2099-01-01T00:00:00Z","gateway":"gw-a"}]}"""), serializer: Raw);
        ack.EnsureSuccess();

        await LinkFaultTests.EventuallyAsync(() => Task.FromResult(
            fleet.A.Logs.Contains("Fleet: the fleet state's desired is ignored: unsigned", StringComparison.Ordinal)
            && fleet.B.Logs.Contains("Fleet: the fleet state's desired is ignored: unsigned", StringComparison.Ordinal)));
        var status = await fleet.A.CliAsync("--device", "a1", "status");
        CliAssert.Exit(0, status);
        Assert.Contains("modules=math_ops", status.Stdout, StringComparison.Ordinal);
        CliAssert.Exit(0, await fleet.B.CliAsync("--device", "b1", "status"));

        // The forged coordinator freezes nothing: a rollout starts.
        var checked_ = Path.Combine(fleet.Dir, "v.c");
        await File.WriteAllTextAsync(checked_, "#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"self_test\") int32_t self_test(void) { return 0; }\n");
        var rollout = await fleet.B.CliAsync("--selector", "board=b1", "rollout", "start", "--module-id", "v", "--source", checked_, "--check", "self_test", "--waves", "100%");
        CliAssert.Exit(0, rollout);

        var jobs = await fleet.B.CliAsync("jobs");
        CliAssert.Exit(0, jobs);
        Assert.Matches(@"a1\s+job=1\s+math_ops\.add\(1,1\) OK value=2", jobs.Stdout);
        Assert.DoesNotContain("4242", jobs.Stdout, StringComparison.Ordinal);
        Assert.Contains("refused a message on wasmorch.lab.jobs.gw-a.", fleet.B.Logs, StringComparison.Ordinal);
    }
}
