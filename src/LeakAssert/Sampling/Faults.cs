namespace LeakAssert.Sampling;

/// <summary>
/// Where tests make the self-sessions, the session folder, the trace, a heap snapshot and the counters outside the heap
/// fail as a machine can (SessionFaultTests, InternalFaultTests). Every hook is null in production; only tests of the
/// collection that runs alone set them, and reset them in a finally.
/// </summary>
internal static class Faults
{
    /// <summary>Runs on the start's task before the start command, given the session's label: a test throws or blocks in it.</summary>
    public static Action<string>? BeforeStart { get; set; }

    /// <summary>Wraps the stream a session's consumer reads, given the session's label: a test's stream throws midway.</summary>
    public static Func<string, Stream, Stream>? Stream { get; set; }

    /// <summary>The folder session folders are made in; the system's temp folder when null.</summary>
    public static string? TempFolder { get; set; }

    /// <summary>The heap dump session's buffer in MB; sized to the heap when null (a test makes it too small).</summary>
    public static int? HeapDumpBufferMB { get; set; }

    /// <summary>Runs on the finished trace's path before it is read: a test truncates or corrupts it, or throws.</summary>
    public static Action<string>? BeforeTraceRead { get; set; }

    /// <summary>Runs before each heap snapshot is taken: a test throws in it.</summary>
    public static Action? BeforeSnapshot { get; set; }

    /// <summary>Runs before each reading of the counters outside the heap: a test throws in it.</summary>
    public static Action? BeforeCounterReading { get; set; }
}
