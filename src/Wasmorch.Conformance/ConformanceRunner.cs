using Wasmorch.Protocol.Agent;
using System.Diagnostics;
using Wasmorch.Conformance.Cases;
using Wasmorch.Transport;

namespace Wasmorch.Conformance;

/// <summary>
/// Runs the suite against one agent over any link, case by case, on one connection (a UART has
/// no other). After each case the link is resynchronised with STATUS so that one failure does not
/// cascade; if the agent stops answering altogether, the remaining cases fail saying so.
/// </summary>
public sealed class ConformanceRunner
{
    private static readonly string[] HelloKeys = ["proto", "agent", "board", "runtime", "modes", "max_module", "extensions"];

    private readonly IDeviceLink _link;

    public ConformanceRunner(IDeviceLink link) => _link = link;

    public static IReadOnlyList<ConformanceCase> Cases { get; } =
        [.. LineCases.All, .. LoadCases.All, .. JobCases.All, .. ExtensionCases.All];

    public async Task<ConformanceReport> RunAsync(Func<string, bool>? filter, Action<CaseResult>? progress, CancellationToken ct)
    {
        var results = new List<CaseResult>();
        await using var probe = new AgentProbe(await _link.OpenAsync(ct));
        var (capabilities, hello) = await HelloAsync(probe, ct);
        results.Add(hello);
        progress?.Invoke(hello);
        var alive = hello.Outcome != CaseOutcome.Fail || await probe.ResyncAsync(ct);
        foreach (var testCase in Cases.Where(c => filter is null || filter(c.Name)))
        {
            CaseResult result;
            if (!alive)
            {
                result = new(testCase.Name, testCase.Rule, CaseOutcome.Fail, "not run: the agent stopped answering STATUS after an earlier case", TimeSpan.Zero);
            }
            else if (testCase.Requires is { } needed && !capabilities.Offers(needed))
            {
                result = new(testCase.Name, testCase.Rule, CaseOutcome.Skip, $"the agent does not offer {needed} in HELLO_OK", TimeSpan.Zero);
            }
            else
            {
                result = await RunCaseAsync(testCase, new CaseContext(probe, capabilities, ct));
                alive = await probe.ResyncAsync(ct);
            }
            results.Add(result);
            progress?.Invoke(result);
        }
        if (alive && capabilities.Offers(AgentCapabilities.Unload))
        {
            await CleanUpAsync(probe, ct);
        }
        return new ConformanceReport(_link.Description, capabilities, results);
    }

    /// <summary>Leaves the board as it was found: the suite's modules (cf_*) are unloaded where UNLOAD is offered.</summary>
    private static async Task CleanUpAsync(AgentProbe probe, CancellationToken ct)
    {
        try
        {
            var status = await probe.RequestAsync(AgentVerbs.Status, ct);
            foreach (var id in (status[AgentKeys.Modules] ?? string.Empty).Split(',').Where(m => m.StartsWith("cf_", StringComparison.Ordinal)))
            {
                await probe.RequestAsync($"UNLOAD module_id={id}", ct);
            }
        }
        catch (ViolationException)
        {
            // Clean-up is a courtesy; the report is already complete.
        }
    }

    private static async Task<CaseResult> RunCaseAsync(ConformanceCase testCase, CaseContext context)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await testCase.Run(context);
            return new(testCase.Name, testCase.Rule, CaseOutcome.Pass, "ok", clock.Elapsed);
        }
        catch (ViolationException ex)
        {
            return new(testCase.Name, testCase.Rule, CaseOutcome.Fail, ex.Message, clock.Elapsed);
        }
    }

    /// <summary>HELLO decides which extension cases run; either answer is conformant, anything else is not.</summary>
    private static async Task<(AgentCapabilities, CaseResult)> HelloAsync(AgentProbe probe, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        const string rule = "§6 HELLO";
        try
        {
            var reply = await probe.RequestAsync("HELLO proto=1", ct);
            if (reply.Verb == AgentVerbs.HelloOk)
            {
                var missing = HelloKeys.Where(k => !reply.Has(k)).ToList();
                return missing.Count == 0
                    ? (AgentCapabilities.FromHello(reply), new("hello", rule, CaseOutcome.Pass, $"extensions: {reply[AgentKeys.Extensions]}", clock.Elapsed))
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
}
