using System.Net.Sockets;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>Hostile sources and unauthorised hosts against the real gateway process.</summary>
public sealed class HardeningTests
{
    public static TheoryData<string, string, string> HostileSources => new()
    {
        { "include_passwd.c", "#include \"/etc/passwd\"\nint x;\n", "COMPILE_ERROR" },
        { "include_escape.c", "#include \"../../../../../../etc/passwd\"\nint x;\n", "COMPILE_ERROR" },
        { "incbin.c", "__asm__(\".section .data\\n.incbin \\\"/etc/passwd\\\"\");\n__attribute__((export_name(\"f\"))) int f(void) { return 1; }\n", "COMPILE_ERROR" },
        { "incbin_escaped.c", "__asm__(\".incbin \\\"\\\\057etc\\\\057passwd\\\"\");\nint x;\n", "COMPILE_ERROR" },
        { "embed.c", "static const char data[] = {\n#embed \"/etc/passwd\"\n};\nint x;\n", "COMPILE_ERROR" },
        { "macro_bomb.c", "#define A(x) x x x x x x x x x x\n#define B(x) A(A(A(A(A(A(A(A(x))))))))\nB(int y;)\n", "COMPILE_ERROR" },
    };

    [Theory]
    [MemberData(nameof(HostileSources))]
    public async Task Hostile_sources_are_refused_or_contained_and_leak_nothing(string name, string source, string code)
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        var config = Path.Combine(Path.GetTempPath(), $"gw_{Guid.NewGuid():n}.toml");
        await File.WriteAllTextAsync(config, "[build]\ntimeout_ms = 8000\n");
        system.GatewayArgs.AddRange(["--config", config]);
        system.StartGateway();
        var dir = Directory.CreateTempSubdirectory("wasmorch-hostile-").FullName;
        var path = Path.Combine(dir, name);
        await File.WriteAllTextAsync(path, source);
        try
        {
            var result = await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "evil", "--source", path);
            CliAssert.Exit(5, result);
            Assert.Contains(code, result.Stderr, StringComparison.Ordinal);
            var passwd = await File.ReadAllTextAsync("/etc/passwd");
            var firstLine = passwd.Split('\n')[0];
            Assert.DoesNotContain(firstLine, result.Stdout + result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("root:x:", result.Stdout + result.Stderr, StringComparison.Ordinal);
            // The gateway goes on serving.
            CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "status"));
        }
        finally
        {
            Directory.Delete(dir, true);
            File.Delete(config);
        }
    }

    [Fact]
    public async Task A_ten_megabyte_source_is_refused_with_the_limit_named()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        var path = Path.Combine(Path.GetTempPath(), $"huge_{Guid.NewGuid():n}.c");
        await File.WriteAllTextAsync(path, "int x;\n" + new string('/', 10 * 1024 * 1024) + "\n");
        try
        {
            var result = await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "huge", "--source", path);
            CliAssert.Exit(2, result);
            Assert.Contains("more source than a request to a gateway can carry", result.Stderr, StringComparison.Ordinal);
            CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "status"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_non_loopback_gateway_without_a_token_refuses_to_start()
    {
        var result = await CliRunner.RunAsync("127.0.0.1:1", "gateway", "--bind", "0.0.0.0", "--port", "0");
        CliAssert.Exit(2, result);
        Assert.Contains("without a token", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_token_requests_without_it_are_unauthorized()
    {
        const string token = "s3cret-token-0123456789";
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        system.GatewayEnvironment["WASMORCH_TOKEN"] = token;
        system.StartGateway();

        var denied = await system.CliAsync("--device", "nucleo", "status");
        CliAssert.Exit(2, denied);
        Assert.Contains("UNAUTHORIZED", denied.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("state=", denied.Stdout, StringComparison.Ordinal);
        var wrong = await system.CliAsync("--device", "nucleo", "--token", "s3cret-token-0123456788", "status");
        CliAssert.Exit(2, wrong);
        var allowed = await CliRunner.RunWithEnvironmentAsync(system.Gateway, new Dictionary<string, string> { ["WASMORCH_TOKEN"] = token }, "--device", "nucleo", "status");
        CliAssert.Exit(0, allowed);
        Assert.Contains("state=IDLE", allowed.Stdout, StringComparison.Ordinal);
    }
}

public sealed class SlowClientTests
{
    [Fact]
    public async Task A_client_that_stops_mid_request_is_disconnected_and_others_are_served()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        var config = Path.Combine(Path.GetTempPath(), $"gw_{Guid.NewGuid():n}.toml");
        await File.WriteAllTextAsync(config, "[gateway]\npartial_request_timeout_ms = 500\n");
        system.GatewayArgs.AddRange(["--config", config]);
        system.StartGateway();
        try
        {
            var port = system.GatewayPort;
            using var slow = new TcpClient();
            await slow.ConnectAsync("127.0.0.1", port);
            await slow.GetStream().WriteAsync("{\"id\":1,\"op\":\"sta"u8.ToArray());
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var read = await slow.GetStream().ReadAsync(new byte[16], cts.Token);
            Assert.Equal(0, read);
            CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "status"));
        }
        finally
        {
            File.Delete(config);
        }
    }
}

public sealed class SignedModuleTests
{
    [Fact]
    public async Task A_device_that_requires_signatures_takes_only_trusted_signed_content()
    {
        var dir = Directory.CreateTempSubdirectory("wasmorch-sign-").FullName;
        try
        {
            var key = Path.Combine(dir, "key");
            CliAssert.Exit(0, await CliRunner.RunAsync("127.0.0.1:1", "keygen", "--out", key));
            var other = Path.Combine(dir, "other");
            CliAssert.Exit(0, await CliRunner.RunAsync("127.0.0.1:1", "keygen", "--out", other));
            var publicKey = (await File.ReadAllTextAsync(key + ".pub")).Trim();

            await using var system = new SystemUnderTest();
            system.StartBoard("secure", 0);
            system.StartBoard("open", 0);
            var config = Path.Combine(dir, "gw.toml");
            await File.WriteAllTextAsync(config,
                $"[signing]\ntrusted_keys = [\"{publicKey}\"]\n[devices.secure]\nendpoint = \"tcp://127.0.0.1:{system.BoardPorts["secure"]}\"\nrequire_signed = true\n" +
                $"[devices.open]\nendpoint = \"tcp://127.0.0.1:{system.BoardPorts["open"]}\"\n");
            system.BoardPorts.Clear();
            system.GatewayArgs.AddRange(["--config", config]);
            system.StartGateway();
            var source = RepoPaths.Module("math_ops.c");

            var unsigned = await system.CliAsync("--device", "secure", "build-and-deploy", "--module-id", "m", "--source", source);
            CliAssert.Exit(7, unsigned);
            Assert.Contains("UNSIGNED", unsigned.Stderr, StringComparison.Ordinal);
            var untrusted = await system.CliAsync("--device", "secure", "build-and-deploy", "--module-id", "m", "--source", source, "--sign-key", other);
            CliAssert.Exit(7, untrusted);
            Assert.Contains("BAD_SIGNATURE", untrusted.Stderr, StringComparison.Ordinal);
            var signed = await system.CliAsync("--device", "secure", "--json", "build-and-deploy", "--module-id", "m", "--source", source, "--sign-key", key);
            CliAssert.Exit(0, signed);
            Assert.Contains("\"signature_verified\":true", signed.Stdout, StringComparison.Ordinal);

            // Garbage is no native code, signed or not (issue 31, bug 5): refused as what it is, before the device.
            var garbage = Path.Combine(dir, "garbage.bin");
            await File.WriteAllBytesAsync(garbage, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
            foreach (var file in new[] { garbage, "/bin/true" })
            {
                var refused = await system.CliAsync("--device", "secure", "--json", "deploy", "--module-id", "g", "--file", file, "--sign-key", key);
                CliAssert.Exit(7, refused);
                using var answer = System.Text.Json.JsonDocument.Parse(refused.Stdout);
                Assert.Equal("INVALID_MODULE", answer.RootElement.GetProperty("error").GetProperty("code").GetString());
                Assert.EndsWith("not a module: a device runs wasm (\\0asm), a Wasmtime precompiled module (.cwasm) or a WAMR AOT image (\\0aot)",
                    answer.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            }

            // A signed .wasm file (the signature covers its bytes); a device that does not require signatures takes unsigned ones.
            var wasm = Path.Combine(dir, "m.wasm");
            await File.WriteAllBytesAsync(wasm, ModuleBuilder.Build("math_ops.c"));
            CliAssert.Exit(0, await system.CliAsync("--device", "secure", "deploy", "--module-id", "w", "--file", wasm, "--sign-key", key));
            CliAssert.Exit(0, await system.CliAsync("--device", "open", "deploy", "--module-id", "w", "--file", wasm));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// Finding 4 of issue 14: a signature over the source alone could be replayed with other exports,
    /// options, module id or device. It now covers the whole deploy statement (docs: README, Security).
    /// </summary>
    [Fact]
    public async Task A_signature_cannot_be_replayed_with_other_options_module_id_or_device()
    {
        var dir = Directory.CreateTempSubdirectory("wasmorch-replay-").FullName;
        try
        {
            var key = Path.Combine(dir, "key");
            CliAssert.Exit(0, await CliRunner.RunAsync("127.0.0.1:1", "keygen", "--out", key));
            var publicKey = (await File.ReadAllTextAsync(key + ".pub")).Trim();
            await using var system = new SystemUnderTest();
            system.StartBoard("secure", 0);
            system.StartBoard("secure2", 0);
            var config = Path.Combine(dir, "gw.toml");
            await File.WriteAllTextAsync(config,
                $"[signing]\ntrusted_keys = [\"{publicKey}\"]\n" +
                $"[devices.secure]\nendpoint = \"tcp://127.0.0.1:{system.BoardPorts["secure"]}\"\nrequire_signed = true\n" +
                $"[devices.secure2]\nendpoint = \"tcp://127.0.0.1:{system.BoardPorts["secure2"]}\"\nrequire_signed = true\n");
            system.BoardPorts.Clear();
            system.GatewayArgs.AddRange(["--config", config]);
            system.StartGateway();

            var source = await File.ReadAllTextAsync(RepoPaths.Module("math_ops.c"));
            var signed = new HostRequest { Id = 1, Op = HostOps.BuildAndDeploy, Device = "secure", ModuleId = "m", Source = source, SourceName = "math_ops.c", Exports = ["add"] };
            signed.Signature = Wasmorch.Gateway.Signing.ModuleSignatures.Sign(await File.ReadAllTextAsync(key), DeployStatement.For(signed, System.Text.Encoding.UTF8.GetBytes(source)));
            Assert.True((await SendAsync(system, signed)).GetProperty("ok").GetBoolean());

            foreach (var replay in new Action<HostRequest>[]
            {
                r => r.Exports = ["add", "sub"],
                r => r.ModuleId = "n",
                r => r.Device = "secure2",
                r => r.OptLevel = "0",
                r => r.StackSize = 4096,
                r => r.SourceName = "other.c",
                r => r.Mode = "aot",
            })
            {
                var copy = new HostRequest { Id = 2, Op = signed.Op, Device = signed.Device, ModuleId = signed.ModuleId, Source = source, SourceName = signed.SourceName, Exports = signed.Exports, Signature = signed.Signature, Force = true };
                replay(copy);
                var answer = await SendAsync(system, copy);
                Assert.False(answer.GetProperty("ok").GetBoolean(), answer.ToString());
                Assert.Equal("BAD_SIGNATURE", answer.GetProperty("error").GetProperty("code").GetString());
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static async Task<System.Text.Json.JsonElement> SendAsync(SystemUnderTest system, HostRequest request) =>
        System.Text.Json.JsonDocument.Parse(await system.HostExchangeAsync(HostJson.Serialize(request))).RootElement.Clone();
}
