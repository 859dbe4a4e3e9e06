using Wasmorch.Protocol.Agent;
using static Wasmorch.Conformance.CaseContext;

namespace Wasmorch.Conformance.Cases;

/// <summary>§3 Loading: the handshake, any fragmentation, CRC, timeouts, limits and atomic replace.</summary>
public static class LoadCases
{
    private static string LoadLine(string id, byte[] module, uint? crc = null) =>
        $"LOAD module_id={id} size={module.Length} crc32={Crc32Hex.Format(crc ?? Crc32Hex.Compute(module))}";

    public static IEnumerable<ConformanceCase> All =>
    [
        new("load_ok", "§3 LOAD", async c =>
        {
            var ready = await c.RequestAsync(LoadLine("cf_load", SuiteModules.Math));
            ExpectVerb(ready, AgentVerbs.LoadReady, "§3 LOAD is answered LOAD_READY before the payload");
            await c.Probe.SendRawAsync(SuiteModules.Math, c.Ct);
            var done = await c.ReadAsync("waiting for LOAD_OK");
            ExpectVerb(done, AgentVerbs.LoadOk, "§3 LOAD: a valid payload with its CRC is accepted");
            ExpectField(done, AgentKeys.ModuleId, "cf_load", "§3 LOAD_OK names the module");
            ExpectField(done, AgentKeys.Size, SuiteModules.Math.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), "§3 LOAD_OK repeats the size");
            Expect(Crc32Hex.TryParse(done[AgentKeys.Crc32], out var crc) && crc == Crc32Hex.Compute(SuiteModules.Math), "§3 LOAD_OK", "crc32 must be the payload's CRC32", done);
            var status = await c.RequestAsync(AgentVerbs.Status);
            Expect((status[AgentKeys.Modules] ?? "").Split(',').Contains("cf_load"), "§3 STATUS", "modules= lists a loaded module", status);
        }),
        new("load_one_byte_writes", "§3 LOAD: any fragmentation", async c =>
        {
            ExpectVerb(await c.RequestAsync(LoadLine("cf_load", SuiteModules.Math)), AgentVerbs.LoadReady, "§3 LOAD");
            foreach (var b in SuiteModules.Math)
            {
                await c.Probe.SendRawAsync(new[] { b }, c.Ct);
            }
            ExpectVerb(await c.ReadAsync("waiting for LOAD_OK after 1-byte writes"), AgentVerbs.LoadOk, "§3 LOAD: a payload written one byte at a time is assembled");
        }),
        new("load_with_next_command", "§3 LOAD: exactly N bytes", async c =>
        {
            ExpectVerb(await c.RequestAsync(LoadLine("cf_load", SuiteModules.Math)), AgentVerbs.LoadReady, "§3 LOAD");
            byte[] glued = [.. SuiteModules.Math, .. "STATUS\n"u8.ToArray()];
            await c.Probe.SendRawAsync(glued, c.Ct);
            ExpectVerb(await c.ReadAsync("waiting for LOAD_OK of a payload glued to the next line"), AgentVerbs.LoadOk, "§3 LOAD: the agent reads exactly N payload bytes");
            ExpectVerb(await c.ReadAsync("waiting for STATUS sent in the same write as the payload"), AgentVerbs.Status, "§3 LOAD: bytes after the payload are the next line");
        }),
        new("load_crc_mismatch", "§3 LOAD: CRC", async c =>
        {
            await c.LoadOkAsync("cf_load", SuiteModules.Math);
            var refused = await c.LoadAsync("cf_load", SuiteModules.MathV2, crc: Crc32Hex.Compute(SuiteModules.MathV2) ^ 0x1);
            ExpectVerb(refused, AgentVerbs.LoadErr, "§3 LOAD: a payload whose CRC differs is LOAD_ERR code=CRC_MISMATCH", "CRC_MISMATCH");
            var result = await c.RunAsync("cf_load", "add", "2,3");
            ExpectField(result, AgentKeys.Value, "5", "§3 LOAD: a refused LOAD leaves the old module in place");
        }),
        new("load_stall_timeout", "§3 LOAD: load timeout", async c =>
        {
            ExpectVerb(await c.RequestAsync(LoadLine("cf_stall", SuiteModules.Math)), AgentVerbs.LoadReady, "§3 LOAD");
            await c.Probe.SendRawAsync(SuiteModules.Math.AsMemory(0, SuiteModules.Math.Length / 2), c.Ct);
            var timeout = await c.ReadAsync("waiting for LOAD_ERR after a stalled payload", TimeSpan.FromSeconds(10));
            ExpectVerb(timeout, AgentVerbs.LoadErr, "§3 LOAD: a payload that stalls past the load timeout is LOAD_ERR code=TIMEOUT", "TIMEOUT");
            ExpectVerb(await c.RequestAsync(AgentVerbs.Status), AgentVerbs.Status, "§3 LOAD: after TIMEOUT the agent is back in line mode");
        }),
        new("load_too_large", "§3 LOAD: max_module", async c =>
        {
            var size = (c.Capabilities.MaxModule ?? 16L * 1024 * 1024) + 1;
            var refused = await c.RequestAsync($"LOAD module_id=cf_big size={size} crc32=00000000");
            ExpectVerb(refused, AgentVerbs.Err, $"§3 LOAD of {size} bytes (over max_module) is refused before any byte with ERR code=TOO_LARGE", "TOO_LARGE");
        }),
        new("load_invalid_module", "§3 LOAD: INVALID_MODULE", async c =>
        {
            var refused = await c.LoadAsync("cf_junk", "definitely not a wasm module"u8.ToArray());
            ExpectVerb(refused, AgentVerbs.LoadErr, "§3 LOAD of bytes that are not wasm is LOAD_ERR code=INVALID_MODULE", "INVALID_MODULE");
        }),
        new("load_unknown_native", "§3 LOAD: INVALID_MODULE", async c =>
        {
            var refused = await c.LoadAsync("cf_rockets", SuiteModules.UnknownImport);
            ExpectVerb(refused, AgentVerbs.LoadErr, "§3 LOAD of a module importing a native the board lacks is LOAD_ERR code=INVALID_MODULE", "INVALID_MODULE");
            Expect((refused[AgentKeys.Msg] ?? "").Contains("launch_rockets", StringComparison.Ordinal), "§3 LOAD: INVALID_MODULE", "msg names the missing native", refused);
        }),
        new("load_too_much_memory", "§3 LOAD: NO_MEMORY", async c =>
        {
            var refused = await c.LoadAsync("cf_huge", SuiteModules.HugeMemory);
            ExpectVerb(refused, AgentVerbs.LoadErr, "§3 LOAD of a module wanting 1 MiB of linear memory is LOAD_ERR code=NO_MEMORY", "NO_MEMORY");
        }),
        new("replace_idle_module", "§3 LOAD: atomic replace", async c =>
        {
            await c.LoadOkAsync("cf_load", SuiteModules.Math);
            await c.LoadOkAsync("cf_load", SuiteModules.MathV2);
            ExpectField(await c.RunAsync("cf_load", "sub", "9,4"), AgentKeys.Value, "5", "§3 LOAD of an existing id replaces it");
            var gone = await c.RequestAsync("START module_id=cf_load func=add args=\"1,1\"");
            ExpectVerb(gone, AgentVerbs.Result, "§3 LOAD: the replaced module's functions are gone", "NO_FUNC", AgentKeys.Status);
        }),
    ];
}
