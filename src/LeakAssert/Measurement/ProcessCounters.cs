using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.Win32.SafeHandles;

namespace LeakAssert.Measurement;

/// <summary>
/// The process's figures outside the GC heap: on Linux from /proc (a small file read into a stack buffer, a directory
/// counted), elsewhere from <see cref="Process"/>. A reading leaves only short-lived garbage behind, so taken right
/// after a checkpoint's forced GC it adds nothing to the next checkpoint's retained heap.
/// </summary>
internal static class ProcessCounters
{
    private static readonly bool Procfs = OperatingSystem.IsLinux() && File.Exists("/proc/self/status");

    /// <summary>
    /// Private memory of the process outside the GC heap: its private pages (on Linux the resident anonymous ones,
    /// RssAnon of /proc/self/status; elsewhere its private bytes) less what the GC had committed at its last
    /// collection. Read right after a forced GC, as the heap's figure is.
    /// </summary>
    /// <remarks>
    /// Not /proc/self/smaps_rollup: the kernel walks every mapping to sum it, 4 ms a reading in a small process and
    /// 30-80 ms beside a 100 MB-1.5 GB heap, at every checkpoint; RssAnon is a counter the kernel keeps, read in
    /// 0.1 ms, and moved with 64 MB of written native buffers as the private pages did (within 2 MB).
    /// </remarks>
    public static long NativeBytes()
    {
        long privateBytes;
        if (Procfs)
        {
            Span<byte> buffer = stackalloc byte[4096];
            privateBytes = Field(Read("/proc/self/status", buffer), "RssAnon:"u8) * 1024;
        }
        else
        {
            using var process = Process.GetCurrentProcess();
            privateBytes = process.PrivateMemorySize64;
        }
        return privateBytes - GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;
    }

    /// <summary>Assemblies loaded in every load context.</summary>
    public static int Assemblies() => AppDomain.CurrentDomain.GetAssemblies().Length;

    /// <summary>Assembly load contexts still alive: a collectible one that was never unloaded, or is still referenced, stays.</summary>
    public static int LoadContexts()
    {
        var count = 0;
        foreach (var _ in AssemblyLoadContext.All) count++;
        return count;
    }

    /// <summary>
    /// OS threads of the process less the thread pool's: the pool adds workers under load and retires them when idle,
    /// which is the pool's business, not a leak (a workload's bursts of Task.Run would otherwise look like one).
    /// </summary>
    public static int Threads() => OsThreads() - ThreadPool.ThreadCount;

    /// <summary>The thread pool's threads, to take out of the OS threads' names too.</summary>
    public static int PoolThreads() => ThreadPool.ThreadCount;

    private static int OsThreads()
    {
        if (!Procfs)
        {
            using var process = Process.GetCurrentProcess();
            return process.Threads.Count;
        }
        Span<byte> buffer = stackalloc byte[4096];
        return (int)Field(Read("/proc/self/status", buffer), "Threads:"u8);
    }

    /// <summary>Open handles: file descriptors on Linux (the enumeration's own included, the same at every reading).</summary>
    public static int Handles()
    {
        if (!Procfs)
        {
            using var process = Process.GetCurrentProcess();
            return process.HandleCount;
        }
        return Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
    }

    /// <summary>Threads, handles and assemblies together: what a leak of any of them adds to, for sizing a run.</summary>
    public static int Resources() => Threads() + Handles() + Assemblies();

    /// <summary>Every loaded assembly by name, kind and load context; kept as text so that no collectible assembly is held alive.</summary>
    public static IEnumerable<AssemblyGroup> LoadedAssemblies() =>
        AppDomain.CurrentDomain.GetAssemblies().Select(a =>
        {
            var context = AssemblyLoadContext.GetLoadContext(a);
            return new AssemblyGroup(a.GetName().Name ?? "(no name)", a.IsDynamic, context?.IsCollectible ?? a.IsCollectible,
                context?.Name ?? "(unnamed)", 1);
        });

    /// <summary>
    /// The OS names of the process's threads (Linux only: .NET gives an OS thread its Thread.Name, cut to 15
    /// characters; a thread without one keeps its creator's); empty elsewhere.
    /// </summary>
    public static IEnumerable<string> ThreadNames()
    {
        if (!Procfs) return [];
        var names = new List<string>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                names.Add(File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'));
            }
            catch (IOException)
            {
                // The thread ended between the listing and the reading: it is not there any more.
            }
        }
        return names;
    }

    // A small /proc file, whole, into the buffer; procfs generates it at open, so one read from offset 0 sees it all.
    private static ReadOnlySpan<byte> Read(string path, Span<byte> buffer)
    {
        using SafeFileHandle handle = File.OpenHandle(path);
        var length = 0;
        while (length < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer[length..], length);
            if (read == 0) break;
            length += read;
        }
        return buffer[..length];
    }

    // The number after "Name:" at the start of a line ("Threads:\t12", "Private_Dirty:   1234 kB"); 0 when absent.
    private static long Field(ReadOnlySpan<byte> text, ReadOnlySpan<byte> name)
    {
        var at = 0;
        while (at < text.Length)
        {
            var line = text[at..];
            var end = line.IndexOf((byte)'\n');
            if (end >= 0) line = line[..end];
            if (line.StartsWith(name))
            {
                var digits = line[name.Length..].TrimStart(" \t"u8);
                long value = 0;
                foreach (var b in digits)
                {
                    if (b is < (byte)'0' or > (byte)'9') break;
                    value = value * 10 + (b - '0');
                }
                return value;
            }
            if (end < 0) break;
            at += end + 1;
        }
        return 0;
    }
}
