namespace LeakAssert.Testing;

/// <summary>
/// A leak test's failure message is the report; the stack frames of LeakAssert, its adapters, FluentAssertions and
/// reflection say nothing a user can act on, so both adapters drop them and keep the user's own.
/// </summary>
internal static class StackFrames
{
    // The core's own, then each registered adapter's.
    private static readonly string[] CorePrefixes =
    [
        "at FluentAssertions.",
        "at " + typeof(Assertions.LeakProfileAssertions).Namespace + ".",
        "at System.Reflection.",
        "--- End of stack trace",
    ];

    private static IEnumerable<string> LibraryPrefixes => CorePrefixes.Concat(LeakTestAdapters.Namespaces.Select(n => "at " + n + "."));

    /// <summary>The stack without library frames; null when nothing is left.</summary>
    public static string? WithoutLibraryFrames(string? stack)
    {
        if (stack is null) return null;
        var kept = stack.Split('\n').Where(line => !LibraryPrefixes.Any(p => line.TrimStart().StartsWith(p, StringComparison.Ordinal))).ToArray();
        return kept.Length == 0 ? null : string.Join('\n', kept);
    }
}
