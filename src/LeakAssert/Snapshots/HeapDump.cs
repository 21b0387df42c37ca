using System.Diagnostics;
using System.Diagnostics.Tracing;
using LeakAssert.Text;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace LeakAssert.Snapshots;

/// <summary>
/// One heap dump of this process through an EventPipe session on itself, as dotnet-gcdump takes one: enabling the
/// runtime's heap-dump keywords makes it run an induced blocking gen2 GC that reports every live object, reference and
/// root. A dedicated thread reads the stream as it comes; the session is stopped once that GC has ended, always with a
/// timeout, and always disposed.
/// </summary>
internal sealed class HeapDump
{
    private const long Keywords = (long)(
        ClrTraceEventParser.Keywords.GC
        | ClrTraceEventParser.Keywords.GCHeapCollect
        | ClrTraceEventParser.Keywords.GCHeapDump
        | ClrTraceEventParser.Keywords.GCHeapAndTypeNames
        | ClrTraceEventParser.Keywords.Type);

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    // Events stop coming mid-dump only when the session dropped the rest (its GC's end among them): waiting longer
    // would only wait out the timeout before the stop tells how many were lost.
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(2);

    private readonly EventPipeSession _session;
    private readonly GraphBuilder _builder = new();
    private readonly ManualResetEventSlim _signal = new();
    private readonly Thread _reader;
    private Exception? _failure;
    private long _lost;
    private long _lastEventAt = Environment.TickCount64;
    private volatile bool _losing;

    private HeapDump(EventPipeSession session)
    {
        _session = session;
        _reader = new Thread(Read) { IsBackground = true, Name = "LeakAssert heap snapshot reader" };
        _reader.Start();
    }

    /// <summary>Takes the dump and builds its graph, or returns null with the one reason it could not.</summary>
    /// <param name="timeout">How long the dump may take, from the session's start to the end of its GC.</param>
    /// <param name="problem">Why there is no graph; null when there is one.</param>
    /// <param name="bufferMB">The session's buffer; sized to the heap when null (a test makes it too small).</param>
    public static HeapGraph? TryTake(TimeSpan timeout, out string? problem, int? bufferMB = null)
    {
        var clock = Stopwatch.StartNew();
        if (timeout < TimeSpan.Zero) timeout = TimeSpan.Zero;
        var providers = new[] { new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, Keywords) };
        // The runtime writes the whole dump during the GC, while this process's reader is suspended: the session's
        // buffer must hold it all. About 1.5 bytes of events a byte of heap; 64 MB was complete for 522k objects.
        var heapMB = GC.GetTotalMemory(forceFullCollection: false) >> 20;
        bufferMB ??= (int)Math.Clamp(64 + 2 * heapMB, 64, 4096);
        var config = new EventPipeSessionConfiguration(providers, bufferMB.Value, requestRundown: false, requestStackwalk: false);
        // The induced GC runs inside the start command, so the start's time is part of the dump's.
        var start = Task.Run(() => new DiagnosticsClient(Environment.ProcessId).StartEventPipeSession(config));
        try
        {
            if (!start.Wait(timeout))
            {
                problem = $"the heap snapshot's EventPipe session did not start within {Duration(timeout)}";
                _ = start.ContinueWith(t => { if (t.IsCompletedSuccessfully) Abandon(t.Result); }, TaskScheduler.Default);
                return null;
            }
        }
        catch (AggregateException ex)
        {
            problem = Describe(ex.InnerException ?? ex);
            return null;
        }

        var dump = new HeapDump(start.Result);
        try
        {
            return dump.Finish(timeout - clock.Elapsed, timeout, out problem);
        }
        finally
        {
            dump._session.Dispose();
            // A reader that did not end may still set the signal; only an ended one lets it go.
            if (!dump._reader.IsAlive) dump._signal.Dispose();
        }
    }

    private HeapGraph? Finish(TimeSpan remaining, TimeSpan timeout, out string? problem)
    {
        var completed = WaitForDump(remaining);
        var stop = Task.Run(() => _session.Stop());
        string? stopProblem = null;
        try
        {
            if (!stop.Wait(StopTimeout)) stopProblem = $"the heap snapshot's EventPipe session did not stop within {Duration(StopTimeout)}";
        }
        catch (AggregateException ex)
        {
            stopProblem = "stopping the heap snapshot's EventPipe session failed: " + Describe(ex.InnerException ?? ex);
        }
        if (stopProblem is not null)
        {
            problem = stopProblem;
            return null;
        }
        // The builder is only read once the reader has ended.
        if (!_reader.Join(StopTimeout))
        {
            problem = $"the heap snapshot was not fully read within {Duration(StopTimeout)} of stopping";
            return null;
        }
        if (_failure is not null)
        {
            problem = "reading the heap snapshot failed: " + Describe(_failure);
            return null;
        }
        if (_lost > 0)
        {
            problem = $"the heap snapshot lost {Numbers.Count(_lost)} events, so it is incomplete";
            return null;
        }
        if (!completed)
        {
            problem = _builder.ObjectCount > 0
                ? $"the heap snapshot did not complete within {Duration(timeout)}"
                : $"the runtime reported no heap dump within {Duration(timeout)}";
            return null;
        }
        return _builder.Build(out problem);
    }

    // Until the dump GC ends, the reader ends, events are seen lost, or they stop coming mid-dump.
    private bool WaitForDump(TimeSpan remaining)
    {
        var clock = Stopwatch.StartNew();
        while (!_signal.Wait(TimeSpan.FromMilliseconds(100)))
        {
            if (clock.Elapsed >= remaining) return false;
            var quiet = TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastEventAt));
            if (_builder.ObjectCount > 0 && quiet > Stall) return false;
        }
        return _builder.Complete && !_losing;
    }

    private void Read()
    {
        EventPipeEventSource? source = null;
        try
        {
            var events = source = new EventPipeEventSource(_session.EventStream);
            var clr = events.Clr;
            events.AllEvents += _ =>
            {
                Interlocked.Exchange(ref _lastEventAt, Environment.TickCount64);
                if (events.EventsLost == 0 || _losing) return;
                _losing = true;
                _signal.Set();
            };
            clr.GCStart += _builder.GcStarted;
            clr.GCStop += e =>
            {
                _builder.GcEnded(e);
                if (_builder.Complete) _signal.Set();
            };
            clr.TypeBulkType += _builder.AddTypes;
            clr.GCBulkNode += _builder.AddNodes;
            clr.GCBulkEdge += _builder.AddEdges;
            clr.GCBulkRootEdge += _builder.AddRoots;
            clr.GCBulkRootStaticVar += _builder.AddStatics;
            clr.GCBulkRootConditionalWeakTableElementEdge += _builder.AddWeakTableEntries;
            clr.GCBulkRootCCW += _builder.AddComWrappers;
            source.Process();
            _lost = source.EventsLost;
        }
        catch (Exception ex)
        {
            // Whatever the stream or its parser throws ends this snapshot, never the process (a thread's unhandled
            // exception would). The rest is still read: the session's stop waits for its last events to be read.
            _failure = ex;
            Drain(_session.EventStream);
        }
        finally
        {
            source?.Dispose();
            _signal.Set();
        }
    }

    /// <summary>
    /// Ends a session nobody reads (its start came too late): it is drained on a thread of its own while it stops,
    /// because the runtime's stop waits for the last events to be read, and a stop that waits holds up every later
    /// session of this process.
    /// </summary>
    private static void Abandon(EventPipeSession session)
    {
        var drain = new Thread(() => Drain(session.EventStream)) { IsBackground = true, Name = "LeakAssert heap snapshot drain" };
        drain.Start();
        var stop = Task.Run(session.Stop);
        try
        {
            if (stop.Wait(StopTimeout)) drain.Join(StopTimeout);
        }
        catch (AggregateException ex) when (ex.InnerException is IOException or ServerNotAvailableException or TimeoutException or ServerErrorException)
        {
            // Cleanup after a failure that is already reported; a second error would only hide the first.
        }
        session.Dispose();
    }

    private static void Drain(Stream stream)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (stream.Read(buffer, 0, buffer.Length) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The session has ended: there is nothing left to read.
        }
    }

    /// <summary>"250 ms", "30 s".</summary>
    public static string Duration(TimeSpan t) =>
        t < TimeSpan.FromSeconds(1) ? Numbers.Inv($"{t.TotalMilliseconds:0.###} ms") : Numbers.Inv($"{t.TotalSeconds:0.#} s");

    private static string Describe(Exception ex) => ex switch
    {
        ServerNotAvailableException => "the runtime's diagnostics server is not available (is DOTNET_EnableDiagnostics=0 set?)",
        AggregateException { InnerException: { } inner } => Describe(inner),
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };
}
