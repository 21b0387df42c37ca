using System.Diagnostics;
using System.Diagnostics.Tracing;
using LeakAssert.Sampling;
using LeakAssert.Text;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace LeakAssert.Snapshots;

/// <summary>
/// One heap dump of this process through an EventPipe session on itself, as dotnet-gcdump takes one: enabling the
/// runtime's heap-dump keywords makes it run an induced blocking gen2 GC that reports every live object, reference and
/// root. The session's reader (<see cref="SelfSession"/>) parses the stream as it comes; it is stopped once that GC has
/// ended. Only the providers, the buffer's size and what the events build are here.
/// </summary>
internal sealed class HeapDump
{
    private const long Keywords = (long)(
        ClrTraceEventParser.Keywords.GC
        | ClrTraceEventParser.Keywords.GCHeapCollect
        | ClrTraceEventParser.Keywords.GCHeapDump
        | ClrTraceEventParser.Keywords.GCHeapAndTypeNames
        | ClrTraceEventParser.Keywords.Type);

    private static readonly SelfSession.Names Names = new("heap dump", "the heap snapshot's EventPipe session", "the heap snapshot",
        "reading the heap snapshot", "LeakAssert heap snapshot reader");

    // Events stop coming mid-dump only when the session dropped the rest (its GC's end among them): waiting longer
    // would only wait out the timeout before the stop tells how many were lost.
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(2);

    private readonly GraphBuilder _builder = new();
    private readonly ManualResetEventSlim _signal = new();
    private long _lost;
    private long _lastEventAt = Environment.TickCount64;
    private volatile bool _losing;

    private HeapDump()
    {
    }

    /// <summary>Takes the dump and builds its graph, or returns null with the one reason it could not.</summary>
    /// <param name="timeout">How long the dump may take, from the session's start to the end of its GC.</param>
    /// <param name="problem">Why there is no graph; null when there is one.</param>
    /// <param name="bufferMB">The session's buffer; sized to the heap when null (a test makes it too small).</param>
    public static HeapGraph? TryTake(TimeSpan timeout, out string? problem, int? bufferMB = null)
    {
        var clock = Stopwatch.StartNew();
        var providers = new[] { new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, Keywords) };
        // The runtime writes the whole dump during the GC, while this process's reader is suspended: the session's
        // buffer must hold it all. About 1.5 bytes of events a byte of heap; 64 MB was complete for 522k objects.
        var heapMB = GC.GetTotalMemory(forceFullCollection: false) >> 20;
        bufferMB ??= Faults.HeapDumpBufferMB ?? (int)Math.Clamp(64 + 2 * heapMB, 64, 4096);
        var config = new EventPipeSessionConfiguration(providers, bufferMB.Value, requestRundown: false, requestStackwalk: false);
        var dump = new HeapDump();
        // The induced GC runs inside the start command, so the start's time is part of the dump's.
        var session = SelfSession.TryStart(config, Names, timeout, dump.Read, out problem);
        if (session is null) return null;
        try
        {
            return dump.Finish(session, timeout - clock.Elapsed, timeout, out problem);
        }
        finally
        {
            session.Dispose();
            // A reader that did not end may still set the signal; only an ended one lets it go.
            if (!session.IsReading) dump._signal.Dispose();
        }
    }

    private HeapGraph? Finish(SelfSession session, TimeSpan remaining, TimeSpan timeout, out string? problem)
    {
        var completed = WaitForDump(remaining);
        // The builder is only read once the reader has ended, which a stop without a problem waits for.
        if (!session.TryStop(out problem)) return null;
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

    private void Read(Stream stream)
    {
        try
        {
            var events = new EventPipeEventSource(stream);
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
            events.Process();
            _lost = events.EventsLost;
            // Disposed only once the stream has ended: after a throw, the session still drains that stream.
            events.Dispose();
        }
        finally
        {
            _signal.Set();
        }
    }

    /// <summary>"250 ms", "30 s".</summary>
    public static string Duration(TimeSpan t) => SelfSession.Duration(t);
}
