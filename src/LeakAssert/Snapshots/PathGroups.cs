using System.Collections;
using System.Runtime.InteropServices;

namespace LeakAssert.Snapshots;

/// <summary>
/// Groups the instances of a type by the signature of their shortest retention path, as LeakCanary groups leak
/// traces: the root, then each step's type and the field it is left by. Consecutive objects of one type (a linked
/// list, a chain of scopes) count as one step, so that the thousandth node of a list groups with the first. A path
/// through a scheduled timer starts at the timer queue, wherever the shortest path entered the queue's list.
/// </summary>
internal sealed class PathGroups(HeapGraph graph, RetentionTree tree, PathText text)
{
    private const int NoLabel = -1;

    private readonly Lazy<BitArray?> _queuedTimers = new(() => QueuedTimers(graph, text));

    /// <summary>The largest groups of the instances whose type index is marked, largest first.</summary>
    public IReadOnlyList<RetentionPath> Of(bool[] isTarget, int maxGroups)
    {
        var groups = new Dictionary<int[], Group>(SignatureComparer.Instance);
        // Looked up by the span being built, so that an instance whose group exists allocates nothing.
        var lookup = groups.GetAlternateLookup<ReadOnlySpan<int>>();
        var unreached = new Dictionary<int, long>();
        var path = new List<int>();
        var signature = new List<int>();
        var runs = new List<(int Length, int Link)>();
        var queued = _queuedTimers.Value;
        // Siblings (the elements of one array) share all but their last step: the last instance's group serves.
        (int Parent, int Type, Group? Group) last = (-1, -1, null);
        for (var node = 0; node < graph.NodeCount; node++)
        {
            var type = graph.NodeType[node];
            if (!isTarget[type]) continue;
            var parent = tree.ParentOf(node);
            if (parent >= 0 && last.Parent == parent && last.Type == type)
            {
                last.Group!.Add(runs);
                continue;
            }
            if (!tree.TryPath(node, path, out var root))
            {
                unreached[type] = unreached.GetValueOrDefault(type) + 1;
                continue;
            }
            var (start, rootKey) = (0, text.RootKey(root));
            if (queued is not null)
            {
                var timer = path.FindIndex(n => queued[n]);
                if (timer >= 0) (start, rootKey) = (timer, text.TimerQueueKey);
            }
            Sign(path, start, rootKey, signature, runs);
            var key = CollectionsMarshal.AsSpan(signature);
            if (!lookup.TryGetValue(key, out var group))
            {
                var values = key.ToArray();
                groups[values] = group = new Group(values, runs.Count);
            }
            group.Add(runs);
            last = (parent, type, group);
        }

        var found = groups.Values.Select(g => g.ToPath(text))
            .Concat(unreached.Select(u => new RetentionPath(PathText.Unreached, [text.TypeShort(u.Key)], u.Value)));
        return [.. found.OrderByDescending(p => p.Instances).ThenBy(p => p.Steps.Count).ThenBy(p => p.ToString(), StringComparer.Ordinal).Take(maxGroups)];
    }

    // The signature: the root's key, then per step (a run of one type) the type and the label it is left by.
    private void Sign(List<int> path, int start, int rootKey, List<int> signature, List<(int Length, int Link)> runs)
    {
        signature.Clear();
        runs.Clear();
        signature.Add(rootKey);
        for (var i = start; i < path.Count;)
        {
            var type = graph.NodeType[path[i]];
            var j = i;
            while (j + 1 < path.Count && graph.NodeType[path[j + 1]] == type) j++;
            signature.Add(type);
            signature.Add(j + 1 < path.Count ? text.EdgeLabel(path[j], path[j + 1]) : NoLabel);
            runs.Add((j - i + 1, j > i ? text.EdgeLabel(path[i], path[i + 1]) : NoLabel));
            i = j + 1;
        }
    }

    // The scheduled timers: the TimerQueueTimer objects in a TimerQueue's lists, found by following the lists from
    // each queue, since a timer off the queue (disposed, or fired once) is held by whatever holds it instead.
    private static BitArray? QueuedTimers(HeapGraph graph, PathText text)
    {
        var queue = -1;
        var timer = -1;
        for (var t = 0; t < graph.TypeNames.Length; t++)
        {
            var name = text.FullName(t);
            if (name == "System.Threading.TimerQueue") queue = t;
            else if (name == "System.Threading.TimerQueueTimer") timer = t;
        }
        if (queue < 0 || timer < 0) return null;
        var queued = new BitArray(graph.NodeCount);
        var pending = new Stack<int>();
        for (var node = 0; node < graph.NodeCount; node++)
            if (graph.NodeType[node] == queue) pending.Push(node);
        while (pending.TryPop(out var node))
        {
            for (var e = graph.EdgeStart[node]; e < graph.EdgeStart[node + 1]; e++)
            {
                var next = graph.EdgeTarget[e];
                if (graph.NodeType[next] != timer || queued[next]) continue;
                queued[next] = true;
                pending.Push(next);
            }
        }
        return queued;
    }

    private sealed class Group(int[] signature, int steps)
    {
        private readonly int[] _longest = new int[steps];
        private readonly int[] _link = new int[steps];
        private long _count;

        public void Add(List<(int Length, int Link)> runs)
        {
            _count++;
            for (var s = 0; s < runs.Count; s++)
            {
                if (runs[s].Length <= _longest[s]) continue;
                _longest[s] = runs[s].Length;
                _link[s] = runs[s].Link;
            }
        }

        public RetentionPath ToPath(PathText text)
        {
            var steps = new string[_longest.Length];
            for (var s = 0; s < steps.Length; s++)
                steps[s] = text.Step(signature[1 + 2 * s], signature[2 + 2 * s], _longest[s], _link[s]);
            return new RetentionPath(text.Root(signature[0]), steps, _count);
        }
    }

    private sealed class SignatureComparer : IEqualityComparer<int[]>, IAlternateEqualityComparer<ReadOnlySpan<int>, int[]>
    {
        public static readonly SignatureComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] values) => GetHashCode(values.AsSpan());

        public bool Equals(ReadOnlySpan<int> alternate, int[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<int> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(MemoryMarshal.AsBytes(alternate));
            return hash.ToHashCode();
        }

        public int[] Create(ReadOnlySpan<int> alternate) => alternate.ToArray();
    }
}
