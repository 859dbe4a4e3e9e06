using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Operations;

/// <summary>
/// The one place where a typed operation becomes the host API's request (what a handler here or
/// another gateway of the fleet serves) and its response becomes the typed answer again.
/// </summary>
internal static class HostApiRequests
{
    public static HostRequest Deploy(ModuleDeploy deploy) => new()
    {
        Op = HostOps.Deploy,
        Device = deploy.Device,
        ModuleId = deploy.ModuleId,
        Mode = deploy.Mode,
        By = deploy.By,
        Signature = deploy.Signature,
        Selector = deploy.Signature is null ? null : deploy.SignedSelector,
        // The host API carries module bytes as base64 (docs/protocol.md §9): the wire, not the caller, needs it.
        Module = Convert.ToBase64String(deploy.Bytes.Span),
    };

    public static DeviceResult<ModulePlaced> Placed(HostResponse response) =>
        response.Ok
            ? new ModulePlaced(response.ModuleId ?? string.Empty, response.Crc32, response.Sha256, response.Version, response.UploadSkipped == true)
            : Failed(response);

    public static DeviceResult<IReadOnlyList<JobRecord>> Jobs(HostResponse response) =>
        response.Ok ? (response.Jobs ?? []) : Failed(response);

    public static DeviceResult<IReadOnlyList<ModuleVersion>> Versions(HostResponse response) =>
        response.Ok ? (response.Versions ?? []) : Failed(response);

    public static DeviceResult<ModuleRemoved> Removed(HostResponse response) =>
        response.Ok ? new ModuleRemoved(response.ModuleId ?? string.Empty) : Failed(response);

    /// <summary>A <c>status</c> response as the STATUS it reports (its <c>agent</c> map is the line's fields).</summary>
    public static DeviceResult<StatusReport> Status(HostResponse response)
    {
        if (!response.Ok)
        {
            return Failed(response);
        }
        var fields = response.Agent ?? [];
        return new StatusReport
        {
            State = response.Status ?? "?",
            ModuleId = response.ModuleId,
            Func = response.Func,
            Job = response.Job,
            UptimeMs = long.TryParse(fields.GetValueOrDefault("uptime_ms"), out var uptime) ? uptime : null,
            ModulesText = fields.GetValueOrDefault("modules"),
            ModuleCrcsText = fields.GetValueOrDefault("module_crcs"),
            Fields = [.. fields],
        };
    }

    /// <summary>
    /// A <c>start</c> response: a job that started (ended OK, TRAP or STOPPED when waited for, which
    /// the response reports as a failure with the job's status) or the reason none started.
    /// </summary>
    public static DeviceResult<JobRun> Run(HostResponse response, bool waited)
    {
        if (response.Job is not { } job)
        {
            return Failed(response);
        }
        if (!waited || response.Status is null or "RUNNING")
        {
            return response.Ok ? new JobRun(job, null) : Failed(response);
        }
        return new JobRun(job, new JobResult
        {
            Job = job,
            ModuleId = response.ModuleId,
            Func = response.Func,
            State = JobStates.Parse(response.Status),
            StatusText = response.Status,
            Message = response.Message,
            Value = response.Value is { } value
                ? new ResultValue(value.ValueKind == System.Text.Json.JsonValueKind.String ? value.GetString()! : value.GetRawText(), response.ValueType)
                : null,
            ElapsedUs = response.ElapsedUs,
        });
    }

    private static HostError Failed(HostResponse response) =>
        response.Error ?? new HostError { Code = HostErrorCodes.ProtocolError, Message = "a failed response without an error" };
}
