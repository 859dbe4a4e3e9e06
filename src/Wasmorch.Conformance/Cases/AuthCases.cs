using Wasmorch.Protocol.Agent;
using static Wasmorch.Conformance.CaseContext;

namespace Wasmorch.Conformance.Cases;

/// <summary>§6a AUTH: the link key's challenge-response, for agents that offer it.</summary>
public static class AuthCases
{
    private const string Rule = "§6a AUTH";

    public static IReadOnlyList<ConformanceCase> All { get; } =
    [
        new("auth_wrong_key_refused", Rule, async c =>
        {
            var hello = await c.RequestAsync("HELLO proto=1");
            var nonce = hello[LinkAuth.NonceKey];
            Expect(nonce is { Length: LinkAuth.NonceBytes * 2 }, Rule, $"HELLO_OK of an agent offering AUTH carries {LinkAuth.NonceKey}=<32 hex digits>", hello);
            var wrong = LinkAuth.GatewayMac(new byte[LinkAuth.KeyBytes], nonce!, new string('0', LinkAuth.NonceBytes * 2));
            var refused = await c.RequestAsync($"AUTH nonce={new string('0', LinkAuth.NonceBytes * 2)} mac={wrong}");
            ExpectVerb(refused, AgentVerbs.Err, "§6a AUTH with a MAC made with another key is refused", AgentErrorCodes.Unauthorized);
            var again = await c.RequestAsync($"AUTH nonce={new string('1', LinkAuth.NonceBytes * 2)} mac={wrong}");
            ExpectVerb(again, AgentVerbs.Err, "§6a a nonce answers one AUTH only: the next needs a new HELLO", AgentErrorCodes.Unauthorized);
            // Leave the link as the suite found it: authenticated again.
            var renewed = await c.RequestAsync("HELLO proto=1");
            await AuthenticateAsync(c.Probe, renewed, c.LinkKey, c.Ct);
        }, Requires: LinkAuth.Extension),
        new("auth_fresh_nonce_per_hello", Rule, async c =>
        {
            var first = (await c.RequestAsync("HELLO proto=1"))[LinkAuth.NonceKey];
            var second = await c.RequestAsync("HELLO proto=1");
            Expect(first is not null && second[LinkAuth.NonceKey] is { } nonce && nonce != first, Rule, "every HELLO_OK carries a fresh auth_nonce", second);
            await AuthenticateAsync(c.Probe, second, c.LinkKey, c.Ct);
        }, Requires: LinkAuth.Extension),
    ];

    /// <summary>AUTH against <paramref name="hello"/>'s nonce, checking the agent's proof in AUTH_OK.</summary>
    public static async Task AuthenticateAsync(AgentProbe probe, AgentLine hello, byte[]? key, CancellationToken ct)
    {
        if (key is null)
        {
            throw new ViolationException("the agent offers AUTH and refuses commands until it is authenticated: give its link key (--link-key)");
        }
        var agentNonce = hello[LinkAuth.NonceKey] ?? throw new ViolationException($"{Rule}: HELLO_OK offers AUTH without {LinkAuth.NonceKey}; got '{hello}'");
        var challenge = LinkAuth.Answer(key, agentNonce);
        var reply = await probe.RequestAsync(challenge.Command.ToString(), ct);
        ExpectVerb(reply, AgentVerbs.AuthOk, $"{Rule}: AUTH with the link key is answered AUTH_OK (is --link-key this agent's key?)");
        Expect(challenge.ProvedBy(reply), Rule, "AUTH_OK's mac proves the agent holds the key", reply);
    }
}
