using System.Diagnostics;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace LeakAssert.Sampling;

/// <summary>
/// An EventPipe session opened by this process on itself, streamed to a temporary .nettrace file by a dedicated
/// thread. The session must be drained continuously (an unread session makes Stop hang), and the pump's buffer is
/// allocated before the session starts so that it never shows up in a profile.
/// </summary>
internal sealed class EventPipeRecorder : IDisposable
{
    private const long Keywords = (long)(
        ClrTraceEventParser.Keywords.GC
        | ClrTraceEventParser.Keywords.Loader
        | ClrTraceEventParser.Keywords.Jit
        | ClrTraceEventParser.Keywords.JittedMethodILToNativeMap
        | ClrTraceEventParser.Keywords.GCHeapSurvivalAndMovement
        | ClrTraceEventParser.Keywords.AllocationSampling
        // Thread/Creating, with the stack that started a thread, and Thread/Running on the new thread.
        | ClrTraceEventParser.Keywords.ThreadTransfer);

    // TaskScheduled (with the stack that scheduled the task), TaskStarted and TaskCompleted, on the thread that ran it.
    // At Informational this keyword also brings TaskWaitBegin and AwaitTaskContinuationScheduled, unused: about 8 µs
    // each with their stacks, measured here (an await costs two).
    private const long TaskKeywords = (long)TplEtwProviderTraceEventParser.Keywords.Tasks;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly EventPipeSession _session;
    private readonly FileStream _file;
    private readonly Thread _pump;
    private readonly PassPhases _phases;
    private Exception? _pumpFailure;
    private bool _stopped;

    public string TracePath { get; }

    private EventPipeRecorder(EventPipeSession session, FileStream file, string tracePath, PassPhases phases)
    {
        _session = session;
        _phases = phases;
        _file = file;
        TracePath = tracePath;
        var buffer = new byte[64 * 1024];
        _pump = new Thread(() => Pump(buffer)) { IsBackground = true, Name = "LeakAssert EventPipe pump" };
        _pump.Start();
    }

    /// <summary>Starts the sampling session, or returns null with the reason it could not be started.</summary>
    public static EventPipeRecorder? TryStart(string directory, int bufferMB, PassPhases phases, out string? failure) =>
        TryStart(directory, "session.nettrace", bufferMB, phases, out failure,
        [
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, Keywords),
            new EventPipeProvider(TplEtwProviderTraceEventParser.ProviderName, EventLevel.Informational, TaskKeywords),
        ], rundownAndStacks: true);

    /// <summary>
    /// Starts a session that records only the GCs and the objects each one moved (no stacks, no rundown), which is
    /// what tells an object in one heap dump from the same object at another address in a later one.
    /// </summary>
    public static EventPipeRecorder? TryStartMovements(string directory, PassPhases phases, out string? failure) =>
        TryStart(directory, "movements.nettrace", MovementBufferMB, phases, out failure,
        [
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose,
                (long)(ClrTraceEventParser.Keywords.GC | ClrTraceEventParser.Keywords.GCHeapSurvivalAndMovement)),
        ], rundownAndStacks: false);

    // Movement events are small and drained to a file as they come; a busy compaction of a large heap still fits.
    private const int MovementBufferMB = 32;

    private static EventPipeRecorder? TryStart(string directory, string fileName, int bufferMB, PassPhases phases, out string? failure,
        EventPipeProvider[] runtimeProviders, bool rundownAndStacks)
    {
        failure = null;
        var path = Path.Combine(directory, fileName);
        EventPipeSession? session = null;
        FileStream? file = null;
        try
        {
            // Touch the checkpoint event source first so the session's enable command finds it.
            _ = CheckpointEvents.Log.Name;
            file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
            EventPipeProvider[] providers = [.. runtimeProviders, new EventPipeProvider(CheckpointEvents.ProviderName, EventLevel.Informational)];
            var config = new EventPipeSessionConfiguration(providers, bufferMB, requestRundown: rundownAndStacks, requestStackwalk: rundownAndStacks);
            var start = Task.Run(() => new DiagnosticsClient(Environment.ProcessId).StartEventPipeSession(config));
            if (!start.Wait(StartTimeout))
            {
                failure = $"the EventPipe session did not start within {StartTimeout.TotalSeconds:0} s";
                _ = start.ContinueWith(t => { if (t.IsCompletedSuccessfully) StopQuietly(t.Result); }, TaskScheduler.Default);
                file.Dispose();
                return null;
            }
            session = start.Result;
            var recorder = new EventPipeRecorder(session, file, path, phases);
            if (!WaitUntil(() => CheckpointEvents.Log.IsEnabled(), StartTimeout))
            {
                failure = "the EventPipe session started but never enabled its providers";
                recorder.Dispose();
                return null;
            }
            return recorder;
        }
        catch (Exception ex)
        {
            failure = Describe(ex);
            if (session is not null) StopQuietly(session);
            file?.Dispose();
            return null;
        }
    }

    /// <summary>Stops the session (the rundown that names every method comes now) and waits for the file.</summary>
    public bool TryStop(out string? failure)
    {
        failure = null;
        if (_stopped) return true;
        _stopped = true;
        var stop = Task.Run(() => _session.Stop());
        try
        {
            if (!_phases.Measure("stop", () => stop.Wait(StopTimeout)))
            {
                failure = $"the EventPipe session did not stop within {StopTimeout.TotalSeconds:0} s";
                return false;
            }
        }
        catch (AggregateException ex)
        {
            failure = "stopping the EventPipe session failed: " + Describe(ex.InnerException ?? ex);
            return false;
        }
        if (!_phases.Measure("drain", () => _pump.Join(StopTimeout)))
        {
            failure = $"the trace was not fully read within {StopTimeout.TotalSeconds:0} s of stopping";
            return false;
        }
        if (_pumpFailure is not null)
        {
            failure = "reading the EventPipe stream failed: " + Describe(_pumpFailure);
            return false;
        }
        _file.Dispose();
        return true;
    }

    public void Dispose()
    {
        if (!_stopped) TryStop(out _);
        _session.Dispose();
        _file.Dispose();
    }

    private void Pump(byte[] buffer)
    {
        try
        {
            var stream = _session.EventStream;
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0) _file.Write(buffer, 0, read);
            _file.Flush();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            _pumpFailure = ex;
        }
    }

    private static void StopQuietly(EventPipeSession session)
    {
        try
        {
            session.Stop();
        }
        catch (Exception ex) when (ex is IOException or ServerNotAvailableException or TimeoutException or ServerErrorException)
        {
            // Cleanup after a failure that is already being reported; a second error would only hide the first.
        }
        session.Dispose();
    }

    private static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) return false;
            Thread.Sleep(1);
        }
        return true;
    }

    private static string Describe(Exception ex) => ex switch
    {
        ServerNotAvailableException => "the runtime's diagnostics server is not available (is DOTNET_EnableDiagnostics=0 set?)",
        AggregateException { InnerException: { } inner } => Describe(inner),
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };
}
