using System.Globalization;
using System.Text;
using System.Text.Json;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 36: modules in C++, Rust and AssemblyScript, built by the real gateway in its sandbox and
/// run on an emulated board through the CLI: each language's math example by `run` and by
/// build-and-deploy + start, a compile error at the user's file:line, a Rust panic and an
/// AssemblyScript assert as TRAPs with their message, the thermostat publishing the C one's events,
/// `watch` following a Rust module's mod file and an AssemblyScript import, a missing toolchain named
/// with its package, and hostile sources that reach for the gateway's files contained.
/// </summary>
public sealed class LanguageTests
{
    /// <summary>A gateway whose compiles may take a while: asc is a Node program, slow to start on a loaded machine.</summary>
    private static async Task<SystemUnderTest> StartAsync(string build = "timeout_ms = 120000\n", params string[] boardArgs)
    {
        var system = new SystemUnderTest();
        system.StartBoard("b1", 0, boardArgs);
        var config = Path.Combine(Path.GetTempPath(), $"wasmorch-lang-{Guid.NewGuid():n}.toml");
        await File.WriteAllTextAsync(config, "[build]\n" + build);
        system.GatewayArgs.AddRange(["--config", config]);
        system.StartGateway();
        return system;
    }

    private static JsonElement Json(CliResult result)
    {
        using var document = JsonDocument.Parse(result.Stdout.Trim().Split('\n')[^1]);
        return document.RootElement.Clone();
    }

    public static TheoryData<string, string> MathExamples => new()
    {
        { "cpp", "math.cc" },
        { "rust", "math.rs" },
        { "as", "math.ts" },
    };

    [Theory]
    [MemberData(nameof(MathExamples))]
    public async Task Each_languages_math_example_runs_add_2_3_to_value_5(string language, string file)
    {
        await using var system = await StartAsync();
        var run = await system.CliAsync("--json", "--device", "b1", "run", RepoPaths.Module(language, file), "add", "2", "3");
        CliAssert.Exit(0, run);
        var json = Json(run);
        Assert.Equal("OK", json.GetProperty("start").GetProperty("status").GetString());
        Assert.Equal(5, json.GetProperty("start").GetProperty("value").GetInt32());
        Assert.Equal("math", json.GetProperty("start").GetProperty("module_id").GetString());

        var text = await system.CliAsync("--device", "b1", "run", RepoPaths.Module(language, file), "fib", "90");
        CliAssert.Exit(0, text);
        Assert.Matches(@"(?m)^b1: math\.fib job=\d+ status=OK value=2880067194370816120 \(i64\)", text.Stdout);
    }

    [Theory]
    [MemberData(nameof(MathExamples))]
    public async Task Each_languages_math_example_deploys_by_build_and_deploy_and_starts_with_wait_result(string language, string file)
    {
        await using var system = await StartAsync();
        var id = "m_" + language;
        var deploy = await system.CliAsync("--json", "--device", "b1", "build-and-deploy", "--module-id", id, "--source", RepoPaths.Module(language, file));
        CliAssert.Exit(0, deploy);
        Assert.True(Json(deploy).GetProperty("ok").GetBoolean());
        var start = await system.CliAsync("--json", "--device", "b1", "start", "--module-id", id, "--func-name", "add", "--func-args", "a=2,b=3", "--wait-result");
        CliAssert.Exit(0, start);
        Assert.Equal(5, Json(start).GetProperty("value").GetInt32());
        Assert.Equal("OK", Json(start).GetProperty("status").GetString());
    }

    public static TheoryData<string, string, string, string> CompileErrors => new()
    {
        { "bad.cc", "#include \"wasmorch.h\"\n\nWASMORCH_EXPORT(\"f\") int32_t f() { return missing_name; }\n", "bad.cc:3:", "use of undeclared identifier 'missing_name'" },
        { "bad.rs", "#![no_std]\nuse wasmorch as _;\n#[no_mangle] pub extern \"C\" fn f() -> i32 { \"text\" }\n", "bad.rs:3:", "mismatched types" },
        { "bad.ts", "export function f(): i32 {\n  return missingName;\n}\n", "bad.ts:2:", "Cannot find name 'missingName'" },
    };

    [Theory]
    [MemberData(nameof(CompileErrors))]
    public async Task A_compile_error_names_the_users_file_and_line(string name, string source, string place, string message)
    {
        await using var system = await StartAsync();
        var dir = Directory.CreateTempSubdirectory("wasmorch-lang-").FullName;
        try
        {
            var path = Path.Combine(dir, name);
            await File.WriteAllTextAsync(path, source);
            var result = await system.CliAsync("--json", "--device", "b1", "build-and-deploy", "--module-id", "bad", "--source", path);
            CliAssert.Exit(5, result);
            var error = Json(result).GetProperty("error");
            Assert.Equal("COMPILE_ERROR", error.GetProperty("code").GetString());
            Assert.StartsWith(place, error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain("wasmorch-build-", error.GetProperty("details").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_compile_error_in_a_rust_mod_file_names_that_file_and_line()
    {
        await using var system = await StartAsync();
        var dir = Directory.CreateTempSubdirectory("wasmorch-lang-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "main.rs"), "#![no_std]\nuse wasmorch as _;\nmod helper;\n#[no_mangle] pub extern \"C\" fn f() -> i32 { helper::value() }\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "helper.rs"), "pub fn value() -> i32 {\n    undefined_thing\n}\n");
            var result = await system.CliAsync("--json", "--device", "b1", "build-and-deploy", "--module-id", "main", "--source", Path.Combine(dir, "main.rs"));
            CliAssert.Exit(5, result);
            Assert.StartsWith("helper.rs:2:5: error[E0425]: cannot find value `undefined_thing`", Json(result).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static TheoryData<string, string, string> Faults => new()
    {
        { "rust", "faults.rs", "panicked at 'divide 7 by zero', faults.rs:12:9" },
        { "as", "faults.ts", "abort: divisor is zero at faults.ts:4:3" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task A_rust_panic_or_an_assemblyscript_assert_ends_the_job_as_a_trap_and_logs_its_message(string language, string file, string logged)
    {
        await using var system = await StartAsync();
        await using var logs = RunningProcess.StartCli("--gateway", system.Gateway, "logs", "--follow");
        var ok = await system.CliAsync("--json", "--device", "b1", "run", RepoPaths.Module(language, file), "checked_div", "7", "2");
        CliAssert.Exit(0, ok);
        Assert.Equal(3, Json(ok).GetProperty("start").GetProperty("value").GetInt32());

        var trap = await system.CliAsync("--json", "--device", "b1", "run", RepoPaths.Module(language, file), "checked_div", "7", "0");
        CliAssert.Exit(8, trap);
        Assert.Equal("TRAP", Json(trap).GetProperty("start").GetProperty("status").GetString());
        logs.WaitForLine(System.Text.RegularExpressions.Regex.Escape(logged), TimeSpan.FromSeconds(30));
    }

    public static TheoryData<string, string> Thermostats => new()
    {
        { "c", "thermostat.c" },
        { "rust", "thermostat.rs" },
        { "as", "thermostat.ts" },
    };

    [Theory]
    [MemberData(nameof(Thermostats))]
    public async Task The_thermostat_in_each_language_publishes_the_c_ones_events_and_switches_the_heater(string language, string file)
    {
        await using var system = await StartAsync("timeout_ms = 120000\n", "--temperature", "18.25");
        await using var events = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "b1", "events", "--follow", "--topic", "temp");
        var run = await system.CliAsync("--json", "--device", "b1", "run", RepoPaths.Module(language, file), "run", "10", "3");
        CliAssert.Exit(0, run);
        Assert.Equal(3, Json(run).GetProperty("start").GetProperty("value").GetInt32());
        events.WaitForLine(@" b1 thermostat job=\d+ uptime_ms=\d+ temp: 18250$", TimeSpan.FromSeconds(20));
        // 18.25 °C is under the default setpoint of 21 °C less 0.5: the heater (pin 1) is on.
        Assert.Contains("gpio=0x0002", (await system.CliAsync("--device", "b1", "status")).Stdout, StringComparison.Ordinal);
        var setpoint = await system.CliAsync("--json", "--device", "b1", "run", RepoPaths.Module(language, file), "get_setpoint");
        Assert.Equal(21000, Json(setpoint).GetProperty("start").GetProperty("value").GetInt32());
    }

    [Fact]
    public async Task Lang_names_the_language_of_a_file_whose_extension_does_not()
    {
        await using var system = await StartAsync();
        var dir = Directory.CreateTempSubdirectory("wasmorch-lang-").FullName;
        try
        {
            var path = Path.Combine(dir, "adder.txt");
            File.Copy(RepoPaths.Module("rust", "math.rs"), path);
            // Without --lang a file of no language's extension is a compiled module, and this one is not.
            var refused = await system.CliAsync("--device", "b1", "run", path, "add", "2", "3");
            CliAssert.Exit(7, refused);
            Assert.Contains("INVALID_MODULE", refused.Stderr, StringComparison.Ordinal);
            var run = await system.CliAsync("--json", "--device", "b1", "run", "--lang", "rust", path, "add", "2", "3");
            CliAssert.Exit(0, run);
            Assert.Equal(5, Json(run).GetProperty("start").GetProperty("value").GetInt32());
            var unknown = await system.CliAsync("--device", "b1", "run", "--lang", "cobol", path, "add", "2", "3");
            CliAssert.Exit(2, unknown);
            Assert.Contains("--lang cobol: not one of c, cpp, rust, as", unknown.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static TheoryData<string, string, string> MissingToolchains => new()
    {
        { "rustc = \"/nonexistent/rustc\"\n", "math.rs", "apt-get install rustc libstd-rust-dev-wasm32" },
        { "asc = \"/nonexistent/asc.js\"\n", "math.ts", "the AssemblyScript compiler is not installed (no /nonexistent/asc.js); run scripts/setup.sh" },
        { "node = \"/nonexistent/node\"\n", "math.ts", "install it (apt-get install nodejs)" },
        { "clang = \"/nonexistent/clang\"\n", "math.cc", "install clang and lld (apt-get install clang lld)" },
    };

    [Theory]
    [MemberData(nameof(MissingToolchains))]
    public async Task A_missing_toolchain_is_a_compile_error_naming_what_to_install(string build, string file, string message)
    {
        await using var system = await StartAsync(build);
        var language = file switch { "math.rs" => "rust", "math.ts" => "as", _ => "cpp" };
        var result = await system.CliAsync("--json", "--device", "b1", "run", RepoPaths.Module(language, file), "add", "2", "3");
        CliAssert.Exit(5, result);
        var error = Json(result).GetProperty("deploy").GetProperty("error");
        Assert.Equal("COMPILE_ERROR", error.GetProperty("code").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string?> HostileSources => new()
    {
        { "include.rs", "#![no_std]\nuse wasmorch as _;\npub static P: &str = include_str!(\"/etc/passwd\");\n", null },
        { "escape.rs", "#![no_std]\nuse wasmorch as _;\npub static P: &[u8] = include_bytes!(\"../../../../../../etc/passwd\");\n", null },
        { "path.rs", "#![no_std]\nuse wasmorch as _;\n#[path = \"/etc/passwd\"]\nmod passwd;\n", null },
        { "import.ts", "import { x } from \"../../../../../../etc/passwd\";\nexport function f(): i32 { return 1; }\n", null },
        { "absolute.ts", "import { x } from \"/etc/passwd\";\nexport function f(): i32 { return 1; }\n", null },
        { "include.cc", "#include \"/etc/passwd\"\nint x;\n", null },
        { "named.rs", "#![no_std]\nuse wasmorch as _;\nmod evil;\n", "../evil.rs" },
    };

    /// <summary>
    /// Sent as a raw request, so that the CLI's own refusal of files outside the folder is not what
    /// stops them: the gateway's sandbox shows its compilers nothing of the gateway's files.
    /// </summary>
    [Theory]
    [MemberData(nameof(HostileSources))]
    public async Task Hostile_sources_in_every_language_reach_none_of_the_gateways_files(string name, string source, string? extraFile)
    {
        await using var system = await StartAsync();
        var files = extraFile is null ? "" : $",\"files\":{{{JsonSerializer.Serialize(extraFile)}:\"pub fn x() {{}}\"}}";
        var request = $"{{\"id\":1,\"op\":\"build_and_deploy\",\"device\":\"b1\",\"module_id\":\"evil\",\"source_name\":{JsonSerializer.Serialize(name)},\"source\":{JsonSerializer.Serialize(source)}{files}}}";
        var answer = await system.HostExchangeAsync(Encoding.UTF8.GetBytes(request));
        using var json = JsonDocument.Parse(answer);
        var code = json.RootElement.GetProperty("error").GetProperty("code").GetString();
        Assert.Equal(extraFile is null ? "COMPILE_ERROR" : "BAD_REQUEST", code);
        var passwd = (await File.ReadAllTextAsync("/etc/passwd")).Split('\n')[0];
        Assert.DoesNotContain(passwd, answer, StringComparison.Ordinal);
        Assert.DoesNotContain("root:x:", answer, StringComparison.Ordinal);
        Assert.Contains("modules=-", (await system.CliAsync("--device", "b1", "status")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_follows_a_rust_modules_mod_file_and_runs_again_when_it_is_saved()
    {
        await using var system = await StartAsync();
        var dir = Directory.CreateTempSubdirectory("wasmorch-watch-").FullName;
        try
        {
            var source = Path.Combine(dir, "stepper.rs");
            var step = Path.Combine(dir, "step.rs");
            await File.WriteAllTextAsync(step, "pub const STEP: i32 = 1;\n");
            await File.WriteAllTextAsync(source, "#![no_std]\nuse wasmorch as _;\nmod step;\n#[no_mangle] pub extern \"C\" fn next(x: i32) -> i32 { x + step::STEP }\n");
            await using var watch = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "b1", "watch", source, "next", "41");
            watch.WaitForLine(@"^watching stepper\.rs and 1 file\(s\) it mods; Ctrl-C stops$");
            watch.WaitForLine(@"^b1: stepper\.next job=\d+ status=OK value=42 ", TimeSpan.FromSeconds(60));
            await File.WriteAllTextAsync(step, "pub const STEP: i32 = 2;\n");
            watch.WaitForLine(@"^-- [\d:.]+ step\.rs changed$");
            watch.WaitForLine(@"^b1: stepper\.next job=\d+ status=OK value=43 ", TimeSpan.FromSeconds(60));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Watch_follows_an_assemblyscript_import_and_runs_again_when_it_is_saved()
    {
        await using var system = await StartAsync();
        var dir = Directory.CreateTempSubdirectory("wasmorch-watch-").FullName;
        try
        {
            var source = Path.Combine(dir, "stepper.ts");
            var step = Path.Combine(dir, "step.ts");
            await File.WriteAllTextAsync(step, "export const STEP: i32 = 1;\n");
            await File.WriteAllTextAsync(source, "import { STEP } from \"./step\";\nexport function next(x: i32): i32 { return x + STEP; }\n");
            await using var watch = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "b1", "watch", source, "next", "41");
            watch.WaitForLine(@"^watching stepper\.ts and 1 file\(s\) it imports; Ctrl-C stops$");
            watch.WaitForLine(@"^b1: stepper\.next job=\d+ status=OK value=42 ", TimeSpan.FromSeconds(90));
            await File.WriteAllTextAsync(step, "export const STEP: i32 = 2;\n");
            watch.WaitForLine(@"^-- [\d:.]+ step\.ts changed$");
            watch.WaitForLine(@"^b1: stepper\.next job=\d+ status=OK value=43 ", TimeSpan.FromSeconds(90));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task An_import_leaving_the_sources_folder_is_refused_by_the_cli_naming_file_and_line()
    {
        await using var system = await StartAsync();
        var dir = Directory.CreateTempSubdirectory("wasmorch-lang-").FullName;
        try
        {
            var source = Path.Combine(dir, "leak.ts");
            await File.WriteAllTextAsync(source, "// reads a file of this machine\nimport { x } from \"../../../etc/passwd\";\nexport function f(): i32 { return 1; }\n");
            var result = await system.CliAsync("--device", "b1", "run", source, "f");
            CliAssert.Exit(2, result);
            Assert.Contains("leak.ts:2: import \"../../../etc/passwd\" is refused: it names a file outside the source's folder", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Doctor_lists_every_languages_toolchain_and_what_it_builds()
    {
        var doctor = await CliRunner.RunAsync("127.0.0.1:1", "doctor");
        CliAssert.Exit(0, doctor);
        Assert.Matches(@"(?m)^rustc +rustc 1\.\d+\.\d+.* \(wasm32 std: yes\)$", doctor.Stdout);
        Assert.Matches(@"(?m)^node +v\d+\.", doctor.Stdout);
        Assert.Matches(@"(?m)^asc +/.*tools/assemblyscript/node_modules/assemblyscript/bin/asc\.js$", doctor.Stdout);
        foreach (var language in new[] { @"C modules \(\.c;", @"C\+\+ modules \(\.cc, \.cpp, \.cxx\):", @"Rust modules \(\.rs\):", @"AssemblyScript modules \(\.ts\):" })
        {
            Assert.Matches(@"(?m)^" + language + @".* ok$", doctor.Stdout);
        }
    }
}
