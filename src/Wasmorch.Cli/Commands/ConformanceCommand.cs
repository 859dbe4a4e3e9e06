using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Wasmorch.Cli.Client;
using Wasmorch.Conformance;
using Wasmorch.Transport;

namespace Wasmorch.Cli.Commands;

/// <summary><c>wasmorch conformance tcp://host:port</c>: checks any agent against docs/protocol.md.</summary>
public static class ConformanceCommand
{
    public static Command Create(GlobalOptions global)
    {
        var endpoint = new Argument<string>("endpoint") { Description = "The agent: tcp://host:port or serial:///dev/ttyX?baud=N" };
        var only = new Option<string[]>("--case") { Description = "Run only cases whose name contains this; repeatable" };
        var list = new Option<bool>("--list") { Description = "List the cases and the rules they check, then exit" };
        var linkKey = new Option<string>("--link-key") { Description = "The agent's link key file, for agents that require AUTH (default ~/.config/wasmorch/link.key when it exists; \"off\" for none, as for emulate and gateway)" };
        var command = new Command("conformance", "Check an agent against the protocol spec, case by case: PASS, FAIL (a MUST rule broken), WARN (a SHOULD rule), SKIP") { endpoint, only, list, linkKey };
        global.Takes(command, GlobalUse.Json);
        command.SetAction(async (pr, ct) =>
        {
            if (pr.GetValue(list))
            {
                foreach (var c in ConformanceRunner.Cases)
                {
                    Console.WriteLine($"{c.Name,-32} {c.Level.ToString().ToUpperInvariant(),-6} {c.Rule}{(c.Requires is null ? "" : $" (needs {c.Requires})")}");
                }
                return ExitCodes.Ok;
            }
            if (!DeviceEndpoint.TryParse(pr.GetValue(endpoint)!, out var parsed, out var error))
            {
                await Console.Error.WriteLineAsync($"error: {error}");
                return ExitCodes.Usage;
            }
            var filters = pr.GetValue(only) ?? [];
            var json = pr.GetValue(global.Json);
            byte[]? agentKey = null;
            var named = pr.GetValue(linkKey);
            var keyPath = named ?? LinkKeyFile.DefaultPath();
            if (named is not null && named != "off" && !File.Exists(named))
            {
                // Named on purpose: going on without it would test a different agent set-up than asked.
                await Console.Error.WriteLineAsync($"error: link key {named} does not exist (give the agent's key file, or \"off\" for an agent without AUTH)");
                return ExitCodes.Usage;
            }
            if (named is not "off" && (named is not null || File.Exists(keyPath)))
            {
                try
                {
                    agentKey = LinkKeyFile.Load(keyPath);
                }
                catch (LinkKeyException ex)
                {
                    await Console.Error.WriteLineAsync($"error: {ex.Message}");
                    return ExitCodes.Usage;
                }
            }
            var runner = new ConformanceRunner(DeviceLinks.Create(parsed, TimeSpan.FromSeconds(5)), agentKey);
            ConformanceReport report;
            try
            {
                report = await runner.RunAsync(
                    filters.Length == 0 ? null : name => filters.Any(f => name.Contains(f, StringComparison.Ordinal)),
                    json ? null : Print,
                    ct);
            }
            catch (LinkUnavailableException ex)
            {
                await Console.Error.WriteLineAsync($"error: DEVICE_UNREACHABLE: {TerminalText.Line(ex.Message)}");
                return ExitCodes.DeviceUnavailable;
            }
            if (json)
            {
                var agent = new JsonObject();
                foreach (var (key, value) in report.Capabilities.Fields)
                {
                    agent[key] = value;
                }
                var cases = new JsonArray();
                foreach (var r in report.Results)
                {
                    cases.Add((JsonNode)new JsonObject
                    {
                        ["name"] = r.Name,
                        ["rule"] = r.Rule,
                        ["level"] = r.Level.ToString().ToUpperInvariant(),
                        ["outcome"] = r.Outcome.ToString().ToUpperInvariant(),
                        ["message"] = r.Message,
                        ["ms"] = Math.Round(r.Elapsed.TotalMilliseconds, 1),
                    });
                }
                // Built as a JSON tree, not serialized by reflection: the CLI is published with Native AOT.
                Console.WriteLine(new JsonObject
                {
                    ["endpoint"] = report.Endpoint,
                    ["agent"] = agent,
                    ["passed"] = report.Passed,
                    ["failed"] = report.Failed,
                    ["warned"] = report.Warned,
                    ["skipped"] = report.Skipped,
                    ["cases"] = cases,
                }.ToJsonString());
            }
            else
            {
                Console.WriteLine($"{report.Endpoint}: {report.Passed} passed, {report.Failed} failed (MUST), {report.Warned} warnings (SHOULD), {report.Skipped} skipped");
            }
            return report.Failed == 0 ? ExitCodes.Ok : ExitCodes.ConformanceFailed;
        });
        return command;
    }

    private static void Print(CaseResult result)
    {
        var outcome = result.Outcome.ToString().ToUpperInvariant();
        var ms = result.Elapsed.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
        Console.WriteLine(result.Outcome == CaseOutcome.Pass
            ? $"{outcome,-4}  {result.Name,-32} {ms,6} ms"
            : $"{outcome,-4}  {result.Name,-32} {TerminalText.Line(result.Message)}");
    }
}
