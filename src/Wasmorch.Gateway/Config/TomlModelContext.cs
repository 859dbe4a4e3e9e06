using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Wasmorch.Gateway.Config;

/// <summary>Source-generated TOML reading into the untyped model (no reflection: the CLI is published with Native AOT).</summary>
[TomlSerializable(typeof(TomlTable))]
public sealed partial class TomlModelContext : TomlSerializerContext;
