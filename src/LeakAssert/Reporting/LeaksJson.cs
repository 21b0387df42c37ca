using System.Text.Json;
using LeakAssert.Snapshots;

namespace LeakAssert.Reporting;

/// <summary>
/// The leak groups as JSON, for CI tools and dashboards: the same data the text and HTML reports print (every group,
/// the minor and accepted ones too, each with its whole path), numbers as numbers, names as the runtime spells them.
/// </summary>
internal static class LeaksJson
{
    public static void Write(Stream stream, HeapDiff heap)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("pass", heap.Pass);
        w.WriteNumber("iterations", heap.Iterations);
        w.WriteNumber("objects", heap.Objects);
        w.WriteBoolean("halved", heap.Halved);
        if (heap.LeaksProblem is { } problem) w.WriteString("problem", problem);
        Groups(w, "leaks", heap.Leaks);
        Groups(w, "minorLeaks", heap.MinorLeaks);
        w.WriteStartArray("acceptedLeaks");
        foreach (var a in heap.AcceptedLeaks)
        {
            w.WriteStartObject();
            w.WriteString("reason", a.Reason);
            w.WritePropertyName("group");
            Group(w, a.Group);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("oneOffBytes", heap.OneOffBytes);
        w.WriteNumber("oneOffObjects", heap.OneOffObjects);
        w.WriteEndObject();
    }

    private static void StringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static void Groups(Utf8JsonWriter w, string name, IReadOnlyList<LeakGroup> groups)
    {
        w.WriteStartArray(name);
        foreach (var g in groups) Group(w, g);
        w.WriteEndArray();
    }

    private static void Group(Utf8JsonWriter w, LeakGroup g)
    {
        w.WriteStartObject();
        w.WriteString("signature", g.Signature);
        w.WriteString("boundaryType", g.BoundaryType);
        w.WriteString("holderType", g.HolderType);
        StringOrNull(w, "holderField", g.HolderField);
        w.WriteString("rootKind", g.RootKind.ToString());
        w.WriteString("root", g.Root);
        w.WriteNumber("count", g.Count);
        w.WriteNumber("countPerIteration", g.CountPerIteration);
        w.WriteNumber("retainedBytes", g.RetainedBytes);
        w.WriteNumber("retainedBytesPerIteration", g.RetainedBytesPerIteration);
        if (g.Halves is { } h)
        {
            w.WriteStartObject("halves");
            w.WriteNumber("first", h.First);
            w.WriteNumber("second", h.Second);
            w.WriteEndObject();
        }
        w.WriteStartArray("path");
        foreach (var n in g.Path)
        {
            w.WriteStartObject();
            w.WriteString("type", n.TypeName);
            StringOrNull(w, "field", n.Field);
            w.WriteString("role", n.Role.ToString());
            w.WriteBoolean("isUserType", n.IsUserType);
            w.WriteBoolean("isCollectionPart", n.IsCollectionPart);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("retains");
        foreach (var t in g.Retains)
        {
            w.WriteStartObject();
            w.WriteString("type", t.TypeName);
            w.WriteNumber("count", t.Count);
            w.WriteNumber("bytes", t.Bytes);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (g.HeldByThreads.Count > 0) Groups(w, "heldByThreads", g.HeldByThreads);
        w.WriteEndObject();
    }
}
