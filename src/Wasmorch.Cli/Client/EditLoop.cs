using System.Diagnostics;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Client;

/// <summary>Sends one request to the gateway: its answer and how long it took.</summary>
public delegate Task<(HostResponse Response, TimeSpan Latency)> SendRequest(HostRequest request, CancellationToken ct);

/// <summary>What one pass of the loop did on one device.</summary>
public sealed record EditPass(string Device, HostResponse Deployed, TimeSpan DeployTook, HostResponse? Started, TimeSpan StartTook, TimeSpan Total)
{
    /// <summary>The job's outcome when it ran, else why the pass stopped short.</summary>
    public HostResponse Outcome => Started ?? Deployed;
}

/// <summary>
/// The edit→result loop of <c>run</c> and <c>watch</c> (docs/run.md): deploy the module (the gateway
/// compiles from its cache and skips the upload when the device already holds the same bytes),
/// start the function and wait for its result. The loop owns its module's job: when the device is
/// BUSY with a job of the same module (the previous pass's, still running), that job is stopped and
/// the step tried again; a job of any other module is left alone and its BUSY reported.
/// </summary>
public sealed class EditLoop
{
    /// <summary>How long a stopped job may take to end (STOP is cooperative, then forced after the agent's grace).</summary>
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);

    public required string ModuleId { get; init; }

    public required string Func { get; init; }

    public string? Args { get; init; }

    public string? Token { get; init; }

    public int TimeoutMs { get; init; } = 60_000;

    /// <summary>
    /// Runs beside the wait for a started job's result, on one device, until the result comes
    /// (its token is cancelled then): <see cref="WaitingJob"/>, which names a job that takes long.
    /// </summary>
    public Func<string, CancellationToken, Task>? WhileWaiting { get; init; }

    /// <summary>The deploy request of this pass (the source read now), for any device.</summary>
    public required Func<CancellationToken, Task<HostRequest>> Deploy { get; init; }

    public async Task<EditPass> RunAsync(SendRequest send, string device, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        var deploy = await Deploy(ct);
        deploy.Device = device;
        deploy.Token = Token;
        var (deployed, deployTook) = await SendFreeingAsync(send, deploy, ct);
        if (!deployed.Ok)
        {
            return new EditPass(device, deployed, deployTook, null, TimeSpan.Zero, total.Elapsed);
        }
        var start = new HostRequest { Op = HostOps.Start, Device = device, ModuleId = ModuleId, Func = Func, Args = Args, WaitResult = true, TimeoutMs = TimeoutMs, Token = Token };
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var beside = WhileWaiting?.Invoke(device, waiting.Token) ?? Task.CompletedTask;
        try
        {
            var (started, startTook) = await SendFreeingAsync(send, start, ct);
            return new EditPass(device, deployed, deployTook, started, startTook, total.Elapsed);
        }
        finally
        {
            await waiting.CancelAsync();
            await beside;
        }
    }

    private async Task<(HostResponse, TimeSpan)> SendFreeingAsync(SendRequest send, HostRequest request, CancellationToken ct)
    {
        var answer = await send(request, ct);
        if (answer.Response.Ok || answer.Response.Error?.Code != AgentErrorCodes.Busy || !await StopOwnJobAsync(send, request.Device!, ct))
        {
            return answer;
        }
        return await send(request, ct);
    }

    /// <summary>
    /// Stops this loop's module's job on <paramref name="device"/> and waits until the device is
    /// idle; false when no job of the module was running (the device is busy with another's, or idle).
    /// </summary>
    public async Task<bool> StopOwnJobAsync(SendRequest send, string device, CancellationToken ct)
    {
        var (stopped, _) = await send(new HostRequest { Op = HostOps.Stop, Device = device, ModuleId = ModuleId, Token = Token }, ct);
        if (!stopped.Ok || stopped.Status != "PENDING")
        {
            return false;
        }
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < StopWait)
        {
            var (status, _) = await send(new HostRequest { Op = HostOps.Status, Device = device, Token = Token }, ct);
            if (status.Ok && status.Status != "RUNNING")
            {
                return true;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20), ct);
        }
        return false;
    }
}
