using System.Runtime.InteropServices;

namespace LeakAssert.Measurement;

/// <summary>
/// macOS's figures, where <see cref="System.Diagnostics.Process"/> gives 0 for private memory and handles: the
/// physical footprint from proc_pid_rusage (what Activity Monitor shows as Memory), open file descriptors from
/// /dev/fd, thread names from proc_pidinfo. Never run on a Mac here; a call that fails makes the figure "not given"
/// rather than 0.
/// </summary>
internal sealed unsafe partial class MacCounters() : ProcessApiCounters("macOS", privateBytes: false, handles: false)
{
    public override long? PrivateBytes()
    {
        // rusage_info_v0: a 16-byte uuid, then 64-bit fields; ri_phys_footprint is the eighth of them.
        const int PhysFootprintOffset = 16 + 7 * sizeof(ulong);
        var info = stackalloc byte[256];
        return Try(() => ProcPidRusage(Environment.ProcessId, 0, info) == 0 ? (long)*(ulong*)(info + PhysFootprintOffset) : null);
    }

    /// <summary>File descriptors (the listing's own included, the same at every reading).</summary>
    public override int? Handles() => Directory.Exists("/dev/fd") ? Directory.EnumerateFileSystemEntries("/dev/fd").Count() : null;

    public override IReadOnlyList<string>? ThreadNames() => Try<IReadOnlyList<string>>(() =>
    {
        const int ListThreads = 6, ThreadInfo = 5, ThreadInfoSize = 112, NameOffset = 48, NameSize = 64;
        var ids = new ulong[4096];
        int bytes;
        fixed (ulong* p = ids) bytes = ProcPidInfo(Environment.ProcessId, ListThreads, 0, p, ids.Length * sizeof(ulong));
        if (bytes <= 0) return null;
        var names = new List<string>();
        var info = stackalloc byte[ThreadInfoSize];
        for (var i = 0; i < bytes / sizeof(ulong); i++)
        {
            if (ProcPidInfo(Environment.ProcessId, ThreadInfo, ids[i], info, ThreadInfoSize) < ThreadInfoSize) continue;
            var name = new ReadOnlySpan<byte>(info + NameOffset, NameSize);
            var end = name.IndexOf((byte)0);
            if (end != 0) names.Add(System.Text.Encoding.UTF8.GetString(end < 0 ? name : name[..end]));
        }
        return names;
    });

    // A missing entry point or library means the figure is not given on this machine.
    private static T? Try<T>(Func<T?> read) where T : class
    {
        try { return read(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
    }

    private static long? Try(Func<long?> read)
    {
        try { return read(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
    }

    [LibraryImport("libproc", EntryPoint = "proc_pid_rusage")]
    private static partial int ProcPidRusage(int pid, int flavor, void* buffer);

    [LibraryImport("libproc", EntryPoint = "proc_pidinfo")]
    private static partial int ProcPidInfo(int pid, int flavor, ulong arg, void* buffer, int size);
}
