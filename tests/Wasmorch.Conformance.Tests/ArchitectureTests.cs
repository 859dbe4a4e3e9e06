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
}
