using System.Diagnostics;
using System.Net;

namespace Wasmorch.Gateway.Api;

/// <summary>
/// Which host connections may be open: at most <c>max</c> in all and <c>maxPerPeer</c> from one
/// address. At a cap, the connection that has been idle longest (nothing in flight, no request
/// half-sent) is closed to make room, so idle connections can never lock clients out; only when
/// every connection is busy is the newcomer refused (TOO_MANY_CONNECTIONS).
/// </summary>
internal sealed class ConnectionTable(int max, int maxPerPeer)
{
    private readonly object _gate = new();
    private readonly List<Slot> _slots = [];

    /// <summary>One admitted connection: its peer, and the way to close it to make room.</summary>
    public sealed class Slot(IPAddress? peer) : IDisposable
    {
        private readonly CancellationTokenSource _evict = new();
        private long _idleSince = Stopwatch.GetTimestamp();
        private volatile bool _busy = true;

        public IPAddress? Peer { get; } = peer;

        public CancellationToken Evicted => _evict.Token;

        /// <summary>Busy while a request runs, a request line is half-sent, or the connection is still being set up (TLS).</summary>
        public void SetBusy(bool busy)
        {
            if (!busy && _busy)
            {
                Interlocked.Exchange(ref _idleSince, Stopwatch.GetTimestamp());
            }
            _busy = busy;
        }

        public bool IsIdle => !_busy;

        public long IdleSince => Interlocked.Read(ref _idleSince);

        public void Evict() => _evict.Cancel();

        public void Dispose() => _evict.Dispose();
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _slots.Count;
            }
        }
    }

    /// <summary>A slot for a new connection from <paramref name="peer"/>, closing the longest-idle one if a cap is reached; null when all are busy.</summary>
    public Slot? TryAdmit(IPAddress? peer)
    {
        lock (_gate)
        {
            var fromPeer = _slots.Count(s => Equals(s.Peer, peer));
            if (_slots.Count >= max || fromPeer >= maxPerPeer)
            {
                // Make room from the same peer when it is that peer's cap that is reached.
                var candidates = fromPeer >= maxPerPeer ? _slots.Where(s => Equals(s.Peer, peer)) : _slots;
                var idlest = candidates.Where(s => s.IsIdle).MinBy(s => s.IdleSince);
                if (idlest is null)
                {
                    return null;
                }
                _slots.Remove(idlest);
                idlest.Evict();
            }
            var slot = new Slot(peer);
            _slots.Add(slot);
            return slot;
        }
    }

    public void Release(Slot slot)
    {
        lock (_gate)
        {
            _slots.Remove(slot);
        }
    }
}
