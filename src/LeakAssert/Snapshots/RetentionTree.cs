using System.Collections;

namespace LeakAssert.Snapshots;

/// <summary>
/// Every object's shortest path from a root: one breadth-first search from all roots at once, recording each object's
/// parent. Roots enter in <see cref="RootKind"/>'s order, so that of two equally short paths the one from a static
/// field wins over a handle's, a handle's over a stack's, and a stack's over the finalizer queue's. One int an object
/// (and one bit for ConditionalWeakTable values), whatever the heap.
/// </summary>
internal sealed class RetentionTree
{
    private const int Unreached = -1;

    private readonly HeapGraph _graph;
    // Unreached; -(root index) - 2 for a root's own node; otherwise the node it was first reached from.
    private readonly int[] _parent;
    // Set for a node first reached as the value of a ConditionalWeakTable entry whose key is its parent.
    private readonly BitArray? _viaWeakTable;
    private readonly int[] _order;
    private readonly int _reached;

    public RetentionTree(HeapGraph graph)
    {
        _graph = graph;
        var n = graph.NodeCount;
        _parent = new int[n];
        Array.Fill(_parent, Unreached);
        BitArray? weakKeys = null;
        if (graph.WeakTableEdges.Length > 0)
        {
            weakKeys = new BitArray(n);
            _viaWeakTable = new BitArray(n);
            foreach (var edge in graph.WeakTableEdges) weakKeys[(int)(edge >> 32)] = true;
        }

        var queue = new int[n];
        int head = 0, tail = 0;
        for (var r = 0; r < graph.Roots.Length; r++)
        {
            var node = graph.Roots[r].Node;
            if (_parent[node] != Unreached) continue;
            _parent[node] = -r - 2;
            queue[tail++] = node;
        }
        var edgeStart = graph.EdgeStart;
        var edgeTarget = graph.EdgeTarget;
        while (head < tail)
        {
            var node = queue[head++];
            for (var e = edgeStart[node]; e < edgeStart[node + 1]; e++)
            {
                var child = edgeTarget[e];
                if (_parent[child] != Unreached) continue;
                _parent[child] = node;
                queue[tail++] = child;
            }
            if (weakKeys is null || !weakKeys[node]) continue;
            foreach (var value in WeakTableValues(node))
            {
                if (_parent[value] != Unreached) continue;
                _parent[value] = node;
                _viaWeakTable![value] = true;
                queue[tail++] = value;
            }
        }
        _order = queue;
        _reached = tail;
    }

    /// <summary>The reached nodes in the order the search reached them: every node comes after its parent.</summary>
    public ReadOnlySpan<int> Order => _order.AsSpan(0, _reached);

    /// <summary>The index in <see cref="HeapGraph.Roots"/> of the root that holds a root's own node, or -1 for any other node.</summary>
    public int RootOf(int node) => _parent[node] < Unreached ? -_parent[node] - 2 : -1;

    /// <summary>
    /// The path to <paramref name="node"/>, root's node first, into <paramref name="path"/>, and the index of its
    /// root in <see cref="HeapGraph.Roots"/>; false when no reported root reaches the node.
    /// </summary>
    public bool TryPath(int node, List<int> path, out int root)
    {
        path.Clear();
        root = -1;
        if (_parent[node] == Unreached) return false;
        for (var at = node; ; at = _parent[at])
        {
            path.Add(at);
            if (_parent[at] < Unreached)
            {
                root = -_parent[at] - 2;
                break;
            }
        }
        path.Reverse();
        return true;
    }

    /// <summary>The node a node was first reached from, or -1 for a root's own node and an unreached one.</summary>
    public int ParentOf(int node) => Math.Max(_parent[node], Unreached);

    /// <summary>Whether the node was reached as a ConditionalWeakTable value, kept by its key rather than a field.</summary>
    public bool ViaWeakTable(int node) => _viaWeakTable is not null && _viaWeakTable[node];

    private IEnumerable<int> WeakTableValues(int key)
    {
        var edges = _graph.WeakTableEdges;
        var at = Array.BinarySearch(edges, (long)key << 32);
        if (at < 0) at = ~at;
        for (; at < edges.Length && (int)(edges[at] >> 32) == key; at++) yield return (int)edges[at];
    }
}
