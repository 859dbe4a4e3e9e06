using System.Security.Cryptography;
using System.Text;

namespace Wasmorch.Protocol.HostApi;

/// <summary>
/// What a deploy's signature covers (README, Security): one canonical statement of everything that
/// determines the artifact and where it goes: the op, the device, the module id, the mode, the
/// SHA-256 of the source or module bytes, and for a build the source name and build options (a
/// manifest's values arrive as those options). Replaying a signature with any of them changed
/// breaks it. Lines of <c>key=value</c>, "-" for an absent value, in this fixed order.
/// </summary>
public static class DeployStatement
{
    public const string Version = "wasmorch-deploy-v1";

    /// <param name="content">The C source's UTF-8 bytes (build_and_deploy) or the module's bytes (deploy).</param>
    public static byte[] For(HostRequest request, ReadOnlySpan<byte> content)
    {
        var text = new StringBuilder(Version).Append('\n');
        Line(text, "op", request.Op);
        Line(text, "device", request.Device);
        Line(text, "module_id", request.ModuleId);
        Line(text, "mode", request.Mode);
        Line(text, "content_sha256", Convert.ToHexStringLower(SHA256.HashData(content)));
        Line(text, "source_name", request.SourceName);
        Line(text, "opt_level", request.OptLevel);
        Line(text, "stack_size", request.StackSize?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Line(text, "exports", request.Exports is { Count: > 0 } exports ? string.Join(',', exports.Order(StringComparer.Ordinal)) : null);
        if (request.KeepNames)
        {
            // Only when asked: statements signed before the option existed read the same.
            Line(text, "keep_names", "true");
        }
        if (request.WasmOpt)
        {
            Line(text, "wasm_opt", "true");
        }
        // Only when set: statements of C sources without them read as before.
        if (request.Lang is not null)
        {
            Line(text, "lang", request.Lang);
        }
        if (SourceFiles.Sha256(request.Files) is { } files)
        {
            Line(text, "files_sha256", files);
        }
        if (request.Op == HostOps.Rollout)
        {
            // A rollout is signed once for every device its selector matches, and only for those.
            Line(text, "selector", request.Selector);
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static void Line(StringBuilder text, string key, string? value) =>
        text.Append(key).Append('=').Append(string.IsNullOrEmpty(value) ? "-" : value.Replace('\n', ' ')).Append('\n');
}
