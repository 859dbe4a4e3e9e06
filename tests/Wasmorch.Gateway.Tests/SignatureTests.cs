using Wasmorch.Gateway.Signing;

namespace Wasmorch.Gateway.Tests;

public sealed class SignatureTests
{
    [Fact]
    public void One_changed_byte_breaks_the_signature()
    {
        var (privateKey, publicKey) = ModuleSignatures.CreateKeyPair();
        var signatures = new ModuleSignatures([publicKey]);
        var module = "\0asm\x01\0\0\0 some module bytes"u8.ToArray();
        var signature = ModuleSignatures.Sign(privateKey, module);
        Assert.True(signatures.Check(module, signature, required: true, "d"));
        module[^1] ^= 1;
        Assert.Equal("BAD_SIGNATURE", Assert.Throws<GatewayException>(() => signatures.Check(module, signature, true, "d")).Code);
        Assert.Equal("UNSIGNED", Assert.Throws<GatewayException>(() => signatures.Check(module, null, true, "d")).Code);
        Assert.False(signatures.Check(module, null, required: false, "d"));
    }

    [Fact]
    public void A_malformed_trusted_key_is_a_config_error()
    {
        Assert.Throws<Config.ConfigException>(() => new ModuleSignatures(["not a key"]));
    }
}
