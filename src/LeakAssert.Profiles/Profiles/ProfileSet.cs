namespace LeakAssert.Profiles;

/// <summary>
/// The three sampled profiles of one run (before, after, and their diff, as pprof's <c>-base</c>) and where their
/// samples came from: all samples in the trace, and those left out as not the workload's.
/// </summary>
public sealed record ProfileSet(HeapProfile Before, HeapProfile After, HeapProfile Diff, int TotalSamples, int ForeignSamples)
{
    /// <summary>
    /// Samples of the workload taken on other threads: in a task it scheduled or a thread it started (or in work
    /// those scheduled or started in turn), their stacks followed back to the workload. They are in the profiles.
    /// </summary>
    public int LinkedSamples { get; init; }

    /// <summary>
    /// The left-out samples (other threads', not linked to the workload) as a diff like <see cref="Diff"/>, their
    /// stacks whole: where growth came from when the workload handed work to a thread the trace does not follow
    /// back (a queued work item, a timer), or when something else in the process grew. Not in the pprof files.
    /// </summary>
    public HeapProfile? OtherThreads { get; init; }
}
