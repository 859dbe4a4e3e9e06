using NSec.Cryptography;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Signing;

/// <summary>
/// Ed25519 signatures on what a host deploys: the module's bytes for <c>deploy</c>, the source
/// text (UTF-8) for <c>build_and_deploy</c>. Devices marked <c>require_signed</c> take only content
/// signed by one of the trusted keys; a signature that is present is always checked.
/// </summary>
public sealed class ModuleSignatures
{
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;
    private readonly List<PublicKey> _trusted = [];

    public ModuleSignatures(IEnumerable<string> trustedKeys)
    {
        foreach (var text in trustedKeys)
        {
            if (!TryDecode(text, 32, out var raw) || !PublicKey.TryImport(Ed25519, raw, KeyBlobFormat.RawPublicKey, out var key))
            {
                throw new Config.ConfigException($"[signing] trusted key '{text}' is not a base64 Ed25519 public key (32 bytes)");
            }
            _trusted.Add(key!);
        }
    }

    public int TrustedCount => _trusted.Count;

    /// <summary>Throws UNSIGNED or BAD_SIGNATURE, or returns whether the content was verified.</summary>
    public bool Check(ReadOnlySpan<byte> content, string? signature, bool required, string device)
    {
        if (signature is null)
        {
            return required
                ? throw new GatewayException(HostErrorCodes.NotSigned, $"device '{device}' takes only signed modules: sign with `wasmorch keygen` / --sign-key")
                : false;
        }
        if (!TryDecode(signature, 64, out var raw))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "signature must be 64 bytes of Ed25519 signature in base64");
        }
        foreach (var key in _trusted)
        {
            if (Ed25519.Verify(key, content, raw))
            {
                return true;
            }
        }
        throw new GatewayException(HostErrorCodes.BadSignature, _trusted.Count == 0
            ? "the module is signed, but this gateway trusts no keys ([signing] trusted_keys)"
            : "the signature does not match the content under any trusted key");
    }

    /// <summary>A new key pair, base64: (private for the signer's file, public for [signing] trusted_keys).</summary>
    public static (string Private, string Public) CreateKeyPair()
    {
        using var key = Key.Create(Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return (Convert.ToBase64String(key.Export(KeyBlobFormat.RawPrivateKey)), Convert.ToBase64String(key.Export(KeyBlobFormat.RawPublicKey)));
    }

    public static string Sign(string privateKey, ReadOnlySpan<byte> content)
    {
        if (!TryDecode(privateKey, 32, out var raw))
        {
            throw new ArgumentException("a signing key is 32 bytes of Ed25519 private key in base64 (from `wasmorch keygen`)");
        }
        using var key = Key.Import(Ed25519, raw, KeyBlobFormat.RawPrivateKey);
        return Convert.ToBase64String(Ed25519.Sign(key, content));
    }

    private static bool TryDecode(string text, int length, out byte[] bytes)
    {
        bytes = new byte[length];
        return Convert.TryFromBase64String(text.Trim(), bytes, out var written) && written == length;
    }
}
