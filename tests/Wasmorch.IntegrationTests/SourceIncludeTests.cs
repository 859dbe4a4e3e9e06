using System.Net;
using System.Net.Sockets;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 30 item 7: `run` and `watch` write the source's own headers into what they send, and the
/// gateway's diagnostics print what it compiled. An include that leads out of the source's folder
/// (an absolute path, .., a symlinked header or folder) would hand any readable file of the user's
/// machine to the gateway: it is refused naming the include, with exit 2, and not one byte reaches
/// the gateway (a listener here stands in for it and records what arrives).
/// </summary>
public sealed class SourceIncludeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wasmorch-include-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A folder holding <c>m.c</c> that includes <paramref name="include"/> after wasmorch.h.</summary>
    private string Source(string include)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "src")).FullName;
        var source = Path.Combine(folder, "m.c");
        File.WriteAllText(source, $"#include \"wasmorch.h\"\n#include \"{include}\"\nWASMORCH_EXPORT(\"f\") int32_t f(void) {{ return 1; }}\n");
        return source;
    }

    /// <summary>Runs the CLI against a listener standing in for the gateway; returns what it printed and every byte the listener received.</summary>
    private static async Task<(CliResult Result, int BytesSent)> RunAgainstListenerAsync(params string[] args)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var received = ReceiveAllAsync(listener);
        var result = await CliRunner.RunAsync($"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}", args);
        listener.Stop();
        return (result, await received);
    }

    private static async Task<int> ReceiveAllAsync(TcpListener listener)
    {
        var total = 0;
        try
        {
            while (true)
            {
                using var client = await listener.AcceptTcpClientAsync();
                var stream = client.GetStream();
                var buffer = new byte[4096];
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0)
                {
                    total += read;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The listener stopped once the CLI exited: every connection it made has been read to its end.
            return total;
        }
    }

    [Theory]
    [InlineData("run")]
    [InlineData("watch")]
    public async Task An_absolute_include_is_refused_naming_it_and_nothing_reaches_the_gateway(string command)
    {
        var (result, sent) = await RunAgainstListenerAsync("--device", "b1", command, Source("/etc/passwd"), "f");
        CliAssert.Exit(2, result);
        Assert.Contains("error: m.c:2: #include \"/etc/passwd\" is refused: it names a file outside the source's folder (an absolute path or ..)", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("root:", result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, sent);
    }

    [Fact]
    public async Task A_dot_dot_include_is_refused_even_when_the_file_exists()
    {
        File.WriteAllText(Path.Combine(_dir, "outside.h"), "#define SECRET 42\n");
        var (result, sent) = await RunAgainstListenerAsync("--device", "b1", "run", Source("../outside.h"), "f");
        CliAssert.Exit(2, result);
        Assert.Contains("error: m.c:2: #include \"../outside.h\" is refused: it names a file outside the source's folder", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, sent);
    }

    [Fact]
    public async Task A_header_symlinked_out_of_the_folder_is_refused_naming_where_it_leads()
    {
        var source = Source("host.h");
        File.CreateSymbolicLink(Path.Combine(_dir, "src", "host.h"), "/etc/hostname");
        var (result, sent) = await RunAgainstListenerAsync("--device", "b1", "run", source, "f");
        CliAssert.Exit(2, result);
        Assert.Contains("error: m.c:2: #include \"host.h\" is refused: it is a symbolic link to /etc/hostname, outside the source's folder", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, sent);
    }

    [Fact]
    public async Task A_header_under_a_symlinked_folder_leading_out_is_refused()
    {
        var source = Source("etc/hostname");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "src", "etc"), "/etc");
        var (result, sent) = await RunAgainstListenerAsync("--device", "b1", "run", source, "f");
        CliAssert.Exit(2, result);
        Assert.Contains("error: m.c:2: #include \"etc/hostname\" is refused: it is a symbolic link to /etc/hostname, outside the source's folder", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, sent);
    }
}
