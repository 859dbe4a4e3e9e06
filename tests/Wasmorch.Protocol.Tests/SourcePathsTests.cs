using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Protocol.Tests;

/// <summary>Paths as users type them on Windows and elsewhere name the same source and module.</summary>
public sealed class SourcePathsTests
{
    [Theory]
    [InlineData(@"..\modules\c\math_ops.c", "math_ops.c", "math_ops")]
    [InlineData(@"C:\Users\ana\lab\blink.c", "blink.c", "blink")]
    [InlineData("../modules/c/math_ops.c", "math_ops.c", "math_ops")]
    [InlineData(@"modules/c\mixed.c", "mixed.c", "mixed")]
    [InlineData("counter.wasm", "counter.wasm", "counter")]
    [InlineData(@"dir\my sensor (v2).c", "my sensor (v2).c", "my_sensor__v2_")]
    [InlineData(@"x\.c", ".c", "module")]
    public void Both_separators_end_a_directory(string typed, string fileName, string moduleId)
    {
        Assert.Equal(fileName, SourcePaths.FileName(typed));
        Assert.Equal(moduleId, SourcePaths.ModuleIdOf(typed));
    }

    [Fact]
    public void A_long_name_gives_a_module_id_of_32_characters()
    {
        Assert.Equal(new string('a', 32), SourcePaths.ModuleIdOf(@"src\" + new string('a', 40) + ".c"));
    }
}
