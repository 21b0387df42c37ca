using LeakAssert.Snapshots;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Reporting;

/// <summary>
/// A leak group's path as lines a person reads top-down, in the spirit of LeakCanary's leak trace: the root first, one
/// object a line with the field to the next, a framework collection and its storage as one line ("List&lt;Quote&gt;
/// items"), runs of framework objects before the holder folded with a count, the holder marked as the place to look,
/// the boundary object marked as what each iteration adds, and the user's own types marked. No line is longer than
/// <see cref="MaxLine"/> characters.
/// </summary>
internal static class LeakTrace
{
    public const int MaxLine = 160;

    // Framework objects in a row before the holder that are shown one a line; more are folded into one line.
    private const int UnfoldedRun = 2;

    private const int MarkColumn = 56;

    /// <summary>The group's header line: its signature, what each iteration adds and what each one retains.</summary>
    public static string Header(int rank, LeakGroup g)
    {
        var boundary = Short(g.BoundaryType);
        var halves = g.Halves is { } h ? Inv($" ({Count(h.First)} in the first half, {Count(h.Second)} in the second)") : "";
        var each = g.Count == 0 ? 0 : (double)g.RetainedBytes / g.Count;
        // The runtime holds every running thread's Thread object: a thread that never ends is the leak.
        var running = g.HeldByThreads.Count > 0 ? " that keeps running" : "";
        return Clip(Inv($"Leak {rank} [{g.Signature}]: each iteration adds {PerIteration(g.CountPerIteration)} {boundary}{running}, which retains {Bytes(each)}{halves}"));
    }

    /// <summary>The trace: root, folded hops, holder, the new storage between, and the boundary object.</summary>
    public static IReadOnlyList<string> Lines(LeakGroup g, string indent)
    {
        var lines = new List<string> { Clip(indent + g.Root) };
        var nodes = g.Path;
        var boundaryName = nodes.Count > 0 ? Short(nodes[^1].TypeName) : "";
        for (var i = 0; i < nodes.Count;)
        {
            var node = nodes[i];
            if (node.Role == LeakNodeRole.Old && !node.IsUserType)
            {
                var run = i;
                while (run < nodes.Count && nodes[run].Role == LeakNodeRole.Old && !nodes[run].IsUserType) run++;
                if (run - i > UnfoldedRun)
                {
                    var names = string.Join(" → ", nodes.Skip(i).Take(run - i).Select(n => Short(n.TypeName)));
                    lines.Add(Clip(Inv($"{indent}│ ⋯ {run - i} framework objects: {names}")));
                    i = run;
                    continue;
                }
            }
            // A collection and its own storage after it read as one object.
            var end = i + 1;
            if (node.IsCollectionPart && node.Role is LeakNodeRole.Old or LeakNodeRole.Holder)
                while (end < nodes.Count && nodes[end].IsCollectionPart && nodes[end].Role is LeakNodeRole.New or LeakNodeRole.Old) end++;
            var text = Describe(node, end - i > 1 || IsCollection(node));
            switch (node.Role)
            {
                case LeakNodeRole.Holder:
                    lines.Add(Mark(Inv($"{indent}├ {text}{Yours(node)}"), Inv($"← holder: keeps every {boundaryName} added")));
                    break;
                case LeakNodeRole.New:
                    var runEnd = i;
                    while (runEnd < nodes.Count && nodes[runEnd].Role == LeakNodeRole.New) runEnd++;
                    var storage = string.Join(" → ", nodes.Skip(i).Take(runEnd - i).Select(n => Short(n.TypeName)));
                    lines.Add(Clip(Inv($"{indent}│ new storage: {storage} (replaced as it grows; what it holds is the leak)")));
                    end = runEnd;
                    break;
                case LeakNodeRole.Boundary:
                    lines.Add(Mark(Inv($"{indent}╰ {Short(node.TypeName)}{Yours(node)}"), "← new each iteration"));
                    break;
                default:
                    lines.Add(Clip(Inv($"{indent}│ {text}{Yours(node)}")));
                    break;
            }
            i = end;
        }
        return lines;
    }

    /// <summary>
    /// For a group of running threads: the new threads by OS name, and what their stacks and thread statics hold
    /// ("its thread stack holds: 1 Worker.&lt;&gt;c__DisplayClass3_0 (yours) (24B)").
    /// </summary>
    public static IEnumerable<string> ThreadLines(LeakGroup g, IReadOnlyList<Measurement.ThreadGroup> newThreads, string indent)
    {
        if (g.HeldByThreads.Count == 0) yield break;
        if (newThreads.Count > 0)
            yield return Clip(indent + "still running, by name: " + string.Join(", ", newThreads.Select(t => Inv($"{Count(t.Count)} x \"{t.Name}\""))));
        foreach (var h in g.HeldByThreads)
        {
            var each = h.Count == 0 ? 0 : (double)h.RetainedBytes / h.Count;
            var where = h.Root == "thread stack" ? "its thread stack holds" : "its thread statics (or a runtime frame) hold";
            var yours = h.Path is [.., { IsUserType: true }] ? " (yours)" : "";
            yield return Clip(Inv($"{indent}{where}: {PerIteration(h.CountPerIteration)} {Short(h.BoundaryType)}{yours} ({Bytes(each)} each)"));
        }
    }

    /// <summary>"retains per iteration: 1 Byte[] (1.02kB), 1 Quote (48B)", the leading types.</summary>
    public static string Retains(LeakGroup g, string indent, int maxTypes = 4)
    {
        var parts = g.Retains.Take(maxTypes).Select(t => Inv($"{PerIteration((double)t.Count / Math.Max(1, g.Iterations))} {Short(t.TypeName)} ({Bytes((double)t.Bytes / Math.Max(1, g.Iterations))})"));
        var more = g.Retains.Count > maxTypes ? Inv($", and {g.Retains.Count - maxTypes} more types") : "";
        return Clip(indent + "retains per iteration: " + string.Join(", ", parts) + more);
    }

    private static string Describe(LeakPathNode node, bool asCollection)
    {
        var name = Short(node.TypeName);
        if (asCollection) return name + (name.Contains("Dictionary", StringComparison.Ordinal) ? " entries" : " items");
        return node.Field is null ? name : name + "." + node.Field;
    }

    private static bool IsCollection(LeakPathNode node) =>
        node.IsCollectionPart && node.Role is LeakNodeRole.Old or LeakNodeRole.Holder && !node.TypeName.EndsWith("[]", StringComparison.Ordinal);

    /// <summary>A runtime type name as C# reads it, without namespaces.</summary>
    public static string Short(string runtimeName) => TypeName.Parse(runtimeName).Short();

    private static string Yours(LeakPathNode node) => node.IsUserType ? " (yours)" : "";

    private static string PerIteration(double value) => value >= 10 || Math.Abs(value - Math.Round(value)) < 0.005 ? Inv($"{value:0.##}") : Inv($"{value:0.00}");

    private static string Mark(string line, string mark) => Clip(line.Length < MarkColumn ? line.PadRight(MarkColumn) + mark : line + "  " + mark);

    private static string Clip(string line) => line.Length <= MaxLine ? line : line[..(MaxLine - 1)] + "…";
}
