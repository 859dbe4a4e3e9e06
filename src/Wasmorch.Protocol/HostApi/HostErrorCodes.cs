namespace Wasmorch.Protocol.HostApi;

/// <summary>Error codes the gateway adds to the agents' own (see Agent.AgentErrorCodes).</summary>
public static class HostErrorCodes
{
    public const string BadRequest = "BAD_REQUEST";
    public const string UnknownDevice = "UNKNOWN_DEVICE";
    public const string DeviceUnreachable = "DEVICE_UNREACHABLE";

    /// <summary>The board restarted (boot line seen, or its uptime went backwards): its running job is lost.</summary>
    public const string DeviceReset = "DEVICE_RESET";
    public const string CompileError = "COMPILE_ERROR";
    public const string Timeout = "TIMEOUT";
    public const string Unsupported = "UNSUPPORTED";
    public const string ProtocolError = "PROTOCOL_ERROR";
    public const string Internal = "INTERNAL";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string NotSigned = "UNSIGNED";
    public const string BadSignature = "BAD_SIGNATURE";
    public const string TooManyConnections = "TOO_MANY_CONNECTIONS";

    /// <summary>HTTP only: a request from a browser page of another site, or for a Host that is not the gateway's (docs/http.md).</summary>
    public const string Forbidden = "FORBIDDEN";

    /// <summary>A gateway joining a fleet names a device another gateway of the fleet owns (docs/fleet.md).</summary>
    public const string DeviceClaimed = "DEVICE_CLAIMED";

    /// <summary>The module imports natives of a capability the device does not offer (CAPS_OK, docs/protocol.md §6c).</summary>
    public const string MissingCapability = "MISSING_CAPABILITY";

    /// <summary>The device offers the capability, and the gateway's configuration does not grant it to this module ([devices.x] grants).</summary>
    public const string NotGranted = "NOT_GRANTED";

    /// <summary>A rollout is running, paused, being aborted or being started: one at a time per gateway, and per fleet (docs/fleet-ops.md).</summary>
    public const string RolloutRunning = "ROLLOUT_RUNNING";
}
