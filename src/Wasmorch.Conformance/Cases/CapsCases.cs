using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Modules;
using static Wasmorch.Conformance.CaseContext;

namespace Wasmorch.Conformance.Cases;

/// <summary>§6c Capabilities: checked when the agent offers CAPS in HELLO_OK; each native case when CAPS_OK offers its capability.</summary>
public static class CapsCases
{
    public static IEnumerable<ConformanceCase> All =>
    [
        new("caps_lists_capabilities", "§6c CAPS", async c =>
        {
            var caps = await CapsAsync(c);
            Expect(caps.All(Capabilities.IsValidName), "§6c CAPS", $"caps= is '-' or capability names ([a-z0-9]{{1,16}}), comma-separated; got [{string.Join(",", caps)}]");
        }, Requires: AgentVerbs.Caps),
        new("caps_not_offered_refused_at_load", "§6c LOAD of a native not offered", async c =>
        {
            var missing = Capabilities.Known.FirstOrDefault(k => !c.Capabilities.Caps.Contains(k))
                ?? throw new CaseSkippedException("the agent offers every capability this suite knows: nothing to refuse");
            var native = NativeImports.All.First(n => n.Capability == missing);
            ExpectVerb(await c.LoadAsync("cf_nocap", SuiteModules.Importing(native)), AgentVerbs.LoadErr,
                $"§6c a module importing {native.Name} (capability {missing}, not offered) is refused at LOAD", "INVALID_MODULE");
        }, Requires: AgentVerbs.Caps),
        new("events_published", "§6c EVENT", async c =>
        {
            Require(c, Capabilities.Events);
            await c.LoadOkAsync("cf_events", SuiteModules.Publisher);
            c.Probe.Events.Clear();
            var result = await c.RunAsync("cf_events", "two");
            ExpectField(result, AgentKeys.Value, "0", "§6c publish returns 0 for each event sent");
            var events = c.Probe.Events.Where(e => e[AgentKeys.ModuleId] == "cf_events").ToList();
            Expect(events.Select(e => (e[AgentKeys.Topic], e[AgentKeys.Data], e[AgentKeys.Job])).SequenceEqual([("cf/topic", "0102ff", result[AgentKeys.Job]), ("cf/topic", "-", result[AgentKeys.Job])]),
                "§6c EVENT", $"two EVENT lines before the RESULT, topic=cf/topic, data=0102ff then data=-, the job's number; got [{string.Join(" | ", events)}]");
            Expect(events.All(e => e.TryGetInt64(AgentKeys.UptimeMs, out _)), "§6c EVENT", "EVENT carries uptime_ms");
        }, Requires: AgentVerbs.Caps),
        new("events_flood_limited_and_counted", "§6c EVENT rate", async c =>
        {
            Require(c, Capabilities.Events);
            const int Flood = 5000;
            await c.LoadOkAsync("cf_flood", SuiteModules.Publisher);
            var before = await DroppedAsync(c);
            c.Probe.Events.Clear();
            var result = await c.RunAsync("cf_flood", "flood", Flood.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var sent = long.Parse(result[AgentKeys.Value] ?? "-1", System.Globalization.CultureInfo.InvariantCulture);
            // The STATUS after the RESULT: every EVENT of the job came before it on the link.
            var dropped = await DroppedAsync(c) - before;
            var received = c.Probe.Events.Count(e => e[AgentKeys.ModuleId] == "cf_flood");
            Expect(sent < Flood && received == sent && dropped == Flood - sent, "§6c EVENT rate",
                $"a job publishing {Flood} events at once is limited: publish returned 0 for {sent}, {received} EVENT lines came, events_dropped grew by {dropped} (must be {Flood} - sent)");
        }, Requires: AgentVerbs.Caps),
        new("natives_refuse_memory_outside_the_module", "§6c natives check their pointers", async c =>
        {
            Require(c, Capabilities.Events);
            await c.LoadOkAsync("cf_outside", SuiteModules.Publisher);
            var result = await c.RunAsync("cf_outside", "outside");
            ExpectField(result, AgentKeys.Status, "OK", "§6c a native given memory outside the module returns an error code, never traps");
            ExpectField(result, AgentKeys.Value, Code(NativeAbi.Fault), "§6c the code is EFAULT (-2)");
        }, Requires: AgentVerbs.Caps),
        new("kv_outlives_the_job", "§6c kv", async c =>
        {
            Require(c, Capabilities.Kv);
            await c.LoadOkAsync("cf_kv", SuiteModules.KeyValue);
            ExpectField(await c.RunAsync("cf_kv", "put", "4242"), AgentKeys.Value, "0", "§6c kv_set returns 0");
            ExpectField(await c.RunAsync("cf_kv", "get"), AgentKeys.Value, "4242", "§6c a value kv_set stored is read by the module's next job");
        }, Requires: AgentVerbs.Caps),
        new("timer_ticks", "§6c timer", async c =>
        {
            Require(c, Capabilities.Timer);
            await c.LoadOkAsync("cf_timer", SuiteModules.Ticker);
            ExpectField(await c.RunAsync("cf_timer", "zero"), AgentKeys.Value, Code(NativeAbi.Invalid), "§6c timer_start(0) returns EINVAL (-1)");
            var ticks = await c.RunAsync("cf_timer", "ticks", "20,3");
            Expect(ticks[AgentKeys.Status] == "OK" && int.TryParse(ticks[AgentKeys.Value], out var missed) && missed >= 0, "§6c timer",
                "timer_wait returns the ticks missed (0 or more)", ticks);
            // An agent's clock may count whole milliseconds: its first tick can come up to 1 ms early.
            Expect(ticks.TryGetInt64(AgentKeys.ElapsedUs, out var elapsed) && elapsed >= 59_000, "§6c timer",
                $"three ticks of 20 ms take at least 60 ms (less 1 ms of clock granularity); the job took {elapsed} us", ticks);
        }, Requires: AgentVerbs.Caps),
        new("adc_counts", "§6c adc", async c =>
        {
            Require(c, Capabilities.Adc);
            await c.LoadOkAsync("cf_adc", SuiteModules.Sampler);
            var sample = await c.RunAsync("cf_adc", "read", "0");
            Expect(int.TryParse(sample[AgentKeys.Value], out var counts) && counts is >= 0 and <= 4095, "§6c adc", "adc_read(0) is 12-bit counts (0-4095)", sample);
            ExpectField(await c.RunAsync("cf_adc", "read", "16"), AgentKeys.Value, Code(NativeAbi.Invalid), "§6c adc_read of a channel past 15 returns EINVAL (-1)");
        }, Requires: AgentVerbs.Caps),
        new("i2c0_checks_its_arguments", "§6c i2c0", async c =>
        {
            Require(c, Capabilities.I2c0);
            await c.LoadOkAsync("cf_i2c", SuiteModules.I2cChecks);
            ExpectField(await c.RunAsync("cf_i2c", "bad_address"), AgentKeys.Value, Code(NativeAbi.Invalid), "§6c an address past 0x7f is EINVAL (-1)");
            ExpectField(await c.RunAsync("cf_i2c", "too_long"), AgentKeys.Value, Code(NativeAbi.Invalid), "§6c more than 32 bytes is EINVAL (-1)");
            ExpectField(await c.RunAsync("cf_i2c", "outside"), AgentKeys.Value, Code(NativeAbi.Fault), "§6c a buffer past the memory is EFAULT (-2)");
        }, Requires: AgentVerbs.Caps),
        new("pwm_set_shows_in_status", "§6c pwm", async c =>
        {
            Require(c, Capabilities.Pwm);
            await c.LoadOkAsync("cf_pwm", SuiteModules.Dimmer);
            ExpectField(await c.RunAsync("cf_pwm", "set", "100,200"), AgentKeys.Value, Code(NativeAbi.Invalid), "§6c a pulse longer than its period is EINVAL (-1)");
            ExpectField(await c.RunAsync("cf_pwm", "set", "20000,1500"), AgentKeys.Value, "0", "§6c pwm_set returns 0");
            var status = await c.RequestAsync(AgentVerbs.Status);
            Expect(Capabilities.Parse(status[AgentKeys.Pwm]).Contains("0:20000:1500"), "§6c pwm", "STATUS pwm= lists channel 0 as 0:20000:1500", status);
        }, Requires: AgentVerbs.Caps),
        new("sim_edge_wakes_gpio_wait_edge", "§6d SIM", async c =>
        {
            Require(c, Capabilities.Gpio);
            await c.LoadOkAsync("cf_edge", SuiteModules.EdgeWaiter);
            var job = await c.StartOkAsync("cf_edge", "wait", "3,1,5000");
            ExpectVerb(await c.RequestAsync("SIM pin=3 level=0"), AgentVerbs.SimOk, "§6d SIM pin= level= is SIM_OK");
            ExpectVerb(await c.RequestAsync("SIM pin=3 level=1"), AgentVerbs.SimOk, "§6d SIM pin= level= is SIM_OK");
            var result = await c.ResultAsync(job);
            ExpectField(result, AgentKeys.Value, "1", "§6c gpio_wait_edge returns 1 after a rising edge (driven by SIM)");
        }, Requires: AgentVerbs.Sim),
    ];

    private static string Code(int code) => code.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<HashSet<string>> CapsAsync(CaseContext c)
    {
        var reply = await c.RequestAsync(AgentVerbs.Caps);
        ExpectVerb(reply, AgentVerbs.CapsOk, "§6c CAPS is answered CAPS_OK");
        Expect(reply[AgentKeys.Caps] is not null, "§6c CAPS", "CAPS_OK carries caps=", reply);
        return reply[AgentKeys.Caps] == "-" ? [] : Capabilities.Parse(reply[AgentKeys.Caps]);
    }

    /// <summary>
    /// The case applies only where CAPS_OK offers <paramref name="capability"/> (the runner asked CAPS
    /// after HELLO, as a gateway does); elsewhere it is skipped, saying so.
    /// </summary>
    private static void Require(CaseContext c, string capability)
    {
        if (!c.Capabilities.Caps.Contains(capability))
        {
            throw new CaseSkippedException($"the agent does not offer capability '{capability}' (CAPS_OK)");
        }
    }

    private static async Task<long> DroppedAsync(CaseContext c)
    {
        var status = await c.RequestAsync(AgentVerbs.Status);
        Expect(status.TryGetInt64(AgentKeys.EventsDropped, out var dropped), "§6c EVENT rate", "an agent offering events counts drops in STATUS events_dropped", status);
        return dropped;
    }
}
