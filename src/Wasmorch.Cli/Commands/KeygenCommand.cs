using System.CommandLine;
using Wasmorch.Gateway.Signing;

namespace Wasmorch.Cli.Commands;

/// <summary><c>wasmorch keygen --output KEY</c> (or --out, its first name; -o as for build): an Ed25519 key pair for signing modules.</summary>
public static class KeygenCommand
{
    public static Command Create()
    {
        var output = new Option<FileInfo>("--output", "-o", "--out") { Description = "Private key file to write (the public key goes to the same name + .pub)", Required = true };
        var command = new Command("keygen", "Create an Ed25519 key pair: sign deploys with --sign-key, trust the .pub in [signing] trusted_keys") { output };
        command.SetAction(async (pr, ct) =>
        {
            var file = pr.GetValue(output)!;
            if (file.Exists)
            {
                await Console.Error.WriteLineAsync($"error: {file.FullName} exists; not overwriting a key");
                return ExitCodes.Usage;
            }
            var (privateKey, publicKey) = ModuleSignatures.CreateKeyPair();
            await File.WriteAllTextAsync(file.FullName, privateKey + "\n", ct);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            await File.WriteAllTextAsync(file.FullName + ".pub", publicKey + "\n", ct);
            Console.WriteLine($"private key: {file.FullName} (keep it secret)");
            Console.WriteLine($"public key:  {file.FullName}.pub");
            Console.WriteLine($"trust it in wasmorch.toml:  [signing] trusted_keys = [\"{publicKey}\"]");
            return ExitCodes.Ok;
        });
        return command;
    }
}
