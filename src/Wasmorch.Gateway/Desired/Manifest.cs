using Wasmorch.Gateway.Config;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Desired;

/// <summary>
/// A desired-state file (<c>wasmorch apply -f fleet.toml</c>, docs/fleet-ops.md), read as strictly
/// as wasmorch.toml: every <c>[[module]]</c> has an id, a selector, exactly one of source (C) and
/// wasm (a module file), and optionally mode and autostart; paths are relative to the file; any
/// other key, a wrong type or a file that cannot be read is an error naming the file, entry and key.
/// </summary>
public static class Manifest
{
    public static List<DesiredModule> Load(string path)
    {
        var file = TomlSection.RootOfFile(path, "");
        var entries = file.TableArray("module") ?? throw new ConfigException($"{path}: no [[module]] entries: say which module goes where");
        file.RejectUnknown();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var desired = new List<DesiredModule>();
        foreach (var entry in entries)
        {
            var where = $"{path}: {entry.Name}";
            var module = new DesiredModule
            {
                ModuleId = entry.String("id") ?? throw new ConfigException($"{where}: id is missing"),
                Selector = entry.String("selector") ?? throw new ConfigException($"{where}: selector is missing (key=value[,…]; the devices it goes on)"),
                Mode = entry.String("mode"),
                Autostart = entry.String("autostart"),
            };
            var source = entry.String("source");
            var wasm = entry.String("wasm");
            entry.RejectUnknown();
            if ((source is null) == (wasm is null))
            {
                throw new ConfigException($"{where}: give exactly one of source (a C file) and wasm (a module file)");
            }
            var file2 = Path.Combine(directory, source ?? wasm!);
            try
            {
                if (source is not null)
                {
                    module.Source = File.ReadAllText(file2);
                    module.SourceName = Path.GetFileName(file2);
                }
                else
                {
                    module.Module = Convert.ToBase64String(File.ReadAllBytes(file2));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ConfigException($"{where}: cannot read {file2}: {ex.Message}");
            }
            desired.Add(module);
        }
        return desired;
    }
}
