using System.Diagnostics;

namespace Wasmorch.Testing;

/// <summary>
/// A real tty pair from socat: the gateway opens <see cref="GatewaySide"/>, an emulated board
/// serves <see cref="BoardSide"/>. Disposing it is unplugging the cable; a new pair on the same
/// paths is plugging it back in.
/// </summary>
public sealed class PtyPair : IAsyncDisposable
{
    private readonly Process _socat;

    private PtyPair(Process socat, string gatewaySide, string boardSide)
    {
        _socat = socat;
        GatewaySide = gatewaySide;
        BoardSide = boardSide;
    }

    public string GatewaySide { get; }

    public string BoardSide { get; }

    public static string NewDirectory() => Directory.CreateTempSubdirectory("wasmorch-pty-").FullName;

    public static async Task<PtyPair> CreateAsync(string directory)
    {
        var gatewaySide = Path.Combine(directory, "ttyGW");
        var boardSide = Path.Combine(directory, "ttyBOARD");
        var info = new ProcessStartInfo("socat") { RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add($"pty,raw,echo=0,link={gatewaySide}");
        info.ArgumentList.Add($"pty,raw,echo=0,link={boardSide}");
        var socat = Process.Start(info) ?? throw new InvalidOperationException("socat did not start (apt-get install socat)");
        for (var i = 0; i < 100 && !(File.Exists(gatewaySide) && File.Exists(boardSide)); i++)
        {
            await Task.Delay(20);
        }
        if (!File.Exists(gatewaySide) || !File.Exists(boardSide))
        {
            socat.Kill();
            throw new InvalidOperationException("socat did not create the pty pair: " + await socat.StandardError.ReadToEndAsync());
        }
        return new PtyPair(socat, gatewaySide, boardSide);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_socat.HasExited)
        {
            _socat.Kill();
        }
        await _socat.WaitForExitAsync();
        _socat.Dispose();
        for (var i = 0; i < 100 && (File.Exists(GatewaySide) || File.Exists(BoardSide)); i++)
        {
            await Task.Delay(10);
        }
    }
}
