using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Wasmorch.Gateway;
using Wasmorch.Gateway.Fleet;
using Wasmorch.Gateway.Supervision;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fleet;

/// <summary>
/// Requests forwarded between gateways (docs/fleet.md): sent on the owner's API subject without
/// the user's token and signed by this gateway; served only when signed by a trusted gateway or
/// operator, fresh and not seen before; every reply (events, "still at work", the answer) signed by
/// the serving gateway for the one request's reply subject.
/// </summary>
public sealed partial class NatsFleet
{
    /// <summary>
    /// How a reply to a forwarded request says what it is (a NATS header): the answer, an event on
    /// the way to it (upload progress), or only that the gateway is still at work. A reply without
    /// the header is the answer.
    /// </summary>
    private const string ReplyKind = "Wasmorch-Reply";

    /// <summary>The W3C trace context of a forwarded request (its span's id), as a NATS header.</summary>
    private const string TraceParent = "traceparent";

    private string ApiSubject(string gateway) => $"wasmorch.{_fleet}.gateway.{gateway}.api";

    public async Task<HostResponse> ForwardAsync(string gateway, HostRequest request, Func<HostResponse, Task>? emit, CancellationToken ct)
    {
        var deadline = TimeSpan.FromMilliseconds(request.TimeoutMs ?? 60_000) + _timings.ForwardMargin;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (replyTo, replies) = await _inbox.OpenAsync(ct);
        try
        {
            if (!IsValidName(gateway))
            {
                throw new GatewayException(HostErrorCodes.ProtocolError, $"the fleet names a gateway that is not a fleet name (A-Z a-z 0-9 _ -): '{Printable(gateway)}'");
            }
            var trace = System.Diagnostics.Activity.Current is { } current ? new NatsHeaders { [TraceParent] = current.Id } : null;
            await _nats.PublishAsync(ApiSubject(gateway), _trust.Seal(RequestBinding(ApiSubject(gateway), replyTo), WithoutToken(request)),
                headers: trace, replyTo: replyTo, serializer: Raw, cancellationToken: ct);
            string? refused = null;
            while (true)
            {
                var reply = await replies.NextAsync(Min(_timings.SilenceLimit, deadline - clock.Elapsed), ct);
                if (reply is not { } message)
                {
                    // Nothing heard in time: the deadline passed, or the serving gateway fell silent.
                    throw clock.Elapsed >= deadline
                        ? new GatewayException(HostErrorCodes.Timeout, $"gateway '{gateway}' did not answer within {deadline.TotalSeconds:0} s")
                        : new GatewayException(HostErrorCodes.DeviceUnreachable,
                            $"gateway '{gateway}' fell silent for {_timings.SilenceLimit.TotalSeconds:0.#} s in the middle of {request.Op} on '{request.Device}' (it, or its NATS server, is gone): " +
                            "whether it was carried out is not known; status says what the device holds" + (refused is null ? "" : $" (a reply was refused meanwhile: {refused})"));
                }
                if (message.HasNoResponders)
                {
                    throw new GatewayException(HostErrorCodes.DeviceUnreachable,
                        $"device '{request.Device}' is on gateway '{gateway}', which is not connected to fleet '{_fleet}'");
                }
                var kind = message.Headers is { } headers && headers.TryGetValue(ReplyKind, out var value) ? value.ToString() : "answer";
                byte[] data;
                try
                {
                    // Only the gateway asked answers: a reply anyone else wrote is never taken for its answer.
                    data = _trust.Open(ReplyBinding(message.Subject, kind), message.Data ?? [], FleetSigners.Gateways, gateway).Payload;
                }
                catch (FleetTrustException ex) when (_trust.IsUnsigned)
                {
                    // A secure fleet answering a client without keys: say so now, not after 10 s of silence.
                    throw new GatewayException(HostErrorCodes.Unauthorized, $"gateway '{gateway}' answered: {ex.Message}");
                }
                catch (FleetTrustException ex)
                {
                    LogRefused(_logger, message.Subject, ex.Message);
                    // Kept for the error if nothing trusted comes: an unsigned refusal says what is wrong (this gateway's key not trusted there, clocks apart).
                    refused = HostJson.TryParseResponse(message.Data ?? [], out var unsigned, out _) && unsigned!.Error is { } said
                        ? $"{ex.Message}; it said, unsigned: {said.Code}: {said.Message}"
                        : ex.Message;
                    continue;
                }
                if (kind == "working")
                {
                    continue;
                }
                if (!HostJson.TryParseResponse(data, out var response, out var error))
                {
                    throw new GatewayException(HostErrorCodes.ProtocolError, $"gateway '{gateway}' answered with something that is not a host API response: {error}");
                }
                if (kind != "event")
                {
                    return response!;
                }
                if (emit is not null)
                {
                    await emit(response!);
                }
            }
        }
        catch (NatsException ex)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"cannot reach gateway '{gateway}' through fleet '{_fleet}': {ex.Message}");
        }
        finally
        {
            replies.Dispose();
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>What a forwarded request is signed for: its gateway's subject and where its replies go.</summary>
    private static string RequestBinding(string subject, string? replyTo) => $"request {subject} {replyTo}";

    /// <summary>What a reply is signed for: the one request's reply subject, and the kind (an event is no answer).</summary>
    private static string ReplyBinding(string replyTo, string kind) => $"reply {replyTo} {kind}";

    /// <summary>
    /// The request as it goes to another gateway: never with the user's token (it would travel in
    /// clear on NATS); the serving gateway trusts this gateway's signature and applies its own rules.
    /// </summary>
    private static byte[] WithoutToken(HostRequest request)
    {
        var token = request.Token;
        request.Token = null;
        try
        {
            return HostJson.Serialize(request);
        }
        finally
        {
            request.Token = token;
        }
    }

    /// <summary>
    /// Serves the requests on <paramref name="subscription"/> until <paramref name="ct"/> ends. The
    /// reading loop is supervised and the subscription outlives its restarts: it is disposed once, here.
    /// </summary>
    private async Task ServeAsync(INatsSub<byte[]> subscription, ServeForwarded serve, CancellationToken ct)
    {
        try
        {
            await LoopSupervisor.RunAsync("fleet: serving forwarded requests", c => ServeEachAsync(subscription, serve, c), _logger, ct);
        }
        finally
        {
            await subscription.DisposeAsync();
        }
    }

    private async Task ServeEachAsync(INatsSub<byte[]> subscription, ServeForwarded serve, CancellationToken ct)
    {
        await foreach (var message in subscription.Msgs.ReadAllAsync(ct))
        {
            // Each request on its own: a long job must not hold up a STATUS behind it.
            _ = Task.Run(() => AnswerAsync(message, serve, ct), ct);
        }
    }

    private async Task AnswerAsync(NatsMsg<byte[]> message, ServeForwarded serve, CancellationToken ct)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The forwarding gateway's trace goes on here: one request, one trace across the fleet.
        var parent = message.Headers is { } headers && headers.TryGetValue(TraceParent, out var traceparent)
            && System.Diagnostics.ActivityContext.TryParse(traceparent.ToString(), null, out var context) ? context : default;
        using var span = Gateway.Telemetry.GatewayTracing.Source.StartActivity("fleet serve", System.Diagnostics.ActivityKind.Server, parent);
        span?.SetTag("wasmorch.gateway", GatewayName);
        FleetOpened opened;
        try
        {
            opened = _trust.Open(RequestBinding(message.Subject, message.ReplyTo), message.Data ?? [], FleetSigners.GatewaysOrOperators);
        }
        catch (FleetTrustException ex)
        {
            // Nothing is served, and the log says who tried. The sender hears why, unsigned: a signed
            // refusal to a reply subject the sender chose would let anyone plant it in another request's replies.
            LogRefused(_logger, message.Subject, ex.Message);
            await RefuseAsync(message, ex.Message, ct);
            return;
        }
        var working = SayWorkingAsync(message, done.Token);
        var events = new List<Task>();
        try
        {
            var parsed = HostJson.TryParseRequest(opened.Payload, out var request, out var error);
            if (parsed)
            {
                // A token is never taken from the fleet (none is sent); the provenance is who signed it.
                request!.Token = null;
                request.By = Gateway.Api.Provenance.SignedBy(opened.Signer, opened.IsOperator, request.By);
            }
            var response = parsed
                ? await serve(request!, e =>
                {
                    // Handlers emit without awaiting (progress): the answer waits for every event sent before it.
                    var sent = ReplyAsync(message, "event", e, ct);
                    lock (events)
                    {
                        events.Add(sent);
                    }
                    return sent;
                }, ct)
                : new HostResponse { Ok = false, Error = new HostError { Code = HostErrorCodes.BadRequest, Message = error } };
            await done.CancelAsync();
            await working;
            Task[] pending;
            lock (events)
            {
                pending = [.. events];
            }
            await Task.WhenAll(pending);
            await message.ReplyAsync(_trust.Seal(ReplyBinding(message.ReplyTo ?? "", "answer"), HostJson.Serialize(response)), serializer: Raw, cancellationToken: ct);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException)
        {
            LogAnswerFailed(_logger, message.Subject, ex.Message);
        }
        catch (Exception ex)
        {
            // A fault of this gateway's own: the gateway that forwarded the request hears of it at once.
            LogAnswerFault(_logger, ex, message.Subject);
            await ReplyAsync(message, "answer", new HostResponse { Ok = false, Error = new HostError { Code = HostErrorCodes.Internal, Message = $"gateway '{GatewayName}' failed to serve the request: {ex.Message}" } }, ct);
        }
        finally
        {
            await done.CancelAsync();
            await working;
        }
    }

    /// <summary>Until <paramref name="ct"/> ends, tells the gateway that forwarded a request that this one is still at it.</summary>
    private async Task SayWorkingAsync(NatsMsg<byte[]> message, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_timings.WorkingInterval, ct);
                await message.ReplyAsync(_trust.Seal(ReplyBinding(message.ReplyTo ?? "", "working"), []), new NatsHeaders { [ReplyKind] = "working" }, serializer: Raw, cancellationToken: ct);
            }
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException)
        {
            // Done, or NATS away: a gateway that cannot say it is working cannot answer either.
        }
    }

    private async Task RefuseAsync(NatsMsg<byte[]> message, string reason, CancellationToken ct)
    {
        try
        {
            var refusal = new HostResponse { Ok = false, Error = new HostError { Code = HostErrorCodes.Unauthorized, Message = $"gateway '{GatewayName}' refused a forwarded request: {reason}" } };
            await message.ReplyAsync(HostJson.Serialize(refusal), serializer: Raw, cancellationToken: ct);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException)
        {
            LogAnswerFailed(_logger, message.Subject, ex.Message);
        }
    }

    private async Task ReplyAsync(NatsMsg<byte[]> message, string kind, HostResponse response, CancellationToken ct)
    {
        try
        {
            await message.ReplyAsync(_trust.Seal(ReplyBinding(message.ReplyTo ?? "", kind), HostJson.Serialize(response)), new NatsHeaders { [ReplyKind] = kind }, serializer: Raw, cancellationToken: ct);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException)
        {
            // An event is best effort; the answer says how the request ended.
            LogAnswerFailed(_logger, message.Subject, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Fleet: serving a forwarded request on {Subject} failed")]
    private static partial void LogAnswerFault(ILogger logger, Exception exception, string subject);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: could not answer a forwarded request on {Subject}: {Reason}")]
    private static partial void LogAnswerFailed(ILogger logger, string subject, string reason);
}
