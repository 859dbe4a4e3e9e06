namespace Wasmorch.IntegrationTests;

/// <summary>
/// A test that mounts a file system (a tmpfs standing in for a probe's USB drive): it needs root.
/// Elsewhere xunit reports it skipped, with the reason; nothing in the product relaxes its checks for it.
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            Skip = "mounts a tmpfs as a stand-in ST-LINK drive: needs root on Linux";
        }
    }
}
