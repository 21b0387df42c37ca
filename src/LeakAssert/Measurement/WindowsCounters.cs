using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LeakAssert.Measurement;

/// <summary>
/// Windows's figures: private bytes and the handle count from <see cref="Process"/>, thread names from
/// GetThreadDescription. Never run on a Windows machine here; the rules are exercised on Linux through
/// <see cref="ProcessApiCounters"/>, which reads the same Process figures.
/// </summary>
internal sealed partial class WindowsCounters() : ProcessApiCounters("Windows", privateBytes: true, handles: true)
{
    /// <summary>
    /// Handles each thread-pool worker holds (its thread handle and its wake-up event, by the runtime's sources; not
    /// measured on a machine): workers the pool injects under load would otherwise raise the count while the thread
    /// counter, which leaves the pool out, stays flat.
    /// </summary>
    internal const int HandlesPerPoolThread = 2;

    public override int? Handles() => base.Handles() - HandlesPerPoolThread * ThreadPool.ThreadCount;

    public override IReadOnlyList<string>? ThreadNames()
    {
        if (!OperatingSystem.IsWindows()) return null;
        using var process = Process.GetCurrentProcess();
        var names = new List<string>();
        foreach (ProcessThread thread in process.Threads)
        {
            var handle = OpenThread(ThreadQueryLimitedInformation, false, (uint)thread.Id);
            if (handle == 0) continue; // ended since the listing
            try
            {
                if (GetThreadDescription(handle, out var text) < 0 || text == 0) continue;
                try
                {
                    if (Marshal.PtrToStringUni(text) is { Length: > 0 } name) names.Add(name);
                }
                finally
                {
                    LocalFree(text);
                }
            }
            finally
            {
                CloseHandle(handle);
            }
        }
        return names;
    }

    private const uint ThreadQueryLimitedInformation = 0x0800;

    [LibraryImport("kernel32.dll", SetLastError = true)]
    private static partial nint OpenThread(uint access, [MarshalAs(UnmanagedType.Bool)] bool inherit, uint threadId);

    [LibraryImport("kernel32.dll")]
    private static partial int GetThreadDescription(nint thread, out nint description);

    [LibraryImport("kernel32.dll")]
    private static partial nint LocalFree(nint memory);

    [LibraryImport("kernel32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CloseHandle(nint handle);
}
