using System.Diagnostics;

namespace LeakAssert.Snapshots;

/// <summary>
/// A heap graph of this process taken through an EventPipe session on itself (what dotnet-gcdump does): every live
/// object with its type and size, the references between them and the roots that hold them, for counting by type and
/// for the retention paths that say what keeps a type's instances alive.
/// </summary>
internal sealed class HeapSnapshot
{
    /// <summary>How long a snapshot may take when no timeout is given.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    // The runtime runs one heap-dump GC a session; two snapshots at once would each wait out the other's.
    private static readonly Lock Gate = new();

    private readonly HeapGraph _graph;
    private readonly Type?[] _types;
    private readonly string[] _names;
    private readonly IReadOnlyDictionary<ulong, string> _frames;
    private readonly Lock _search = new();
    private PathGroups? _groups;
    private RetentionTree? _tree;
    private PathText? _text;

    private HeapSnapshot(HeapGraph graph, Type?[] types, IReadOnlyDictionary<ulong, string> frames, TimeSpan takenIn)
    {
        _graph = graph;
        _types = types;
        _frames = frames;
        TakenIn = takenIn;
        // The runtime names a nested type by its own name only ("Entry[System.Int32,System.String][]"); a loaded
        // type's full name tells Dictionary's Entry from List's.
        _names = new string[graph.TypeNames.Length];
        for (var t = 0; t < _names.Length; t++) _names[t] = types[t] is { } type ? TypeName.Of(type) : graph.TypeNames[t];
        var count = new long[graph.TypeNames.Length];
        var bytes = new long[graph.TypeNames.Length];
        for (var n = 0; n < graph.NodeCount; n++)
        {
            count[graph.NodeType[n]]++;
            bytes[graph.NodeType[n]] += graph.NodeSize[n];
        }
        var totals = new Dictionary<string, TypeTotal>(StringComparer.Ordinal);
        for (var t = 0; t < count.Length; t++)
        {
            if (count[t] == 0) continue;
            // Two type handles may share a name (a type loaded twice); their objects count together.
            var name = _names[t];
            totals[name] = totals.TryGetValue(name, out var sum) ? new TypeTotal(sum.Count + count[t], sum.Bytes + bytes[t]) : new TypeTotal(count[t], bytes[t]);
            TotalBytes += bytes[t];
        }
        Types = totals;
    }

    /// <summary>
    /// Takes a snapshot: the runtime runs an induced blocking gen2 GC and reports the heap it marked. Returns null with
    /// the one-sentence <paramref name="problem"/> when it cannot (diagnostics disabled, a session that will not start or
    /// stop, lost events: an incomplete snapshot is no snapshot).
    /// </summary>
    /// <param name="problem">Why there is no snapshot; null when there is one.</param>
    /// <param name="timeout">How long the whole snapshot may take; <see cref="DefaultTimeout"/> when null.</param>
    public static HeapSnapshot? TryTake(out string? problem, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero, nameof(timeout));
        var clock = Stopwatch.StartNew();
        if (!Gate.TryEnter(limit))
        {
            problem = $"another heap snapshot of this process did not finish within {HeapDump.Duration(limit)}";
            return null;
        }
        try
        {
            // Checked before the dump too: a collectible context that unloads meanwhile is gone by the check after it.
            var collectible = LoadedTypes.AnyCollectible();
            var frames = Frames();
            var graph = HeapDump.TryTake(limit - clock.Elapsed, out problem);
            if (graph is null) return null;
            var types = collectible ? new Type?[graph.TypeIds.Length] : LoadedTypes.ByHandle(graph.TypeIds);
            return new HeapSnapshot(graph, types, frames, clock.Elapsed);
        }
        finally
        {
            Gate.Exit();
        }
    }

    /// <summary>The objects, references and roots the dump reported.</summary>
    public HeapGraph Graph => _graph;

    /// <summary>
    /// What the stretch that ended with this snapshot gained, grouped into leaks (<see cref="LeakGroups"/>): the objects
    /// not in <paramref name="old"/>, halved by <paramref name="middle"/> when there is one.
    /// </summary>
    internal LeakGroups.Found Leaks(AddressSet old, AddressSet? middle, int iterations, int firstHalfIterations)
    {
        lock (_search)
        {
            var (tree, text) = Search();
            return LeakGroups.Of(_graph, tree, text, old, middle, iterations, firstHalfIterations);
        }
    }

    // The search runs once a snapshot, on the first question; what it resolves stays with the snapshot.
    private (RetentionTree Tree, PathText Text) Search()
    {
        _tree ??= new RetentionTree(_graph);
        _text ??= new PathText(_graph, _tree, _types, new LoadedTypes(), _frames);
        return (_tree, _text);
    }

    /// <summary>A type's name as <see cref="Types"/> spells it.</summary>
    public static string NameOf(Type type) => TypeName.Of(type);

    /// <summary>
    /// Live objects by type name, spelled as the runtime spells names ("System.Collections.Generic.List`1[Contoso.Order]",
    /// "Contoso.Outer+Inner") but with a nested type's enclosing types, which the runtime's own events leave out.
    /// </summary>
    public IReadOnlyDictionary<string, TypeTotal> Types { get; }

    public int ObjectCount => _graph.NodeCount;

    public long TotalBytes { get; }

    /// <summary>From the call to the graph being ready, the induced GC included.</summary>
    public TimeSpan TakenIn { get; }

    /// <summary>The bytes of the graph's arrays, what a snapshot holds while it lives (type names aside).</summary>
    public long GraphBytes =>
        _graph.NodeCount * (sizeof(int) + sizeof(long)) + (_graph.EdgeStart.LongLength + _graph.EdgeTarget.LongLength) * sizeof(int)
        + _graph.TypeIds.LongLength * sizeof(ulong) + _graph.WeakTableEdges.LongLength * sizeof(long);

    /// <summary>
    /// How the live instances of a type are held: each instance's shortest path from a root, grouped by the path's
    /// signature (root, step types and fields), largest group first, each with how many instances it holds. Empty
    /// when no instance is alive.
    /// </summary>
    /// <param name="typeName">
    /// The type's name: a key of <see cref="Types"/>, or the runtime's own spelling (an allocation sample's type name).
    /// </param>
    /// <param name="maxGroups">How many groups at most.</param>
    public IReadOnlyList<RetentionPath> PathsTo(string typeName, int maxGroups = 3)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        return PathsTo(t => _names[t] == typeName || _graph.TypeNames[t] == typeName, maxGroups);
    }

    /// <inheritdoc cref="PathsTo(string, int)"/>
    /// <param name="type">The type.</param>
    /// <param name="maxGroups">How many groups at most.</param>
    public IReadOnlyList<RetentionPath> PathsTo(Type type, int maxGroups = 3)
    {
        ArgumentNullException.ThrowIfNull(type);
        var name = NameOf(type);
        return PathsTo(t => _types[t] == type || (_types[t] is null && _names[t] == name), maxGroups);
    }

    private IReadOnlyList<RetentionPath> PathsTo(Func<int, bool> matches, int maxGroups)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroups, 1);
        var isTarget = new bool[_names.Length];
        var any = false;
        for (var t = 0; t < isTarget.Length; t++) any |= isTarget[t] = matches(t);
        if (!any) return [];
        lock (_search)
        {
            if (_groups is null)
            {
                var (tree, text) = Search();
                _groups = new PathGroups(_graph, tree, text);
            }
            return _groups.Of(isTarget, maxGroups);
        }
    }

    // The snapshot's own thread's methods by handle, taken before the dump while their frames are surely there: a
    // stack root's ID is its frame's method, which only these can name without reading a handle that may be gone.
    // The outermost frame is left out: the runtime reports a thread's statics after its frames, and their roots
    // then carried the last frame's method here.
    private static Dictionary<ulong, string> Frames()
    {
        var frames = new Dictionary<ulong, string>();
        foreach (var frame in new StackTrace().GetFrames().SkipLast(1))
        {
            if (frame.GetMethod() is not { DeclaringType: { } type } method) continue;
            try
            {
                frames.TryAdd((ulong)method.MethodHandle.Value, TypeName.Parse(TypeName.Of(type)).Qualified() + "." + method.Name);
            }
            catch (InvalidOperationException)
            {
                // A dynamic method has no handle to match; its frame reads as "thread stack".
            }
        }
        return frames;
    }
}

/// <summary>How many live objects of a type, and their bytes.</summary>
internal sealed record TypeTotal(long Count, long Bytes);

/// <summary>
/// A retention path, root first: the root in words ("static field Contoso.Cache._all", "strong handle", "pinned
/// handle", "thread stack", "finalizer queue"), then each step's type with the field it is left by where only one
/// field can hold the next object ("Dictionary&lt;Guid, Session&gt;._entries"), the last step being the retained type;
/// and how many instances are held this way.
/// </summary>
internal sealed record RetentionPath(string Root, IReadOnlyList<string> Steps, long Instances)
{
    public override string ToString() => Root + " -> " + string.Join(" -> ", Steps);
}
