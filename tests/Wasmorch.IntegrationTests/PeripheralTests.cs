using System.Globalization;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 21 end to end: the example modules on emulated boards through the real gateway and CLI,
/// their events checked against the simulated parts; deploys refused before upload for a
/// capability the board lacks or the configuration does not grant; a flooding module limited.
/// </summary>
public sealed class PeripheralTests
{
    private static async Task<SystemUnderTest> StartAsync(string[] boardArgs, string? config = null)
    {
        var system = new SystemUnderTest();
        system.StartBoard("b1", 0, boardArgs);
        if (config is not null)
        {
            var path = Path.Combine(Path.GetTempPath(), $"wasmorch-grants-{Guid.NewGuid():n}.toml");
            await File.WriteAllTextAsync(path, config.Replace("PORT", system.BoardPorts["b1"].ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
            system.GatewayArgs.AddRange(["--config", path]);
        }
        system.StartGateway();
        return system;
    }

    /// <summary>Deploys an example module: the CLI's result (exit code and output) for the caller to judge.</summary>
    private static Task<CliResult> DeployAsync(SystemUnderTest system, string moduleId, string example) =>
        system.CliAsync("--device", "b1", "build-and-deploy", "--module-id", moduleId, "--source", RepoPaths.Module(example));

    /// <summary>A deploy refused with exit 7 and <paramref name="message"/>, and nothing uploaded: the board holds no module.</summary>
    private static async Task AssertRefusedBeforeUploadAsync(SystemUnderTest system, string moduleId, string example, string message)
    {
        var refused = await DeployAsync(system, moduleId, example);
        CliAssert.Exit(7, refused);
        Assert.Contains(message, refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("modules=-", (await system.CliAsync("--device", "b1", "status")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Thermostat_publishes_the_simulated_sensors_readings_and_switches_the_heater_as_the_temperature_changes()
    {
        await using var system = await StartAsync(["--temperature", "18.25"]);
        await using var events = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "b1", "events", "--follow", "--topic", "temp");
        CliAssert.Exit(0, await DeployAsync(system, "thermostat", "thermostat.c"));
        var started = await system.CliAsync("--device", "b1", "start", "--module-id", "thermostat", "--func-name", "run", "--func-args", "period_ms=20,readings=0");
        CliAssert.Exit(0, started);

        events.WaitForLine(@" b1 thermostat job=\d+ uptime_ms=\d+ temp: 18250$", TimeSpan.FromSeconds(20));
        // 18.25 °C is under the default setpoint of 21 °C less 0.5: the heater (pin 1) is on.
        Assert.Contains("gpio=0x0002", (await system.CliAsync("--device", "b1", "status")).Stdout, StringComparison.Ordinal);

        var sim = await system.CliAsync("--device", "b1", "sim", "--temperature", "30.25");
        CliAssert.Exit(0, sim);
        Assert.Contains("temp_mc=30250", sim.Stdout, StringComparison.Ordinal);
        events.WaitForLine(@" b1 thermostat job=\d+ uptime_ms=\d+ temp: 30250$", TimeSpan.FromSeconds(20));
        events.WaitForLine(@" temp: 30250$", TimeSpan.FromSeconds(20));
        Assert.Contains("gpio=0x0000", (await system.CliAsync("--device", "b1", "status")).Stdout, StringComparison.Ordinal);

        CliAssert.Exit(0, await system.CliAsync("--device", "b1", "stop", "--module-id", "thermostat"));
        var listed = await system.CliAsync("--device", "b1", "events", "--topic", "temp");
        CliAssert.Exit(0, listed);
        Assert.Matches(@"(?m) temp: 18250$", listed.Stdout);
        Assert.Matches(@"(?m) temp: 30250$", listed.Stdout);
        Assert.DoesNotMatch(@"(?m) temp: (?!18250$|30250$)", listed.Stdout);
    }

    [Fact]
    public async Task Button_presses_from_the_cli_toggle_the_led_publish_the_count_and_the_count_outlives_the_job()
    {
        await using var system = await StartAsync([]);
        await using var events = RunningProcess.StartCli("--gateway", system.Gateway, "events", "--follow", "--topic", "button");
        CliAssert.Exit(0, await DeployAsync(system, "button", "button_led.c"));
        CliAssert.Exit(0, await system.CliAsync("--device", "b1", "start", "--module-id", "button", "--func-name", "run", "--func-args", "pin=3,max_presses=0"));

        async Task PressAsync()
        {
            CliAssert.Exit(0, await system.CliAsync("--device", "b1", "gpio", "set", "--pin", "3", "1"));
            CliAssert.Exit(0, await system.CliAsync("--device", "b1", "gpio", "set", "--pin", "3", "0"));
        }

        await PressAsync();
        events.WaitForLine(@" b1 button job=\d+ uptime_ms=\d+ button: 1$", TimeSpan.FromSeconds(20));
        Assert.Contains("gpio=0x0001", (await system.CliAsync("--device", "b1", "status")).Stdout, StringComparison.Ordinal);
        await PressAsync();
        events.WaitForLine(@" button: 2$", TimeSpan.FromSeconds(20));
        Assert.Contains("gpio=0x0000", (await system.CliAsync("--device", "b1", "status")).Stdout, StringComparison.Ordinal);

        var stopped = await system.CliAsync("--device", "b1", "stop", "--module-id", "button");
        CliAssert.Exit(0, stopped);
        // A new job goes on counting from the kv store.
        CliAssert.Exit(0, await system.CliAsync("--device", "b1", "start", "--module-id", "button", "--func-name", "run", "--func-args", "pin=3,max_presses=1"));
        await PressAsync();
        events.WaitForLine(@" button: 3$", TimeSpan.FromSeconds(20));
        var count = await system.CliAsync("--device", "b1", "start", "--module-id", "button", "--func-name", "count", "--wait-result");
        CliAssert.Exit(0, count);
        Assert.Contains("status=OK value=3 (i32)", count.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_needing_a_capability_the_board_does_not_offer_is_refused_before_upload_naming_it()
    {
        await using var system = await StartAsync(["--caps", "gpio,timer,events,kv"]);
        await AssertRefusedBeforeUploadAsync(system, "thermostat", "thermostat.c",
            "MISSING_CAPABILITY: module 'thermostat' needs capability 'i2c0' (it imports i2c0_write_read); device 'b1' offers gpio,timer,events,kv");
        // What it offers is enough for the button module.
        CliAssert.Exit(0, await DeployAsync(system, "button", "button_led.c"));
    }

    [Fact]
    public async Task Seed_baseline_board_offers_no_capabilities_and_still_takes_modules_that_need_none()
    {
        await using var system = await StartAsync(["--baseline"]);
        await AssertRefusedBeforeUploadAsync(system, "button", "button_led.c",
            "MISSING_CAPABILITY: module 'button' needs capability 'events' (it imports publish); device 'b1' offers no capabilities");
        CliAssert.Exit(0, await DeployAsync(system, "math_ops", "math_ops.c"));
        var sim = await system.CliAsync("--device", "b1", "gpio", "set", "--pin", "3", "1");
        CliAssert.Exit(7, sim);
        Assert.Contains("UNSUPPORTED: device 'b1' (a seed-baseline agent) has no simulated inputs (SIM)", sim.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_needing_a_capability_the_configuration_does_not_grant_the_module_is_refused_naming_it()
    {
        await using var system = await StartAsync([], """
            [devices.b1]
            endpoint = "tcp://127.0.0.1:PORT"
            grants = { thermostat = ["i2c0", "timer", "kv"], "*" = ["events"] }
            """);
        await AssertRefusedBeforeUploadAsync(system, "button", "button_led.c",
            "NOT_GRANTED: module 'button' needs capability 'gpio' (it imports gpio_wait_edge); the configuration grants it events on device 'b1' (add it to [devices.b1] grants)");
        // The thermostat's grant and the "*" grant together cover all it needs.
        CliAssert.Exit(0, await DeployAsync(system, "thermostat", "thermostat.c"));
    }

    [Fact]
    public async Task A_signed_native_image_cannot_bypass_the_grants_of_its_device()
    {
        var dir = Directory.CreateTempSubdirectory("wasmorch-native-grants-").FullName;
        var key = Path.Combine(dir, "key");
        CliAssert.Exit(0, await CliRunner.RunAsync("127.0.0.1:1", "keygen", "--out", key));
        var publicKey = (await File.ReadAllTextAsync(key + ".pub")).Trim();
        await using var system = await StartAsync([], $$"""
            [signing]
            trusted_keys = ["{{publicKey}}"]
            [devices.b1]
            endpoint = "tcp://127.0.0.1:PORT"
            grants = { "*" = ["events"] }
            """);
        // The attack (issue 30, item 10): the ADC reader refused as wasm, then sent as a signed native image.
        await AssertRefusedBeforeUploadAsync(system, "sensor", "thermostat.c",
            "NOT_GRANTED: module 'sensor' needs capability 'i2c0'");
        var image = Path.Combine(dir, "sensor.cwasm");
        CliAssert.Exit(0, await system.CliAsync("build", "--source", RepoPaths.Module("thermostat.c"), "--target", "emulator", "-o", image));
        var native = await system.CliAsync("--device", "b1", "deploy", "--module-id", "sensor", "--file", image, "--sign-key", key);
        CliAssert.Exit(7, native);
        Assert.Contains("NOT_GRANTED: device 'b1' has grants ([devices.b1] grants), and what a native image 'sensor' uses cannot be checked", native.Stderr, StringComparison.Ordinal);
        Assert.Contains("modules=-", (await system.CliAsync("--device", "b1", "status")).Stdout, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Module_flooding_events_is_limited_to_its_burst_the_rest_counted_and_the_board_keeps_answering()
    {
        await using var system = await StartAsync(["--event-rate", "1", "--event-burst", "10"]);
        var dir = Directory.CreateTempSubdirectory("wasmorch-flood-").FullName;
        var source = Path.Combine(dir, "flood.c");
        await File.WriteAllTextAsync(source, """
            #include "wasmorch.h"
            WASMORCH_EXPORT("flood") int32_t flood(int32_t n) {
                int32_t sent = 0;
                for (int32_t i = 0; i < n; i++) { if (publish("flood", &i, 4) == 0) { sent++; } }
                return sent;
            }
            """);
        CliAssert.Exit(0, await system.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "flood", "--source", source));
        var flood = await system.CliAsync("--device", "b1", "start", "--module-id", "flood", "--func-name", "flood", "--func-args", "5000", "--wait-result");
        CliAssert.Exit(0, flood);
        Assert.Contains("status=OK value=10 (i32)", flood.Stdout, StringComparison.Ordinal);
        var status = await system.CliAsync("--device", "b1", "status");
        Assert.Contains("events_dropped=4990", status.Stdout, StringComparison.Ordinal);
        var listed = await system.CliAsync("--device", "b1", "events", "--topic", "flood");
        // Binary data shows as hex: the loop's first ten i, little-endian.
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"flood: 0x{i:x2}000000"),
            listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains(" flood: ", StringComparison.Ordinal)).Select(l => l[(l.IndexOf(" flood: ", StringComparison.Ordinal) + 1)..]));
        Directory.Delete(dir, recursive: true);
    }
}
