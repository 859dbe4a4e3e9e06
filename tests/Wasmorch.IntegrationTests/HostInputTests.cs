using System.Text;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>Finding 14 of issue 14: what hosts send and see, over the real CLI and gateway.</summary>
public sealed class HostInputTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wasmorch-input-").FullName;

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_dir, true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_source_too_large_for_any_gateway_is_refused_by_the_cli_before_connecting()
    {
        var source = Path.Combine(_dir, "huge.c");
        await File.WriteAllTextAsync(source, new string(' ', 10 << 20) + "int x;\n");
        // Nothing listens at port 1: a CLI that tried to send would fail to connect (exit 3).
        var result = await CliRunner.RunAsync("127.0.0.1:1", "--device", "nucleo", "build-and-deploy", "--module-id", "m", "--source", source);
        CliAssert.Exit(2, result);
        Assert.Contains("more source than a request to a gateway can carry", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compiler_diagnostics_point_at_the_right_column_of_line_one()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        var source = Path.Combine(_dir, "broken.c");
        await File.WriteAllTextAsync(source, "int x = ;\n");
        var result = await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "m", "--source", source);
        CliAssert.Exit(5, result);
        Assert.Contains("broken.c:1:9: error", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("FEFF", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrongly_typed_field_is_named_in_the_host_apis_terms()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        var answer = await system.HostExchangeAsync("{\"id\":5,\"op\":\"start\",\"device\":\"nucleo\",\"timeout_ms\":99999999999}"u8.ToArray());
        var error = System.Text.Json.JsonDocument.Parse(answer).RootElement.GetProperty("error");
        Assert.Equal("BAD_REQUEST", error.GetProperty("code").GetString());
        Assert.Equal("malformed request: field 'timeout_ms' must be a whole number of milliseconds (32 bits)", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_gateway_with_every_connection_busy_is_reported_as_such_not_as_a_broken_pipe()
    {
        var config = Path.Combine(_dir, "gw.toml");
        await File.WriteAllTextAsync(config, "[gateway]\nmax_connections = 1\n");
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        system.GatewayArgs.AddRange(["--config", config]);
        system.StartGateway();
        using var busy = await system.ConnectHostAsync();
        await busy.GetStream().WriteAsync("{\"id\":1,"u8.ToArray());
        await Task.Delay(300);
        var status = await system.CliAsync("--device", "nucleo", "status");
        Assert.NotEqual(0, status.ExitCode);
        Assert.Contains("TOO_MANY_CONNECTIONS", status.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Broken pipe", status.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Finding 7 of issue 14: a 1 MiB args string came back as a 6 MB error.</summary>
    [Fact]
    public async Task Huge_input_is_never_echoed_back_whole()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        var args = "x=" + new string('y', 600_000);
        var line = await system.HostExchangeAsync(Wasmorch.Protocol.HostApi.HostJson.Serialize(new Wasmorch.Protocol.HostApi.HostRequest { Id = 9, Op = "start", Device = "nucleo", ModuleId = "m", Func = "f", Args = args }));
        Assert.Contains("BAD_ARGS", line, StringComparison.Ordinal);
        Assert.True(line.Length < 2000, $"the answer is {line.Length} characters long");
    }
}
