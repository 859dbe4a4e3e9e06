using System.Globalization;
using System.Text;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// The whole product as real processes on loopback: one emulator process per board (so one can
/// be killed alone), a gateway mapping them, and the CLI run per command.
/// </summary>
public sealed class SystemUnderTest : IAsyncDisposable
{
    private readonly Dictionary<string, RunningProcess> _boards = [];
    private readonly List<string> _extraDevices = [];
    private RunningProcess? _gateway;

    public Dictionary<string, int> BoardPorts { get; } = [];

    public string Gateway { get; private set; } = string.Empty;

    /// <summary>The gateway's host API port (it listens on loopback).</summary>
    public int GatewayPort => int.Parse(Gateway.Split(':')[1], CultureInfo.InvariantCulture);

    /// <summary>Sends one request line (its LF added) on a new host API connection and returns the first line answered.</summary>
    public async Task<string> HostExchangeAsync(byte[] request)
    {
        using var tcp = await ConnectHostAsync();
        var stream = tcp.GetStream();
        await stream.WriteAsync((byte[])[.. request, (byte)'\n']);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadLineAsync() ?? throw new EndOfStreamException("the gateway closed the connection without an answer");
    }

    /// <summary>A raw host API connection, for tests that speak JSON lines themselves.</summary>
    public async Task<System.Net.Sockets.TcpClient> ConnectHostAsync()
    {
        var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync("127.0.0.1", GatewayPort);
        return client;
    }

    public static async Task<SystemUnderTest> StartAsync(params string[] boards)
    {
        var system = new SystemUnderTest();
        foreach (var board in boards)
        {
            system.StartBoard(board, 0);
        }
        system.StartGateway();
        await Task.CompletedTask;
        return system;
    }

    /// <summary>A board on a tty (the board side of a pty pair), throttled to <paramref name="baud"/>.</summary>
    public void StartSerialBoard(string name, string tty, int baud, params string[] extraArgs)
    {
        var process = RunningProcess.StartCli(["emulate", "--board", $"{name}=serial:{tty}?baud={baud}", "--stop-grace-ms", "300", .. extraArgs]);
        process.WaitForLine("emulator ready");
        _boards[name] = process;
    }

    public void StartBoard(string name, int port, params string[] extraArgs)
    {
        var process = RunningProcess.StartCli(["emulate", "--board", $"{name}={port}", "--stop-grace-ms", "300", .. extraArgs]);
        var match = process.WaitForLine(@$"board {name} listening on tcp://127\.0\.0\.1:(\d+)");
        process.WaitForLine("emulator ready");
        _boards[name] = process;
        BoardPorts[name] = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Maps an extra device name to an arbitrary endpoint (a proxy, a dead port).</summary>
    public void AddDevice(string name, string endpoint) => _extraDevices.Add($"{name}={endpoint}");

    public List<string> GatewayArgs { get; } = [];

    /// <summary>What the running gateway printed so far (its log included).</summary>
    public string GatewayOutput => _gateway?.Output ?? string.Empty;

    /// <summary>host:port of the gateway's HTTP API, when <see cref="GatewayArgs"/> has --http.</summary>
    public string? Http { get; private set; }

    /// <summary>The gateway's SQLite state: one per system, kept across <see cref="RestartGatewayAsync"/>.</summary>
    public string StatePath { get; } = Path.Combine(Path.GetTempPath(), $"wasmorch-it-{Guid.NewGuid():n}.db");

    /// <summary>Environment of the gateway process (a token, for instance).</summary>
    public Dictionary<string, string> GatewayEnvironment { get; } = [];

    public void StartGateway()
    {
        List<string> args = ["gateway", "--port", "0", "--state", StatePath, .. GatewayArgs];
        foreach (var (name, port) in BoardPorts)
        {
            args.AddRange(["--add-device", $"{name}=tcp://127.0.0.1:{port}"]);
        }
        foreach (var device in _extraDevices)
        {
            args.AddRange(["--add-device", device]);
        }
        _gateway = RunningProcess.StartCliWithEnvironment(GatewayEnvironment, [.. args]);
        var match = _gateway.WaitForLine(@"gateway listening on (127\.0\.0\.1:\d+)");
        Gateway = match.Groups[1].Value;
        if (GatewayArgs.Contains("--http"))
        {
            Http = _gateway.WaitForLine(@"http listening on (127\.0\.0\.1:\d+)").Groups[1].Value;
        }
    }

    /// <summary>The gateway's process, to signal or to read its output.</summary>
    public RunningProcess GatewayProcess => _gateway ?? throw new InvalidOperationException("no gateway started");

    /// <summary>SIGKILL: the gateway gets no chance to finish anything.</summary>
    public async Task KillGatewayAsync()
    {
        await _gateway!.DisposeAsync();
        _gateway = null;
    }

    public async Task RestartGatewayAsync()
    {
        await _gateway!.DisposeAsync();
        StartGateway();
    }

    public async Task KillBoardAsync(string name)
    {
        await _boards[name].DisposeAsync();
        _boards.Remove(name);
    }

    public Task<CliResult> CliAsync(params string[] args) => CliRunner.RunAsync(Gateway, args);

    public string Logs
    {
        get
        {
            var text = new StringBuilder();
            text.AppendLine("--- gateway ---").AppendLine(_gateway?.Output);
            foreach (var (name, board) in _boards)
            {
                text.AppendLine($"--- board {name} ---").AppendLine(board.Output);
            }
            return text.ToString();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        foreach (var board in _boards.Values)
        {
            await board.DisposeAsync();
        }
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(StatePath + suffix);
        }
    }
}
