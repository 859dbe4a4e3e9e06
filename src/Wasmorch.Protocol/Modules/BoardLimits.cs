namespace Wasmorch.Protocol.Modules;

/// <summary>
/// What a module may ask of a board's memory (docs/protocol.md §5): the boards give one linear
/// memory of one 64 KiB page and tables of a bounded size. The gateway checks these before upload;
/// the emulator at LOAD and again at instantiation.
/// </summary>
public static class BoardLimits
{
    public const long LinearMemoryBytes = 64 * 1024;

    public const int Memories = 1;

    /// <summary>Elements of all tables together (function tables of C modules hold tens).</summary>
    public const int TableElements = 4096;

    /// <summary>Why <paramref name="footprint"/> does not fit a board with <paramref name="memoryBytes"/> of linear memory, or null when it does.</summary>
    public static (string Code, string Message)? Check(ModuleFootprint footprint, long memoryBytes = LinearMemoryBytes)
    {
        if (footprint.Memories > Memories)
        {
            return ("INVALID_MODULE", $"module defines {footprint.Memories} memories; boards give one");
        }
        if (footprint.SharedMemories > 0)
        {
            // A shared memory compiles and links, then traps at its first use on a board that runs one
            // thread without atomics waiting: refused here, where the message can say why.
            return ("INVALID_MODULE", "module's memory is shared (the threads proposal's 'shared' limits flag); boards give one unshared memory: build without threads or shared memory");
        }
        if (footprint.MemoryPages * 65536 > memoryBytes)
        {
            return ("NO_MEMORY", $"module needs {footprint.MemoryPages * 64} KiB of linear memory; boards give {memoryBytes / 1024} KiB");
        }
        if (footprint.TableElements > TableElements)
        {
            return ("NO_MEMORY", $"module's tables need {footprint.TableElements} elements; boards give {TableElements}");
        }
        return null;
    }
}
