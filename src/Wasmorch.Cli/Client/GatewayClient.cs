using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Client;

public sealed class GatewayUnreachableException : Exception
{
    public GatewayUnreachableException(string message)
        : base(message)
    {
    }

    public GatewayUnreachableException()
    {
    }

    public GatewayUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A host API connection: sends one request line, reads lines until the response with its id.</summary>
public sealed class GatewayClient : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly LineFramer _framer = new(HostJson.MaxRequestBytes);
    private long _nextId;

    private GatewayClient(Stream stream)
    {
        _stream = stream;
        _reader = PipeReader.Create(_stream);
    }

    /// <param name="trustedCertificates">For tls:// addresses: PEM file of the certificate(s) to trust (a private CA or the gateway's own self-signed one); null: the system's trust store.</param>
    public static async Task<GatewayClient> ConnectAsync(GatewayAddress address, CancellationToken ct, string? trustedCertificates = null)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await socket.ConnectAsync(address.Host, address.Port, deadline.Token);
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            socket.Dispose();
            throw new GatewayUnreachableException(
                $"cannot reach the gateway at {address}: {(ex is SocketException s ? s.Message : "no answer within 5 s")} (is `wasmorch gateway` running? set --gateway or {GatewayAddress.EnvironmentVariable})");
        }
        var network = new NetworkStream(socket, ownsSocket: true);
        if (!address.Tls)
        {
            return new GatewayClient(network);
        }
        return new GatewayClient(await TlsClient.AuthenticateAsync(network, address, trustedCertificates, deadline.Token));
    }

    /// <summary>Sends <paramref name="request"/> and returns its response with the round trip measured here.</summary>
    public async Task<(HostResponse Response, TimeSpan Latency)> SendAsync(HostRequest request, TimeSpan timeout, CancellationToken ct, Action<HostResponse>? onEvent = null)
    {
        request.Id = ++_nextId;
        var bytes = HostJson.Serialize(request);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        WarmUp();
        var clock = Stopwatch.StartNew();
        try
        {
            await _stream.WriteAsync(bytes, deadline.Token);
            await _stream.WriteAsync("\n"u8.ToArray(), deadline.Token);
            while (true)
            {
                var read = await _reader.ReadAsync(deadline.Token);
                var buffer = read.Buffer;
                HostResponse? response = null;
                while (response is null && _framer.TryRead(ref buffer, out var line) == FrameStatus.Line)
                {
                    // Id 0 is the gateway's answer to a request it could not read at all (too large, not JSON).
                    if (HostJson.TryParseResponse(line.ToArray(), out var parsed, out _) && (parsed!.Id == request.Id || (parsed.Id == 0 && !parsed.Ok)))
                    {
                        if (parsed.Event is null)
                        {
                            response = parsed;
                        }
                        else
                        {
                            onEvent?.Invoke(parsed);
                        }
                    }
                }
                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (response is not null)
                {
                    return (response, clock.Elapsed);
                }
                if (read.IsCompleted)
                {
                    throw new GatewayUnreachableException("the gateway closed the connection before answering");
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (new HostResponse
            {
                Id = request.Id,
                Ok = false,
                Error = new HostError { Code = HostErrorCodes.Timeout, Message = $"no answer from the gateway within {timeout.TotalSeconds:0} s" },
            }, clock.Elapsed);
        }
        catch (IOException ex)
        {
            // A gateway that refused the connection (TOO_MANY_CONNECTIONS) said so and closed it; our
            // write may fail first ("broken pipe"), but its answer is there to be read.
            if (await RefusalAsync() is { } refusal)
            {
                return (refusal, clock.Elapsed);
            }
            throw new GatewayUnreachableException($"lost the gateway connection: {ex.Message}");
        }
    }

    /// <summary>The gateway's refusal (id 0, not ok) if it sent one before closing; null otherwise.</summary>
    private async Task<HostResponse?> RefusalAsync()
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        try
        {
            while (true)
            {
                var read = await _reader.ReadAsync(wait.Token);
                var buffer = read.Buffer;
                while (_framer.TryRead(ref buffer, out var line) == FrameStatus.Line)
                {
                    if (HostJson.TryParseResponse(line.ToArray(), out var parsed, out _) && parsed!.Id == 0 && !parsed.Ok)
                    {
                        return parsed;
                    }
                }
                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    return null;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // Nothing readable: the connection was simply lost.
            return null;
        }
    }

    private static readonly byte[] WarmUpResponse =
        "{\"id\":0,\"ok\":true,\"status\":\"IDLE\",\"value\":1,\"agent\":{\"a\":\"b\"},\"timing\":{\"gateway_ms\":1}}"u8.ToArray();

    /// <summary>
    /// e2e_latency_ms is the round trip (host, network, gateway, device), so the CLI's one-time JIT
    /// of its own response path is paid before the clock starts, not inside it.
    /// </summary>
    private static void WarmUp()
    {
        var framer = new LineFramer(HostJson.MaxRequestBytes);
        var buffer = new ReadOnlySequence<byte>([.. WarmUpResponse, (byte)'\n']);
        if (framer.TryRead(ref buffer, out var line) != FrameStatus.Line || !HostJson.TryParseResponse(line.ToArray(), out _, out _))
        {
            throw new InvalidOperationException("the CLI's own warm-up response did not parse");
        }
    }

    /// <summary>Sends a streaming request (<c>logs --follow</c>) and yields every line answering it until <paramref name="ct"/>.</summary>
    public async IAsyncEnumerable<HostResponse> StreamAsync(HostRequest request, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        request.Id = ++_nextId;
        await _stream.WriteAsync(HostJson.Serialize(request), ct);
        await _stream.WriteAsync("\n"u8.ToArray(), ct);
        while (true)
        {
            ReadResult read;
            try
            {
                read = await _reader.ReadAsync(ct);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            var buffer = read.Buffer;
            var batch = new List<HostResponse>();
            while (_framer.TryRead(ref buffer, out var line) == FrameStatus.Line)
            {
                if (HostJson.TryParseResponse(line.ToArray(), out var parsed, out _) && parsed!.Id == request.Id)
                {
                    batch.Add(parsed);
                }
            }
            _reader.AdvanceTo(buffer.Start, buffer.End);
            foreach (var response in batch)
            {
                yield return response;
            }
            if (read.IsCompleted)
            {
                yield break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync();
        await _stream.DisposeAsync();
    }
}
