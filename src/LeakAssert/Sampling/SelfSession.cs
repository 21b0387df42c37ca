using LeakAssert.Text;
using Microsoft.Diagnostics.NETCore.Client;

namespace LeakAssert.Sampling;

/// <summary>
/// An EventPipe session this process opens on itself, and the dedicated thread that consumes its stream (not the
/// thread pool: an unread session makes the runtime's stop hang). The start and the stop each run on a task with a
/// timeout. The stream is read to its end whatever happens, a start that came too late and a consumer that threw
/// included, because a stop that waits for its last events to be read holds up every later session of this process.
/// Every failure is one sentence that names the session as <see cref="Names"/> does.
/// </summary>
internal sealed class SelfSession : IDisposable
{
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How the sentences name one kind of session. <paramref name="Label"/> is for the fault seams (<see cref="Faults"/>);
    /// <paramref name="Session"/> is "the EventPipe session", <paramref name="Stream"/> "the trace" (it "was not fully
    /// read"), <paramref name="Reading"/> "reading the EventPipe stream" (it "failed").
    /// </summary>
    public sealed record Names(string Label, string Session, string Stream, string Reading, string Thread);

    private readonly EventPipeSession _session;
    private readonly Names _names;
    private readonly Thread _consumer;
    private Exception? _failure;
    private string? _stopProblem;
    private bool _stopped;

    private SelfSession(EventPipeSession session, Names names, Action<Stream> consume)
    {
        _session = session;
        _names = names;
        _consumer = new Thread(() => Consume(consume)) { IsBackground = true, Name = names.Thread };
    }

    /// <summary>Whether the consumer is still reading (a stop that timed out may leave it so).</summary>
    public bool IsReading => _consumer.IsAlive;

    /// <summary>
    /// Starts the session and its consumer, or returns null with the one sentence saying why not. The consumer is given
    /// the session's stream and reads it to its end; what it throws becomes the stop's problem.
    /// </summary>
    public static SelfSession? TryStart(EventPipeSessionConfiguration config, Names names, TimeSpan timeout, Action<Stream> consume, out string? problem)
    {
        problem = null;
        if (timeout < TimeSpan.Zero) timeout = TimeSpan.Zero;
        var start = Task.Run(() =>
        {
            Faults.BeforeStart?.Invoke(names.Label);
            return new DiagnosticsClient(Environment.ProcessId).StartEventPipeSession(config);
        });
        try
        {
            if (!start.Wait(timeout))
            {
                problem = $"{names.Session} did not start within {Duration(timeout)}";
                _ = start.ContinueWith(t => { if (t.IsCompletedSuccessfully) Abandon(t.Result, names); }, TaskScheduler.Default);
                return null;
            }
        }
        catch (AggregateException ex)
        {
            problem = Describe(ex);
            return null;
        }
        var self = new SelfSession(start.Result, names, consume);
        try
        {
            self._consumer.Start();
        }
        catch (Exception ex) when (ex is OutOfMemoryException or ThreadStartException)
        {
            problem = Describe(ex);
            Abandon(self._session, names);
            return null;
        }
        return self;
    }

    /// <summary>
    /// Stops the session and waits for its consumer to read the rest; false with the one sentence saying what failed.
    /// A second call returns the first one's result. <paramref name="phases"/> times the stop and the drain.
    /// </summary>
    public bool TryStop(out string? problem, PassPhases? phases = null)
    {
        if (!_stopped)
        {
            _stopped = true;
            _stopProblem = Stop(phases);
        }
        problem = _stopProblem;
        return problem is null;
    }

    public void Dispose()
    {
        TryStop(out _);
        _session.Dispose();
    }

    private string? Stop(PassPhases? phases)
    {
        var stop = Task.Run(_session.Stop);
        try
        {
            if (!Timed(phases, "stop", () => stop.Wait(StopTimeout)))
                return $"{_names.Session} did not stop within {Duration(StopTimeout)}";
        }
        catch (AggregateException ex)
        {
            return $"stopping {_names.Session} failed: " + Describe(ex);
        }
        if (!Timed(phases, "drain", () => _consumer.Join(StopTimeout)))
            return $"{_names.Stream} was not fully read within {Duration(StopTimeout)} of stopping";
        return _failure is null ? null : $"{_names.Reading} failed: " + Describe(_failure);
    }

    private static bool Timed(PassPhases? phases, string name, Func<bool> work) => phases is null ? work() : phases.Measure(name, work);

    private void Consume(Action<Stream> consume)
    {
        var stream = _session.EventStream;
        try
        {
            consume(Faults.Stream?.Invoke(_names.Label, stream) ?? stream);
        }
        catch (Exception ex)
        {
            // Whatever the consumer throws ends this session's reading, never the process (a thread's unhandled
            // exception would). The rest is still read: the stop waits for it.
            _failure = ex;
            Drain(stream);
        }
    }

    /// <summary>Ends a session nobody consumes: drained on a thread of its own while it stops, for the stop to end.</summary>
    private static void Abandon(EventPipeSession session, Names names)
    {
        var drain = new Thread(() => Drain(session.EventStream)) { IsBackground = true, Name = names.Thread + " (drain)" };
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

    /// <summary>An exception as the end of a sentence, without a period of its own (the report adds one).</summary>
    public static string Describe(Exception ex) => ex switch
    {
        ServerNotAvailableException => "the runtime's diagnostics server is not available (is DOTNET_EnableDiagnostics=0 set?)",
        AggregateException { InnerException: { } inner } => Describe(inner),
        _ => $"{ex.GetType().Name}: {ex.Message.TrimEnd('.')}",
    };
}
