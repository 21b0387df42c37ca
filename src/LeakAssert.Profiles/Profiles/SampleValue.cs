namespace LeakAssert.Profiles;

/// <summary>pprof's four sample types. inuse_space is the default view of a heap profile.</summary>
public enum SampleValue
{
    /// <summary>Objects allocated (churn).</summary>
    AllocObjects,
    /// <summary>Bytes allocated (churn).</summary>
    AllocSpace,
    /// <summary>Objects still alive (leaks).</summary>
    InuseObjects,
    /// <summary>Bytes still alive (leaks).</summary>
    InuseSpace,
}

/// <summary>The one home of the sample values' names and units, as pprof spells them.</summary>
internal static class SampleValues
{
    /// <summary>The order of Go's heap profiles, which a .pb.gz file follows.</summary>
    public static readonly IReadOnlyList<SampleValue> PprofOrder =
        [SampleValue.AllocObjects, SampleValue.AllocSpace, SampleValue.InuseObjects, SampleValue.InuseSpace];

    /// <summary>The order a user is offered them in: inuse_space, the default, first.</summary>
    public static readonly IReadOnlyList<SampleValue> HelpOrder =
        [SampleValue.InuseSpace, SampleValue.InuseObjects, SampleValue.AllocSpace, SampleValue.AllocObjects];

    /// <summary>pprof's name: "inuse_space".</summary>
    public static string Name(this SampleValue value) => value switch
    {
        SampleValue.AllocObjects => "alloc_objects",
        SampleValue.AllocSpace => "alloc_space",
        SampleValue.InuseObjects => "inuse_objects",
        _ => "inuse_space",
    };

    /// <summary>pprof's unit: "bytes" or "count".</summary>
    public static string Unit(this SampleValue value) => value.IsBytes() ? "bytes" : "count";

    /// <summary>Whether the value counts bytes (space) rather than objects.</summary>
    public static bool IsBytes(this SampleValue value) => value is SampleValue.AllocSpace or SampleValue.InuseSpace;

    /// <summary>The value of a pprof name, any case; null when it names none.</summary>
    public static SampleValue? Parse(string name)
    {
        foreach (var v in PprofOrder)
            if (string.Equals(v.Name(), name, StringComparison.OrdinalIgnoreCase)) return v;
        return null;
    }
}
