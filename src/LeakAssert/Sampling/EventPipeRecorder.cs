using System.Diagnostics;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace LeakAssert.Sampling;

/// <summary>
/// The sampling session, or the movements session, that this process opens on itself (<see cref="SelfSession"/>), its
/// stream copied to a temporary .nettrace file as it comes. Only the providers, the buffer and the file are here.
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

    private static readonly SelfSession.Names SamplingNames = Named("sampling");
    private static readonly SelfSession.Names MovementNames = Named("movements");

    private static SelfSession.Names Named(string label) =>
        new(label, "the EventPipe session", "the trace", "reading the EventPipe stream", "LeakAssert EventPipe pump");

    private readonly SelfSession _session;
    private readonly FileStream _file;
    private readonly PassPhases _phases;

    public string TracePath { get; }

    private EventPipeRecorder(SelfSession session, FileStream file, string tracePath, PassPhases phases)
    {
        _session = session;
        _file = file;
        _phases = phases;
        TracePath = tracePath;
    }

    /// <summary>Starts the sampling session, or returns null with the reason it could not be started.</summary>
    public static EventPipeRecorder? TryStart(string directory, int bufferMB, PassPhases phases, out string? failure) =>
        TryStart(directory, "session.nettrace", bufferMB, phases, out failure, SamplingNames,
        [
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, Keywords),
            new EventPipeProvider(TplEtwProviderTraceEventParser.ProviderName, EventLevel.Informational, TaskKeywords),
        ], rundownAndStacks: true);

    /// <summary>
    /// Starts a session that records only the GCs and the objects each one moved (no stacks, no rundown), which is
    /// what tells an object in one heap dump from the same object at another address in a later one.
    /// </summary>
    public static EventPipeRecorder? TryStartMovements(string directory, PassPhases phases, out string? failure) =>
        TryStart(directory, "movements.nettrace", MovementBufferMB, phases, out failure, MovementNames,
        [
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose,
                (long)(ClrTraceEventParser.Keywords.GC | ClrTraceEventParser.Keywords.GCHeapSurvivalAndMovement)),
        ], rundownAndStacks: false);

    // Movement events are small and drained to a file as they come; a busy compaction of a large heap still fits.
    private const int MovementBufferMB = 32;

    private static EventPipeRecorder? TryStart(string directory, string fileName, int bufferMB, PassPhases phases, out string? failure,
        SelfSession.Names names, EventPipeProvider[] runtimeProviders, bool rundownAndStacks)
    {
        var path = Path.Combine(directory, fileName);
        FileStream file;
        try
        {
            // Touch the checkpoint event source first so the session's enable command finds it.
            _ = CheckpointEvents.Log.Name;
            file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        }
        catch (Exception ex)
        {
            failure = SelfSession.Describe(ex);
            return null;
        }
        EventPipeProvider[] providers = [.. runtimeProviders, new EventPipeProvider(CheckpointEvents.ProviderName, EventLevel.Informational)];
        var config = new EventPipeSessionConfiguration(providers, bufferMB, requestRundown: rundownAndStacks, requestStackwalk: rundownAndStacks);
        // Allocated before the session starts, so that the pump's buffer never shows up in a profile.
        var buffer = new byte[64 * 1024];
        var session = SelfSession.TryStart(config, names, StartTimeout, stream => Pump(stream, file, buffer), out failure);
        if (session is null)
        {
            file.Dispose();
            return null;
        }
        var recorder = new EventPipeRecorder(session, file, path, phases);
        if (!WaitUntil(() => CheckpointEvents.Log.IsEnabled(), StartTimeout))
        {
            failure = "the EventPipe session started but never enabled its providers";
            recorder.Dispose();
            return null;
        }
        return recorder;
    }

    /// <summary>Stops the session (the rundown that names every method comes now) and waits for the file.</summary>
    public bool TryStop(out string? failure)
    {
        if (!_session.TryStop(out failure, _phases)) return false;
        _file.Dispose();
        return true;
    }

    public void Dispose()
    {
        TryStop(out _);
        _session.Dispose();
        _file.Dispose();
    }

    private static void Pump(Stream stream, FileStream file, byte[] buffer)
    {
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0) file.Write(buffer, 0, read);
        file.Flush();
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
}
