using LeakAssert.Profiles;

namespace LeakAssert.Sampling;

/// <summary>
/// The sampled side of one measurement: a temporary folder, the EventPipe session recorded into it (started when the
/// runner asks), and the profiles read from it afterwards. What could not be done is kept as <see cref="Problem"/>,
/// the one sentence the report prints in place of the profile; the exact figures never depend on it.
/// </summary>
internal sealed class SamplingSession(int bufferMB) : IDisposable
{
    // Stop and Dispose may come from a run's guard on another thread, for a workload that never returns.
    private readonly object _gate = new();
    private DirectoryInfo? _directory;
    private EventPipeRecorder? _recorder;

    /// <summary>The start of this process's session folders' names, in the temp folder.</summary>
    public static string FolderPrefix => $"leakassert-session-{Environment.ProcessId}-";

    /// <summary>Why there is or will be no profile; null while there may be one.</summary>
    public string? Problem { get; private set; }

    /// <summary>What each phase of the traced pass cost, for the benchmark.</summary>
    public PassPhases Phases { get; } = new();

    /// <summary>Whether the session is recording.</summary>
    public bool IsRecording => _recorder is not null;

    /// <summary>Records no profile, for this reason.</summary>
    public void Skip(string reason) => Problem ??= reason;

    /// <summary>Starts recording; on failure <see cref="Problem"/> says why and the run goes on without it.</summary>
    public bool TryStart()
    {
        // Checked before the session costs anything: without stacks a trace names no site.
        if (EventStacks.Problem is { } unreadable)
        {
            Problem ??= unreadable;
            return false;
        }
        lock (_gate)
        {
            string? failure = null;
            _directory ??= TryNewFolder(out failure);
            if (_directory is null)
            {
                Problem = failure;
                return false;
            }
            _recorder = Phases.Measure("start", () => EventPipeRecorder.TryStart(_directory.FullName, bufferMB, Phases, out failure));
            if (_recorder is null) Problem = failure;
            return _recorder is not null;
        }
    }

    /// <summary>Stops recording (inside the measured window, also when the workload threw).</summary>
    public void Stop()
    {
        lock (_gate)
            if (_recorder is not null && !_recorder.TryStop(out var failure)) Problem = failure;
    }

    /// <summary>
    /// The before, after and diff profiles between the first and the last checkpoint in the trace, or null with
    /// <see cref="Problem"/> set when there is no trustworthy profile.
    /// </summary>
    public ProfileSet? ReadProfiles(StackTrim trim, DateTimeOffset baselineAt, DateTimeOffset endAt)
    {
        if (_recorder is null || Problem is not null) return null;
        try
        {
            Faults.BeforeTraceRead?.Invoke(_recorder.TracePath);
            var result = TraceReader.Read(_recorder.TracePath, trim, Phases);
            Problem = result.Problem;
            if (Problem is not null) return null;
            return Phases.Measure("profiles", () => new ProfileSet(
                ProfileBuilder.Before(result.Allocations, baselineAt),
                ProfileBuilder.After(result.Allocations, endAt),
                ProfileBuilder.Diff(result.Allocations, endAt),
                result.TotalSamples,
                result.ForeignSamples)
            {
                LinkedSamples = result.LinkedSamples,
                OtherThreads = ProfileBuilder.Diff(result.OtherThreads, endAt),
            });
        }
        catch (Exception e)
        {
            // The verdict never reads the trace: a trace that cannot be read (truncated, corrupt, a TraceEvent that
            // parses it differently, a disk that filled) costs the profile, not the test.
            Problem = $"the trace could not be read ({e.GetType().Name}: {FirstLine(e.Message)})";
            return null;
        }
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].TrimEnd('.', ' ', '\r');

    public void Dispose()
    {
        lock (_gate)
        {
            _recorder?.Dispose();
            _recorder = null;
            DeleteDirectory();
        }
    }

    private void DeleteDirectory()
    {
        if (_directory is not null) DeleteFolder(_directory);
    }

    /// <summary>
    /// A new session folder in the temp folder (<see cref="Faults.TempFolder"/> in a test), or null with the sentence
    /// saying why there is none. Named by process, so that a process can tell its own session folders from another
    /// run's.
    /// </summary>
    internal static DirectoryInfo? TryNewFolder(out string? problem)
    {
        problem = null;
        try
        {
            return Faults.TempFolder is { } root
                ? Directory.CreateDirectory(Path.Combine(root, FolderPrefix + Path.GetRandomFileName()))
                : Directory.CreateTempSubdirectory(FolderPrefix);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = "no temporary folder could be made for the session's trace: " + SelfSession.Describe(ex);
            return null;
        }
    }

    /// <summary>Deletes a session folder; one left behind must not fail the test (the OS cleans /tmp).</summary>
    internal static void DeleteFolder(DirectoryInfo directory)
    {
        try { directory.Delete(recursive: true); }
        catch (IOException) { /* left behind */ }
        catch (UnauthorizedAccessException) { /* likewise */ }
    }
}
