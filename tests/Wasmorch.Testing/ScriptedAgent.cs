using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Wasmorch.Testing;

/// <summary>
/// An in-process agent whose answers a test scripts line by line: the way to show the gateway's
/// behaviour against agents that are slow, chatty, reordered or only seed-baseline.
/// </summary>
public sealed class ScriptedAgent : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, IEnumerable<string>> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];

    public ScriptedAgent(Func<string, IEnumerable<string>> answer)
    {
        _answer = answer;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections { get; private set; }

    public List<string> Received { get; } = [];

    /// <summary>Answer HELLO as a seed-baseline agent (ERR) without consulting the script.</summary>
    public bool AnswerHelloAsBaseline { get; init; } = true;

    /// <summary>
    /// Answers to the cancel line, by how many came before it on this agent (0 for the first);
    /// null, or an empty answer, means the usual one ERR.
    /// </summary>
    public Func<int, IReadOnlyList<string>>? CancelLineAnswers { get; init; }

    /// <summary>Cancel lines received so far.</summary>
    public int CancelLines => _cancelLines;

    private int _cancelLines;

    /// <summary>Lines to send as soon as a peer connects (a boot banner).</summary>
    public IReadOnlyList<string> Greeting { get; init; } = [];

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Connections++;
                lock (_connections)
                {
                    _connections.Add(ServeAsync(client));
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            try
            {
                foreach (var line in Greeting)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\n"), _stop.Token);
                }
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    if (line == "\u0018")
                    {
                        // The cancel line every gateway sends first (docs/protocol.md §1).
                        var answers = CancelLineAnswers?.Invoke(Interlocked.Increment(ref _cancelLines) - 1) ?? [];
                        foreach (var answer in answers.Count > 0 ? answers : ["ERR code=BAD_COMMAND msg=\"byte is not printable ASCII\""])
                        {
                            await stream.WriteAsync(Encoding.ASCII.GetBytes(answer + "\n"), _stop.Token);
                        }
                        continue;
                    }
                    lock (Received)
                    {
                        Received.Add(line);
                    }
                    var replies = AnswerHelloAsBaseline && line.StartsWith("HELLO", StringComparison.Ordinal)
                        ? ["ERR code=BAD_COMMAND msg=\"unknown command\""]
                        : _answer(line);
                    foreach (var reply in replies)
                    {
                        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply + "\n"), _stop.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The test ended the connection.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }
        await Task.WhenAll(connections);
        _stop.Dispose();
    }
}
