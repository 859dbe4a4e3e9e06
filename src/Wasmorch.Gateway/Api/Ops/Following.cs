using System.Threading.Channels;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary>
/// The ops a host follows (<c>logs</c>, <c>events</c> with <c>follow</c>): the recent entries as a
/// first response, then each new one as it comes, this gateway's own merged with what the other
/// gateways of a fleet publish; bounded, a slow follower loses the oldest.
/// </summary>
internal static class Following
{
    /// <summary>
    /// <paramref name="op"/>'s answer (its recent entries, or its refusal) as the event
    /// <paramref name="firstEvent"/>, then every entry of <paramref name="followed"/> as
    /// <paramref name="each"/> makes it, until the host goes away (<paramref name="ct"/>).
    /// </summary>
    public static async Task StreamAsync<T>(IOpHandler op, HostRequest request, string firstEvent, Func<CancellationToken, IAsyncEnumerable<T>> followed,
        Func<T, HostResponse> each, Func<HostResponse, Task> emit, CancellationToken ct)
    {
        HostResponse first;
        try
        {
            first = await op.HandleAsync(new OpContext(request, new Timing(), null, ct));
        }
        catch (GatewayException ex)
        {
            first = Replies.Failure(ex.Code, ex.Message, ex.Details);
        }
        first.Id = request.Id;
        first.Event = firstEvent;
        await emit(first);
        if (!first.Ok)
        {
            return;
        }
        await foreach (var entry in followed(ct))
        {
            var next = each(entry);
            next.Id = request.Id;
            await emit(next);
        }
    }

    public static async IAsyncEnumerable<T> MergeAsync<T>(
        Func<CancellationToken, IAsyncEnumerable<T>> local,
        Func<CancellationToken, IAsyncEnumerable<T>>? remote,
        Func<T, bool> wanted,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (remote is null)
        {
            await foreach (var entry in local(ct))
            {
                yield return entry;
            }
            yield break;
        }
        var merged = Channel.CreateBounded<T>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var fromHere = PumpAsync(local(stop.Token), merged.Writer, stop.Token);
        var fromFleet = PumpAsync(remote(stop.Token), merged.Writer, stop.Token);
        try
        {
            await foreach (var entry in merged.Reader.ReadAllAsync(ct))
            {
                if (wanted(entry))
                {
                    yield return entry;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(fromHere, fromFleet);
        }
    }

    private static async Task PumpAsync<T>(IAsyncEnumerable<T> entries, ChannelWriter<T> into, CancellationToken ct)
    {
        try
        {
            await foreach (var entry in entries.WithCancellation(ct))
            {
                await into.WriteAsync(entry, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The follower went away.
        }
    }
}
