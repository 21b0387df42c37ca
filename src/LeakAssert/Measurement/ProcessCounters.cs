using System.Runtime.Loader;

namespace LeakAssert.Measurement;

/// <summary>
/// The process's figures outside the GC heap, read through the <see cref="CounterSource"/> of the OS it runs on
/// (one a test may replace, to run another OS's rules). A figure the platform does not give is null.
/// </summary>
internal static class ProcessCounters
{
    private static CounterSource source = CounterSource.ForThisProcess();

    /// <summary>The source every reading goes through.</summary>
    public static CounterSource Source => Volatile.Read(ref source);

    /// <summary>Reads through <paramref name="replacement"/> until disposed (a test's other OS).</summary>
    internal static IDisposable Use(CounterSource replacement)
    {
        var previous = Interlocked.Exchange(ref source, replacement);
        return new Restore(() => Volatile.Write(ref source, previous));
    }

    /// <summary>
    /// Private memory of the process outside the GC heap: its private pages less what the GC had committed at its
    /// last collection. Read right after a forced GC, as the heap's figure is. Null where the platform gives none.
    /// </summary>
    public static long? NativeBytes() => Source.PrivateBytes() - GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;

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
    public static int Threads() => Source.OsThreads() - ThreadPool.ThreadCount;

    /// <summary>The thread pool's threads, to take out of the OS threads' names too.</summary>
    public static int PoolThreads() => ThreadPool.ThreadCount;

    /// <summary>Open handles (file descriptors on Unix); null where the platform gives none.</summary>
    public static int? Handles() => Source.Handles();

    /// <summary>Threads, handles and assemblies together: what a leak of any of them adds to, for sizing a run.</summary>
    public static int Resources() => Threads() + (Handles() ?? 0) + Assemblies();

    /// <summary>Every loaded assembly by name, kind and load context; kept as text so that no collectible assembly is held alive.</summary>
    public static IEnumerable<AssemblyGroup> LoadedAssemblies() =>
        AppDomain.CurrentDomain.GetAssemblies().Select(a =>
        {
            var context = AssemblyLoadContext.GetLoadContext(a);
            return new AssemblyGroup(a.GetName().Name ?? "(no name)", a.IsDynamic, context?.IsCollectible ?? a.IsCollectible,
                context?.Name ?? "(unnamed)", 1);
        });

    /// <summary>The OS names of the process's threads; empty where the platform gives none.</summary>
    public static IEnumerable<string> ThreadNames() => Source.ThreadNames() ?? [];

    private sealed class Restore(Action exit) : IDisposable
    {
        public void Dispose() => exit();
    }
}
