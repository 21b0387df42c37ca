using System.Diagnostics;

namespace LeakAssert.Measurement;

/// <summary>
/// What the operating system tells about this process outside the GC heap, one implementation per OS. A figure the
/// platform does not give is null, never a constant 0: a counter that cannot move would read as "flat" and pass a
/// leak. Nothing above <see cref="ProcessCounters"/> knows which source it reads.
/// </summary>
internal abstract class CounterSource
{
    /// <summary>The platform, as a sentence names it: "Linux", "macOS", "Windows".</summary>
    public abstract string Platform { get; }

    /// <summary>The process's private memory in bytes (the GC's heap included), or null where the platform gives none.</summary>
    public abstract long? PrivateBytes();

    /// <summary>The process's OS threads, the thread pool's included.</summary>
    public abstract int OsThreads();

    /// <summary>Open handles (file descriptors on Unix), less those the runtime's own threads hold; null where not given.</summary>
    public abstract int? Handles();

    /// <summary>The OS names of the process's threads, or null where the platform gives none.</summary>
    public abstract IReadOnlyList<string>? ThreadNames();

    /// <summary>The source for the OS this process runs on.</summary>
    public static CounterSource ForThisProcess() =>
        OperatingSystem.IsLinux() && File.Exists("/proc/self/status") ? new ProcfsCounters()
        : OperatingSystem.IsWindows() ? new WindowsCounters()
        : OperatingSystem.IsMacOS() ? new MacCounters()
        : new ProcessApiCounters("this platform", privateBytes: false, handles: false);
}

/// <summary>
/// The figures of <see cref="Process"/>, where the platform fills them in: on macOS its private memory and handle
/// count are always 0 (only the virtual and working-set sizes are filled in), so they are declared not given.
/// </summary>
internal class ProcessApiCounters(string platform, bool privateBytes, bool handles) : CounterSource
{
    public override string Platform => platform;

    public override long? PrivateBytes()
    {
        if (!privateBytes) return null;
        using var process = Process.GetCurrentProcess();
        return process.PrivateMemorySize64;
    }

    public override int OsThreads()
    {
        using var process = Process.GetCurrentProcess();
        return process.Threads.Count;
    }

    public override int? Handles()
    {
        if (!handles) return null;
        using var process = Process.GetCurrentProcess();
        return process.HandleCount;
    }

    public override IReadOnlyList<string>? ThreadNames() => null;

    /// <summary>What .NET's Process class gives on macOS, for running the macOS rules on another OS.</summary>
    public static ProcessApiCounters MacLike() => new("macOS", privateBytes: false, handles: false);
}
