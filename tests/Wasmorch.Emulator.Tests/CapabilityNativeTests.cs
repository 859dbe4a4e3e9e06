using Wasmorch.Emulator.Peripherals;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Modules;
using Wasmorch.Testing;

namespace Wasmorch.Emulator.Tests;

/// <summary>
/// The capability natives (docs/protocol.md §6c) on an emulated board, through the protocol: each
/// answers its documented code for bad arguments (never a trap), the simulated parts answer what
/// SIM set, LOAD refuses natives of capabilities the board does not offer.
/// </summary>
[Collection("boards")]
public sealed class CapabilityNativeTests
{
    private const string Probe = """
        #include "wasmorch.h"
        WASMORCH_EXPORT("i2c_temp") int32_t i2c_temp(void) {
            uint8_t p = 0, raw[2];
            int32_t rc = i2c0_write_read(0x48, &p, 1, raw, 2);
            return rc < 0 ? rc : ((int32_t)(int16_t)((raw[0] << 8) | raw[1]) >> 4) * 1000 / 16;
        }
        WASMORCH_EXPORT("i2c_nack") int32_t i2c_nack(void) { uint8_t b = 0; return i2c0_write(0x49, &b, 1); }
        WASMORCH_EXPORT("i2c_outside") int32_t i2c_outside(void) { return i2c0_read(0x48, (void *)65535, 2); }
        WASMORCH_EXPORT("i2c_too_long") int32_t i2c_too_long(void) { static uint8_t b[64]; return i2c0_read(0x48, b, 33); }
        WASMORCH_EXPORT("adc") int32_t adc(int32_t ch) { return adc_read(ch); }
        WASMORCH_EXPORT("pwm") int32_t pwm(int32_t ch, int32_t period, int32_t pulse) { return pwm_set(ch, period, pulse); }
        WASMORCH_EXPORT("kv_put") int32_t kv_put(int32_t v) { return kv_set("k", &v, 4); }
        WASMORCH_EXPORT("kv_read") int32_t kv_read(void) { int32_t r; int32_t rc = kv_get("k", &r, 4); return rc == 4 ? r : rc; }
        WASMORCH_EXPORT("kv_fill") int32_t kv_fill(void) {
            char key[3] = { 'f', 'a', 0 };
            for (int32_t i = 0; i < 17; i++) { key[1] = (char)('a' + i); int32_t rc = kv_set(key, &i, 4); if (rc) return i * 100 - rc; }
            return 0;
        }
        WASMORCH_EXPORT("kv_bad_key") int32_t kv_bad_key(void) { return kv_set("has space", "x", 1); }
        WASMORCH_EXPORT("kv_key_outside") int32_t kv_key_outside(void) { return kv_get((const char *)70000, 0, 0); }
        WASMORCH_EXPORT("kv_too_big") int32_t kv_too_big(void) { static uint8_t b[65]; return kv_set("k", b, 65); }
        WASMORCH_EXPORT("publish_n") int32_t publish_n(int32_t n) {
            int32_t ok = 0;
            for (int32_t i = 0; i < n; i++) { if (publish("t/x", "hi", 2) == 0) { ok++; } }
            return ok;
        }
        WASMORCH_EXPORT("publish_outside") int32_t publish_outside(void) { return publish("t", (const void *)65530, 10); }
        WASMORCH_EXPORT("publish_bad_topic") int32_t publish_bad_topic(void) { return publish("a b", "x", 1); }
        WASMORCH_EXPORT("wait_edge") int32_t wait_edge(int32_t pin, int32_t edges, int32_t timeout) { return gpio_wait_edge(pin, edges, timeout); }
        WASMORCH_EXPORT("ticks") int32_t ticks(int32_t period, int32_t n) {
            if (timer_start(period)) return -100;
            int32_t missed = 0;
            for (int32_t i = 0; i < n; i++) { int32_t r = timer_wait(); if (r < 0) return r; missed += r; }
            return missed;
        }
        WASMORCH_EXPORT("bad_timer") int32_t bad_timer(void) { return timer_start(0) * 10 + timer_wait(); }
        """;

    private static readonly Lazy<byte[]> ProbeModule = new(() => ModuleBuilder.CompileText(Probe));

    private readonly BoardFixture _boards;

    public CapabilityNativeTests(BoardFixture boards) => _boards = boards;

    private static async Task<AgentLine> RunAsync(AgentClient agent, string func, string args = "", string module = "p")
    {
        var started = await agent.RequestAsync($"START module_id={module} func={func}" + (args.Length > 0 ? $" args=\"{args}\"" : ""));
        Assert.Equal("START_OK", started.Verb);
        return await agent.ReadUntilAsync("RESULT");
    }

    private static async Task<string?> ValueAsync(AgentClient agent, string func, string args = "", string module = "p")
    {
        var result = await RunAsync(agent, func, args, module);
        Assert.Equal("OK", result["status"]);
        return result["value"];
    }

    private async Task<(AgentClient Agent, Board Board)> ProbeBoardAsync(Func<BoardOptions, BoardOptions>? configure = null)
    {
        var (agent, board, _) = await _boards.NewBoardWithStateAsync(configure);
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("p", ProbeModule.Value)).Verb);
        return (agent, board);
    }

    [Fact]
    public async Task I2c_sensor_reads_what_sim_set_and_bad_transfers_answer_their_codes()
    {
        var (agent, _) = await ProbeBoardAsync(o => o with { TemperatureMilliC = 22_500 });
        await using var _ = agent;
        Assert.Equal("22500", await ValueAsync(agent, "i2c_temp"));
        var sim = await agent.RequestAsync("SIM temp_mc=-10250");
        Assert.Equal(("SIM_OK", "-10250"), (sim.Verb, sim["temp_mc"]));
        Assert.Equal("-10250", await ValueAsync(agent, "i2c_temp"));
        Assert.Equal(NativeAbi.NoDevice.ToString(), await ValueAsync(agent, "i2c_nack"));
        Assert.Equal(NativeAbi.Fault.ToString(), await ValueAsync(agent, "i2c_outside"));
        Assert.Equal(NativeAbi.Invalid.ToString(), await ValueAsync(agent, "i2c_too_long"));
    }

    [Fact]
    public async Task Adc_and_pwm_check_their_channels_and_pwm_shows_in_status()
    {
        var (agent, _) = await ProbeBoardAsync(o => o with { AdcWaveform = new Waveform("const", 1234, 1234, 1) });
        await using var _ = agent;
        Assert.Equal("1234", await ValueAsync(agent, "adc", "0"));
        Assert.Equal(NativeAbi.NoDevice.ToString(), await ValueAsync(agent, "adc", "1"));
        Assert.Equal(NativeAbi.Invalid.ToString(), await ValueAsync(agent, "adc", "16"));
        Assert.Null((await agent.RequestAsync("STATUS"))["pwm"]);
        Assert.Equal("0", await ValueAsync(agent, "pwm", "1,20000,1500"));
        Assert.Equal(NativeAbi.Invalid.ToString(), await ValueAsync(agent, "pwm", "4,20000,1500"));
        Assert.Equal(NativeAbi.Invalid.ToString(), await ValueAsync(agent, "pwm", "0,100,200"));
        Assert.Equal("1:20000:1500", (await agent.RequestAsync("STATUS"))["pwm"]);
    }

    [Fact]
    public async Task Kv_outlives_jobs_and_a_new_load_of_the_module_and_unload_clears_it()
    {
        var (agent, _) = await ProbeBoardAsync();
        await using var _ = agent;
        Assert.Equal(NativeAbi.NotFound.ToString(), await ValueAsync(agent, "kv_read"));
        Assert.Equal("0", await ValueAsync(agent, "kv_put", "42"));
        Assert.Equal("42", await ValueAsync(agent, "kv_read"));
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("p", ProbeModule.Value)).Verb);
        Assert.Equal("42", await ValueAsync(agent, "kv_read"));
        // Another module id has a store of its own.
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("q", ProbeModule.Value)).Verb);
        Assert.Equal(NativeAbi.NotFound.ToString(), await ValueAsync(agent, "kv_read", module: "q"));
        Assert.Equal("UNLOAD_OK", (await agent.RequestAsync("UNLOAD module_id=p")).Verb);
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("p", ProbeModule.Value)).Verb);
        Assert.Equal(NativeAbi.NotFound.ToString(), await ValueAsync(agent, "kv_read"));
    }

    [Fact]
    public async Task Kv_bounds_keys_values_and_addresses()
    {
        var (agent, _) = await ProbeBoardAsync();
        await using var _ = agent;
        // 16 keys fit; the 17th (i = 16) is refused with NoSpace.
        Assert.Equal((16 * 100 - NativeAbi.NoSpace).ToString(), await ValueAsync(agent, "kv_fill"));
        Assert.Equal(NativeAbi.Invalid.ToString(), await ValueAsync(agent, "kv_bad_key"));
        Assert.Equal(NativeAbi.Fault.ToString(), await ValueAsync(agent, "kv_key_outside"));
        Assert.Equal(NativeAbi.Invalid.ToString(), await ValueAsync(agent, "kv_too_big"));
    }

    [Fact]
    public async Task Events_go_to_a_negotiated_peer_within_the_burst_and_the_rest_are_counted()
    {
        var (agent, _) = await ProbeBoardAsync(o => o with { EventBurst = 5, EventsPerSecond = 1 });
        await using var _ = agent;
        Assert.Equal("HELLO_OK", (await agent.RequestAsync("HELLO proto=1")).Verb);
        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=p func=publish_n args=\"30\"")).Verb);
        var events = new List<AgentLine>();
        AgentLine line;
        while ((line = await agent.ReadParsedAsync()).Verb != "RESULT")
        {
            events.Add(line);
        }
        Assert.Equal("5", line["value"]);
        Assert.Equal(5, events.Count);
        Assert.All(events, e => Assert.Equal(("EVENT", "p", "t/x", "6869"), (e.Verb, e["module_id"], e["topic"], e["data"])));
        Assert.Equal("25", (await agent.RequestAsync("STATUS"))["events_dropped"]);
        Assert.Equal(NativeAbi.Fault.ToString(), await ValueAsync(agent, "publish_outside"));
        Assert.Equal(NativeAbi.Invalid.ToString(), await ValueAsync(agent, "publish_bad_topic"));
    }

    [Fact]
    public async Task A_peer_that_did_not_negotiate_gets_no_event_lines_and_they_are_counted_as_dropped()
    {
        var (agent, _) = await ProbeBoardAsync();
        await using var _ = agent;
        Assert.Equal("0", await ValueAsync(agent, "publish_n", "3"));
        Assert.Equal("3", (await agent.RequestAsync("STATUS"))["events_dropped"]);
    }

    [Fact]
    public async Task Gpio_wait_edge_wakes_on_a_simulated_edge_times_out_and_returns_on_stop()
    {
        var (agent, _) = await ProbeBoardAsync();
        await using var _ = agent;
        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=p func=wait_edge args=\"3,1,30000\"")).Verb);
        // A falling edge is not what the job waits for; the rising one is.
        Assert.Equal("SIM_OK", (await agent.RequestAsync("SIM pin=3 level=0")).Verb);
        // The edge wakes the job at once: its RESULT (asynchronous, §3) may come before SIM_OK.
        await agent.SendLineAsync("SIM pin=3 level=1");
        var woken = new[] { await agent.ReadParsedAsync(), await agent.ReadParsedAsync() };
        Assert.Equal(["RESULT", "SIM_OK"], woken.Select(l => l.Verb).Order(StringComparer.Ordinal));
        var sim = woken.Single(l => l.Verb == "SIM_OK");
        Assert.Equal("0x0008", sim["gpio"]);
        var result = woken.Single(l => l.Verb == "RESULT");
        Assert.Equal(("OK", "1"), (result["status"], result["value"]));

        Assert.Equal(NativeAbi.TimedOut.ToString(), await ValueAsync(agent, "wait_edge", "3,2,50"));
        Assert.Equal(NativeAbi.Invalid.ToString(), await ValueAsync(agent, "wait_edge", "16,1,10"));
        Assert.Equal(NativeAbi.Invalid.ToString(), await ValueAsync(agent, "wait_edge", "3,4,10"));

        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=p func=wait_edge args=\"3,3,-1\"")).Verb);
        await agent.SendLineAsync("STOP module_id=p");
        // STOP_OK and the RESULT come in either order (§3: RESULT is asynchronous).
        var lines = new[] { await agent.ReadParsedAsync(), await agent.ReadParsedAsync() };
        Assert.Equal(["RESULT", "STOP_OK"], lines.Select(l => l.Verb).Order(StringComparer.Ordinal));
        var stopped = lines.Single(l => l.Verb == "RESULT");
        Assert.Equal(("STOPPED", NativeAbi.Stopped.ToString()), (stopped["status"], stopped["value"]));
    }

    [Fact]
    public async Task Timer_ticks_at_its_period_and_refuses_a_zero_period()
    {
        var (agent, _) = await ProbeBoardAsync();
        await using var _ = agent;
        var result = await RunAsync(agent, "ticks", "20,5");
        Assert.Equal("OK", result["status"]);
        Assert.True(int.Parse(result["value"]!, System.Globalization.CultureInfo.InvariantCulture) >= 0);
        // Five ticks of 20 ms end no sooner than 100 ms after timer_start.
        Assert.True(result.TryGetInt64("elapsed_us", out var elapsed) && elapsed >= 100_000, $"elapsed_us={elapsed}");
        Assert.Equal((NativeAbi.Invalid * 10 + NativeAbi.Invalid).ToString(), await ValueAsync(agent, "bad_timer"));
    }

    [Fact]
    public async Task Load_refuses_a_native_of_a_capability_the_board_does_not_offer_and_caps_lists_what_it_offers()
    {
        var (agent, _, _) = await _boards.NewBoardWithStateAsync(o => o with { Caps = new HashSet<string> { Capabilities.Timer, Capabilities.Kv } });
        await using var _ = agent;
        Assert.Equal("timer,kv", (await agent.RequestAsync("CAPS"))["caps"]);
        var refused = await agent.LoadAsync("p", ProbeModule.Value);
        Assert.Equal(("LOAD_ERR", "INVALID_MODULE"), (refused.Verb, refused["code"]));
        Assert.Matches(@"^module imports env::\w+, which needs capability '(i2c0|adc|pwm|events|gpio)'; this board offers kv,timer$", refused["msg"]);
        Assert.Equal("modules=-", "modules=" + (await agent.RequestAsync("STATUS"))["modules"]);
    }

    [Theory]
    [InlineData("SIM", "SIM needs pin=<n> level=0|1, or temp_mc=<milli-degrees C>")]
    [InlineData("SIM pin=16 level=1", "SIM pin=<0-15> level=<0|1>: both, in range")]
    [InlineData("SIM pin=3", "SIM pin=<0-15> level=<0|1>: both, in range")]
    [InlineData("SIM pin=3 level=2", "SIM pin=<0-15> level=<0|1>: both, in range")]
    [InlineData("SIM temp_mc=125001", "SIM temp_mc must be -55000 to 125000 (the TMP102's range, milli-degrees C)")]
    public async Task Sim_refuses_what_is_out_of_range_and_changes_nothing(string command, string message)
    {
        var (agent, board, _) = await _boards.NewBoardWithStateAsync(o => o with { TemperatureMilliC = 20_000 });
        await using var _ = agent;
        var reply = await agent.RequestAsync(command);
        Assert.Equal(("ERR", "BAD_ARGS", message), (reply.Verb, reply["code"], reply["msg"]));
        Assert.Equal((0, 20_000), (board.Gpio.Levels, board.Sensor.TemperatureMilliC));
    }
}

/// <summary>HELLO_OK must fit a line (§2): a board whose name would push it past 256 bytes is refused at start, saying how long a name may be.</summary>
public sealed class HelloBudgetTests
{
    [Fact]
    public async Task Board_whose_hello_would_not_fit_a_line_is_refused_at_start_naming_the_room_left()
    {
        await using var host = new EmulatorHost(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        var longName = new string('n', 32);
        var error = Assert.Throws<ArgumentException>(() => host.AddBoard(new BoardOptions { Name = longName, LinkKey = new byte[32] }));
        var room = int.Parse(System.Text.RegularExpressions.Regex.Match(error.Message, @"at most (\d+) characters \(a link key adds AUTH and its nonce\)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        // The room it names is exact: a name of that length starts, and its HELLO_OK is 256 bytes or less.
        var server = host.AddBoard(new BoardOptions { Name = new string('n', room), LinkKey = new byte[32] });
        await using var agent = await AgentClient.ConnectAsync(server.LocalEndpoint.Port);
        Assert.StartsWith("BOOT ", System.Text.Encoding.ASCII.GetString(await agent.ReadLineBytesAsync()), StringComparison.Ordinal);
        await agent.SendLineAsync("HELLO proto=1");
        var line = await agent.ReadLineBytesAsync();
        Assert.StartsWith("HELLO_OK ", System.Text.Encoding.ASCII.GetString(line), StringComparison.Ordinal);
        Assert.True(line.Length <= 255, $"HELLO_OK of {line.Length + 1} bytes");
        // Without a link key the same 32-character name fits.
        host.AddBoard(new BoardOptions { Name = longName });
    }
}
