using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LeakAssert.Text;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LeakAssert.Snapshots;

/// <summary>
/// Gathers the heap-dump events of one induced GC (objects, references, roots, static fields, ConditionalWeakTable
/// entries, type names) as flat lists of numbers, then resolves addresses to node indices once, in
/// <see cref="Build"/>. Fed by one reader thread; read only after that thread has ended (but for
/// <see cref="ObjectCount"/> and <see cref="Complete"/>, which the waiting thread watches grow).
/// </summary>
internal sealed class GraphBuilder
{
    // The runtime's root kinds beyond the ones TraceEvent names (Stack 0 ... Overflow 5).
    private const int DependentHandleKind = 6;

    // A bulk node or edge event's payload: Index (4 bytes), Count (4), ClrInstanceID (2), then its records.
    private const int BulkHeaderBytes = 10;

    private readonly List<ulong> _address = [];
    private readonly List<int> _type = [];
    private readonly List<long> _size = [];
    private readonly List<int> _edgeCount = [];
    private readonly List<ulong> _edgeTarget = [];
    private readonly List<(ulong Address, RootKind Kind, ulong Detail)> _roots = [];
    private readonly List<(ulong Address, string Field, ulong TypeId, ulong Slot)> _statics = [];
    private readonly List<(ulong Key, ulong Value)> _weakTable = [];
    private readonly Dictionary<ulong, string> _typeNames = [];
    private readonly TypeTable _types;
    // Payloads are copied here and read as records: a million objects come as some 500 events of 2,000 records.
    private byte[] _payload = new byte[64 * 1024];
    private int _gc = -1;
    private int _nextNodeBlock;
    private int _nextEdgeBlock;

    public GraphBuilder() => _types = new TypeTable(_typeNames);

    /// <summary>Node and edge events whose sequence numbers were skipped: lost on the way.</summary>
    public int MissingBlocks { get; private set; }

    /// <summary>Whether the heap-dump GC has ended with its objects reported.</summary>
    public bool Complete { get; private set; }

    /// <summary>How many objects have arrived so far.</summary>
    public int ObjectCount => _address.Count;

    // The dump GC is the blocking gen2 GC whose walk reports objects; a gen2 GC another thread induced in between
    // reports none, and the next one is awaited instead.
    public void GcStarted(GCStartTraceData e)
    {
        if (!Complete && e.Depth == 2 && e.Type != GCType.BackgroundGC) _gc = e.Count;
    }

    public void GcEnded(GCEndTraceData e)
    {
        if (Complete || e.Count != _gc) return;
        if (_address.Count > 0) Complete = true;
        else _gc = -1;
    }

    private bool InDump => _gc >= 0 && !Complete;

    public void AddTypes(GCBulkTypeTraceData e)
    {
        for (var i = 0; i < e.Count; i++)
        {
            var t = e.Values(i);
            if (t.TypeName.Length > 0) _typeNames[t.TypeID] = t.TypeName;
        }
    }

    public void AddNodes(GCBulkNodeTraceData e)
    {
        if (!InDump) return;
        MissingBlocks += Math.Max(0, e.Index - _nextNodeBlock);
        _nextNodeBlock = e.Index + 1;
        if (e.PointerSize != 8)
        {
            for (var i = 0; i < e.Count; i++)
            {
                var node = e.Values(i);
                AddNode(node.Address, node.TypeID, node.Size, node.EdgeCount);
            }
            return;
        }
        foreach (ref readonly var node in Records<NodeRecord>(e, e.Count)) AddNode(node.Address, node.TypeId, node.Size, node.EdgeCount);
    }

    private void AddNode(ulong address, ulong typeId, ulong size, long edgeCount)
    {
        _address.Add(address);
        _type.Add(_types.IndexOf(typeId));
        _size.Add((long)size);
        _edgeCount.Add((int)edgeCount);
    }

    public void AddEdges(GCBulkEdgeTraceData e)
    {
        if (!InDump) return;
        MissingBlocks += Math.Max(0, e.Index - _nextEdgeBlock);
        _nextEdgeBlock = e.Index + 1;
        if (e.PointerSize != 8)
        {
            for (var i = 0; i < e.Count; i++) _edgeTarget.Add(e.Values(i).Target);
            return;
        }
        foreach (ref readonly var edge in Records<EdgeRecord>(e, e.Count)) _edgeTarget.Add(edge.Target);
    }

    // The records of a bulk event straight from its payload, as the runtime laid them out (64-bit, little-endian):
    // TraceEvent's per-field accessors cost more than the rest of the snapshot.
    private ReadOnlySpan<T> Records<T>(TraceEvent e, int count) where T : struct
    {
        var length = count * Unsafe.SizeOf<T>();
        if (BulkHeaderBytes + length > e.EventDataLength)
            throw new InvalidDataException($"a {e.EventName} event holds {e.EventDataLength} bytes, too few for its {count} records");
        if (_payload.Length < length) _payload = new byte[length];
        e.EventData(_payload, 0, BulkHeaderBytes, length);
        return MemoryMarshal.Cast<byte, T>(_payload.AsSpan(0, length));
    }

    public void AddRoots(GCBulkRootEdgeTraceData e)
    {
        if (!InDump) return;
        for (var i = 0; i < e.Count; i++)
        {
            var root = e.Values(i);
            var flags = root.GCRootFlag;
            // A weak handle does not keep its object alive; ConditionalWeakTable entries come as their own events.
            if ((flags & GCRootFlags.WeakRef) != 0 || (int)root.GCRootKind == DependentHandleKind) continue;
            var kind = root.GCRootKind switch
            {
                GCRootKind.Stack => RootKind.Stack,
                GCRootKind.Finalizer => RootKind.Finalizer,
                GCRootKind.Handle when (flags & GCRootFlags.RefCounted) != 0 => RootKind.RefCountedHandle,
                GCRootKind.Handle when (flags & GCRootFlags.Pinning) != 0 => RootKind.PinnedHandle,
                GCRootKind.Handle => RootKind.StrongHandle,
                _ => RootKind.Other,
            };
            // A stack root's ID is the method of its frame (0 for a thread's statics and runtime frames); for others,
            // the runtime's own kind number.
            _roots.Add((root.RootedNodeAddress, kind, kind == RootKind.Stack ? root.GCRootID : (ulong)root.GCRootKind));
        }
    }

    public void AddStatics(GCBulkRootStaticVarTraceData e)
    {
        if (!InDump) return;
        for (var i = 0; i < e.Count; i++)
        {
            var s = e.Values(i);
            _statics.Add((s.ObjectID, s.FieldName, s.TypeID, s.GCRootID));
        }
    }

    public void AddWeakTableEntries(GCBulkRootConditionalWeakTableElementEdgeTraceData e)
    {
        if (!InDump) return;
        for (var i = 0; i < e.Count; i++)
        {
            var entry = e.Values(i);
            if (entry.GCKeyNodeID != 0 && entry.GCValueNodeID != 0) _weakTable.Add((entry.GCKeyNodeID, entry.GCValueNodeID));
        }
    }

    public void AddComWrappers(GCBulkRootCCWTraceData e)
    {
        if (!InDump) return;
        for (var i = 0; i < e.Count; i++)
        {
            var ccw = e.Values(i);
            // A COM callable wrapper keeps its object alive only while COM holds a reference to it.
            if (ccw.RefCount > 0 || ccw.PeggedRefCount > 0) _roots.Add((ccw.ObjectID, RootKind.ComWrapper, 0));
        }
    }

    /// <summary>The graph, or null with the reason it would be wrong.</summary>
    public HeapGraph? Build(out string? problem)
    {
        problem = null;
        var n = _address.Count;
        var edgeCounts = CollectionsMarshal.AsSpan(_edgeCount);
        var edgeStart = new int[n + 1];
        long total = 0;
        for (var i = 0; i < n; i++)
        {
            edgeStart[i] = (int)total;
            total += edgeCounts[i];
        }
        if (total != _edgeTarget.Count || MissingBlocks > 0)
        {
            problem = MissingBlocks > 0
                ? $"the heap snapshot lost {Numbers.Count(MissingBlocks)} events, so it is incomplete"
                : $"the heap snapshot reported {Numbers.Count(total)} references but sent {Numbers.Count(_edgeTarget.Count)}, so it is incomplete";
            return null;
        }

        var index = new AddressIndex(CollectionsMarshal.AsSpan(_address));
        // References to objects outside the dump (frozen strings and types) go; the rest become node indices.
        var targets = CollectionsMarshal.AsSpan(_edgeTarget);
        var edgeTarget = new int[targets.Length];
        var kept = 0;
        for (var i = 0; i < n; i++)
        {
            var from = edgeStart[i];
            var to = i + 1 < n ? edgeStart[i + 1] : targets.Length;
            edgeStart[i] = kept;
            for (var e = from; e < to; e++)
            {
                var target = index.Find(targets[e]);
                if (target >= 0) edgeTarget[kept++] = target;
            }
        }
        edgeStart[n] = kept;
        if (kept < edgeTarget.Length) Array.Resize(ref edgeTarget, kept);

        var statics = new List<StaticRoot>();
        var roots = new List<GraphRoot>();
        foreach (var (address, field, typeId, slot) in _statics)
        {
            var node = index.Find(address);
            if (node < 0) continue;
            roots.Add(new GraphRoot(node, RootKind.StaticField, (ulong)statics.Count));
            statics.Add(new StaticRoot(field, _types.IndexOf(typeId), slot));
        }
        foreach (var (address, kind, detail) in _roots)
        {
            var node = index.Find(address);
            if (node >= 0) roots.Add(new GraphRoot(node, kind, detail));
        }

        var weak = new List<long>(_weakTable.Count);
        foreach (var (key, value) in _weakTable)
        {
            int k = index.Find(key), v = index.Find(value);
            if (k >= 0 && v >= 0) weak.Add((long)k << 32 | (uint)v);
        }
        weak.Sort();

        return new HeapGraph
        {
            NodeType = [.. _type],
            NodeAddress = [.. _address],
            DumpGc = _gc,
            NodeSize = [.. _size],
            EdgeStart = edgeStart,
            EdgeTarget = edgeTarget,
            TypeNames = _types.Names(),
            TypeIds = _types.Ids(),
            // Stable: within a kind, the runtime's order stays.
            Roots = [.. roots.OrderBy(r => r.Kind)],
            Statics = [.. statics],
            WeakTableEdges = [.. weak],
        };
    }

    /// <summary>Type IDs (the runtime's type handles) to dense indices, and their names.</summary>
    private sealed class TypeTable(Dictionary<ulong, string> names)
    {
        private readonly Dictionary<ulong, int> _index = [];
        private readonly List<ulong> _ids = [];
        private ulong _lastId = ulong.MaxValue;
        private int _last = -1;

        public int IndexOf(ulong id)
        {
            // Neighbouring objects often share a type.
            if (id == _lastId) return _last;
            if (!_index.TryGetValue(id, out var found))
            {
                found = _ids.Count;
                _index[id] = found;
                _ids.Add(id);
            }
            _lastId = id;
            return _last = found;
        }

        public ulong[] Ids() => [.. _ids];

        public string[] Names() =>
            [.. _ids.Select(id => names.TryGetValue(id, out var name) ? name : $"(unnamed type 0x{id:x})")];
    }

    /// <summary>
    /// An open-addressing hash table from an object's address to its node index, over the address list itself: one
    /// int a slot, at most half full, instead of a dictionary entry an object. (Slots holding the address too were
    /// slower here: three times the memory to clear and to miss in.)
    /// </summary>
    private readonly ref struct AddressIndex
    {
        private readonly ReadOnlySpan<ulong> _addresses;
        private readonly int[] _slots;
        private readonly int _shift;

        public AddressIndex(ReadOnlySpan<ulong> addresses)
        {
            _addresses = addresses;
            var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, addresses.Length * 2));
            _slots = new int[size];
            _shift = 64 - BitOperations.Log2((uint)size);
            var mask = size - 1;
            for (var i = 0; i < addresses.Length; i++)
            {
                var slot = Slot(addresses[i]);
                while (_slots[slot] != 0) slot = (slot + 1) & mask;
                _slots[slot] = i + 1;
            }
        }

        /// <summary>The node at this address, or -1.</summary>
        public int Find(ulong address)
        {
            var mask = _slots.Length - 1;
            for (var slot = Slot(address); ; slot = (slot + 1) & mask)
            {
                var entry = _slots[slot];
                if (entry == 0) return -1;
                if (_addresses[entry - 1] == address) return entry - 1;
            }
        }

        // Fibonacci hashing: objects are 8-byte aligned and clustered, so the multiply spreads their high bits.
        private int Slot(ulong address) => (int)((address >> 3) * 0x9E3779B97F4A7C15UL >> _shift);
    }

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private readonly record struct NodeRecord(ulong Address, ulong Size, ulong TypeId, long EdgeCount);

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private readonly record struct EdgeRecord(ulong Target, uint ReferencingField);
}
