using System.Linq.Expressions;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Text.RegularExpressions;

namespace Fixtures;

// Leaks outside the GC heap, built from the framework itself, each with its fixed twin; and busy workloads that grow
// the same counters once (JIT, the thread pool, compiled regular expressions) without leaking. Shared by the xUnit
// fixture, LeakAssert's own tests and the benchmark. NoInlining keeps each a frame of its own, as in user code, and
// keeps what a fixed twin made off the caller's stack.

/// <summary>A serializer that generates its code as a dynamic assembly: one per call (the leak), or one cached (the fix).</summary>
public static class GeneratedSerializers
{
    public const string AssemblyName = "GeneratedSerializer";
    private static readonly Lazy<Type> Cached = new(Generate);

    /// <summary>A new non-collectible assembly every call: the runtime keeps each for the life of the process.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Type GenerateEveryCall() => Generate();

    /// <summary>The fix: the assembly is generated once and reused.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Type GenerateOnce() => Cached.Value;

    private static Type Generate()
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName(AssemblyName), AssemblyBuilderAccess.Run);
        var type = assembly.DefineDynamicModule(AssemblyName).DefineType("Serializer", TypeAttributes.Public | TypeAttributes.Sealed);
        var write = type.DefineMethod("Write", MethodAttributes.Public | MethodAttributes.Static, typeof(string), [typeof(int)]);
        var il = write.GetILGenerator();
        il.Emit(OpCodes.Ldarga_S, (byte)0);
        il.Emit(OpCodes.Call, typeof(int).GetMethod(nameof(int.ToString), Type.EmptyTypes)!);
        il.Emit(OpCodes.Ret);
        var created = type.CreateType();
        created.GetMethod("Write")!.Invoke(null, [42]);
        return created;
    }
}

/// <summary>Plugins loaded from bytes into a collectible load context: kept in a list (the leak) or unloaded (the fix).</summary>
public static class Plugins
{
    public const string ContextName = "plugin";
    private static readonly List<AssemblyLoadContext> Kept = [];
    private static readonly byte[] Image = BuildImage();

    /// <summary>Loads the plugin into a context of its own and keeps the context: it can never unload.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void LoadAndKeep()
    {
        var context = new AssemblyLoadContext(ContextName, isCollectible: true);
        context.LoadFromStream(new MemoryStream(Image)).GetTypes();
        Kept.Add(context);
    }

    /// <summary>The fix: the context is unloaded and nothing refers to it, so the next forced GCs free it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void LoadAndUnload()
    {
        var context = new AssemblyLoadContext(ContextName, isCollectible: true);
        context.LoadFromStream(new MemoryStream(Image)).GetTypes();
        context.Unload();
    }

    public static void Release()
    {
        foreach (var context in Kept) context.Unload();
        Kept.Clear();
    }

    // A one-type assembly, emitted to bytes once.
    private static byte[] BuildImage()
    {
        var assembly = new PersistedAssemblyBuilder(new AssemblyName("Plugin"), typeof(object).Assembly);
        assembly.DefineDynamicModule("Plugin").DefineType("Plugin.Entry", TypeAttributes.Public).CreateType();
        using var image = new MemoryStream();
        assembly.Save(image);
        return image.ToArray();
    }
}

/// <summary>A component that starts a thread per instance: never stopped (the leak), or joined (the fix).</summary>
public static class Workers
{
    public const string ThreadName = "LeakyWorker";
    private static ManualResetEventSlim _gate = new();
    private static int _work;

    /// <summary>Starts a thread that waits for a gate nobody opens while the workload runs.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void StartAndForget()
    {
        var gate = _gate;
        new Thread(() => gate.Wait()) { IsBackground = true, Name = ThreadName }.Start();
    }

    /// <summary>The fix: the thread does its work and is joined.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void StartAndJoin()
    {
        var thread = new Thread(() => Interlocked.Increment(ref _work)) { IsBackground = true, Name = "JoinedWorker" };
        thread.Start();
        thread.Join();
    }

    /// <summary>Lets every waiting thread end; later leaks wait on a new gate.</summary>
    public static void Release() => Interlocked.Exchange(ref _gate, new ManualResetEventSlim()).Set();
}

/// <summary>A reader that opens a file per call: kept open (the leak), or disposed (the fix).</summary>
public static class OpenFiles
{
    private static readonly List<FileStream> Kept = [];
    private static readonly Lazy<string> File = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"leakassert-open-files-{Environment.ProcessId}.txt");
        System.IO.File.WriteAllText(path, "0123456789");
        return path;
    });
    private static int _read;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void OpenAndKeep()
    {
        var stream = System.IO.File.OpenRead(File.Value);
        _read += stream.ReadByte();
        Kept.Add(stream);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void OpenAndDispose()
    {
        using var stream = System.IO.File.OpenRead(File.Value);
        _read += stream.ReadByte();
    }

    public static void Release()
    {
        foreach (var stream in Kept) stream.Dispose();
        Kept.Clear();
    }
}

/// <summary>Native buffers of 64 kB, written so that their pages are resident: kept (the leak), or freed (the fix).</summary>
public static class NativeBuffers
{
    public const int Size = 64 * 1024;
    private static readonly List<nint> Kept = new(capacity: 100_000);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void AllocateAndKeep() => Kept.Add(Allocate());

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void AllocateAndFree() => Marshal.FreeHGlobal(Allocate());

    public static void Release()
    {
        foreach (var buffer in Kept) Marshal.FreeHGlobal(buffer);
        Kept.Clear();
        // glibc keeps freed 64 kB blocks in its arena: a later native leak would reuse those resident pages and not
        // grow at all. malloc_trim hands them back.
        if (OperatingSystem.IsLinux())
        {
            try { MallocTrim(0); }
            catch (EntryPointNotFoundException) { /* not glibc */ }
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    // A byte in every page: an untouched allocation is address space, not memory.
    private static nint Allocate()
    {
        var buffer = Marshal.AllocHGlobal(Size);
        for (var offset = 0; offset < Size; offset += 4096) Marshal.WriteByte(buffer, offset, 1);
        return buffer;
    }
}

/// <summary>Busy workloads that grow the counters outside the GC heap once, then stop: none of them leaks.</summary>
public static class BusyWorkloads
{
    private static readonly string[] Patterns = [@"^\d{3}-\d{4}$", @"(\w+)@(\w+)\.com", @"[aeiou]{2,}", @"^(?<year>\d{4})-(?<month>\d\d)$"];
    private static object? _sink;
    private static int _n;

    /// <summary>50 kB of short-lived arrays a call.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Garbage()
    {
        for (var i = 0; i < 50; i++) _sink = new byte[1_000];
    }

    /// <summary>Heavy JIT work: an expression compiled to a new dynamic method every call, and LINQ over generic types.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void CompileExpressions()
    {
        var x = Expression.Parameter(typeof(int), "x");
        var f = Expression.Lambda<Func<int, int>>(Expression.Multiply(Expression.Add(x, Expression.Constant(_n++)), x), x).Compile();
        _sink = Enumerable.Range(0, 16).Select(f).Where(v => v % 3 == 0).GroupBy(v => v % 5).ToDictionary(g => g.Key, g => g.Sum(v => (long)v));
    }

    /// <summary>Bursts of Task.Run, some blocking briefly, so that the thread pool adds workers.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThreadPoolBursts()
    {
        var burst = new Task[8];
        for (var i = 0; i < burst.Length; i++)
            burst[i] = (i & 1) == 0 ? Task.Run(() => Thread.Sleep(1)) : Task.Run(() => _sink = new byte[256]);
        Task.WaitAll(burst);
    }

    /// <summary>Regular expressions compiled to IL every call from a few fixed patterns, and the static methods' cache.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void CompiledRegexes()
    {
        var pattern = Patterns[_n++ % Patterns.Length];
        _sink = new Regex(pattern, RegexOptions.Compiled).IsMatch("555-1234 someone@example.com 2026-11");
        _sink = Regex.Replace("queueing aeiou", Patterns[_n % Patterns.Length], "-");
    }

    /// <summary>The busy workloads by name.</summary>
    public static IReadOnlyList<(string Name, Action Work)> All =>
    [
        ("garbage", Garbage),
        ("heavy JIT (compiled expressions, LINQ)", CompileExpressions),
        ("thread pool bursts", ThreadPoolBursts),
        ("compiled regular expressions", CompiledRegexes),
    ];
}
