using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Wasmorch.Conformance.Tests;

/// <summary>
/// A deliberately broken agent: a real emulated board behind a relay that rewrites (or drops) the
/// board's lines with one targeted violation of the spec. What reaches the agent is untouched.
/// </summary>
public sealed class ViolatingAgent : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstream;
    private readonly Func<string, string?> _rewrite;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>A rewrite returning this resets the suite's connection (TCP RST) instead of sending a line.</summary>
    public const string Reset = "\u0000RESET";

    /// <param name="rewrite">Maps each line the board sends to what the suite sees; null drops it; <see cref="Reset"/> resets the link.</param>
    public ViolatingAgent(int upstream, Func<string, string?> rewrite)
    {
        _upstream = upstream;
        _rewrite = rewrite;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var board = new TcpClient();
                await board.ConnectAsync(IPAddress.Loopback, _upstream, _stop.Token);
                _ = PumpRawAsync(client.GetStream(), board.GetStream());
                _ = PumpLinesAsync(board.GetStream(), client.GetStream(), client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task PumpRawAsync(Stream from, Stream to)
    {
        try
        {
            await from.CopyToAsync(to, _stop.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Either side closed.
        }
        await to.DisposeAsync();
    }

    private async Task PumpLinesAsync(Stream from, Stream to, TcpClient suite)
    {
        // Latin-1 both ways: every byte passes through as itself, so a rewrite can put a non-ASCII byte on the wire.
        using var reader = new StreamReader(from, Encoding.Latin1);
        try
        {
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var rewritten = _rewrite(line);
                if (rewritten == Reset)
                {
                    suite.Client.LingerState = new LingerOption(true, 0);
                    suite.Client.Close();
                    return;
                }
                if (rewritten is { } sent)
                {
                    await to.WriteAsync(Encoding.Latin1.GetBytes(sent + "\n"), _stop.Token);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Either side closed.
        }
        await to.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _stop.Dispose();
    }
}
