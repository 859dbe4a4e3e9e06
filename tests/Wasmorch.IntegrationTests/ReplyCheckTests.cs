using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>Finding 8 of issue 14 over the real gateway: a device whose replies do not answer the command is reported as such.</summary>
public sealed class ReplyCheckTests
{
    /// <summary>A stray OK RESULT during START (no job) was shown as "error: OK"; a START_OK for another function was taken as the requested job.</summary>
    [Theory]
    [InlineData("RESULT module_id=m func=blink status=OK", "no refusal (status=OK, no job)")]
    [InlineData("START_OK module_id=m func=format_flash job=1", "with a reply for function 'format_flash'")]
    public async Task A_start_reply_that_does_not_answer_the_start_is_a_protocol_error(string reply, string words)
    {
        await using var agent = new ScriptedAgent(line => line.StartsWith("START", StringComparison.Ordinal)
            ? [reply]
            : ["STATUS state=IDLE module=- func=- job=- modules=- uptime_ms=5"]);
        await using var system = GatewayFor(agent);
        var start = await system.CliAsync("--device", "fake", "start", "--module-id", "m", "--func-name", "blink");
        Assert.NotEqual(0, start.ExitCode);
        Assert.Contains("PROTOCOL_ERROR", start.Stderr, StringComparison.Ordinal);
        Assert.Contains(words, start.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("error: OK", start.Stderr, StringComparison.Ordinal);
        CliAssert.Exit(0, await system.CliAsync("--device", "fake", "status"));
    }

    [Fact]
    public async Task The_cli_hears_why_a_device_reply_could_not_be_read()
    {
        await using var agent = new ScriptedAgent(line => line == "STATUS" ? ["STATUS state=IDLE modules=" + new string('m', 300)] : []);
        // 2 s, not less: opening the link takes three round trips (cancel line, HELLO, STATUS), which a
        // loaded 2-core machine can stretch past half a second.
        await using var system = GatewayFor(agent, "--config", await ConfigAsync("[gateway]\nreply_timeout_ms = 2000\n"));
        var status = await system.CliAsync("--device", "fake", "status");
        CliAssert.Exit(6, status);
        Assert.Contains("meanwhile it sent a line that is not protocol: a line longer than 256 bytes", status.Stderr, StringComparison.Ordinal);
    }

    /// <summary>A real gateway process whose one device, "fake", is the scripted agent.</summary>
    private static SystemUnderTest GatewayFor(ScriptedAgent agent, params string[] gatewayArgs)
    {
        var system = new SystemUnderTest();
        system.AddDevice("fake", $"tcp://127.0.0.1:{agent.Port}");
        system.GatewayArgs.AddRange(gatewayArgs);
        system.StartGateway();
        return system;
    }

    private static async Task<string> ConfigAsync(string toml)
    {
        var path = Path.Combine(Path.GetTempPath(), $"wasmorch-replies-{Guid.NewGuid():n}.toml");
        await File.WriteAllTextAsync(path, toml);
        return path;
    }
}
