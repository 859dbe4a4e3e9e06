using Wasmorch.Protocol.Agent;
using System.Text;
using static Wasmorch.Conformance.CaseContext;

namespace Wasmorch.Conformance.Cases;

/// <summary>§2 and §3: lines, STATUS, malformed input, and many commands back to back.</summary>
public static class LineCases
{
    private static readonly string[] StatusKeys = ["state", "module", "func", "job", "modules", "uptime_ms"];

    public static IEnumerable<ConformanceCase> All =>
    [
        new("status_idle", "§3 STATUS", async c =>
        {
            var status = await c.RequestAsync(AgentVerbs.Status);
            ExpectVerb(status, AgentVerbs.Status, "§3 STATUS");
            foreach (var key in StatusKeys)
            {
                Expect(status.Has(key), "§3 STATUS", $"STATUS must carry {key}=", status);
            }
            ExpectField(status, AgentKeys.State, "IDLE", "§3 STATUS: no job runs");
        }),
        new("unknown_verb", "§3 anything else", async c =>
            ExpectVerb(await c.RequestAsync("FLASH everything=now"), AgentVerbs.Err, "§3 an unknown command is ERR code=BAD_COMMAND", "BAD_COMMAND")),
        new("lowercase_verb", "§2 verb", async c =>
            ExpectVerb(await c.RequestAsync("status"), AgentVerbs.Err, "§2 a verb is upper case; anything else is BAD_COMMAND", "BAD_COMMAND")),
        new("over_long_line", "§2 line length", async c =>
        {
            var reply = await c.RequestAsync("STATUS pad=" + new string('x', 400));
            ExpectVerb(reply, AgentVerbs.Err, "§2 a line over 256 bytes is answered ERR code=LINE_TOO_LONG", "LINE_TOO_LONG");
            ExpectVerb(await c.RequestAsync(AgentVerbs.Status), AgentVerbs.Status, "§2 the line after an over-long one is read normally");
        }),
        new("binary_garbage", "§2 lines", async c =>
        {
            await c.Probe.SendRawAsync(new byte[] { 0x00, 0xff, 0x80, 0x1b, 0x7f, 0xc3, 0x28, (byte)'\n' }, c.Ct);
            ExpectVerb(await c.ReadAsync("waiting for the answer to binary garbage"), AgentVerbs.Err, "§2 a line that does not parse is ERR code=BAD_COMMAND", "BAD_COMMAND");
            ExpectVerb(await c.RequestAsync(AgentVerbs.Status), AgentVerbs.Status, "§2 garbage does not disturb the next line");
        }),
        new("crlf_and_blank_lines", "§2 lines", async c =>
        {
            await c.Probe.SendRawAsync("\r\n\nSTATUS\r\n"u8.ToArray(), c.Ct);
            ExpectVerb(await c.ReadAsync("waiting for STATUS sent with CRLF after blank lines"), AgentVerbs.Status, "§2 CR LF is accepted and blank lines are ignored");
        }),
        new("missing_keys", "§3 LOAD/START/STOP", async c =>
        {
            ExpectVerb(await c.RequestAsync("LOAD module_id=m crc32=00000000"), AgentVerbs.Err, "§3 LOAD without size is ERR code=BAD_ARGS", "BAD_ARGS");
            ExpectVerb(await c.RequestAsync("START func=add"), AgentVerbs.Err, "§3 START without module_id is ERR code=BAD_ARGS", "BAD_ARGS");
            ExpectVerb(await c.RequestAsync(AgentVerbs.Stop), AgentVerbs.Err, "§3 STOP without module_id is ERR code=BAD_ARGS", "BAD_ARGS");
        }),
        new("ill_typed_keys", "§3 LOAD", async c =>
        {
            ExpectVerb(await c.RequestAsync("LOAD module_id=m size=abc crc32=00000000"), AgentVerbs.Err, "§3 LOAD with a non-numeric size is ERR code=BAD_ARGS", "BAD_ARGS");
            ExpectVerb(await c.RequestAsync("LOAD module_id=m size=10 crc32=nothex!!"), AgentVerbs.Err, "§3 LOAD with a malformed crc32 is ERR code=BAD_ARGS", "BAD_ARGS");
            ExpectVerb(await c.RequestAsync("LOAD module_id=../../x size=10 crc32=00000000"), AgentVerbs.Err, "§2 a module_id outside [A-Za-z0-9_.-]{1,32} is ERR code=BAD_ARGS", "BAD_ARGS");
        }),
        new("duplicate_keys", "§2 fields", async c =>
            ExpectVerb(await c.RequestAsync("STOP module_id=a module_id=b"), AgentVerbs.Err, "§2 keys are unique: a duplicate is ERR code=BAD_COMMAND", "BAD_COMMAND")),
        new("unknown_keys_ignored", "§2 fields", async c =>
            ExpectVerb(await c.RequestAsync("STATUS verbose=1 color=blue"), AgentVerbs.Status, "§2 receivers ignore keys they do not know")),
        new("bare_values_any_visible_ascii", "§2 bare values (SHOULD)", async c =>
            ExpectVerb(await c.RequestAsync("STATUS note=a*b[c]{d}<e>"), AgentVerbs.Status, "§2 receivers SHOULD accept any visible ASCII except '\"' in a bare value"),
            Level: RuleLevel.Should),
        new("back_to_back_1000", "§3 one reply per command, in order; §3 Lost bytes", async c =>
        {
            var before = await c.RequestAsync(AgentVerbs.Status);
            var batch = new StringBuilder();
            for (var i = 0; i < 1000; i++)
            {
                batch.Append(i % 2 == 0 ? "STATUS\n" : "STOP module_id=conformance_none\n");
            }
            await c.Probe.SendRawAsync(Encoding.ASCII.GetBytes(batch.ToString()), c.Ct);
            for (var i = 0; i < 1000; i++)
            {
                var reply = await c.ReadAsync($"waiting for reply {i + 1} of 1000 back-to-back commands");
                if (reply.Verb == AgentVerbs.Err && reply[AgentKeys.Code] == AgentErrorCodes.RxOverrun)
                {
                    // The link outran the agent, which said so: what follows is checked as loss, not order.
                    await LostLinesAsync(c, before, overrunsSeen: 1);
                    return;
                }
                var expected = i % 2 == 0 ? AgentVerbs.Status : AgentVerbs.Err;
                Expect(reply.Verb == expected, "§3 one reply per command, in order", $"reply {i + 1} of 1000 should be {expected}", reply);
            }
        }),
    ];

    /// <summary>
    /// After an RX_OVERRUN: every reply left is one the burst asked for or another RX_OVERRUN, and
    /// STATUS counts exactly the overruns the agent answered (nothing lost silently).
    /// </summary>
    private static async Task LostLinesAsync(CaseContext c, AgentLine before, int overrunsSeen)
    {
        // Let the agent drain what it still holds, then mark the end of the burst with a reply that names itself.
        await Task.Delay(TimeSpan.FromSeconds(2), c.Ct);
        // The lone LF ends the line the loss broke (a blank line otherwise), so the marker is read whole.
        await c.Probe.SendLineAsync("\nSTOP module_id=cf_end_of_burst", c.Ct);
        while (true)
        {
            var reply = await c.ReadAsync("waiting for the replies left of a burst the agent could not take whole");
            if (reply.Verb == AgentVerbs.Err && (reply[AgentKeys.Msg] ?? "").Contains("cf_end_of_burst", StringComparison.Ordinal))
            {
                break;
            }
            var answered = reply.Verb == AgentVerbs.Status
                || (reply.Verb == AgentVerbs.Err && reply[AgentKeys.Code] is AgentErrorCodes.NoModule or AgentErrorCodes.RxOverrun);
            Expect(answered, "§3 Lost bytes", "after RX_OVERRUN, replies are those of the commands sent or RX_OVERRUN", reply);
            if (reply[AgentKeys.Code] == AgentErrorCodes.RxOverrun)
            {
                overrunsSeen++;
            }
        }
        var after = await c.RequestAsync(AgentVerbs.Status);
        if (before.TryGetInt64(AgentKeys.RxOverruns, out var first) && after.TryGetInt64(AgentKeys.RxOverruns, out var last))
        {
            Expect(last - first == overrunsSeen, "§3 Lost bytes", $"STATUS counts {last - first} overruns; the agent answered {overrunsSeen} with RX_OVERRUN", after);
        }
    }
}
