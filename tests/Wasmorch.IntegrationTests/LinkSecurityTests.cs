using System.Security.Cryptography;
using Wasmorch.Protocol.Agent;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Findings 1 and 2 of issue 14, as the attacks were made: a local process that opens an emulated
/// board's port, and a host that deploys native code through the gateway.
/// </summary>
public sealed class LinkSecurityTests
{
    [Fact]
    public async Task A_local_process_without_the_link_key_cannot_drive_an_emulated_board()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        await using var intruder = await AgentClient.ConnectAsync(system.BoardPorts["nucleo"]);
        var module = ModuleBuilder.Build("math_ops.c");
        var load = await intruder.RequestAsync($"LOAD module_id=evil size={module.Length} crc32={Crc32Hex.Format(Crc32Hex.Compute(module))}");
        Assert.Equal(("ERR", "UNAUTHORIZED"), (load.Verb, load["code"]));
        Assert.Equal("UNAUTHORIZED", (await intruder.RequestAsync("START module_id=evil func=add"))["code"]);
        var hello = await intruder.RequestAsync("HELLO proto=1");
        var guess = LinkAuth.GatewayMac(RandomNumberGenerator.GetBytes(32), hello[LinkAuth.NonceKey]!, LinkAuth.NewNonce());
        Assert.Equal("UNAUTHORIZED", (await intruder.RequestAsync($"AUTH nonce={LinkAuth.NewNonce()} mac={guess}"))["code"]);
        await intruder.DisposeAsync();

        // The gateway shares the installation's link key with `emulate`: it is served as before.
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "math", "--source", RepoPaths.Module("math_ops.c")));
        var run = await system.CliAsync("--device", "nucleo", "start", "--module-id", "math", "--func-name", "add", "--func-args", "2,3", "--wait-result");
        CliAssert.Exit(0, run);
        Assert.Contains("value=5", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unauthenticated_peer_neither_takes_the_link_over_nor_hears_the_running_job()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        await using var follower = RunningProcess.StartCli("--gateway", system.Gateway, "logs", "--follow");
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "counter", "--source", RepoPaths.Module("counter.c")));
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "start", "--module-id", "counter", "--func-name", "count", "--func-args", "1000,20"));
        follower.WaitForLine(@"nucleo counter job=1: 1$");

        // The attack (issue 30, item 6): a local process opens the board's port, says HELLO and listens.
        await using var intruder = await AgentClient.ConnectAsync(system.BoardPorts["nucleo"]);
        var hello = await intruder.RequestAsync("HELLO proto=1");
        Assert.Equal("HELLO_OK", hello.Verb);
        var guess = LinkAuth.GatewayMac(RandomNumberGenerator.GetBytes(32), hello[LinkAuth.NonceKey]!, LinkAuth.NewNonce());
        Assert.Equal("UNAUTHORIZED", (await intruder.RequestAsync($"AUTH nonce={LinkAuth.NewNonce()} mac={guess}"))["code"]);
        // The job goes on logging to the gateway, which still holds the link: five more lines seen there...
        var seen = int.Parse(follower.WaitForLine(@"nucleo counter job=1: (\d+)$").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        follower.WaitForLine($@"nucleo counter job=1: {seen + 5}$");
        // ...and none on the intruder's connection, whose next line is the answer to its own PING.
        Assert.Equal("PONG", (await intruder.RequestAsync("PING")).Verb);

        var stop = await system.CliAsync("--device", "nucleo", "stop", "--module-id", "counter", "--json");
        CliAssert.Exit(0, stop);
        var jobs = await system.CliAsync("jobs", "--json");
        using var parsed = System.Text.Json.JsonDocument.Parse(jobs.Stdout);
        var job = Assert.Single(parsed.RootElement.GetProperty("jobs").EnumerateArray());
        Assert.Equal("STOPPED", job.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_gateway_holding_another_key_is_refused_by_the_board_and_says_why()
    {
        var key = Path.Combine(Directory.CreateTempSubdirectory("wasmorch-key-").FullName, "other.key");
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        system.GatewayArgs.AddRange(["--link-key", key]);
        system.StartGateway();
        var status = await system.CliAsync("--device", "nucleo", "status");
        CliAssert.Exit(2, status);
        Assert.Contains("UNAUTHORIZED", status.Stderr, StringComparison.Ordinal);
        Assert.Contains("refused this gateway's link key", status.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Native_code_from_a_host_is_refused_and_the_gateway_builds_it_from_wasm_instead()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        var dir = Directory.CreateTempSubdirectory("wasmorch-native-").FullName;
        var image = Path.Combine(dir, "math.cwasm");
        CliAssert.Exit(0, await system.CliAsync("build", "--source", RepoPaths.Module("math_ops.c"), "--target", "emulator", "-o", image));
        // The attack: one byte of the x86-64 code changed. As built or patched, the gateway will not forward it.
        var bytes = await File.ReadAllBytesAsync(image);
        Assert.True(bytes.AsSpan().StartsWith("\u007fELF"u8));
        bytes[bytes.Length / 2] ^= 0x90;
        var patched = Path.Combine(dir, "patched.cwasm");
        await File.WriteAllBytesAsync(patched, bytes);
        foreach (var file in new[] { image, patched })
        {
            var deploy = await system.CliAsync("--device", "nucleo", "deploy", "--module-id", "native", "--file", file);
            CliAssert.Exit(7, deploy);
            Assert.Contains("UNSIGNED", deploy.Stderr, StringComparison.Ordinal);
            Assert.Contains("native code", deploy.Stderr, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("native", (await system.CliAsync("--device", "nucleo", "status")).Stdout, StringComparison.Ordinal);

        var wasm = Path.Combine(dir, "math.wasm");
        await File.WriteAllBytesAsync(wasm, ModuleBuilder.Build("math_ops.c"));
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "deploy", "--module-id", "native", "--file", wasm, "--mode", "aot"));
        var run = await system.CliAsync("--device", "nucleo", "start", "--module-id", "native", "--func-name", "add", "--func-args", "20,22", "--wait-result");
        CliAssert.Exit(0, run);
        Assert.Contains("value=42", run.Stdout, StringComparison.Ordinal);
    }
}
