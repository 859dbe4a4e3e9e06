using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Wasmorch.Cli.Commands;

namespace Wasmorch.Cli;

/// <summary>
/// The examples every command's --help ends with: two or three command lines a reader can run as
/// they are (the boards of README's set-up, modules/c's sources), each with what it does.
/// DocsExamplesTests parses each one, so an example with a renamed flag fails the build.
/// </summary>
public static class HelpExamples
{
    private static readonly Dictionary<string, (string Line, string What)[]> ByCommand = new(StringComparer.Ordinal)
    {
        [""] =
        [
            ("wasmorch -d nucleo run modules/c/math_ops.c add 10 15", "build, deploy and run add(10, 15) on the board nucleo, with the latency breakdown"),
            ("wasmorch devices", "the gateway's boards, connected or not, with the modules each holds"),
            ("wasmorch logs --follow", "what modules log, live, until Ctrl-C"),
        ],
        ["deploy"] =
        [
            ("wasmorch -d nucleo deploy -m math_ops -f math_ops.wasm", "upload a module built with wasmorch build"),
            ("wasmorch -d nucleo deploy -m math_ops -f math_ops.wasm --force", "upload it even though the board holds the same bytes"),
            ("wasmorch -l board=nucleo_f446re deploy -m math_ops -f math_ops.wasm --sign-key ops.key", "every board so labelled, signed with a key from wasmorch keygen"),
        ],
        ["build-and-deploy"] =
        [
            ("wasmorch -d nucleo build-and-deploy -m math_ops -s modules/c/math_ops.c", "the gateway compiles the C and uploads the module"),
            ("wasmorch -d nucleo build-and-deploy -m math_ops -s modules/c/math_ops.c --mode aot --opt-level s", "precompiled for the board's target, optimised for size"),
            ("wasmorch -l site=lab1 --parallel 8 build-and-deploy -m blink -s blink.c", "every board labelled site=lab1, eight at a time"),
        ],
        ["start"] =
        [
            ("wasmorch -d nucleo start -m math_ops -F add -a 10,15 --wait-result", "run add(10, 15) and print its value"),
            ("wasmorch -d nucleo start -m toggle_forever -F run", "start a job that runs until stopped; it prints its job number"),
            ("wasmorch -l site=lab1 start -m blink -F run", "the same job on every board labelled site=lab1"),
        ],
        ["stop"] =
        [
            ("wasmorch -d nucleo stop -m toggle_forever", "ask the module's running job to stop (forced after the board's grace time)"),
            ("wasmorch -l site=lab1 stop -m blink", "on every board labelled site=lab1"),
        ],
        ["status"] =
        [
            ("wasmorch -d nucleo status", "the board's running job, loaded modules, uptime and GPIO"),
            ("wasmorch --json -d nucleo status", "the same as one JSON object, for scripts"),
        ],
        ["devices"] =
        [
            ("wasmorch devices", "the gateway's boards (a fleet's: every gateway's), connected or not, with their labels"),
            ("wasmorch devices --scan", "the serial ports on the gateway's machine, with the endpoint to put in wasmorch.toml"),
            ("wasmorch --gateway \"nats://127.0.0.1:4222?fleet=lab&keys=ops.toml\" devices", "a fleet's boards, asked of the fleet itself"),
        ],
        ["jobs"] =
        [
            ("wasmorch jobs", "the 20 newest jobs of every board, with their outcome"),
            ("wasmorch -d nucleo jobs --limit 50", "the 50 newest jobs of nucleo"),
        ],
        ["ping"] =
        [
            ("wasmorch -d nucleo ping", "check that nucleo answers"),
            ("wasmorch -l site=lab1 ping", "every board labelled site=lab1, a line each"),
        ],
        ["unload"] =
        [
            ("wasmorch -d nucleo unload -m math_ops", "remove an idle module from the board"),
            ("wasmorch -l site=lab1 unload -m blink", "from every board labelled site=lab1"),
        ],
        ["history"] =
        [
            ("wasmorch history -m math_ops", "every version of math_ops deployed, newest first, with the boards holding each"),
            ("wasmorch -d nucleo history -m math_ops", "the versions nucleo has had"),
        ],
        ["rollback"] =
        [
            ("wasmorch -d nucleo rollback -m math_ops", "put back the version before nucleo's current one"),
            ("wasmorch -l site=lab1 rollback -m blink --to 1", "version 1 on every board labelled site=lab1"),
        ],
        ["logs"] =
        [
            ("wasmorch logs --follow", "what modules log, live, until Ctrl-C"),
            ("wasmorch -d nucleo logs --limit 20", "the last 20 lines nucleo's modules logged"),
        ],
        ["events"] =
        [
            ("wasmorch events --follow", "what modules publish, live, until Ctrl-C"),
            ("wasmorch -d lab events --topic temp --limit 10", "the last 10 events of topic temp from lab"),
        ],
        ["run"] =
        [
            ("wasmorch -d nucleo run modules/c/math_ops.c add 10 15", "build, deploy (skipped when unchanged), run add(10, 15), print the value and where the time went"),
            ("wasmorch -d nucleo run modules/c/math_ops.c sub -- 3 -4", "-- before negative numbers"),
            ("wasmorch -l board=nucleo_f446re run modules/c/math_ops.c add 1 2", "on every board so labelled, then a summary"),
        ],
        ["watch"] =
        [
            ("wasmorch -d nucleo watch modules/c/math_ops.c add 10 15", "run again on every save; a compile error leaves the board as it was"),
            ("wasmorch -d nucleo watch modules/c/toggle_forever.c run", "a job that never returns: its log lines show, the next save replaces it, Ctrl-C stops it"),
        ],
        ["gateway"] =
        [
            ("wasmorch gateway --port 9000 --config wasmorch.toml", "serve the boards of wasmorch.toml to hosts on 127.0.0.1:9000"),
            ("wasmorch gateway --config wasmorch.toml --check-config", "check the configuration, a line per check, and exit"),
            ("wasmorch gateway --add-device nucleo=tcp://127.0.0.1:7001 --state off", "one board, no state file"),
        ],
        ["fleet"] =
        [
            ("wasmorch fleet init --dir lab --fleet lab --gateways gw-a,gw-b", "write a secure fleet's nats-server.conf, keys and one config per gateway"),
            ("wasmorch --gateway \"nats://127.0.0.1:4222?fleet=lab&keys=lab/ops.toml\" -d nucleo fleet release", "give up nucleo's claim, so another gateway may take it"),
        ],
        ["fleet init"] =
        [
            ("wasmorch fleet init --dir lab --fleet lab --gateways gw-a,gw-b", "a fleet 'lab' of two gateways, NATS on 127.0.0.1:4222"),
            ("wasmorch fleet init --dir /etc/wasmorch/lab --fleet lab --gateways gw-a,gw-b,gw-c --listen 10.0.0.5:4222 --first-port 9100", "three gateways, NATS on the lab's network, host API ports from 9100"),
        ],
        ["fleet release"] =
        [
            ("wasmorch --gateway \"nats://127.0.0.1:4222?fleet=lab&keys=lab/ops.toml\" -d nucleo fleet release", "give up nucleo's claim once its gateway is gone"),
            ("wasmorch --gateway \"nats://127.0.0.1:4222?fleet=lab&keys=lab/ops.toml\" -d nucleo fleet release --force", "even though its gateway still answers (stop it driving the board yourself)"),
        ],
        ["rollout"] =
        [
            ("wasmorch -l site=lab1 rollout start -m blink -s blink.c --check self_test --wait", "roll blink.c out wave by wave, following it to its end"),
            ("wasmorch rollout status", "where the newest rollout is, and why each failed board failed"),
            ("wasmorch rollout abort", "stop it and put every board it touched back"),
        ],
        ["rollout start"] =
        [
            ("wasmorch -l site=lab1 rollout start -m blink -s blink.c --check self_test --wait", "waves 1, 10%, 50%, 100%; each board must return 0 from self_test; exit 10 if it rolls back"),
            ("wasmorch -l site=lab1 rollout start -m blink --wasm blink.wasm --check self_test --waves 1,50%,100% --soak 30s", "a built module, three waves, each board watched 30 s after its check"),
        ],
        ["rollout status"] =
        [
            ("wasmorch rollout status", "state, wave, each board's outcome and the cause of each failure; exit 10 rolled back, 11 aborted"),
            ("wasmorch --json rollout status", "the same as one JSON object (each failure typed)"),
        ],
        ["rollout pause"] =
        [
            ("wasmorch rollout pause", "no new wave starts; the boards under way finish"),
            ("wasmorch --json rollout pause", "the paused rollout as JSON"),
        ],
        ["rollout resume"] =
        [
            ("wasmorch rollout resume", "carry the paused rollout on"),
            ("wasmorch --json rollout resume", "the resumed rollout as JSON"),
        ],
        ["rollout abort"] =
        [
            ("wasmorch rollout abort", "stop the rollout and put every board it touched back to its version"),
            ("wasmorch --json rollout abort", "the aborted rollout as JSON"),
        ],
        ["apply"] =
        [
            ("wasmorch apply -f fleet.toml --dry-run", "the plan: per board and module missing, different, same or extra; nothing changes"),
            ("wasmorch apply -f fleet.toml", "make fleet.toml the desired state; the gateway converges the boards and keeps them so"),
            ("wasmorch apply -f fleet.toml --prune", "also unload what fleet.toml does not name"),
        ],
        ["diff"] =
        [
            ("wasmorch diff", "how the boards differ from the desired state; exit 12 when any does"),
            ("wasmorch diff -f fleet.toml", "how they differ from fleet.toml's"),
        ],
        ["emulate"] =
        [
            ("wasmorch emulate --board nucleo=7001 --board disco=7002", "two emulated boards on TCP ports 7001 and 7002"),
            ("wasmorch emulate --config wasmorch.toml", "the boards wasmorch.toml marks emulate = true"),
            ("wasmorch emulate --board lab=7001 --temperature 18.5 --adc sine:1000:3000:2000", "a board whose sensors read 18.5 °C and a sine wave"),
        ],
        ["gpio"] =
        [
            ("wasmorch -d lab gpio set --pin 3 1", "drive the emulated board's input pin 3 high"),
            ("wasmorch -d lab gpio set --pin 3 0", "and low again"),
        ],
        ["gpio set"] =
        [
            ("wasmorch -d lab gpio set --pin 3 1", "pin 3 high: gpio_wait_edge sees a rising edge"),
            ("wasmorch -d lab gpio set --pin 3 0", "pin 3 low: a falling edge"),
        ],
        ["sim"] =
        [
            ("wasmorch -d lab sim --temperature 30.25", "the emulated TMP102 measures 30.25 °C from now on"),
            ("wasmorch -d lab sim --temperature -5", "below zero"),
        ],
        ["conformance"] =
        [
            ("wasmorch conformance tcp://127.0.0.1:7001", "check the agent on port 7001 against docs/protocol.md"),
            ("wasmorch conformance serial:///dev/ttyACM0?baud=115200 --case load", "a board on a serial port, the cases about loading only"),
            ("wasmorch --json conformance tcp://127.0.0.1:7001 --link-key off", "an agent without AUTH, the report as JSON"),
        ],
        ["build"] =
        [
            ("wasmorch build --source modules/c/math_ops.c -o math_ops.wasm", "compile locally, with the gateway's checks; no gateway needed"),
            ("wasmorch build --source modules/c/math_ops.c --target thumbv7em", "math_ops.aot for Cortex-M4 boards, through wamrc"),
            ("wasmorch build --source modules/c/math_ops.c --wasm-opt", "smaller, through binaryen's wasm-opt"),
        ],
        ["doctor"] =
        [
            ("wasmorch doctor", "which build tools this machine has and what works with them (exit 5 when C cannot be built)"),
            ("wasmorch build --source modules/c/math_ops.c -o math_ops.wasm", "once it says wasm builds work: build a module here"),
        ],
        ["flash"] =
        [
            ("wasmorch flash --board nucleo_f446re", "the agent's image onto the board, through the ST-LINK's drive or openocd"),
            ("wasmorch flash --board nucleo_f446re --via openocd", "through openocd only"),
            ("wasmorch flash --board nucleo_f446re --drive /media/you/NODE_F446RE", "onto this mounted probe drive"),
        ],
        ["keygen"] =
        [
            ("wasmorch keygen --out ops.key", "ops.key (private, kept secret) and ops.key.pub (trusted in [signing] trusted_keys)"),
            ("wasmorch -d nucleo deploy -m math_ops -f math_ops.wasm --sign-key ops.key", "then sign deploys with it"),
        ],
    };

    /// <summary>The examples of the command <paramref name="path"/> names ("rollout start"; "" for wasmorch itself).</summary>
    public static IReadOnlyList<(string Line, string What)> For(string path) => ByCommand.TryGetValue(path, out var examples) ? examples : [];

    /// <summary>Every command's help ends with its examples.</summary>
    public static void AddTo(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new WithExamples((HelpAction)help.Action!);
    }

    /// <summary>The library's help, then the command's examples.</summary>
    internal sealed class WithExamples(HelpAction help) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var exit = help.Invoke(parseResult);
            var examples = For(GlobalOptions.CommandPath(parseResult.CommandResult.Command));
            if (examples.Count > 0)
            {
                var output = Console.Out;
                output.WriteLine("Examples:");
                foreach (var (line, what) in examples)
                {
                    output.WriteLine($"  {line}");
                    output.WriteLine($"      {what}");
                }
                output.WriteLine();
            }
            return exit;
        }
    }
}
