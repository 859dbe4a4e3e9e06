using System.Reflection;
using System.Runtime.InteropServices;

namespace Wasmorch.CoreHost;

/// <summary>
/// libwm_core_host.so: the firmware's C core (firmware/agent/core) with native/core_host.c, built by
/// scripts/build.sh into build/core-host/ (or WASMORCH_CORE_LIB names it).
/// </summary>
internal static unsafe partial class NativeCore
{
    private const string Library = "wm_core_host";

    public const int LineMax = 256;

    static NativeCore() => NativeLibrary.SetDllImportResolver(typeof(NativeCore).Assembly, Resolve);

    /// <summary>Where the library is: $WASMORCH_CORE_LIB, else build/core-host/ of the repository this program was built in.</summary>
    public static string LibraryPath
    {
        get
        {
            if (Environment.GetEnvironmentVariable("WASMORCH_CORE_LIB") is { Length: > 0 } path)
            {
                return path;
            }
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "build", "core-host", "libwm_core_host.so");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
            throw new FileNotFoundException("libwm_core_host.so not found: run scripts/build.sh (it builds the firmware core for the host) or set WASMORCH_CORE_LIB");
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name == Library ? NativeLibrary.Load(LibraryPath) : IntPtr.Zero;

    /// <summary>Mirrors struct wmh_callbacks in native/core_host.c, field for field.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Callbacks
    {
        public delegate* unmanaged<byte*, nuint, void> Send;
        public delegate* unmanaged<uint> UptimeMs;
        public delegate* unmanaged<uint> UptimeUs;
        public delegate* unmanaged<byte**, uint*, uint*, void> Hello;
        public delegate* unmanaged<uint*, byte*, byte*, byte*, nuint, byte*, nuint, byte*, nuint, void> Status;
        public delegate* unmanaged<byte*, uint, byte*, nuint, int> LoadCheck;
        public delegate* unmanaged<byte*, byte*, uint, uint, byte*, nuint, int> LoadCommit;
        public delegate* unmanaged<byte*, byte*, byte*, uint*, byte*, nuint, int> StartPrepare;
        public delegate* unmanaged<void> StartGo;
        public delegate* unmanaged<byte*, int*, uint*, int> Stop;
        public delegate* unmanaged<byte*, int> Unload;
        public delegate* unmanaged<byte*, nuint, void> Random;
    }

    [LibraryImport(Library, EntryPoint = "wmh_init")]
    public static partial void Init(Callbacks* callbacks, uint loadTimeoutMs, int extensions, byte* linkKey, nuint linkKeyLength);

    [LibraryImport(Library, EntryPoint = "wmh_boot")]
    public static partial void Boot();

    [LibraryImport(Library, EntryPoint = "wmh_feed")]
    public static partial void Feed(byte* data, nuint length, uint nowMs);

    [LibraryImport(Library, EntryPoint = "wmh_poll")]
    public static partial void Poll(uint nowMs);

    [LibraryImport(Library, EntryPoint = "wmh_rx_init")]
    public static partial void RxInit(nuint ringSize);

    [LibraryImport(Library, EntryPoint = "wmh_rx_put")]
    public static partial nuint RxPut(byte* data, nuint length);

    [LibraryImport(Library, EntryPoint = "wmh_service")]
    public static partial void Service(uint nowMs);

    [LibraryImport(Library, EntryPoint = "wmh_reset_link")]
    public static partial void ResetLink();

    [LibraryImport(Library, EntryPoint = "wmh_peer_negotiated")]
    public static partial int PeerNegotiated();

    [LibraryImport(Library, EntryPoint = "wmh_format_result", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nuint FormatResult(byte* buffer, string id, string func, uint job, string status, string? value, string? type, string? message, uint elapsedUs);

    [LibraryImport(Library, EntryPoint = "wmh_format_event", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nuint FormatEvent(byte* buffer, string id, uint job, uint uptimeMs, string topic, byte* data, nuint length);

    [LibraryImport(Library, EntryPoint = "wmh_format_log", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nuint FormatLog(byte* buffer, string id, uint job, uint uptimeMs, string message);
}
