using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli;

/// <summary>The CLI's exit codes (README, "Exit codes"). Scripts may rely on them.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Internal = 1;
    public const int Usage = 2;
    public const int GatewayUnreachable = 3;
    public const int DeviceUnavailable = 4;
    public const int CompileError = 5;
    public const int Timeout = 6;
    public const int Refused = 7;
    public const int JobFailed = 8;
    public const int ConformanceFailed = 9;

    /// <summary><c>rollout status</c>, <c>rollout start --wait</c>: the rollout failed its health gates and was rolled back.</summary>
    public const int RolledBack = 10;

    /// <summary><c>rollout status</c>, <c>rollout start --wait</c>: the rollout was aborted (and rolled back).</summary>
    public const int Aborted = 11;

    /// <summary><c>diff</c>: the devices differ from the desired state (a step that is not "same"), so a script or CI job can act on drift.</summary>
    public const int Drift = 12;

    /// <summary>The exit code of a diff: <see cref="Drift"/> when any device and module is not as desired.</summary>
    public static int ForDiff(HostResponse diff) => diff.Plan?.Any(step => step.State != "same") == true ? Drift : Ok;

    /// <summary>The exit code a rollout's state means: rolled back or aborted are failures a script must see.</summary>
    public static int ForRollout(RolloutInfo rollout) => rollout.State switch
    {
        "rolled-back" => RolledBack,
        "aborted" => Aborted,
        _ => Ok,
    };

    public static int ForError(string code) => code switch
    {
        HostErrorCodes.BadRequest or HostErrorCodes.Unauthorized => Usage,
        HostErrorCodes.UnknownDevice or HostErrorCodes.DeviceUnreachable or HostErrorCodes.DeviceReset => DeviceUnavailable,
        HostErrorCodes.CompileError => CompileError,
        HostErrorCodes.Timeout => Timeout,
        JobStatus.Trap or JobStatus.Stopped => JobFailed,
        "UNSIGNED" or "BAD_SIGNATURE" => Refused,
        HostErrorCodes.Internal or HostErrorCodes.ProtocolError => Internal,
        _ => Refused,
    };
}
