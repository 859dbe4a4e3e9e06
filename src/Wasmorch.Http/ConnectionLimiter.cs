using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Wasmorch.Http;

/// <summary>
/// Kestrel connection middleware: at most <c>perAddress</c> HTTP connections from one address (event
/// streams included: each holds its connection). Kestrel's own MaxConcurrentConnections caps the
/// total. Without both, unauthenticated connections could take every file descriptor of the process,
/// and the TCP host API and the device links with them. A connection over the cap is closed at once.
/// </summary>
internal sealed partial class ConnectionLimiter(int perAddress, ILogger logger)
{
    private readonly Dictionary<IPAddress, int> _open = [];
    private long _lastWarning;

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        var address = (connection.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        if (!TryEnter(address))
        {
            WarnRarely(address);
            connection.Abort(new ConnectionAbortedException($"more than {perAddress} HTTP connections from {address}"));
            return;
        }
        try
        {
            await next(connection);
        }
        finally
        {
            Exit(address);
        }
    };

    private bool TryEnter(IPAddress address)
    {
        lock (_open)
        {
            var count = _open.GetValueOrDefault(address);
            if (count >= perAddress)
            {
                return false;
            }
            _open[address] = count + 1;
            return true;
        }
    }

    private void Exit(IPAddress address)
    {
        lock (_open)
        {
            if (--_open[address] == 0)
            {
                _open.Remove(address);
            }
        }
    }

    /// <summary>A flood is one warning every 10 s, not one per connection.</summary>
    private void WarnRarely(IPAddress address)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastWarning);
        if (now - last >= 10_000 && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
        {
            LogRefused(logger, address, perAddress);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "HTTP: refusing connections from {Address}: it has {Max} open (max_connections_per_peer)")]
    private static partial void LogRefused(ILogger logger, IPAddress address, int max);
}
