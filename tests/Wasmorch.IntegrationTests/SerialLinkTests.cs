using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>The gateway and boards over real ttys (socat pty pairs), at real baud rates.</summary>
public sealed class SerialLinkTests
{
    [Theory]
    [InlineData(115200)]
    [InlineData(921600)]
    public async Task Seed_commands_work_end_to_end_over_a_serial_line(int baud)
    {
        var dir = PtyPair.NewDirectory();
        await using var pty = await PtyPair.CreateAsync(dir);
        await using var system = new SystemUnderTest();
        system.StartSerialBoard("nucleo", pty.BoardSide, baud);
        system.AddDevice("nucleo", $"serial://{pty.GatewaySide}?baud={baud}");
        system.StartGateway();

        var deploy = await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c"));
        CliAssert.Exit(0, deploy);
        var start = await system.CliAsync("--device", "nucleo", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
        CliAssert.Exit(0, start);
        Assert.Contains("value=25", start.Stdout, StringComparison.Ordinal);
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "toggle_forever", "--source", RepoPaths.Module("toggle_forever.c")));
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "start", "--module-id", "toggle_forever", "--func-name", "run"));
        var stop = await system.CliAsync("--device", "nucleo", "stop", "--module-id", "toggle_forever");
        CliAssert.Exit(0, stop);
        Assert.Contains("status=PENDING", stop.Stdout, StringComparison.Ordinal);
        await LinkFaultTests.WaitUntilAsync(system, "nucleo", "state=IDLE");
    }

    [Fact]
    public async Task A_command_left_half_sent_on_the_line_never_runs_and_the_next_gateway_still_negotiates()
    {
        var dir = PtyPair.NewDirectory();
        await using var pty = await PtyPair.CreateAsync(dir);
        await using var system = new SystemUnderTest();
        system.StartSerialBoard("nucleo", pty.BoardSide, 921600);
        system.AddDevice("nucleo", $"serial://{pty.GatewaySide}?baud=921600");
        system.StartGateway();
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        await system.KillGatewayAsync();

        // A previous peer sent a whole command but its LF, and went away. A UART keeps those bytes:
        // without the cancel line they would prefix the next gateway's HELLO.
        await using (var previous = new FileStream(pty.GatewaySide, FileMode.Open, FileAccess.Write))
        {
            await previous.WriteAsync("UNLOAD module_id=math_ops"u8.ToArray());
        }
        system.StartGateway();

        var status = await system.CliAsync("--device", "nucleo", "status");
        CliAssert.Exit(0, status);
        Assert.Contains("extensions=PING,UNLOAD,LOG", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("modules=math_ops", status.Stdout, StringComparison.Ordinal);
        var add = await system.CliAsync("--device", "nucleo", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
        CliAssert.Exit(0, add);
        Assert.Contains("value=25", add.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Conformance_passes_over_a_serial_line()
    {
        var dir = PtyPair.NewDirectory();
        await using var pty = await PtyPair.CreateAsync(dir);
        await using var system = new SystemUnderTest();
        system.StartSerialBoard("nucleo", pty.BoardSide, 921600);
        var result = await CliRunner.RunAsync("127.0.0.1:1", "conformance", $"serial://{pty.GatewaySide}?baud=921600");
        CliAssert.Exit(0, result);
        Assert.Matches(@"\d+ passed, 0 failed \(MUST\), 0 warnings \(SHOULD\), 0 skipped", result.Stdout);
    }

    [Fact]
    public async Task Unplugging_mid_job_and_mid_upload_gives_clear_errors_and_replugging_restores_the_device()
    {
        var dir = PtyPair.NewDirectory();
        var pty = await PtyPair.CreateAsync(dir);
        await using var system = new SystemUnderTest();
        system.StartBoard("disco", 0);
        system.StartSerialBoard("nucleo", pty.BoardSide, 115200);
        system.AddDevice("nucleo", $"serial://{pty.GatewaySide}?baud=115200");
        system.StartGateway();
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "toggle_forever", "--source", RepoPaths.Module("toggle_forever.c")));

        // Mid-job: the job's waiter hears DEVICE_UNREACHABLE, the other board is untouched.
        await using (var waiter = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "nucleo", "start", "--module-id", "toggle_forever", "--func-name", "run", "--wait-result"))
        {
            await LinkFaultTests.WaitUntilAsync(system, "nucleo", "state=RUNNING");
            await pty.DisposeAsync();
            Assert.Equal(4, await waiter.WaitForExitAsync(TimeSpan.FromSeconds(5)));
            Assert.Contains("DEVICE_UNREACHABLE", waiter.Output, StringComparison.Ordinal);
        }
        var gone = await system.CliAsync("--device", "nucleo", "status");
        CliAssert.Exit(4, gone);
        Assert.Contains("does not exist", gone.Stderr, StringComparison.Ordinal);
        CliAssert.Exit(0, await system.CliAsync("--device", "disco", "status"));

        // Plugged back in: the same gateway serves it again (the board kept running its job).
        pty = await PtyPair.CreateAsync(dir);
        await LinkFaultTests.WaitUntilAsync(system, "nucleo", "modules=toggle_forever");
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "stop", "--module-id", "toggle_forever"));

        // Mid-upload: a 48 KiB module takes about 4 s at 115200 baud; the cable goes after 1 s.
        var big = await TestSources.BigTableAsync(dir, first: 1);
        await using (var upload = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "nucleo", "build-and-deploy", "--module-id", "big", "--source", big))
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            await pty.DisposeAsync();
            Assert.Equal(4, await upload.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("DEVICE_UNREACHABLE", upload.Output, StringComparison.Ordinal);
        }
        CliAssert.Exit(0, await system.CliAsync("--device", "disco", "status"));
        await using var again = await PtyPair.CreateAsync(dir);
        await LinkFaultTests.WaitUntilAsync(system, "nucleo", "state=IDLE");
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
    }
}

public sealed class GatewayRestartTests
{
    [Fact]
    public async Task Gateway_killed_mid_deploy_and_restarted_finds_the_board_in_line_mode()
    {
        var dir = PtyPair.NewDirectory();
        await using var pty = await PtyPair.CreateAsync(dir);
        await using var system = new SystemUnderTest();
        system.StartSerialBoard("nucleo", pty.BoardSide, 115200);
        system.AddDevice("nucleo", $"serial://{pty.GatewaySide}?baud=115200");
        system.StartGateway();
        var big = await TestSources.BigTableAsync(dir, first: 7);
        await using (var upload = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "nucleo", "build-and-deploy", "--module-id", "big", "--source", big))
        {
            // About 4 s of payload at 115200 baud: the gateway dies in the middle of it (SIGKILL).
            await Task.Delay(TimeSpan.FromSeconds(2));
            await system.KillGatewayAsync();
            Assert.NotEqual(0, await upload.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }
        system.StartGateway();
        // The board dropped the half payload after its load timeout and is back in line mode.
        await LinkFaultTests.WaitUntilAsync(system, "nucleo", "state=IDLE");
        var redeploy = await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "big", "--source", big);
        CliAssert.Exit(0, redeploy);
        var at = await system.CliAsync("--device", "nucleo", "start", "--module-id", "big", "--func-name", "at", "--func-args", "3", "--wait-result");
        CliAssert.Exit(0, at);
        Assert.Contains("value=10", at.Stdout, StringComparison.Ordinal);
    }
}
