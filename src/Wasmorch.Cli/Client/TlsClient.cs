using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Wasmorch.Cli.Client;

/// <summary>
/// The CLI's side of TLS to the gateway: the certificate must chain to the system's trust store, or
/// to the certificates of <c>--tls-ca</c> (a private CA, or the gateway's self-signed certificate),
/// and name the host dialled.
/// </summary>
public static class TlsClient
{
    public const string TrustEnvironmentVariable = "WASMORCH_TLS_CA";

    public static async Task<Stream> AuthenticateAsync(Stream network, GatewayAddress address, string? trustedCertificates, CancellationToken ct)
    {
        var trusted = LoadTrusted(trustedCertificates ?? Environment.GetEnvironmentVariable(TrustEnvironmentVariable));
        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions { TargetHost = address.Host };
        string? rejection = null;
        if (trusted is not null)
        {
            options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                rejection = Check(certificate, errors, trusted);
                return rejection is null;
            };
        }
        try
        {
            await tls.AuthenticateAsClientAsync(options, ct);
            return tls;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            await tls.DisposeAsync();
            throw new GatewayUnreachableException(
                $"TLS with the gateway at {address} failed: {rejection ?? ex.Message}" +
                (trusted is null ? $" (a private or self-signed certificate needs --tls-ca <pem> or {TrustEnvironmentVariable})" : string.Empty));
        }
    }

    private static X509Certificate2Collection? LoadTrusted(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new GatewayUnreachableException($"cannot read the trusted certificates {path}: {ex.Message}");
        }
        return collection.Count > 0 ? collection : throw new GatewayUnreachableException($"{path} holds no PEM certificate");
    }

    /// <summary>Null when the gateway's certificate chains to <paramref name="trusted"/> and names the host; else why not.</summary>
    private static string? Check(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection trusted)
    {
        if (certificate is null)
        {
            return "the gateway sent no certificate";
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return "the gateway's certificate does not name the host dialled";
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf)
            ? null
            : "the gateway's certificate is not trusted by --tls-ca: " + string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()));
    }
}
