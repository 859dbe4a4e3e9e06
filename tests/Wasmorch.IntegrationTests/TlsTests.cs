using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>The host API over TLS: a gateway with a certificate, the CLI trusting it (or not).</summary>
public sealed class TlsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wasmorch-tls-").FullName;
    private SystemUnderTest _system = null!;

    private string CertPath => Path.Combine(_dir, "gateway.pem");

    private string KeyPath => Path.Combine(_dir, "gateway.key");

    public async Task InitializeAsync()
    {
        WriteSelfSigned(CertPath, KeyPath, "127.0.0.1");
        _system = new SystemUnderTest();
        _system.StartBoard("nucleo", 0);
        _system.GatewayArgs.AddRange(["--tls-cert", CertPath, "--tls-key", KeyPath]);
        _system.StartGateway();
        await Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    internal static void WriteSelfSigned(string certPath, string keyPath, string ip)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=wasmorch test gateway", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Parse(ip));
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
    }

    [Fact]
    public async Task The_cli_trusting_the_gateway_certificate_runs_commands_over_tls()
    {
        var status = await CliRunner.RunAsync($"tls://{_system.Gateway}", "--tls-ca", CertPath, "--device", "nucleo", "status");
        CliAssert.Exit(0, status);
        Assert.Contains("state=IDLE", status.Stdout, StringComparison.Ordinal);
        var deploy = await CliRunner.RunAsync($"tls://{_system.Gateway}", "--tls-ca", CertPath, "--device", "nucleo",
            "build-and-deploy", "--module-id", "math", "--source", RepoPaths.Module("math_ops.c"));
        CliAssert.Exit(0, deploy);
        var add = await CliRunner.RunWithEnvironmentAsync($"tls://{_system.Gateway}", new Dictionary<string, string> { ["WASMORCH_TLS_CA"] = CertPath },
            "--device", "nucleo", "start", "--module-id", "math", "--func-name", "add", "--func-args", "10,15", "--wait-result");
        CliAssert.Exit(0, add);
        Assert.Contains("value=25", add.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_untrusted_certificate_or_a_plain_client_is_refused_and_leaves_the_gateway_working()
    {
        var untrusted = await CliRunner.RunAsync($"tls://{_system.Gateway}", "--device", "nucleo", "status");
        CliAssert.Exit(3, untrusted);
        Assert.Contains("--tls-ca", untrusted.Stderr, StringComparison.Ordinal);

        var otherDir = Directory.CreateTempSubdirectory("wasmorch-tls-other-").FullName;
        try
        {
            WriteSelfSigned(Path.Combine(otherDir, "c.pem"), Path.Combine(otherDir, "c.key"), "127.0.0.1");
            var wrongCa = await CliRunner.RunAsync($"tls://{_system.Gateway}", "--tls-ca", Path.Combine(otherDir, "c.pem"), "--device", "nucleo", "status");
            CliAssert.Exit(3, wrongCa);
            Assert.Contains("not trusted by --tls-ca", wrongCa.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(otherDir, recursive: true);
        }

        var plain = await CliRunner.RunAsync(_system.Gateway, "--device", "nucleo", "status");
        Assert.NotEqual(0, plain.ExitCode);

        var after = await CliRunner.RunAsync($"tls://{_system.Gateway}", "--tls-ca", CertPath, "--device", "nucleo", "status");
        CliAssert.Exit(0, after);
    }
}
