namespace LeakAssert.Snapshots;

/// <summary>
/// Immediate dominators of a graph's vertices from vertex 0 (Lengauer and Tarjan's algorithm, with path compression):
/// vertex d dominates v when every path from 0 to v passes through d, so the bytes of all that d dominates are what
/// would be freed with it. Iterative throughout, so that a chain of a million objects needs no deep recursion, and
/// O(edges · log vertices) on any shape.
/// </summary>
internal static class Dominators
{
    /// <summary>
    /// The immediate dominator of each vertex (-1 for vertex 0 and for vertices 0 cannot reach), and the reached vertices
    /// in depth-first preorder, vertex 0 first: a vertex's dominator always comes before it there.
    /// </summary>
    /// <param name="count">Vertices, 0 being the start.</param>
    /// <param name="start">Vertex v's successors are <paramref name="target"/>[start[v] .. start[v + 1]).</param>
    /// <param name="target">The successors, all vertices' in one array.</param>
    public static (int[] Idom, int[] Preorder) Of(int count, int[] start, int[] target)
    {
        var number = new int[count];
        Array.Fill(number, -1);
        var vertex = new int[count];
        var parent = new int[count];
        var next = new int[count];
        var stack = new int[count];
        var reached = 0;
        if (count > 0)
        {
            var depth = 0;
            stack[depth++] = 0;
            number[0] = reached;
            vertex[reached++] = 0;
            parent[0] = -1;
            next[0] = start[0];
            while (depth > 0)
            {
                var v = stack[depth - 1];
                if (next[v] == start[v + 1])
                {
                    depth--;
                    continue;
                }
                var w = target[next[v]++];
                if (number[w] >= 0) continue;
                number[w] = reached;
                vertex[reached++] = w;
                parent[w] = v;
                next[w] = start[w];
                stack[depth++] = w;
            }
        }

        // Predecessors among the reached vertices, as a second CSR.
        var predStart = new int[count + 1];
        for (var v = 0; v < count; v++)
        {
            if (number[v] < 0) continue;
            for (var e = start[v]; e < start[v + 1]; e++) predStart[target[e] + 1]++;
        }
        for (var v = 0; v < count; v++) predStart[v + 1] += predStart[v];
        var pred = new int[predStart[count]];
        var fill = (int[])predStart.Clone();
        for (var v = 0; v < count; v++)
        {
            if (number[v] < 0) continue;
            for (var e = start[v]; e < start[v + 1]; e++) pred[fill[target[e]]++] = v;
        }

        var semi = number; // a vertex's semidominator, as a preorder number; starts as its own
        var idom = new int[count];
        Array.Fill(idom, -1);
        var ancestor = new int[count];
        Array.Fill(ancestor, -1);
        var label = new int[count];
        for (var v = 0; v < count; v++) label[v] = v;
        var bucketHead = new int[count];
        Array.Fill(bucketHead, -1);
        var bucketNext = new int[count];

        for (var i = reached - 1; i >= 1; i--)
        {
            var w = vertex[i];
            for (var e = predStart[w]; e < predStart[w + 1]; e++)
            {
                var u = Eval(pred[e], ancestor, label, semi, stack);
                if (semi[u] < semi[w]) semi[w] = semi[u];
            }
            var s = vertex[semi[w]];
            bucketNext[w] = bucketHead[s];
            bucketHead[s] = w;
            var p = parent[w];
            ancestor[w] = p;
            for (var v = bucketHead[p]; v >= 0; v = bucketNext[v])
            {
                var u = Eval(v, ancestor, label, semi, stack);
                idom[v] = semi[u] < semi[v] ? u : p;
            }
            bucketHead[p] = -1;
        }
        for (var i = 1; i < reached; i++)
        {
            var w = vertex[i];
            if (idom[w] != vertex[semi[w]]) idom[w] = idom[idom[w]];
        }
        return (idom, vertex[..reached]);
    }

    // The vertex of least semidominator on the path from v up to the root of its linked tree, compressing that path.
    private static int Eval(int v, int[] ancestor, int[] label, int[] semi, int[] stack)
    {
        if (ancestor[v] < 0) return v;
        var depth = 0;
        for (var x = v; ancestor[ancestor[x]] >= 0; x = ancestor[x]) stack[depth++] = x;
        while (depth > 0)
        {
            var x = stack[--depth];
            var a = ancestor[x];
            if (semi[label[a]] < semi[label[x]]) label[x] = label[a];
            ancestor[x] = ancestor[a];
        }
        return label[v];
    }
}
