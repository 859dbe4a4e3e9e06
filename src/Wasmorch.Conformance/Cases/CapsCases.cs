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
            var caps = await CapsAsync(c);
            if (Capabilities.Known.FirstOrDefault(k => !caps.Contains(k)) is not { } missing)
            {
                return; // the agent offers every capability this suite knows: nothing to refuse
            }
            var native = NativeImports.All.First(n => n.Capability == missing);
            ExpectVerb(await c.LoadAsync("cf_nocap", SuiteModules.Importing(native)), AgentVerbs.LoadErr,
                $"§6c a module importing {native.Name} (capability {missing}, not offered) is refused at LOAD", "INVALID_MODULE");
        }, Requires: AgentVerbs.Caps),
        new("events_published", "§6c EVENT", async c =>
        {
            if (!await OffersAsync(c, Capabilities.Events))
            {
                return;
            }
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
            if (!await OffersAsync(c, Capabilities.Events))
            {
                return;
            }
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
            if (!await OffersAsync(c, Capabilities.Events))
            {
                return;
            }
            await c.LoadOkAsync("cf_outside", SuiteModules.Publisher);
            var result = await c.RunAsync("cf_outside", "outside");
            ExpectField(result, AgentKeys.Status, "OK", "§6c a native given memory outside the module returns an error code, never traps");
            ExpectField(result, AgentKeys.Value, NativeAbi.Fault.ToString(System.Globalization.CultureInfo.InvariantCulture), "§6c the code is EFAULT (-2)");
        }, Requires: AgentVerbs.Caps),
        new("kv_outlives_the_job", "§6c kv", async c =>
        {
            if (!await OffersAsync(c, Capabilities.Kv))
            {
                return;
            }
            await c.LoadOkAsync("cf_kv", SuiteModules.KeyValue);
            ExpectField(await c.RunAsync("cf_kv", "put", "4242"), AgentKeys.Value, "0", "§6c kv_set returns 0");
            ExpectField(await c.RunAsync("cf_kv", "get"), AgentKeys.Value, "4242", "§6c a value kv_set stored is read by the module's next job");
        }, Requires: AgentVerbs.Caps),
    ];

    private static async Task<HashSet<string>> CapsAsync(CaseContext c)
    {
        var reply = await c.RequestAsync(AgentVerbs.Caps);
        ExpectVerb(reply, AgentVerbs.CapsOk, "§6c CAPS is answered CAPS_OK");
        Expect(reply[AgentKeys.Caps] is not null, "§6c CAPS", "CAPS_OK carries caps=", reply);
        return reply[AgentKeys.Caps] == "-" ? [] : Capabilities.Parse(reply[AgentKeys.Caps]);
    }

    private static async Task<bool> OffersAsync(CaseContext c, string capability) => (await CapsAsync(c)).Contains(capability);

    private static async Task<long> DroppedAsync(CaseContext c)
    {
        var status = await c.RequestAsync(AgentVerbs.Status);
        Expect(status.TryGetInt64(AgentKeys.EventsDropped, out var dropped), "§6c EVENT rate", "an agent offering events counts drops in STATUS events_dropped", status);
        return dropped;
    }
}
