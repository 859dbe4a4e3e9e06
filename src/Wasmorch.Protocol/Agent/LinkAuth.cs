using System.Security.Cryptography;
using System.Text;

namespace Wasmorch.Protocol.Agent;

/// <summary>
/// The AUTH extension (docs/protocol.md §6a): a challenge-response over a shared link key, so that
/// only a peer holding the key may drive an agent, and the key itself never crosses the link. Both
/// sides prove themselves: the gateway with <see cref="GatewayMac"/> over the agent's nonce, the
/// agent with <see cref="AgentMac"/> over the gateway's. HMAC-SHA256; nonces are 16 random bytes,
/// MACs 32 bytes, both in lower-case hex.
/// </summary>
public static class LinkAuth
{
    public const string Extension = "AUTH";
    public const string NonceKey = "auth_nonce";
    public const int NonceBytes = 16;
    public const int KeyBytes = 32;

    public static string GatewayMac(ReadOnlySpan<byte> key, string agentNonce, string gatewayNonce) =>
        Mac(key, $"wasmorch-link-v1 gateway {agentNonce} {gatewayNonce}");

    public static string AgentMac(ReadOnlySpan<byte> key, string agentNonce, string gatewayNonce) =>
        Mac(key, $"wasmorch-link-v1 agent {gatewayNonce} {agentNonce}");

    public static string NewNonce() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(NonceBytes));

    /// <summary>Constant-time comparison of two hex MACs (a wrong one takes as long to refuse as a nearly right one).</summary>
    public static bool Equal(string? expected, string? given) =>
        expected is not null && given is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(given));

    /// <summary>
    /// The peer's side of the handshake, one object per attempt: the AUTH line answering
    /// <paramref name="agentNonce"/> with a fresh nonce of the peer's, and the check of AUTH_OK.
    /// </summary>
    public static Challenge Answer(byte[] key, string agentNonce) => new(key, agentNonce, NewNonce());

    public sealed class Challenge
    {
        private readonly byte[] _key;
        private readonly string _agentNonce;
        private readonly string _nonce;

        internal Challenge(byte[] key, string agentNonce, string nonce)
        {
            _key = key;
            _agentNonce = agentNonce;
            _nonce = nonce;
        }

        /// <summary><c>AUTH nonce=&lt;ours&gt; mac=&lt;proof we hold the key&gt;</c>.</summary>
        public AgentLineBuilder Command =>
            new AgentLineBuilder(AgentVerbs.Auth).Add(AgentKeys.Nonce, _nonce).Add(AgentKeys.Mac, GatewayMac(_key, _agentNonce, _nonce));

        /// <summary>True when <paramref name="reply"/> is AUTH_OK with the agent's proof that it holds the key too.</summary>
        public bool ProvedBy(AgentLine reply) =>
            reply.Verb == AgentVerbs.AuthOk && Equal(AgentMac(_key, _agentNonce, _nonce), reply[AgentKeys.Mac]);
    }

    private static string Mac(ReadOnlySpan<byte> key, string message) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(message)));
}
