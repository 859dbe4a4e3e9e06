using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.Operations;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Testing;

namespace Wasmorch.Gateway.Tests;

/// <summary>
/// The typed operations layer (docs/architecture.md): a device's answers come back typed whether
/// the device is on this gateway's link or the host API answered for it (another gateway of the fleet).
/// </summary>
public sealed class DeviceOperationsTests
{
    [Fact]
    public async Task A_job_run_here_and_waited_for_comes_back_with_its_exact_value()
    {
        await using var agent = new ScriptedAgent(line => line.StartsWith("START", StringComparison.Ordinal)
            ? ["START_OK module_id=m func=f job=5", "RESULT module_id=m func=f job=5 status=OK value=9007199254740993 type=i64 elapsed_us=7"]
            : line == "STATUS" ? ["STATUS state=IDLE module=- func=- job=- modules=m uptime_ms=9 module_crcs=m:0000abcd"] : []);
        var config = new GatewayConfig();
        Assert.True(Wasmorch.Transport.DeviceEndpoint.TryParse($"tcp://127.0.0.1:{agent.Port}", out var endpoint, out var error), error);
        config.Devices["d"] = endpoint;
        await using var registry = new DeviceRegistry(config, NullLogger.Instance);
        var operations = new DeviceOperations(registry, config, fleet: null);

        var run = await operations.RunAsync(new JobCall("d", "m", "f", null, Wait: true), CancellationToken.None);
        Assert.Equal(5, run.Answer.Job);
        Assert.Equal((JobState.Ok, "9007199254740993", "i64"), (run.Answer.Result!.State, run.Answer.Result.Value!.Text, run.Answer.Result.Value.Type));

        var status = await operations.StatusAsync("d", CancellationToken.None);
        Assert.Equal("0000abcd", status.Answer.ModuleCrcs["m"]);
    }

    [Fact]
    public async Task An_unknown_device_is_a_typed_error_not_an_exception()
    {
        var config = new GatewayConfig();
        await using var registry = new DeviceRegistry(config, NullLogger.Instance);
        var status = await new DeviceOperations(registry, config, fleet: null).StatusAsync("nowhere", CancellationToken.None);
        Assert.Equal(HostErrorCodes.UnknownDevice, status.Error?.Code);
    }

    [Fact]
    public void A_trapped_job_answered_by_another_gateway_is_a_job_that_ended_trap()
    {
        var run = HostApiRequests.Run(new HostResponse
        {
            Ok = false, Job = 8, Status = "TRAP", Message = "integer divide by zero",
            Error = new HostError { Code = "TRAP", Message = "job 8 ended TRAP: integer divide by zero" },
        }, waited: true);
        Assert.Equal((8L, JobState.Trap, "integer divide by zero"), (run.Answer.Job, run.Answer.Result!.State, run.Answer.Result.Message));
    }

    [Fact]
    public void A_value_answered_by_another_gateway_keeps_its_text()
    {
        using var number = JsonDocument.Parse("0");
        var run = HostApiRequests.Run(new HostResponse { Ok = true, Job = 2, Status = "OK", Value = number.RootElement.Clone(), ValueType = "i32" }, waited: true);
        Assert.True(run.Answer.Result!.Value!.Is(0));
        using var text = JsonDocument.Parse("\"nan\"");
        Assert.Equal("nan", HostApiRequests.Run(new HostResponse { Ok = true, Job = 3, Status = "OK", Value = text.RootElement.Clone(), ValueType = "f64" }, waited: true).Answer.Result!.Value!.Text);
    }

    [Fact]
    public void A_start_refused_by_another_gateway_is_its_error()
    {
        var run = HostApiRequests.Run(new HostResponse { Ok = false, Error = new HostError { Code = "BUSY", Message = "a job runs" } }, waited: true);
        Assert.Equal("BUSY", run.Error?.Code);
    }
}
