using System.Reflection;
using System.Text;
using LeakAssert.Text;

namespace LeakAssert.Snapshots;

/// <summary>
/// The words of a retention path: a root described by what holds it, each step by its type and the field it is left
/// by where only one field can hold the next object, and the runtime's own machinery (the timer queue, an execution
/// context's AsyncLocal values, a delegate's invocation list, a ConditionalWeakTable) named as such. Labels are
/// interned as ints per pair of types, so that a path's signature is a row of numbers.
/// </summary>
/// <param name="graph">The heap graph.</param>
/// <param name="tree">Its shortest paths.</param>
/// <param name="types">Each type index's loaded type where its handle could be read, else null (then found by name).</param>
/// <param name="loaded">Reflection over the loaded assemblies, for field and class names.</param>
/// <param name="frames">The methods of the snapshot's own thread, by method handle: a stack root there names its method.</param>
internal sealed class PathText(HeapGraph graph, RetentionTree tree, Type?[] types, LoadedTypes loaded, IReadOnlyDictionary<ulong, string> frames)
{
    /// <summary>The root of objects that no root the runtime reported reaches.</summary>
    public const string Unreached = "no root the runtime reported";

    private const int NoLabel = -1;
    private const int WeakTableLabel = -2;
    // A stack root's detail when its frame is on another thread: all such frames read as one root.
    private const ulong OtherFrame = 1;

    // A delegate's fields are all typed object, so the child's type cannot pick one, but what each holds can.
    private static readonly bool DelegateFieldsKnown =
        typeof(Delegate).GetField("_target", BindingFlags.NonPublic | BindingFlags.Instance) is not null
        && typeof(Delegate).GetField("_methodBase", BindingFlags.NonPublic | BindingFlags.Instance) is not null
        && typeof(MulticastDelegate).GetField("_invocationList", BindingFlags.NonPublic | BindingFlags.Instance) is not null;

    private readonly List<string> _labels = [];
    private readonly Dictionary<string, int> _labelIds = new(StringComparer.Ordinal);
    private readonly Dictionary<long, int> _edgeLabels = [];
    private readonly Dictionary<(RootKind Kind, ulong Detail), int> _rootKeys = [];
    private readonly List<(RootKind Kind, ulong Detail)> _rootsByKey = [];
    private readonly Dictionary<int, string> _roots = [];
    private readonly bool[] _resolved = new bool[graph.TypeNames.Length];
    private readonly string?[] _short = new string?[graph.TypeNames.Length];

    /// <summary>
    /// A number that tells roots apart as a path's signature needs: statics by field, stacks by the method of the
    /// frame where it is known, other roots by kind.
    /// </summary>
    public int RootKey(int root)
    {
        var r = graph.Roots[root];
        var detail = r.Kind switch
        {
            RootKind.StaticField or RootKind.Other => r.Detail,
            RootKind.Stack => r.Detail == 0 || frames.ContainsKey(r.Detail) ? r.Detail : OtherFrame,
            _ => 0UL,
        };
        return Key(r.Kind, detail);
    }

    private int Key(RootKind kind, ulong detail)
    {
        if (!_rootKeys.TryGetValue((kind, detail), out var key))
        {
            _rootKeys[(kind, detail)] = key = _rootsByKey.Count;
            _rootsByKey.Add((kind, detail));
        }
        return key;
    }

    /// <summary>The key of the timer queue, which <see cref="PathGroups"/> puts before a path through a scheduled timer.</summary>
    public int TimerQueueKey => Key(RootKind.TimerQueue, 0);

    /// <summary>The root of a key from <see cref="RootKey"/> in words.</summary>
    public string Root(int key)
    {
        if (_roots.TryGetValue(key, out var text)) return text;
        var (kind, detail) = _rootsByKey[key];
        text = kind switch
        {
            RootKind.StaticField => Static(graph.Statics[(int)detail]),
            RootKind.Stack when detail == 0 => "thread statics or a runtime frame of a thread",
            RootKind.Stack when frames.TryGetValue(detail, out var method) => "thread stack, in " + method,
            RootKind.Stack => "thread stack",
            RootKind.StrongHandle => "strong handle",
            RootKind.PinnedHandle => "pinned handle",
            RootKind.RefCountedHandle => "ref-counted handle",
            RootKind.ComWrapper => "COM callable wrapper",
            RootKind.Finalizer => "finalizer queue",
            RootKind.TimerQueue => "timer queue",
            _ => detail switch
            {
                3 => "older generation",
                4 => "sized-ref handle",
                5 => "mark overflow",
                7 => "finalizer queue",
                9 => "background GC",
                _ => Numbers.Inv($"GC root of kind {detail}"),
            },
        };
        return _roots[key] = text;
    }

    private string Static(StaticRoot s) => loaded.DescribeStatic(s.Field, Resolve(s.ValueType), s.Slot);

    /// <summary>The interned label of the reference from parent to child, or a negative number for none.</summary>
    public int EdgeLabel(int parent, int child)
    {
        if (tree.ViaWeakTable(child)) return WeakTableLabel;
        int parentType = graph.NodeType[parent], childType = graph.NodeType[child];
        var pair = (long)parentType << 32 | (uint)childType;
        if (!_edgeLabels.TryGetValue(pair, out var id)) _edgeLabels[pair] = id = Intern(FieldName(parentType, childType));
        return id;
    }

    /// <summary>The text of a label from <see cref="EdgeLabel"/>: a field's name, or null for none.</summary>
    public string? LabelText(int label) => label switch
    {
        >= 0 => _labels[label],
        WeakTableLabel => "(a ConditionalWeakTable key, which keeps its value alive)",
        _ => null,
    };

    /// <summary>The loaded type of a type index, where it could be found.</summary>
    public Type? TypeOf(int type) => Resolve(type);

    /// <summary>"Dictionary&lt;Guid, Session&gt;._entries", with notes for the runtime's machinery and chains.</summary>
    public string Step(int type, int label, int longest, int link)
    {
        var text = new StringBuilder(TypeShort(type));
        if (label >= 0) text.Append('.').Append(_labels[label]);
        if (Note(FullName(type), label >= 0 ? _labels[label] : null) is { } note) text.Append(" (").Append(note).Append(')');
        if (label == WeakTableLabel) text.Append(" (a ConditionalWeakTable key, which keeps its value alive)");
        if (longest > 1)
        {
            text.Append(" (a chain of up to ").Append(Numbers.Count(longest));
            if (link >= 0) text.Append(" linked by ").Append(_labels[link]);
            text.Append(')');
        }
        return text.ToString();
    }

    /// <summary>A type's name as C# reads it.</summary>
    public string TypeShort(int type) => _short[type] ??= TypeName.Parse(FullName(type)).Short();

    /// <summary>The loaded type's full name where it is known: the runtime names a nested type by its own name only.</summary>
    public string FullName(int type) => Resolve(type) is { } known ? TypeName.Of(known) : graph.TypeNames[type];

    private Type? Resolve(int type)
    {
        if (type < 0) return null;
        if (!_resolved[type])
        {
            types[type] ??= loaded.Resolve(graph.TypeNames[type]);
            _resolved[type] = true;
        }
        return types[type];
    }

    private string? FieldName(int parentType, int childType)
    {
        var parent = Resolve(parentType);
        var child = Resolve(childType);
        if (parent is null || !DelegateFieldsKnown || !parent.IsSubclassOf(typeof(Delegate))) return loaded.FieldHolding(parent, child);
        if (child is null) return null;
        if (child == typeof(object[])) return "_invocationList";
        return typeof(MemberInfo).IsAssignableFrom(child) ? "_methodBase" : "_target";
    }

    private int Intern(string? label)
    {
        if (label is null) return NoLabel;
        if (!_labelIds.TryGetValue(label, out var id))
        {
            _labelIds[label] = id = _labels.Count;
            _labels.Add(label);
        }
        return id;
    }

    private static string? Note(string fullName, string? label) => fullName switch
    {
        "System.Threading.TimerQueue" => "the timer queue",
        _ when fullName.StartsWith("System.Threading.AsyncLocalValueMap+", StringComparison.Ordinal) => "AsyncLocal values",
        "System.Threading.Thread" when label == "_executionContext" => "the thread's execution context",
        _ when fullName.StartsWith("System.Runtime.CompilerServices.ConditionalWeakTable`2+Container", StringComparison.Ordinal) => "a ConditionalWeakTable",
        _ when label == "_invocationList" => "the delegates it calls",
        _ => null,
    };
}
