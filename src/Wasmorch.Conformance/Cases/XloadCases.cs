using System.Globalization;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Modules;
using static Wasmorch.Conformance.CaseContext;

namespace Wasmorch.Conformance.Cases;

/// <summary>§6b XLOAD, checked when the agent offers it: lzss1, the window and its XACKs, resume, malformed streams.</summary>
public static class XloadCases
{
    private static string XloadLine(string id, byte[] module, string codec, int streamSize, uint? crc = null) =>
        $"XLOAD module_id={id} size={module.Length} crc32={Crc32Hex.Format(crc ?? Crc32Hex.Compute(module))} codec={codec} zsize={streamSize}";

    /// <summary>XLOAD_READY, checked: its offset and window.</summary>
    private static async Task<(long Offset, int Window)> ReadyAsync(CaseContext c, string line, string rule)
    {
        var ready = await c.RequestAsync(line);
        ExpectVerb(ready, AgentVerbs.XloadReady, rule);
        Expect(ready.TryGetInt64(AgentKeys.Offset, out var offset) && offset >= 0, rule, "XLOAD_READY carries offset=<n>", ready);
        Expect(ready.TryGetInt64(AgentKeys.Window, out var window) && window >= 1 && window <= int.MaxValue, rule, "XLOAD_READY carries window=<bytes>", ready);
        return (offset, (int)window);
    }

    /// <summary>
    /// Sends stream[from..] within the window, taking the XACKs as they come; the verdict
    /// (LOAD_OK/LOAD_ERR) and every XACK offset seen, in order.
    /// </summary>
    private static async Task<(AgentLine Verdict, List<long> Acks)> SendStreamAsync(CaseContext c, byte[] stream, long from, int window)
    {
        var acks = new List<long>();
        var acknowledged = from;
        var sent = from;
        while (true)
        {
            if (sent < stream.Length && sent < acknowledged + window)
            {
                var chunk = (int)Math.Min(stream.Length - sent, acknowledged + window - sent);
                await c.Probe.SendRawAsync(stream.AsMemory((int)sent, chunk), c.Ct);
                sent += chunk;
                continue;
            }
            var line = await c.ReadAsync($"waiting for XACK or the verdict at stream byte {sent} of {stream.Length}");
            if (line.Verb != AgentVerbs.Xack)
            {
                return (line, acks);
            }
            Expect(line.TryGetInt64(AgentKeys.Offset, out var offset) && offset > acknowledged && offset <= sent, "§6b XACK", $"XACK offsets grow and never pass the bytes sent ({sent})", line);
            acks.Add(offset);
            acknowledged = offset;
        }
    }

    public static IEnumerable<ConformanceCase> All =>
    [
        new("xload_lzss1_loads_and_runs", "§6b XLOAD lzss1", async c =>
        {
            var stream = Lzss1.Compress(SuiteModules.Math);
            var (offset, window) = await ReadyAsync(c, XloadLine("cf_x", SuiteModules.Math, Lzss1.Name, stream.Length), "§6b XLOAD is answered XLOAD_READY");
            Expect(offset == 0, "§6b XLOAD_READY", "a new transfer starts at offset=0");
            var (verdict, _) = await SendStreamAsync(c, stream, 0, window);
            ExpectVerb(verdict, AgentVerbs.LoadOk, "§6b XLOAD: an lzss1 stream decoding to the module with its CRC is LOAD_OK");
            ExpectField(verdict, AgentKeys.Size, SuiteModules.Math.Length.ToString(CultureInfo.InvariantCulture), "§6b LOAD_OK carries the module's size, not the stream's");
            ExpectField(await c.RunAsync("cf_x", "add", "2,3"), AgentKeys.Value, "5", "§6b XLOAD: the module runs");
        }, Requires: AgentVerbs.Xload),
        new("xload_acknowledges_every_half_window", "§6b XLOAD window", async c =>
        {
            // A stream of one and a half windows and a bit, or what max_module allows.
            var size = (int)Math.Min(6154, c.Capabilities.MaxModule ?? int.MaxValue);
            var junk = Enumerable.Range(0, size).Select(i => (byte)(i * 31)).ToArray();
            var (_, again) = await ReadyAsync(c, XloadLine("cf_w", junk, "none", junk.Length), "§6b XLOAD");
            var (verdict, acks) = await SendStreamAsync(c, junk, 0, again);
            var half = Math.Max(1, again / 2);
            var expected = Enumerable.Range(1, (size - 1) / half).Select(k => (long)k * half).ToList();
            Expect(acks.SequenceEqual(expected), "§6b XACK", $"an XACK at every multiple of half the window ({half}) short of the end: expected [{string.Join(",", expected)}], got [{string.Join(",", acks)}]");
            ExpectVerb(verdict, AgentVerbs.LoadErr, "§6b XLOAD: bytes that are not a module are refused after the stream", "INVALID_MODULE");
        }, Requires: AgentVerbs.Xload),
        new("xload_resumes_after_a_stall", "§6b XLOAD resume", async c =>
        {
            var stream = Lzss1.Compress(SuiteModules.Math);
            var line = XloadLine("cf_r", SuiteModules.Math, Lzss1.Name, stream.Length);
            var (_, window) = await ReadyAsync(c, line, "§6b XLOAD");
            var half = stream.Length / 2;
            await c.Probe.SendRawAsync(stream.AsMemory(0, half), c.Ct);
            var stalled = await c.ReadAsync("waiting for LOAD_ERR after a stalled stream", TimeSpan.FromSeconds(10));
            ExpectVerb(stalled, AgentVerbs.LoadErr, "§6b XLOAD: a stream that stalls past the load timeout is LOAD_ERR code=TIMEOUT", "TIMEOUT");
            var (offset, again) = await ReadyAsync(c, line, "§6b XLOAD of the same transfer");
            Expect(offset == half, "§6b XLOAD resume", $"the same XLOAD after a stall resumes at the bytes taken ({half}), got offset={offset}");
            var (verdict, _) = await SendStreamAsync(c, stream, offset, again);
            ExpectVerb(verdict, AgentVerbs.LoadOk, "§6b XLOAD: the resumed stream completes the module");
            ExpectField(await c.RunAsync("cf_r", "add", "20,22"), AgentKeys.Value, "42", "§6b XLOAD: the resumed module runs");
        }, Requires: AgentVerbs.Xload),
        new("xload_malformed_stream", "§6b XLOAD BAD_PAYLOAD", async c =>
        {
            byte[] bomb = [0x01, 0xff, 0xf0, 0x61, 0x62];
            var (_, window) = await ReadyAsync(c, XloadLine("cf_m", SuiteModules.Math, Lzss1.Name, bomb.Length), "§6b XLOAD");
            var (verdict, _) = await SendStreamAsync(c, bomb, 0, window);
            ExpectVerb(verdict, AgentVerbs.LoadErr, "§6b XLOAD: an lzss1 reference before the preset is LOAD_ERR code=BAD_PAYLOAD, after the whole stream", "BAD_PAYLOAD");
            ExpectVerb(await c.RequestAsync(AgentVerbs.Status), AgentVerbs.Status, "§6b XLOAD: none of a refused stream is read as lines");
            var refused = await c.RequestAsync($"XLOAD module_id=cf_m size=8 crc32=1c4b33ce codec=zstd zsize=3");
            ExpectVerb(refused, AgentVerbs.Err, "§6b XLOAD with a codec not offered is ERR code=BAD_ARGS", "BAD_ARGS");
            var shortStream = await c.RequestAsync($"XLOAD module_id=cf_m size=8 crc32=1c4b33ce codec=none zsize=7");
            ExpectVerb(shortStream, AgentVerbs.Err, "§6b XLOAD codec=none with a zsize other than the module's size is ERR code=BAD_ARGS (never zero-filled)", "BAD_ARGS");
        }, Requires: AgentVerbs.Xload),
    ];
}
