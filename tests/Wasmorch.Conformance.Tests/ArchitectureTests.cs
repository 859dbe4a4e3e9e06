using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;
using Wasmorch.Testing;

namespace Wasmorch.Conformance.Tests;

/// <summary>
/// Protocol knowledge lives in Wasmorch.Protocol: the gateway does not lean on the emulator (one of
/// the agents it drives), and the conformance suite depends on neither the gateway nor the emulator
/// (it checks any agent against docs/protocol.md alone).
/// </summary>
public sealed class ArchitectureTests
{
    [Theory]
    [InlineData("Wasmorch.Gateway", new[] { "Wasmorch.Emulator" })]
    [InlineData("Wasmorch.Conformance", new[] { "Wasmorch.Gateway", "Wasmorch.Emulator" })]
    [InlineData("Wasmorch.Protocol", new[] { "Wasmorch.Gateway", "Wasmorch.Emulator", "Wasmorch.Transport", "Wasmorch.Conformance" })]
    public void A_project_references_none_of(string project, string[] forbidden)
    {
        var csproj = Path.Combine(RepoPaths.Root, "src", project, project + ".csproj");
        var references = XDocument.Load(csproj).Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
            .ToList();
        Assert.Empty(references.Intersect(forbidden));

        // And the built assembly uses none of them (read from its metadata, not loaded).
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var dll = Path.Combine(RepoPaths.Root, "src", project, "bin", configuration, "net10.0", project + ".dll");
        using var pe = new PEReader(File.OpenRead(dll));
        var metadata = pe.GetMetadataReader();
        var used = metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name));
        Assert.Empty(used.Intersect(forbidden));
    }

    /// <summary>
    /// Agent lines end at the device session (docs/architecture.md): everything above it speaks the
    /// typed replies of Protocol/Agent/Replies. The agents (the emulator, the conformance probe)
    /// speak lines by nature.
    /// </summary>
    [Fact]
    public void Only_protocol_the_device_session_and_the_agents_name_AgentLine()
    {
        string[] allowed =
        [
            "src/Wasmorch.Protocol/", "src/Wasmorch.Emulator/", "src/Wasmorch.Conformance/",
            "src/Wasmorch.Gateway/Devices/DeviceSession.cs", "src/Wasmorch.Gateway/Devices/DeviceConnection.cs",
        ];
        var word = new System.Text.RegularExpressions.Regex(@"\bAgentLine\b");
        var offenders = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoPaths.Root, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Where(f => !allowed.Any(a => f.StartsWith(a, StringComparison.Ordinal)))
            .Where(f => word.IsMatch(File.ReadAllText(Path.Combine(RepoPaths.Root, f))))
            .ToList();
        Assert.Empty(offenders);
    }
}
