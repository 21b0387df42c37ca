using LeakAssert.Sampling;

namespace LeakAssert.Testing;

/// <summary>
/// The seam between the core and its test-framework adapters: each adapter registers what the core must know about
/// it (the namespace of its execution code, whose frames only invoke a test body) from its module initializer, so
/// the core names no adapter and a new one needs no change here. How an adapter attaches artifact files is its own
/// business: it reads them from <see cref="Artifacts.LeakTestContext.Written"/>, each with its kind.
/// </summary>
internal static class LeakTestAdapters
{
    private static readonly object Gate = new();
    private static string[] namespaces = [];

    /// <summary>Registers an adapter by the namespace of its execution code ("LeakAssert.Xunit.Execution").</summary>
    public static void Register(string executionNamespace)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(executionNamespace);
        // A data row's body is invoked through the adapter: its frames are cut from the samples' stacks.
        StackTrim.AddGlue(executionNamespace + ".");
        lock (Gate)
            if (!namespaces.Contains(executionNamespace)) namespaces = [.. namespaces, executionNamespace];
    }

    /// <summary>The registered adapters' execution namespaces.</summary>
    public static IReadOnlyList<string> Namespaces => Volatile.Read(ref namespaces);
}
