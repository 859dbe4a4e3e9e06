using System.Net.Sockets;
using System.Text;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Testing;

/// <summary>
/// A raw agent-protocol peer over TCP, speaking only bytes and lines as a seed-baseline gateway
/// would. Each read has a deadline so that a broken agent fails a test instead of hanging it.
/// </summary>
public sealed class AgentClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly List<byte> _pending = [];

    private AgentClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public System.Net.EndPoint RemoteEndPoint => _tcp.Client.RemoteEndPoint!;

    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(10);

    public static async Task<AgentClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        return new AgentClient(tcp);
    }

    public Task SendLineAsync(string line) => SendRawAsync(Encoding.ASCII.GetBytes(line + "\n"));

    public async Task SendRawAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>BOOT lines the agent sent (§6), taken aside so that replies line up with requests.</summary>
    public List<string> Boots { get; } = [];

    /// <summary>The next line, without its terminator; BOOT lines are taken aside into <see cref="Boots"/>.</summary>
    public async Task<string> ReadLineAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var line = await ReadAnyLineAsync(timeout);
            if (line.StartsWith("BOOT ", StringComparison.Ordinal))
            {
                Boots.Add(line);
                continue;
            }
            return line;
        }
    }

    private async Task<string> ReadAnyLineAsync(TimeSpan? timeout) =>
        Encoding.ASCII.GetString(await ReadLineBytesAsync(timeout)).TrimEnd('\r');

    /// <summary>The next line exactly as sent, without its LF (a CR stays), BOOT lines included.</summary>
    public async Task<byte[]> ReadLineBytesAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            var newline = _pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _pending.GetRange(0, newline).ToArray();
                _pending.RemoveRange(0, newline + 1);
                return line;
            }
            var buffer = new byte[1024];
            int read;
            try
            {
                read = await _stream.ReadAsync(buffer, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no line within {(timeout ?? DefaultTimeout).TotalMilliseconds} ms");
            }
            if (read == 0)
            {
                throw new EndOfStreamException("agent closed the connection");
            }
            _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    public async Task<AgentLine> ReadParsedAsync(TimeSpan? timeout = null)
    {
        var text = await ReadLineAsync(timeout);
        return AgentLineParser.TryParse(Encoding.ASCII.GetBytes(text), out var line, out var error)
            ? line!
            : throw new FormatException($"agent sent an unparseable line '{text}': {error}");
    }

    /// <summary>Sends a command and reads the next line.</summary>
    public async Task<AgentLine> RequestAsync(string line)
    {
        await SendLineAsync(line);
        return await ReadParsedAsync();
    }

    /// <summary>Reads lines until one with <paramref name="verb"/> arrives (skipping e.g. LOG lines).</summary>
    public async Task<AgentLine> ReadUntilAsync(string verb, TimeSpan? timeout = null)
    {
        while (true)
        {
            var line = await ReadParsedAsync(timeout);
            if (line.Verb == verb)
            {
                return line;
            }
        }
    }

    /// <summary>HELLO, then AUTH with <paramref name="key"/> (docs/protocol.md §6a); returns HELLO_OK after checking the agent's proof.</summary>
    public async Task<AgentLine> AuthenticateAsync(byte[] key)
    {
        var hello = await RequestAsync("HELLO proto=1");
        var agentNonce = hello[LinkAuth.NonceKey] ?? throw new InvalidOperationException($"no {LinkAuth.NonceKey} in '{hello}'");
        var challenge = LinkAuth.Answer(key, agentNonce);
        var ok = await RequestAsync(challenge.Command.ToString());
        if (!challenge.ProvedBy(ok))
        {
            throw new InvalidOperationException($"AUTH failed: '{ok}'");
        }
        return hello;
    }

    /// <summary>The full LOAD handshake; returns the final line (LOAD_OK, LOAD_ERR or ERR).</summary>
    public async Task<AgentLine> LoadAsync(string moduleId, byte[] module, uint? crc = null)
    {
        var ready = await RequestAsync($"LOAD module_id={moduleId} size={module.Length} crc32={Crc32Hex.Format(crc ?? Crc32Hex.Compute(module))}");
        if (ready.Verb != "LOAD_READY")
        {
            return ready;
        }
        await SendRawAsync(module);
        return await ReadParsedAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
