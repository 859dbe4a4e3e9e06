using Wasmorch.Protocol.Agent;
using System.Diagnostics;
using Wasmorch.Conformance.Cases;
using Wasmorch.Transport;

namespace Wasmorch.Conformance;

/// <summary>
/// Runs the suite against one agent over any link, case by case, on one connection (a UART has
/// no other). Every case starts from a clean agent: after each one the runner stops any job the
/// case left running and waits for its RESULT, unloads the suite's modules where UNLOAD is offered,
/// and resynchronises the link with STATUS, so that one failure never makes later cases fail. If
/// the agent stops answering altogether, the remaining cases fail saying so.
/// </summary>
public sealed class ConformanceRunner
{
    private static readonly string[] HelloKeys = ["proto", "agent", "board", "runtime", "modes", "max_module", "extensions"];

    private readonly IDeviceLink _link;
    private readonly byte[]? _linkKey;

    /// <param name="linkKey">The agent's link key, for agents that offer AUTH (§6a); without it such an agent cannot be checked.</param>
    public ConformanceRunner(IDeviceLink link, byte[]? linkKey = null)
    {
        _link = link;
        _linkKey = linkKey;
    }

    public static IReadOnlyList<ConformanceCase> Cases { get; } =
        [.. LineCases.All, .. LoadCases.All, .. JobCases.All, .. ExtensionCases.All, .. XloadCases.All, .. AuthCases.All, .. CapsCases.All];

    public async Task<ConformanceReport> RunAsync(Func<string, bool>? filter, Action<CaseResult>? progress, CancellationToken ct)
    {
        var results = new List<CaseResult>();
        await using var probe = new AgentProbe(await _link.OpenAsync(ct));
        var (capabilities, hello) = await HelloAsync(probe, _linkKey, ct);
        results.Add(hello);
        progress?.Invoke(hello);
        string? stuck = hello.Outcome != CaseOutcome.Fail ? null
            : capabilities.Offers(LinkAuth.Extension) ? $"the agent requires link authentication, which failed: {hello.Message}"
            : await probe.ResyncAsync(ct) ? null : "the agent stopped answering STATUS after HELLO";
        foreach (var testCase in Cases.Where(c => filter is null || filter(c.Name)))
        {
            CaseResult result;
            if (stuck is not null)
            {
                result = new(testCase.Name, testCase.Rule, CaseOutcome.Fail, $"not run: {stuck}", TimeSpan.Zero);
            }
            else if (testCase.Requires is { } needed && !capabilities.Offers(needed))
            {
                result = new(testCase.Name, testCase.Rule, CaseOutcome.Skip,
                    needed == AgentVerbs.Caps ? "the agent does not answer CAPS (§6c)" : $"the agent does not offer {needed} in HELLO_OK", TimeSpan.Zero);
            }
            else
            {
                result = await RunCaseAsync(testCase, new CaseContext(probe, capabilities, ct) { LinkKey = _linkKey });
                stuck = await CleanAsync(probe, capabilities, ct) is { } why ? $"after case {testCase.Name}, {why}" : null;
            }
            results.Add(result);
            progress?.Invoke(result);
        }
        return new ConformanceReport(_link.Description, capabilities, results);
    }

    /// <summary>
    /// Back to a clean agent after a case: no job running, none of the suite's modules loaded (where
    /// UNLOAD is offered), the link in step. Null when done; else why the agent cannot be used further.
    /// </summary>
    private static async Task<string?> CleanAsync(AgentProbe probe, AgentCapabilities capabilities, CancellationToken ct)
    {
        if (!await probe.ResyncAsync(ct))
        {
            return "the agent stopped answering STATUS";
        }
        try
        {
            await probe.SettleJobsAsync(CaseContext.StopDeadline, ct);
            if (capabilities.Offers(AgentCapabilities.Unload))
            {
                await UnloadSuiteModulesAsync(probe, ct);
            }
        }
        catch (ViolationException ex)
        {
            return $"the agent could not be brought back to a clean state: {ex.Message}";
        }
        return await probe.ResyncAsync(ct) ? null : "the agent stopped answering STATUS";
    }

    /// <summary>The suite's modules (cf_*) are unloaded, so the next case (and the board's owner) finds the board as it was.</summary>
    private static async Task UnloadSuiteModulesAsync(AgentProbe probe, CancellationToken ct)
    {
        var status = await probe.RequestAsync(AgentVerbs.Status, ct);
        foreach (var id in (status[AgentKeys.Modules] ?? string.Empty).Split(',').Where(m => m.StartsWith("cf_", StringComparison.Ordinal)))
        {
            var reply = await probe.RequestAsync($"UNLOAD module_id={id}", ct);
            if (reply.Verb != AgentVerbs.UnloadOk)
            {
                throw new ViolationException($"§6 UNLOAD: UNLOAD of idle module {id} was answered '{reply}'");
            }
        }
    }

    private static async Task<CaseResult> RunCaseAsync(ConformanceCase testCase, CaseContext context)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await testCase.Run(context);
            return new(testCase.Name, testCase.Rule, CaseOutcome.Pass, "ok", clock.Elapsed, testCase.Level);
        }
        catch (ViolationException ex)
        {
            return new(testCase.Name, testCase.Rule, testCase.Level == RuleLevel.Should ? CaseOutcome.Warn : CaseOutcome.Fail, ex.Message, clock.Elapsed, testCase.Level);
        }
        catch (CaseSkippedException ex)
        {
            return new(testCase.Name, testCase.Rule, CaseOutcome.Skip, ex.Message, clock.Elapsed, testCase.Level);
        }
    }

    /// <summary>HELLO decides which extension cases run; either answer is conformant, anything else is not.</summary>
    /// <summary>§6c: CAPS, which HELLO_OK has no room to list, asked as a gateway asks it; ERR BAD_COMMAND means none.</summary>
    private static async Task<AgentCapabilities> AskCapsAsync(AgentProbe probe, AgentCapabilities capabilities, CancellationToken ct)
    {
        var reply = await probe.RequestAsync(AgentVerbs.Caps, ct);
        if (reply.Verb == AgentVerbs.CapsOk)
        {
            return capabilities.WithCaps(reply);
        }
        if (reply.Verb != AgentVerbs.Err || reply[AgentKeys.Code] != AgentErrorCodes.BadCommand)
        {
            throw new ViolationException($"§6c CAPS must be answered CAPS_OK, or ERR code=BAD_COMMAND by an agent without it; got '{reply}'");
        }
        return capabilities;
    }

    private static async Task<(AgentCapabilities, CaseResult)> HelloAsync(AgentProbe probe, byte[]? linkKey, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        const string rule = "§6 HELLO";
        try
        {
            var reply = await probe.RequestAsync("HELLO proto=1", ct);
            if (reply.Verb == AgentVerbs.HelloOk)
            {
                var missing = HelloKeys.Where(k => !reply.Has(k)).ToList();
                if (missing.Count == 0 && reply[AgentKeys.Extensions] is { } offered && offered.Split(',').Contains(LinkAuth.Extension))
                {
                    // §6a: the suite drives the agent as a gateway would, so it proves the key first.
                    try
                    {
                        await AuthCases.AuthenticateAsync(probe, reply, linkKey, ct);
                    }
                    catch (ViolationException ex)
                    {
                        return (AgentCapabilities.FromHello(reply), new("hello", rule, CaseOutcome.Fail, ex.Message, clock.Elapsed));
                    }
                }
                return missing.Count == 0
                    ? (await AskCapsAsync(probe, AgentCapabilities.FromHello(reply), ct), new("hello", rule, CaseOutcome.Pass, $"extensions: {reply[AgentKeys.Extensions]}", clock.Elapsed))
                    : (AgentCapabilities.FromHello(reply), new("hello", rule, CaseOutcome.Fail, $"{rule}: HELLO_OK lacks {string.Join(", ", missing)}; got '{reply}'", clock.Elapsed));
            }
            if (reply.Verb == AgentVerbs.Err && reply[AgentKeys.Code] == "BAD_COMMAND")
            {
                return (AgentCapabilities.Baseline, new("hello", rule, CaseOutcome.Pass, "seed-baseline agent (HELLO answered ERR code=BAD_COMMAND): extension cases are skipped", clock.Elapsed));
            }
            return (AgentCapabilities.Baseline, new("hello", rule, CaseOutcome.Fail, $"{rule}: HELLO must be answered HELLO_OK or ERR code=BAD_COMMAND; got '{reply}'", clock.Elapsed));
        }
        catch (ViolationException ex)
        {
            return (AgentCapabilities.Baseline, new("hello", rule, CaseOutcome.Fail, ex.Message, clock.Elapsed));
        }
    }
}

public sealed record ConformanceReport(string Endpoint, AgentCapabilities Capabilities, IReadOnlyList<CaseResult> Results)
{
    public int Passed => Results.Count(r => r.Outcome == CaseOutcome.Pass);

    public int Failed => Results.Count(r => r.Outcome == CaseOutcome.Fail);

    public int Skipped => Results.Count(r => r.Outcome == CaseOutcome.Skip);

    /// <summary>SHOULD rules the agent does not follow: reported, not failed.</summary>
    public int Warned => Results.Count(r => r.Outcome == CaseOutcome.Warn);
}
