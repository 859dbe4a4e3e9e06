using Wasmorch.Protocol.Agent;
using static Wasmorch.Conformance.CaseContext;

namespace Wasmorch.Conformance.Cases;

/// <summary>§6 Extensions, each checked only when the agent offers it in HELLO_OK.</summary>
public static class ExtensionCases
{
    public static IEnumerable<ConformanceCase> All =>
    [
        new("ping", "§6 PING", async c =>
        {
            var pong = await c.RequestAsync(AgentVerbs.Ping);
            ExpectVerb(pong, AgentVerbs.Pong, "§6 PING is answered PONG");
            Expect(pong.TryGetInt64(AgentKeys.UptimeMs, out _), "§6 PING", "PONG carries uptime_ms", pong);
        }, Requires: AgentVerbs.Ping),
        new("unload", "§6 UNLOAD", async c =>
        {
            await c.LoadOkAsync("cf_unload", SuiteModules.Math);
            ExpectVerb(await c.RequestAsync("UNLOAD module_id=cf_unload"), AgentVerbs.UnloadOk, "§6 UNLOAD of an idle module is UNLOAD_OK");
            ExpectVerb(await c.RequestAsync("START module_id=cf_unload func=add args=\"1,2\""), AgentVerbs.Result, "§6 UNLOAD: the module is gone", "NO_MODULE", AgentKeys.Status);
            ExpectVerb(await c.RequestAsync("UNLOAD module_id=cf_unload"), AgentVerbs.Err, "§6 UNLOAD of a module not loaded is ERR code=NO_MODULE", "NO_MODULE");
        }, Requires: AgentVerbs.Unload),
        new("log_lines", "§6 LOG", async c =>
        {
            await c.LoadOkAsync("cf_log", SuiteModules.Logger);
            c.Probe.Logs.Clear();
            var result = await c.RunAsync("cf_log", "log3");
            ExpectField(result, AgentKeys.Value, "3", "§6 LOG: logging does not change the result");
            var messages = c.Probe.Logs.Where(l => l[AgentKeys.ModuleId] == "cf_log").Select(l => l[AgentKeys.Msg]).ToList();
            Expect(messages.SequenceEqual(["1", "2", "3"]), "§6 LOG", $"log_i32(1..3) gives three LOG lines with msg=1,2,3 before the RESULT; got [{string.Join(",", messages)}]");
        }, Requires: AgentVerbs.Log),
        new("log_dropped_counted", "§6 LOG: dropped lines counted (SHOULD)", async c =>
        {
            var status = await c.RequestAsync(AgentVerbs.Status);
            Expect(status.TryGetInt64(AgentKeys.LogDropped, out var dropped) && dropped >= 0, "§6 LOG",
                "an agent that may drop LOG lines SHOULD count them (STATUS log_dropped=<n>)", status);
        }, Requires: AgentVerbs.Log, Level: RuleLevel.Should),
        new("status_full_module_table", "§5 STATUS modules", async c =>
        {
            // Fills the module table with the longest ids: every STATUS must still fit a line (the
            // probe fails any line over 256 bytes), and the agent must refuse with NO_MEMORY, not overflow.
            var loaded = new List<string>();
            try
            {
                for (var i = 0; i < 64; i++)
                {
                    var id = $"cf_full_{i:d2}".PadRight(ProtocolLimits.MaxModuleIdLength, 'x');
                    var done = await c.LoadAsync(id, SuiteModules.Math);
                    var status = await c.RequestAsync(AgentVerbs.Status);
                    ExpectVerb(status, AgentVerbs.Status, "§3 STATUS");
                    Expect((status[AgentKeys.Modules] ?? "").Length <= ProtocolLimits.MaxModuleListLength, "§5 STATUS modules",
                        $"modules= lists at most {ProtocolLimits.MaxModuleListLength} bytes", status);
                    if (done.Verb != AgentVerbs.LoadOk)
                    {
                        ExpectVerb(done, AgentVerbs.Err, "§5 a LOAD past the module table is refused before any byte", "NO_MEMORY");
                        return;
                    }
                    loaded.Add(id);
                }
                Expect(false, "§5 STATUS modules", "64 modules of 32-character ids were all accepted; their ids cannot fit STATUS");
            }
            finally
            {
                foreach (var id in loaded)
                {
                    await c.RequestAsync($"UNLOAD module_id={id}");
                }
            }
        }, Requires: AgentVerbs.Unload),
    ];
}
