using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Wasmorch.Fleet;

/// <summary>Who may have signed a fleet message (docs/fleet.md, Zero trust).</summary>
public enum FleetSigners
{
    /// <summary>A gateway of the fleet (claims, replies, records, artifacts).</summary>
    Gateways,

    /// <summary>A gateway or an operator (forwarded requests, desired state, rollout coordination).</summary>
    GatewaysOrOperators,
}

/// <summary>A fleet message whose signature was checked: who signed it, when, and what it carries.</summary>
public readonly record struct FleetOpened(string Signer, bool IsOperator, DateTimeOffset Issued, byte[] Payload);

/// <summary>A fleet message refused: unsigned, signed by a key the fleet does not trust, stale, or replayed.</summary>
public sealed class FleetTrustException(string message) : Exception(message);

/// <summary>
/// Signs and checks every payload a gateway puts on NATS or reads from it, so that NATS access alone
/// controls nothing (docs/security.md). An envelope is one line of text and the payload:
/// <c>WFE1 &lt;signer&gt; &lt;issued unix ms&gt; &lt;nonce&gt; &lt;signature&gt;\n&lt;payload&gt;</c>, the Ed25519
/// signature (the same NSec Ed25519 as module signing) over the version, a binding (the subject, KV key
/// or object it is meant for, so it cannot be replayed elsewhere), the signer, the time, the nonce and
/// the payload. A fleet without keys (<see cref="WithoutKeys"/>, only with the development flag) passes
/// payloads through as they are.
/// </summary>
public sealed class FleetTrust : IDisposable
{
    private const string Version = "WFE1";
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;

    /// <summary>How far a request's or reply's time may be from this clock: older (or later) ones are refused ([fleet] trust_window_ms).</summary>
    public TimeSpan Window { get; }

    private readonly Key? _key;
    private readonly Dictionary<string, PublicKey> _gateways;
    private readonly Dictionary<string, PublicKey> _operators;

    /// <summary>Nonces seen inside the window (signer/nonce → until when they are kept): a request is served once.</summary>
    private readonly ConcurrentDictionary<string, long> _seen = new(StringComparer.Ordinal);

    private FleetTrust(string? signer, Key? key, Dictionary<string, PublicKey> gateways, Dictionary<string, PublicKey> operators, TimeSpan window)
    {
        Window = window;
        Signer = signer;
        _key = key;
        _gateways = gateways;
        _operators = operators;
    }

    /// <summary>No keys: payloads unsigned and taken unchecked. Only for the development flag (docs/fleet.md).</summary>
    public static FleetTrust WithoutKeys { get; } = new(null, null, [], [], Gateway.Fleet.FleetTimings.Default.TrustWindow);

    /// <summary>This side's signer name (a gateway's name, or an operator's); null when <see cref="IsUnsigned"/>.</summary>
    public string? Signer { get; }

    public bool IsUnsigned => _key is null;

    /// <summary>
    /// The trust of <paramref name="keyFile"/>'s holder (a file <c>&lt;name&gt;:&lt;base64 private key&gt;</c>,
    /// written by <c>wasmorch fleet init</c>) in a fleet whose gateways and operators have these public keys;
    /// fresh messages are those within <paramref name="window"/> of this clock (null: the default, 60 s).
    /// </summary>
    public static FleetTrust Load(string keyFile, IReadOnlyDictionary<string, string> gateways, IReadOnlyDictionary<string, string> operators, TimeSpan? window = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(keyFile).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FleetTrustException($"cannot read the fleet key file '{keyFile}': {ex.Message}");
        }
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var raw = new byte[32];
        if (colon <= 0 || !NatsFleet.IsValidName(text[..colon])
            || !Convert.TryFromBase64String(text[(colon + 1)..], raw, out var written) || written != 32)
        {
            throw new FleetTrustException($"the fleet key file '{keyFile}' is not '<name>:<base64 Ed25519 private key>' (wasmorch fleet init writes one)");
        }
        var key = Key.Import(Ed25519, raw, KeyBlobFormat.RawPrivateKey);
        return new FleetTrust(text[..colon], key, Import(gateways, "trusted_gateways"), Import(operators, "trusted_operators"), window ?? Gateway.Fleet.FleetTimings.Default.TrustWindow);
    }

    private static Dictionary<string, PublicKey> Import(IReadOnlyDictionary<string, string> keys, string what)
    {
        var imported = new Dictionary<string, PublicKey>(StringComparer.Ordinal);
        foreach (var (name, text) in keys)
        {
            var raw = new byte[32];
            if (!NatsFleet.IsValidName(name) || !Convert.TryFromBase64String(text.Trim(), raw, out var written) || written != 32
                || !PublicKey.TryImport(Ed25519, raw, KeyBlobFormat.RawPublicKey, out var key))
            {
                throw new FleetTrustException($"[fleet] {what}: '{name}' is not a fleet name (A-Z a-z 0-9 _ -) with a base64 Ed25519 public key");
            }
            imported[name] = key!;
        }
        return imported;
    }

    /// <summary>A new key for <paramref name="name"/>: the key file's text and the public key (base64) for the others' trust lists.</summary>
    public static (string KeyFileText, string PublicKey) CreateKey(string name)
    {
        var (privateKey, publicKey) = Gateway.Signing.ModuleSignatures.CreateKeyPair();
        return ($"{name}:{privateKey}\n", publicKey);
    }

    /// <summary>
    /// <paramref name="payload"/> signed by this side for <paramref name="binding"/> (unchanged when
    /// unsigned), issued now unless <paramref name="issuedAt"/> says otherwise (a test's old message).
    /// </summary>
    public byte[] Seal(string binding, ReadOnlySpan<byte> payload, DateTimeOffset? issuedAt = null)
    {
        if (_key is null)
        {
            return payload.ToArray();
        }
        var issued = (issuedAt ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var signature = Convert.ToBase64String(Ed25519.Sign(_key, Signed(binding, Signer!, issued, nonce, payload)));
        var header = Encoding.ASCII.GetBytes($"{Version} {Signer} {issued} {nonce} {signature}\n");
        return [.. header, .. payload];
    }

    /// <summary>
    /// The payload of <paramref name="envelope"/>, if it is signed for <paramref name="binding"/> by a
    /// key of <paramref name="signers"/> (and by <paramref name="expected"/> when given), and, when
    /// <paramref name="fresh"/>, issued within <see cref="Window"/> and not seen before.
    /// </summary>
    public FleetOpened Open(string binding, ReadOnlySpan<byte> envelope, FleetSigners signers, string? expected = null, bool fresh = true)
    {
        if (_key is null)
        {
            return envelope.StartsWith(Encoding.ASCII.GetBytes(Version + " "))
                ? throw new FleetTrustException("this fleet signs its messages and this side has no fleet keys ([fleet] key_file, or ?keys=ops.toml for the CLI; docs/fleet.md)")
                : new FleetOpened(expected ?? "unsigned", false, DateTimeOffset.UtcNow, envelope.ToArray());
        }
        var end = envelope[..Math.Min(envelope.Length, 256)].IndexOf((byte)'\n');
        var parts = end < 0 ? [] : Encoding.ASCII.GetString(envelope[..end]).Split(' ');
        if (parts is not [Version, var signer, var issuedText, var nonce, var signatureText])
        {
            throw new FleetTrustException("unsigned (no fleet envelope)");
        }
        var isOperator = !_gateways.TryGetValue(signer, out var key);
        if (isOperator && (signers != FleetSigners.GatewaysOrOperators || !_operators.TryGetValue(signer, out key)))
        {
            throw new FleetTrustException($"signed by '{Shown(signer)}', whose key this fleet does not trust");
        }
        if (expected is not null && signer != expected)
        {
            throw new FleetTrustException($"signed by '{signer}', but it speaks for '{Shown(expected)}'");
        }
        var signature = new byte[64];
        if (!long.TryParse(issuedText, NumberStyles.None, CultureInfo.InvariantCulture, out var issuedMs)
            || !Convert.TryFromBase64String(signatureText, signature, out var written) || written != 64)
        {
            throw new FleetTrustException("a malformed fleet envelope");
        }
        var payload = envelope[(end + 1)..];
        if (!Ed25519.Verify(key!, Signed(binding, signer, issuedText, nonce, payload), signature))
        {
            throw new FleetTrustException($"a bad signature (claimed signer '{signer}'), or meant for another subject");
        }
        var issued = DateTimeOffset.FromUnixTimeMilliseconds(issuedMs);
        if (fresh)
        {
            var now = DateTimeOffset.UtcNow;
            if ((now - issued).Duration() > Window)
            {
                throw new FleetTrustException($"stale: signed by '{signer}' at {issued:O}, outside the {Window.TotalSeconds:0.#} s window");
            }
            Forget(now.ToUnixTimeMilliseconds());
            if (!_seen.TryAdd($"{signer}/{nonce}", issuedMs + (long)Window.TotalMilliseconds))
            {
                throw new FleetTrustException($"a replay of a message signed by '{signer}' at {issued:O}");
            }
        }
        return new FleetOpened(signer, isOperator, issued, payload.ToArray());
    }

    private long _nextForget;

    /// <summary>Drops the nonces that left the window (whose replays the time check refuses by itself).</summary>
    private void Forget(long nowMs)
    {
        if (nowMs < Interlocked.Read(ref _nextForget))
        {
            return;
        }
        Interlocked.Exchange(ref _nextForget, nowMs + 5_000);
        foreach (var (nonce, until) in _seen)
        {
            if (until < nowMs - (long)Window.TotalMilliseconds)
            {
                _seen.TryRemove(nonce, out _);
            }
        }
    }

    /// <summary>A name from the wire, made safe to print (it was not checked yet).</summary>
    private static string Shown(string name) => NatsFleet.IsValidName(name) ? name : "(not a fleet name)";

    private static byte[] Signed(string binding, string signer, string issued, string nonce, ReadOnlySpan<byte> payload) =>
        [.. Encoding.UTF8.GetBytes($"{Version}\n{binding}\n{signer}\n{issued}\n{nonce}\n"), .. payload];

    public void Dispose() => _key?.Dispose();
}
