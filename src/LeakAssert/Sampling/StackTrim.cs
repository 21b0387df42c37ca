namespace LeakAssert.Sampling;

/// <summary>
/// Where a sampled stack is cut so that it starts at the workload: at the first frame of the runner that calls it,
/// skipping the invocation glue (reflection, and the frames of whichever test adapter invoked a test method) that
/// sits between the runner and a test body. The runner names itself; adapters register their own frames, so this
/// layer names neither.
/// </summary>
/// <param name="RunnerPrefix">The namespace prefix of the frames that call the workload ("Ns.").</param>
/// <param name="AsyncModule">For async workloads, their module: a continuation resumed on a pool thread no longer has
/// the runner below it, so a stack that reaches a frame of this module counts as the workload's. Null for sync
/// workloads, whose samples must have the runner's frame (and so its thread).</param>
internal sealed record StackTrim(string RunnerPrefix, string? AsyncModule)
{
    private static readonly object Gate = new();
    private static string[] glue = ["System.Reflection.", "System.RuntimeMethodHandle."];

    /// <summary>Registers frames (by namespace prefix, "Ns.") that only invoke a test body, to be cut from its stacks.</summary>
    public static void AddGlue(string namespacePrefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(namespacePrefix);
        lock (Gate)
            if (!glue.Contains(namespacePrefix)) glue = [.. glue, namespacePrefix];
    }

    /// <summary>Whether a frame belongs to the runner that calls the workload.</summary>
    public bool IsRunner(string methodName) => methodName.StartsWith(RunnerPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Whether a runner frame is one that calls the workload (the workload loop's), not the runner's own bookkeeping
    /// (a checkpoint's GC and its reading, a snapshot): what the latter allocates is LeakAssert's, not the workload's.
    /// </summary>
    public bool CallsWorkload(string methodName) => methodName.StartsWith(RunnerPrefix + "Workload", StringComparison.Ordinal);

    /// <summary>Whether a frame only invokes the workload: the runner's, reflection's or a registered adapter's.</summary>
    public bool IsGlue(string methodName) =>
        IsRunner(methodName) || Volatile.Read(ref glue).Any(p => methodName.StartsWith(p, StringComparison.Ordinal));
}
