using System.Text;

namespace LeakAssert.Snapshots;

/// <summary>
/// A type name as the runtime's heap-dump events spell it ("System.Collections.Generic.Dictionary`2[System.Guid,Contoso.Session]",
/// "Outer+Inner", "System.Object[]"), parsed so that it can be shown the way C# reads it ("Dictionary&lt;Guid, Session&gt;")
/// and resolved to a loaded <see cref="Type"/>. <see cref="Of"/> spells a <see cref="Type"/> the runtime's way.
/// </summary>
internal sealed class TypeName
{
    private TypeName(string path, IReadOnlyList<TypeName> arguments, IReadOnlyList<string> suffixes)
    {
        Path = path;
        Arguments = arguments;
        Suffixes = suffixes;
    }

    /// <summary>The namespace-qualified name with nesting and arity: "System.Collections.Generic.Dictionary`2+Entry".</summary>
    public string Path { get; }

    /// <summary>The generic arguments of all nesting levels, outermost first.</summary>
    public IReadOnlyList<TypeName> Arguments { get; }

    /// <summary>Array ranks after the name, innermost first: "[]", "[,]".</summary>
    public IReadOnlyList<string> Suffixes { get; }

    /// <summary>Parses a runtime type name; one it cannot read stays whole as its <see cref="Path"/>.</summary>
    public static TypeName Parse(string text)
    {
        var i = 0;
        var parsed = ParseAt(text, ref i);
        return parsed is not null && i == text.Length ? parsed : new TypeName(text, [], []);
    }

    /// <summary>The runtime's spelling of a type, as its heap-dump events (and allocation samples) name it.</summary>
    public static string Of(Type type)
    {
        if (type.IsArray)
        {
            var element = Of(type.GetElementType()!);
            return element + (type.IsSZArray ? "[]" : "[" + new string(',', type.GetArrayRank() - 1) + "]");
        }
        if (type.IsConstructedGenericType)
            return Of(type.GetGenericTypeDefinition()) + "[" + string.Join(",", type.GenericTypeArguments.Select(Of)) + "]";
        return type.FullName ?? type.Name;
    }

    /// <summary>The name as C# reads it, without namespaces: "Dictionary&lt;Guid, Session&gt;.Entry[]".</summary>
    public string Short() => Display(qualified: false);

    /// <summary>The name as C# reads it with its namespace (its type arguments without): "Contoso.Cache&lt;Guid&gt;.Entry".</summary>
    public string Qualified() => Display(qualified: true);

    private string Display(bool qualified)
    {
        var text = new StringBuilder();
        var segments = Path.Split('+');
        var first = segments[0];
        if (!qualified) segments[0] = first[(first.LastIndexOf('.') + 1)..];
        var next = 0;
        for (var s = 0; s < segments.Length; s++)
        {
            if (s > 0) text.Append('.');
            var (name, arity) = SplitArity(segments[s]);
            text.Append(name);
            if (arity == 0 || next + arity > Arguments.Count) continue;
            text.Append('<').AppendJoin(", ", Arguments.Skip(next).Take(arity).Select(a => a.Short())).Append('>');
            next += arity;
        }
        // The runtime names a nested type of a generic type by its own name, with its outer type's arguments.
        if (next < Arguments.Count) text.Append('<').AppendJoin(", ", Arguments.Skip(next).Select(a => a.Short())).Append('>');
        foreach (var suffix in Suffixes) text.Append(suffix);
        return text.ToString();
    }

    /// <summary>The loaded type of this name, or null when no loaded assembly defines it (or it cannot be built).</summary>
    public Type? Resolve(Func<string, Type?> definition)
    {
        var type = definition(Path);
        if (type is null) return null;
        if (Arguments.Count > 0)
        {
            if (!type.IsGenericTypeDefinition || type.GetGenericArguments().Length != Arguments.Count) return null;
            var arguments = new Type[Arguments.Count];
            for (var a = 0; a < arguments.Length; a++)
                if ((arguments[a] = Arguments[a].Resolve(definition)!) is null) return null;
            try
            {
                type = type.MakeGenericType(arguments);
            }
            catch (ArgumentException)
            {
                // A constraint the arguments do not meet: the name was not what it seemed, so no type.
                return null;
            }
        }
        foreach (var suffix in Suffixes) type = suffix == "[]" ? type.MakeArrayType() : type.MakeArrayType(suffix.Length - 1);
        return type;
    }

    private static (string Name, int Arity) SplitArity(string segment)
    {
        var tick = segment.IndexOf('`');
        return tick >= 0 && int.TryParse(segment.AsSpan(tick + 1), out var arity) ? (segment[..tick], arity) : (segment, 0);
    }

    private static TypeName? ParseAt(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] is not ('[' or ']' or ',')) i++;
        if (i == start) return null;
        var path = s[start..i];
        var arguments = new List<TypeName>();
        if (i + 1 < s.Length && s[i] == '[' && s[i + 1] is not (']' or ','))
        {
            i++;
            while (true)
            {
                var argument = ParseAt(s, ref i);
                if (argument is null || i >= s.Length) return null;
                arguments.Add(argument);
                var separator = s[i++];
                if (separator == ']') break;
                if (separator != ',') return null;
            }
        }
        var suffixes = new List<string>();
        while (i + 1 < s.Length && s[i] == '[' && s[i + 1] is ']' or ',')
        {
            var close = s.IndexOf(']', i);
            if (close < 0 || s.AsSpan(i + 1, close - i - 1).ContainsAnyExcept(',')) return null;
            suffixes.Add(s[i..(close + 1)]);
            i = close + 1;
        }
        return new TypeName(path, arguments, suffixes);
    }
}
