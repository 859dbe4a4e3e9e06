using System.Text.Json;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>The gateway's SQLite state across SIGKILL and restart, over real processes.</summary>
public sealed class GatewayStateTests
{
    [Fact]
    public async Task After_sigkill_the_restarted_gateway_knows_what_each_board_holds_and_how_its_jobs_ended()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo", "disco");
        var deploy = await system.CliAsync("--device", "nucleo", "--json", "build-and-deploy", "--module-id", "math", "--source", RepoPaths.Module("math_ops.c"));
        CliAssert.Exit(0, deploy);
        var sha256 = JsonDocument.Parse(deploy.Stdout).RootElement.GetProperty("sha256").GetString();
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "start", "--module-id", "math", "--func-name", "add", "--func-args", "10,15", "--wait-result"));
        CliAssert.Exit(0, await system.CliAsync("--device", "disco", "build-and-deploy", "--module-id", "toggle", "--source", RepoPaths.Module("toggle_forever.c")));
        CliAssert.Exit(0, await system.CliAsync("--device", "disco", "start", "--module-id", "toggle", "--func-name", "run"));

        await system.KillGatewayAsync();
        system.StartGateway();

        var devices = await system.CliAsync("--json", "devices");
        CliAssert.Exit(0, devices);
        var byName = JsonDocument.Parse(devices.Stdout).RootElement.GetProperty("devices").EnumerateArray()
            .ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("modules"));
        var math = Assert.Single(byName["nucleo"].EnumerateArray());
        Assert.Equal(("math", sha256), (math.GetProperty("module_id").GetString(), math.GetProperty("sha256").GetString()));
        Assert.Equal("toggle", Assert.Single(byName["disco"].EnumerateArray()).GetProperty("module_id").GetString());

        var jobs = await JobsAsync(system);
        Assert.Equal(("OK", "25"), (jobs["nucleo"].GetProperty("status").GetString(), jobs["nucleo"].GetProperty("value").GetString()));
        Assert.Equal("LOST", jobs["disco"].GetProperty("status").GetString());
        Assert.Contains("gateway stopped", jobs["disco"].GetProperty("message").GetString(), StringComparison.Ordinal);

        // The job went on running on the board; stopping it through the new gateway corrects the record.
        CliAssert.Exit(0, await system.CliAsync("--device", "disco", "stop", "--module-id", "toggle"));
        await LinkFaultTests.EventuallyAsync(async () => (await JobsAsync(system))["disco"].GetProperty("status").GetString() == "STOPPED");
    }

    [Fact]
    public async Task Sigkill_at_arbitrary_moments_of_concurrent_deploys_never_leaves_an_unreadable_state()
    {
        await using var system = await SystemUnderTest.StartAsync("b1", "b2");
        var module = Path.Combine(Path.GetTempPath(), $"math-{Guid.NewGuid():n}.wasm");
        await File.WriteAllBytesAsync(module, ModuleBuilder.Build("math_ops.c"));
        try
        {
            var delays = new[] { 150, 400, 250, 600, 50 };
            var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<(string Device, string Module), string>();
            foreach (var delay in delays)
            {
                using var stop = new CancellationTokenSource();
                var load = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
                {
                    var device = i % 2 == 0 ? "b1" : "b2";
                    while (!stop.IsCancellationRequested)
                    {
                        var deployed = await system.CliAsync("--device", device, "--json", "deploy", "--force", "--module-id", $"m{i}", "--file", module);
                        if (deployed.ExitCode == 0)
                        {
                            acknowledged[(device, $"m{i}")] = JsonDocument.Parse(deployed.Stdout).RootElement.GetProperty("sha256").GetString()!;
                        }
                        await system.CliAsync("--device", device, "start", "--module-id", $"m{i}", "--func-name", "add", "--func-args", "1,2");
                    }
                })).ToArray();
                await Task.Delay(delay);
                await system.KillGatewayAsync();
                await stop.CancelAsync();
                await Task.WhenAll(load);
                system.StartGateway();
                CliAssert.Exit(0, await system.CliAsync("--json", "jobs", "--limit", "1000"));

                // Every deploy acknowledged OK before this kill (or an earlier one) is in the state the restarted gateway reads.
                var held = await HeldModulesAsync(system);
                foreach (var ((device, id), sha256) in acknowledged)
                {
                    Assert.True(held.TryGetValue((device, id), out var recorded), $"deploy of {id} to {device} was acknowledged OK but is not in the state after the kill at {delay} ms");
                    Assert.Equal(sha256, recorded);
                }
            }
            Assert.NotEmpty(acknowledged);
            Assert.DoesNotContain("moved it to", system.Logs, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(system.StatePath)!, Path.GetFileName(system.StatePath) + ".corrupt-*"));
            // Every deploy that answered OK before a kill is on disk; the boards still hold them.
            var devices = JsonDocument.Parse((await system.CliAsync("--json", "devices")).Stdout).RootElement.GetProperty("devices");
            foreach (var device in devices.EnumerateArray())
            {
                var status = await system.CliAsync("--device", device.GetProperty("name").GetString()!, "status");
                foreach (var held in device.GetProperty("modules").EnumerateArray())
                {
                    Assert.Contains(held.GetProperty("module_id").GetString()!, status.Stdout, StringComparison.Ordinal);
                }
            }
            var deploy = await system.CliAsync("--device", "b1", "deploy", "--force", "--module-id", "after", "--file", module);
            CliAssert.Exit(0, deploy);
        }
        finally
        {
            File.Delete(module);
        }
    }

    [Fact]
    public async Task A_board_reset_marks_its_running_job_device_reset_and_forgets_its_modules()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        system.StartGateway();
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "toggle", "--source", RepoPaths.Module("toggle_forever.c")));
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "start", "--module-id", "toggle", "--func-name", "run"));
        var port = system.BoardPorts["nucleo"];
        await system.KillBoardAsync("nucleo");
        system.StartBoard("nucleo", port);
        // The board came back: its BOOT line on the gateway's new link says it restarted.
        await LinkFaultTests.EventuallyAsync(async () => (await system.CliAsync("--device", "nucleo", "status")).ExitCode == 0);
        await LinkFaultTests.EventuallyAsync(async () => (await JobsAsync(system))["nucleo"].GetProperty("status").GetString() is not ("RUNNING" or "LOST"));
        var job = (await JobsAsync(system))["nucleo"];
        Assert.Equal("DEVICE_RESET", job.GetProperty("status").GetString());
        Assert.StartsWith("nucleo restarted (boot line: BOOT agent=wasmorch-emulator/0.1 board=nucleo)", job.GetProperty("message").GetString(), StringComparison.Ordinal);
        var devices = JsonDocument.Parse((await system.CliAsync("--json", "devices")).Stdout).RootElement.GetProperty("devices");
        Assert.Empty(devices[0].GetProperty("modules").EnumerateArray());
    }

    /// <summary>(device, module id) → SHA-256 of every module the gateway's state says a board holds.</summary>
    private static async Task<Dictionary<(string, string), string?>> HeldModulesAsync(SystemUnderTest system)
    {
        var devices = await system.CliAsync("--json", "devices");
        CliAssert.Exit(0, devices);
        var held = new Dictionary<(string, string), string?>();
        foreach (var device in JsonDocument.Parse(devices.Stdout).RootElement.GetProperty("devices").EnumerateArray())
        {
            foreach (var module in device.GetProperty("modules").EnumerateArray())
            {
                held[(device.GetProperty("name").GetString()!, module.GetProperty("module_id").GetString()!)] = module.GetProperty("sha256").GetString();
            }
        }
        return held;
    }

    /// <summary>The newest job of each device, from <c>wasmorch jobs --json</c>.</summary>
    private static async Task<Dictionary<string, JsonElement>> JobsAsync(SystemUnderTest system)
    {
        var jobs = await system.CliAsync("--json", "jobs");
        CliAssert.Exit(0, jobs);
        var result = new Dictionary<string, JsonElement>();
        foreach (var job in JsonDocument.Parse(jobs.Stdout).RootElement.GetProperty("jobs").EnumerateArray())
        {
            result.TryAdd(job.GetProperty("device").GetString()!, job.Clone());
        }
        return result;
    }
}
