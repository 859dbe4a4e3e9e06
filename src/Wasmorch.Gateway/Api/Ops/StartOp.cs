using System.Text.Json;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;
using static Wasmorch.Gateway.Api.Ops.Replies;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary><c>start</c>: START, and with <c>wait_result</c> the job's RESULT within its deadline.</summary>
public sealed class StartOp(DeviceRegistry devices, GatewayConfig config) : IOpHandler
{
    public string Op => HostOps.Start;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var request = op.Request;
        var device = devices.Get(request.Device);
        var moduleId = RequireModuleId(request);
        if (request.Func is null || !ModuleId.IsValidFunctionName(request.Func))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "start needs func, a C identifier");
        }
        if (!FuncArgs.TryParse(request.Args, out _, out var argsError))
        {
            // The host's input is never echoed whole: an error stays small whatever was sent.
            throw new GatewayException(AgentErrorCodes.BadArgs, $"args ({request.Args!.Length} characters): {Clip(argsError, 200)}");
        }
        var started = await TimedAsync(() => device.StartAsync(moduleId, request.Func, request.Args, op.Ct), op.Timing);
        if (started.Job is not { } job)
        {
            return FromAgentError(started.Refusal!);
        }
        var response = new HostResponse { Ok = true, ModuleId = moduleId, Func = request.Func, Job = job, Status = "RUNNING" };
        if (!request.WaitResult)
        {
            return response;
        }
        var timeout = request.TimeoutMs is > 0 ? TimeSpan.FromMilliseconds(request.TimeoutMs.Value) : config.DefaultResultTimeout;
        JobResult result;
        using (var execution = Telemetry.GatewayTracing.Source.StartActivity("device execution"))
        {
            execution?.SetTag("wasmorch.job", job);
            result = await started.WaitForResultAsync(job, timeout, op.Ct);
            execution?.SetTag("wasmorch.status", result.StatusText);
        }
        return FromResult(result, response, op.Timing);
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 3)] + "...";

    private static HostResponse FromResult(JobResult result, HostResponse response, Timing timing)
    {
        response.Status = result.StatusText;
        response.Message = result.Message;
        response.ValueType = result.Value?.Type;
        if (result.Value is { } value)
        {
            response.Value = ToJsonValue(value.Text);
        }
        if (result.ElapsedUs is { } elapsed)
        {
            response.ElapsedUs = elapsed;
            timing.DeviceMs = elapsed / 1000.0;
        }
        if (result.State != JobState.Ok)
        {
            response.Ok = false;
            response.Error = new HostError
            {
                Code = response.Status ?? HostErrorCodes.ProtocolError,
                Message = $"job {response.Job} ended {response.Status}: {response.Message ?? "no message"}",
            };
        }
        return response;
    }

    /// <summary>A result value as a JSON number where JSON can say it exactly, else the agent's text (nan, inf, ".5").</summary>
    private static JsonElement ToJsonValue(string text)
    {
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            try
            {
                using var number = JsonDocument.Parse(text.StartsWith('+') ? text[1..] : text);
                return number.RootElement.Clone();
            }
            catch (JsonException)
            {
                // Not JSON's number syntax (".5", "1."): fall through and keep the agent's text.
            }
        }
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(text, HostJsonContext.Default.String));
        return doc.RootElement.Clone();
    }
}
