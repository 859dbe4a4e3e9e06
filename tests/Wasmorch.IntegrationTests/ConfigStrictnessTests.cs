using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>Finding 3 of issue 14 over the real process: a gateway whose configuration is wrong does not start, and says where.</summary>
public sealed class ConfigStrictnessTests
{
    [Theory]
    [InlineData("[devices.nucleo]\nendpoint = \"tcp://127.0.0.1:7001\"\nrequire_signed = \"true\"\n", "[devices.nucleo] require_signed: must be true or false")]
    [InlineData("[gateway]\ntokn = \"0123456789abcdef0123\"\n", "[gateway] tokn: unknown setting; did you mean token?")]
    [InlineData("[gateway]\nidle_timeout_ms = 9999999999\n", "[gateway] idle_timeout_ms: 9999999999 is out of range")]
    [InlineData("[gateway]\ntoken = \"                \"\n", "the gateway token must be at least 16 characters, none of them white space")]
    public async Task A_wrong_setting_stops_the_gateway_with_exit_2_naming_file_and_key(string toml, string message)
    {
        var file = Path.Combine(Path.GetTempPath(), $"wasmorch-bad-{Guid.NewGuid():n}.toml");
        await File.WriteAllTextAsync(file, toml);
        try
        {
            var result = await CliRunner.RunAsync("127.0.0.1:1", "gateway", "--port", "0", "--state", "off", "--config", file);
            CliAssert.Exit(2, result);
            Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("gateway listening", result.Stdout, StringComparison.Ordinal);
            if (!message.StartsWith("the gateway token", StringComparison.Ordinal))
            {
                Assert.Contains(file, result.Stderr, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:4222", "fleet NATS server 'http://127.0.0.1:4222' is not a nats://host:port URL")]
    [InlineData("nats://a:secret@127.0.0.1:4222,127.0.0.1:4223", "fleet NATS server '127.0.0.1:4223' is not a nats://host:port URL")]
    public async Task A_fleet_server_that_is_not_a_nats_url_stops_the_gateway_with_exit_2(string servers, string message)
    {
        var result = await CliRunner.RunAsync("127.0.0.1:1", "gateway", "--port", "0", "--state", "off", "--nats", servers, "--name", "gw-a");
        CliAssert.Exit(2, result);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("gateway listening", result.Stdout, StringComparison.Ordinal);
    }
}
