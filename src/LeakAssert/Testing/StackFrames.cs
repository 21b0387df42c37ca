namespace LeakAssert.Testing;

/// <summary>
/// A leak test's failure message is the report; the stack frames of LeakAssert, its adapters, FluentAssertions and
/// reflection say nothing a user can act on, so both adapters drop them and keep the user's own.
/// </summary>
internal static class StackFrames
{
    private static readonly string[] LibraryPrefixes =
    [
        "at FluentAssertions.",
        "at LeakAssert.Assertions.",
        "at LeakAssert.Xunit.Execution.",
        "at LeakAssert.NUnit.Execution.",
        "at System.Reflection.",
        "--- End of stack trace",
    ];

    /// <summary>The stack without library frames; null when nothing is left.</summary>
    public static string? WithoutLibraryFrames(string? stack)
    {
        if (stack is null) return null;
        var kept = stack.Split('\n').Where(line => !LibraryPrefixes.Any(p => line.TrimStart().StartsWith(p, StringComparison.Ordinal))).ToArray();
        return kept.Length == 0 ? null : string.Join('\n', kept);
    }
}
