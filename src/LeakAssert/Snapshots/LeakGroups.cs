using System.Security.Cryptography;
using System.Text;

namespace LeakAssert.Snapshots;

/// <summary>
/// Finds the leaks in the second heap dump of a stretch, as LeakCanary and memlab do: the objects the stretch gained
/// (not in the first dump), each gained object's holder (the last old object on its shortest path from a root), the
/// object each iteration adds below that holder (its boundary: the first new object that is not a collection's own
/// storage), and the bytes that boundary objects dominate among the new objects. Growth steady over the stretch is a
/// leak group; the rest (a cache filled once, a test host's serializer, the runtime's own metadata) is one-off.
/// Every step is one pass over the objects or references, in the order the shortest-path search reached them, so a
/// chain of a million objects costs what a flat list of a million does.
/// </summary>
internal sealed class LeakGroups
{
    private const int None = -1;

    /// <summary>Boundary objects each half must add for a group to be steady.</summary>
    internal const int MinPerHalf = 4;

    private readonly HeapGraph _graph;
    private readonly RetentionTree _tree;
    private readonly PathText _text;
    private readonly bool[] _isNew;
    private readonly Kind[] _kinds;
    private readonly int _timerQueue = None;
    private readonly int _timerEntry = None;

    private LeakGroups(HeapGraph graph, RetentionTree tree, PathText text, bool[] isNew)
    {
        _graph = graph;
        _tree = tree;
        _text = text;
        _isNew = isNew;
        _kinds = new Kind[graph.TypeNames.Length];
        for (var t = 0; t < _kinds.Length; t++)
        {
            _kinds[t] = Classify(t);
            var name = text.FullName(t);
            if (name == "System.Threading.TimerQueue") _timerQueue = t;
            else if (name == "System.Threading.TimerQueueTimer") _timerEntry = t;
        }
    }

    /// <summary>What a stretch gained, grouped: the steady leak groups, largest first, and what was one-off.</summary>
    /// <param name="graph">The dump at the end of the stretch.</param>
    /// <param name="tree">Its shortest paths.</param>
    /// <param name="text">Its words.</param>
    /// <param name="old">The objects of the dump at the start, followed to this dump's addresses.</param>
    /// <param name="middle">The objects of a dump in the middle of the stretch, likewise; null when none was taken.</param>
    /// <param name="iterations">The iterations of the stretch.</param>
    /// <param name="firstHalfIterations">The iterations before the middle dump.</param>
    public static Found Of(HeapGraph graph, RetentionTree tree, PathText text, AddressSet old, AddressSet? middle, int iterations,
        int firstHalfIterations)
    {
        var isNew = new bool[graph.NodeCount];
        for (var n = 0; n < isNew.Length; n++) isNew[n] = !old.Contains(graph.NodeAddress[n], graph.TypeIds[graph.NodeType[n]]);
        return new LeakGroups(graph, tree, text, isNew).Find(middle, iterations, firstHalfIterations);
    }

    private Found Find(AddressSet? middle, int iterations, int firstHalfIterations)
    {
        var n = _graph.NodeCount;
        // Per node, in the search's order (a parent always before its children): the holder (the last old node, or a
        // root as -(index) - 2), the first new node after it, and the group of a boundary object (or None).
        var holder = new int[n];
        var boundary = new int[n];
        var group = new int[n];
        var inElement = new bool[n];
        var excluded = new bool[n];
        Array.Fill(group, None);
        var keys = new Dictionary<(SiteKey Site, int Type), int>();
        var groups = new List<Building>();
        foreach (var node in _tree.Order)
        {
            var parent = _tree.ParentOf(node);
            if (!_isNew[node])
            {
                holder[node] = node;
                boundary[node] = None;
                continue;
            }
            var type = _graph.NodeType[node];
            var parentNew = parent >= 0 && _isNew[parent];
            holder[node] = parent < 0 ? -_tree.RootOf(node) - 2 : holder[parent];
            boundary[node] = parentNew ? boundary[parent] : node;
            var h = holder[node];
            // LeakAssert's objects and all they alone lead to. What only its frames or objects hold but is not its own
            // (a workload's execution context that it flows from one iteration to the next) is the workload's.
            excluded[node] = (parentNew && excluded[parent]) || _kinds[type] == Kind.Own;
            if (excluded[node]) continue;
            // The runtime's own holders (a timer's queue entry, a token's callback node) hold what was handed to them, even
            // when the search first reached them through another element (a timer's state that refers to its timer).
            if (parentNew && inElement[parent] && !(_kinds[type] == Kind.Runtime && IsContainer(node, parent)))
            {
                inElement[node] = true;
                // A chain of one type (a linked list's nodes, scopes that point to their parents) adds one each time.
                if (group[parent] != None && _graph.NodeType[parent] == type) Count(groups, group[node] = group[parent], node, middle);
                continue;
            }
            if (IsContainer(node, parentNew ? parent : None)) continue;
            inElement[node] = true;
            var site = Site(h, boundary[node]);
            if (!keys.TryGetValue((site, type), out var id))
            {
                keys[(site, type)] = id = groups.Count;
                groups.Add(new Building(site, type, node));
            }
            Count(groups, group[node] = id, node, middle);
        }

        var (bytes, byType, unattributed) = Retained(groups.Count, group, excluded);
        var steady = new List<Building>();
        var oneOff = new OneOff();
        for (var g = 0; g < groups.Count; g++)
        {
            var b = groups[g];
            b.Bytes = bytes[g];
            b.ByType = byType[g];
            if (IsSteady(b, middle is not null, iterations, firstHalfIterations)) steady.Add(b);
            else oneOff.Add(b.Bytes, b.ByType.Values.Sum(v => v.Count));
        }
        oneOff.Add(unattributed.Bytes, unattributed.Count);
        var ranked = steady.OrderByDescending(b => b.Bytes).ThenBy(b => b.Representative)
            .Select(b => ToGroup(b, iterations, middle is not null)).ToList();
        ranked = FoldThreads(ranked);
        var total = ranked.Sum(g => g.RetainedBytes);
        var leaks = ranked.Where(g => !IsMinor(g, total)).ToList();
        return new Found(leaks, ranked.Where(g => IsMinor(g, total)).ToList(), oneOff.Bytes, oneOff.Objects);
    }

    /// <summary>
    /// A thread started per iteration and left running is three groups to the graph: its Thread object (held by the
    /// runtime's strong handle for a running thread), what its stack holds, and its thread statics (thread roots whose
    /// first object is new). Thread-rooted groups that grew at about the new threads' rate (within a factor of two)
    /// are those threads' and are folded into the Thread group: one leak, with what each thread keeps.
    /// </summary>
    private static List<LeakGroup> FoldThreads(List<LeakGroup> ranked)
    {
        var threads = ranked.FirstOrDefault(g => g.BoundaryType == ThreadType && g.RootKind == RootKind.StrongHandle);
        if (threads is null || threads.CountPerIteration <= 0) return ranked;
        var held = ranked.Where(g => g != threads && g.RootKind == RootKind.Stack
            && g.CountPerIteration >= threads.CountPerIteration / 2 && g.CountPerIteration <= threads.CountPerIteration * 2).ToList();
        if (held.Count == 0) return ranked;
        var retains = threads.Retains.Concat(held.SelectMany(h => h.Retains))
            .GroupBy(t => t.TypeName, StringComparer.Ordinal)
            .Select(t => new RetainedType(t.Key, t.Sum(x => x.Count), t.Sum(x => x.Bytes)))
            .OrderByDescending(t => t.Count).ThenBy(t => t.TypeName, StringComparer.Ordinal).ToList();
        var folded = threads with { RetainedBytes = threads.RetainedBytes + held.Sum(h => h.RetainedBytes), Retains = retains, HeldByThreads = held };
        return [.. ranked.Where(g => !held.Contains(g)).Select(g => g == threads ? folded : g).OrderByDescending(g => g.RetainedBytes)];
    }

    private const string ThreadType = "System.Threading.Thread";

    /// <summary>
    /// Rare (under one boundary object per <see cref="MinorEvery"/> iterations) and either small beside the rest (under
    /// <see cref="MinorShare"/> of the steady groups' bytes) or a thread's own new storage: a thread root whose first
    /// object is new is a thread started during the run (a thread pool growing under other tests' load), whose
    /// thread-static array-pool buckets can outweigh a small leak. Threads themselves are the thread counter's to judge.
    /// </summary>
    private static bool IsMinor(LeakGroup g, long total) =>
        g.CountPerIteration < 1.0 / MinorEvery && (g.RetainedBytes < total * MinorShare || IsNewThreadStorage(g));

    private static bool IsNewThreadStorage(LeakGroup g) =>
        g.RootKind == RootKind.Stack && g.Path.All(n => n.Role is LeakNodeRole.New or LeakNodeRole.Boundary);

    internal const double MinorShare = 0.05;
    internal const int MinorEvery = 10;

    private void Count(List<Building> groups, int id, int node, AddressSet? middle)
    {
        var b = groups[id];
        b.Count++;
        if (middle is not null && middle.Contains(_graph.NodeAddress[node], _graph.TypeIds[_graph.NodeType[node]])) b.FirstHalf++;
    }

    /// <summary>
    /// Steady: both halves of the stretch added boundary objects, at least <see cref="MinPerHalf"/> each, at rates within a
    /// factor of two of each other. A cache filled once, or metadata built when a session started, lands in one half; a
    /// thread pool's or a test host's odd object in each half is not a rate. Without a middle dump, the count must be a
    /// steady whole number per iteration (<see cref="HeapDiff.Steady"/>).
    /// </summary>
    private static bool IsSteady(Building b, bool halves, int iterations, int firstHalfIterations)
    {
        if (!halves) return HeapDiff.Steady(b.Count, iterations) > 0;
        var second = b.Count - b.FirstHalf;
        var secondIterations = iterations - firstHalfIterations;
        if (b.FirstHalf < MinPerHalf || second < MinPerHalf || firstHalfIterations < 1 || secondIterations < 1) return false;
        var (r1, r2) = ((double)b.FirstHalf / firstHalfIterations, (double)second / secondIterations);
        return Math.Min(r1, r2) * 2 >= Math.Max(r1, r2);
    }

    // The new objects' dominator tree, from one virtual root that holds every new object an old one or a root refers
    // to; each new object is retained by the nearest boundary object that dominates it.
    private (long[] Bytes, Dictionary<int, (long Count, long Bytes)>[] ByType, (long Count, long Bytes) Unattributed) Retained(
        int groupCount, int[] group, bool[] excluded)
    {
        var n = _graph.NodeCount;
        var vertexOf = new int[n];
        var nodeOf = new List<int> { None };
        for (var v = 0; v < n; v++)
        {
            vertexOf[v] = None;
            if (_isNew[v] && !excluded[v])
            {
                vertexOf[v] = nodeOf.Count;
                nodeOf.Add(v);
            }
        }
        var count = nodeOf.Count;
        var held = new bool[count];
        foreach (var root in _graph.Roots)
            if (vertexOf[root.Node] >= 0) held[vertexOf[root.Node]] = true;
        // Two passes over the references: count each new vertex's new successors (and mark what an old object holds),
        // then fill them in; vertex 0's successors are the held ones.
        var start = new int[count + 1];
        for (var pass = 0; pass < 2; pass++)
        {
            var targets0 = pass == 0 ? null : new int[start[count]];
            var fill = pass == 0 ? null : (int[])start.Clone();
            if (fill is not null)
                for (var w = 1; w < count; w++) if (held[w]) targets0![fill[0]++] = w;
            for (var from = 0; from < n; from++)
            {
                var u = vertexOf[from];
                var old = !_isNew[from];
                if (!old && u < 0) continue;
                for (var e = _graph.EdgeStart[from]; e < _graph.EdgeStart[from + 1]; e++)
                    Link(u, old, vertexOf[_graph.EdgeTarget[e]], held, start, targets0, fill);
            }
            foreach (var pair in _graph.WeakTableEdges)
            {
                var from = (int)(pair >> 32);
                Link(vertexOf[from], !_isNew[from], vertexOf[(int)pair], held, start, targets0, fill);
            }
            if (pass == 0)
            {
                for (var w = 1; w < count; w++) if (held[w]) start[1]++;
                for (var v = 0; v < count; v++) start[v + 1] += start[v];
            }
            else
            {
                _targets = targets0!;
            }
        }
        var targets = _targets;
        var (idom, preorder) = Dominators.Of(count, start, targets);

        var owner = new int[count];
        owner[0] = None;
        var bytes = new long[groupCount];
        var byType = new Dictionary<int, (long Count, long Bytes)>[groupCount];
        for (var g = 0; g < groupCount; g++) byType[g] = [];
        (long Count, long Bytes) unattributed = (0, 0);
        foreach (var w in preorder.AsSpan(1))
        {
            var node = nodeOf[w];
            owner[w] = group[node] != None ? group[node] : owner[idom[w]];
            var size = _graph.NodeSize[node];
            if (owner[w] == None)
            {
                unattributed = (unattributed.Count + 1, unattributed.Bytes + size);
                continue;
            }
            bytes[owner[w]] += size;
            var type = _graph.NodeType[node];
            var sum = byType[owner[w]].GetValueOrDefault(type);
            byType[owner[w]][type] = (sum.Count + 1, sum.Bytes + size);
        }
        return (bytes, byType, unattributed);
    }

    private int[] _targets = [];

    // One reference from vertex u (or an old object) to vertex w: counted in the first pass, filled in the second.
    private static void Link(int u, bool fromOld, int w, bool[] held, int[] start, int[]? targets, int[]? fill)
    {
        if (w < 0) return;
        if (fromOld) held[w] = true;
        else if (u >= 0)
        {
            if (fill is null) start[u + 1]++;
            else targets![fill[u]++] = w;
        }
    }

    /// <summary>
    /// A collection's own storage between the holder and what was added to it, which is new whenever the collection
    /// grows or is copied on write: its entries or items array, its nodes, a delegate's invocation list and the delegates
    /// in it, an execution context's AsyncLocal map, a scheduled timer, a token's callback node. Only an object with a
    /// new child can be one: what it holds is then the leak.
    /// </summary>
    private bool IsContainer(int node, int newParent)
    {
        var kind = _kinds[_graph.NodeType[node]];
        if (kind is not (Kind.Machinery or Kind.Runtime or Kind.Delegate or Kind.Array)) return false;
        // An array in an array (a list of arrays) is what was added, not storage.
        if (kind == Kind.Array && newParent >= 0 && _kinds[_graph.NodeType[newParent]] == Kind.Array) return false;
        for (var e = _graph.EdgeStart[node]; e < _graph.EdgeStart[node + 1]; e++)
            if (_isNew[_graph.EdgeTarget[e]]) return true;
        return false;
    }

    // Where a group is held: an old object's field, or for a collection (and its storage, old or new: entries arrays,
    // the nodes of a linked list however long) the field or root that holds the collection, or a root. Every node a
    // climb passes is remembered with its answer, so climbing costs one step an old node however many groups ask.
    private SiteKey Site(int holder, int boundary)
    {
        if (holder < 0) return new SiteKey(SiteKind.Root, _text.RootKey(-holder - 2), 0);
        if (!IsCollectionKind(_kinds[_graph.NodeType[holder]])) return new SiteKey(SiteKind.Field, _graph.NodeType[holder], _text.EdgeLabel(holder, boundary));
        // A scheduled timer is held by the timer queue, wherever the search entered the queue's list (an old timer's
        // owner leads into it as well as the queue's head does).
        if (_graph.NodeType[holder] == _timerEntry && _timerQueue >= 0) return new SiteKey(SiteKind.Field, _timerQueue, None);
        var climbed = new List<int>();
        SiteKey site;
        for (var at = holder; ; at = _tree.ParentOf(at))
        {
            if (_sites.TryGetValue(at, out site)) break;
            climbed.Add(at);
            var up = _tree.ParentOf(at);
            if (up < 0)
            {
                site = new SiteKey(SiteKind.CollectionAtRoot, _text.RootKey(_tree.RootOf(at)), _graph.NodeType[at]);
                break;
            }
            if (!IsCollectionKind(_kinds[_graph.NodeType[up]]))
            {
                site = new SiteKey(SiteKind.CollectionInField, _graph.NodeType[up], _text.EdgeLabel(up, at));
                break;
            }
        }
        foreach (var node in climbed) _sites[node] = site;
        return site;
    }

    private readonly Dictionary<int, SiteKey> _sites = [];

    private static bool IsCollectionKind(Kind kind) => kind is Kind.Collection or Kind.Machinery or Kind.Runtime or Kind.Array;

    private LeakGroup ToGroup(Building b, int iterations, bool halves)
    {
        var path = new List<int>();
        _tree.TryPath(b.Representative, path, out var root);
        var holderAt = path.FindLastIndex(node => !_isNew[node]);
        // A collection's old storage is part of the collection: the holder is the collection itself.
        while (holderAt > 0 && _kinds[_graph.NodeType[path[holderAt]]] is Kind.Array or Kind.Machinery or Kind.Runtime
            && IsCollectionKind(_kinds[_graph.NodeType[path[holderAt - 1]]])) holderAt--;
        var nodes = new List<LeakPathNode>(path.Count);
        for (var i = 0; i < path.Count; i++)
        {
            var node = path[i];
            var type = _graph.NodeType[node];
            var field = i + 1 < path.Count ? _text.LabelText(_text.EdgeLabel(node, path[i + 1])) : null;
            var role = i == path.Count - 1 ? LeakNodeRole.Boundary : i < holderAt ? LeakNodeRole.Old : i == holderAt ? LeakNodeRole.Holder
                : _isNew[node] ? LeakNodeRole.New : LeakNodeRole.Old;
            var kind = _kinds[type];
            var collectionPart = kind is Kind.Collection or Kind.Machinery or Kind.Runtime || (kind is Kind.Array or Kind.Delegate && i > holderAt);
            nodes.Add(new LeakPathNode(_text.FullName(type), field, role, kind != Kind.Own && IsUserType(type), collectionPart));
        }
        var rootText = _text.Root(_text.RootKey(root));
        var (holderType, holderField) = Holder(b.Site, rootText);
        var boundaryType = _text.FullName(b.Type);
        return new LeakGroup
        {
            Signature = Sign(holderType, holderField, boundaryType),
            BoundaryType = boundaryType,
            HolderType = holderType,
            HolderField = holderField,
            RootKind = _graph.Roots[root].Kind,
            Count = b.Count,
            RetainedBytes = b.Bytes,
            Iterations = iterations,
            Halves = halves ? (b.FirstHalf, b.Count - b.FirstHalf) : null,
            Path = nodes,
            Root = rootText,
            Retains = [.. b.ByType.OrderByDescending(t => t.Value.Count).ThenByDescending(t => t.Value.Bytes)
                .Select(t => new RetainedType(_text.FullName(t.Key), t.Value.Count, t.Value.Bytes))],
        };
    }

    private (string Type, string? Field) Holder(SiteKey site, string rootText)
    {
        switch (site.Kind)
        {
            case SiteKind.Field:
            case SiteKind.CollectionInField:
                // The field's name alone: the trace's text adds " (event)" for an event's field.
                return (_text.FullName(site.A), _text.LabelText(site.B)?.Replace(" (event)", "", StringComparison.Ordinal));
            default:
                const string Static = "static field ";
                var root = _text.Root(site.A);
                if (!root.StartsWith(Static, StringComparison.Ordinal)) return (root, null);
                var name = root[Static.Length..];
                var cut = name.IndexOf(' ') is var space and > 0 ? name[..space] : name;
                var dot = cut.LastIndexOf('.');
                return dot > 0 ? (cut[..dot], cut[(dot + 1)..]) : (root, null);
        }
    }

    /// <summary>Eight hex digits of a SHA-256 of the holder and the boundary type: stable across runs and machines.</summary>
    internal static string Sign(string holderType, string? holderField, string boundaryType)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{holderType}|{holderField}|{boundaryType}"));
        return Convert.ToHexStringLower(hash.AsSpan(0, 4));
    }

    private bool IsUserType(int type)
    {
        var name = _text.FullName(type);
        return !(name.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Microsoft.", StringComparison.Ordinal)
            || name.StartsWith("Internal.", StringComparison.Ordinal) || name.StartsWith("Interop", StringComparison.Ordinal));
    }

    private Kind Classify(int type)
    {
        var name = _text.FullName(type);
        var loaded = _text.TypeOf(type);
        if (loaded is not null && OwnAssemblies.Contains(loaded.Assembly.GetName().Name ?? "")) return Kind.Own;
        if (name.EndsWith("[]", StringComparison.Ordinal) || name.EndsWith(",]", StringComparison.Ordinal)) return Kind.Array;
        if (loaded is not null && loaded.IsSubclassOf(typeof(Delegate))) return Kind.Delegate;
        if (MachineryPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))) return Kind.Runtime;
        if (name.StartsWith("System.Collections.", StringComparison.Ordinal))
            return name.IndexOf('+') > 0 || name.StartsWith("System.Collections.Generic.LinkedListNode`", StringComparison.Ordinal)
                || name.StartsWith("System.Collections.Concurrent.ConcurrentQueueSegment`", StringComparison.Ordinal)
                ? Kind.Machinery
                : Kind.Collection;
        return Kind.Plain;
    }

    // LeakAssert and what it runs on: their objects are its bookkeeping, never a workload's leak.
    private static readonly HashSet<string> OwnAssemblies = new(StringComparer.Ordinal)
    {
        typeof(LeakGroups).Assembly.GetName().Name!,
        "LeakAssert.Profiles",
        "Microsoft.Diagnostics.Tracing.TraceEvent",
        "Microsoft.Diagnostics.NETCore.Client",
    };

    // The runtime's own holders of what a program hands it: each is new when something is added through it.
    private static readonly string[] MachineryPrefixes =
    [
        "System.Threading.ExecutionContext",
        "System.Threading.AsyncLocalValueMap+",
        "System.Threading.TimerQueueTimer",
        "System.Threading.TimerHolder",
        "System.Threading.CancellationTokenSource+CallbackNode",
        "System.Threading.CancellationTokenSource+Registrations",
        "System.Runtime.CompilerServices.ConditionalWeakTable`2+Container",
    ];

    private enum Kind : byte
    {
        Plain,
        Array,
        Delegate,
        Collection,

        /// <summary>A collection's own storage: its nodes, segments, entries.</summary>
        Machinery,

        /// <summary>The runtime's holders of what a program hands it (<see cref="MachineryPrefixes"/>).</summary>
        Runtime,
        Own,
    }

    private enum SiteKind : byte
    {
        Field,
        CollectionInField,
        CollectionAtRoot,
        Root,
    }

    private readonly record struct SiteKey(SiteKind Kind, int A, int B);

    private sealed class Building(SiteKey site, int type, int representative)
    {
        public SiteKey Site { get; } = site;
        public int Type { get; } = type;
        public int Representative { get; } = representative;
        public long Count { get; set; }
        public long FirstHalf { get; set; }
        public long Bytes { get; set; }
        public Dictionary<int, (long Count, long Bytes)> ByType { get; set; } = [];
    }

    private sealed class OneOff
    {
        public long Bytes { get; private set; }
        public long Objects { get; private set; }

        public void Add(long bytes, long objects)
        {
            Bytes += bytes;
            Objects += objects;
        }
    }

    /// <summary>The steady groups, largest first, the minor ones apart, and the one-off growth left out: its bytes and objects.</summary>
    internal sealed record Found(IReadOnlyList<LeakGroup> Leaks, IReadOnlyList<LeakGroup> Minor, long OneOffBytes, long OneOffObjects);
}
