namespace LeakAssert.Snapshots;

/// <summary>
/// The live objects of one heap dump as arrays indexed by node (an object) and type, so that a heap of millions of
/// objects costs a few ints each: a node's type and size, its outgoing references as a slice of
/// <see cref="EdgeTarget"/> (from <c>EdgeStart[n]</c> to <c>EdgeStart[n + 1]</c>), and the roots that hold nodes.
/// </summary>
internal sealed class HeapGraph
{
    public required int[] NodeType { get; init; }

    /// <summary>Each object's address at the dump: what tells the same object apart across two dumps (Identity).</summary>
    public required ulong[] NodeAddress { get; init; }

    public required long[] NodeSize { get; init; }
    public required int[] EdgeStart { get; init; }
    public required int[] EdgeTarget { get; init; }

    /// <summary>Each type's name as the runtime spells it (a nested type by its own name only: "Entry[System.Int32,System.String][]").</summary>
    public required string[] TypeNames { get; init; }

    /// <summary>Each type's ID: the runtime's type handle, which <see cref="RuntimeTypeHandle.Value"/> also gives.</summary>
    public required ulong[] TypeIds { get; init; }

    /// <summary>The roots, in the order a retention path prefers them (<see cref="RootKind"/>'s order).</summary>
    public required GraphRoot[] Roots { get; init; }

    /// <summary>The static fields that <see cref="RootKind.StaticField"/> roots refer to.</summary>
    public required StaticRoot[] Statics { get; init; }

    /// <summary>
    /// A ConditionalWeakTable's entries (dependent handles): the key keeps the value alive, as a reference from key to
    /// value would, though no field holds it. Each is <c>(long)key &lt;&lt; 32 | value</c>, sorted.
    /// </summary>
    public required long[] WeakTableEdges { get; init; }

    /// <summary>The number of the GC that took the dump (the runtime's GC count): later GCs may have moved its objects.</summary>
    public required int DumpGc { get; init; }

    public int NodeCount => NodeType.Length;
}

/// <summary>What holds a root, in the order a retention path prefers them when one object has several.</summary>
public enum RootKind : byte
{
    /// <summary>A static field.</summary>
    StaticField,

    /// <summary>A strong GC handle (a running thread's Thread object is held by one, as is a GCHandle.Alloc).</summary>
    StrongHandle,

    /// <summary>A pinned GC handle.</summary>
    PinnedHandle,

    /// <summary>A ref-counted handle (COM interop).</summary>
    RefCountedHandle,

    /// <summary>A COM callable wrapper that COM still references.</summary>
    ComWrapper,

    /// <summary>A local variable or argument on a thread's stack, or a thread's statics.</summary>
    Stack,

    /// <summary>The finalizer queue: an object waiting for its finalizer.</summary>
    Finalizer,

    /// <summary>Any other root the runtime reports.</summary>
    Other,

    /// <summary>
    /// Not a root of the GC's: a scheduled timer, held by the runtime's timer queue (a static) through a linked list
    /// that a shortest path may enter anywhere, so that paths through it are told from the queue instead.
    /// </summary>
    TimerQueue,
}

/// <summary>
/// A root: the node it holds, its kind, and a detail: for a static field its index in <see cref="HeapGraph.Statics"/>,
/// for a stack the method of the frame (its <see cref="RuntimeMethodHandle.Value"/>; 0 for a thread's statics and
/// runtime frames), otherwise the runtime's own root-kind number.
/// </summary>
internal readonly record struct GraphRoot(int Node, RootKind Kind, ulong Detail);

/// <summary>A static field the runtime reported: its name, the type index of its value and the address of its slot.</summary>
internal sealed record StaticRoot(string Field, int ValueType, ulong Slot);
