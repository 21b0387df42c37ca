using System.Reflection;

namespace LeakAssert.Measurement;

/// <summary>
/// A sync or async workload behind one shape: run iterations [first, first + count). A sync workload's iterations
/// run in one flowing execution context, as a plain loop runs them: what an iteration puts in an AsyncLocal is still
/// there for the next one, across segments, checkpoints and the repeat pass (the runner's own async methods would
/// otherwise restore the context after every segment and drop, say, a scope chain that is pushed and never popped).
/// An async workload's iterations are awaited one after another, each with its own copy, as in production.
/// </summary>
internal sealed class Workload
{
    private readonly Action? _sync;
    private readonly Func<ValueTask>? _async;
    private ExecutionContext? _flow;

    private Workload(Action? sync, Func<ValueTask>? async, MethodInfo method)
    {
        _sync = sync;
        _async = async;
        Module = method.Module.Name is var name && name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? name[..^4] : method.Module.Name;
    }

    public bool IsAsync => _async is not null;

    /// <summary>The workload's own module: continuations of an async workload are recognised by its frames.</summary>
    public string Module { get; }

    /// <summary>Which iteration is running; read by the run's guard to say where a hung workload was.</summary>
    public Progress Progress { get; } = new();

    /// <summary>Stops waiting for an async iteration (it may still run on); set by the runner for its guard.</summary>
    public CancellationToken Cancellation { get; set; }

    public ValueTask Run(int first, int count, string phase)
    {
        Progress.Phase = phase;
        if (_async is not null) return RunAsync(first, count, phase);
        if (_flow is not null) ExecutionContext.Restore(_flow);
        try
        {
            WorkloadLoop.RunSync(_sync!, first, count, phase, Progress);
        }
        finally
        {
            // Capture returns the current (immutable) context: no allocation inside the measured window.
            _flow = ExecutionContext.Capture();
        }
        // A workload that came back after its run was given up on must not go on to measure anything.
        Cancellation.ThrowIfCancellationRequested();
        return default;
    }

    private async ValueTask RunAsync(int first, int count, string phase)
    {
        await WorkloadLoop.RunAsync(_async!, first, count, phase, Progress, Cancellation).ConfigureAwait(false);
        Cancellation.ThrowIfCancellationRequested();
    }

    public static Workload Of(Action action) => new(action, null, action.Method);

    public static Workload Of(Func<ValueTask> action) => new(null, action, action.Method);

    public static Workload Of(Func<Task> action) => new(null, () => new ValueTask(action()), action.Method);

    /// <summary>
    /// A test method's body as the workload: a direct delegate when it takes no arguments, so its stacks start at
    /// the test method; through reflection for a data row (the trace reader drops that glue from stacks).
    /// </summary>
    public static Workload OfTestMethod(MethodInfo method, object? instance, object?[] arguments)
    {
        var returns = method.ReturnType;
        if (arguments.Length == 0)
        {
            if (returns == typeof(Task)) return Of(method.CreateDelegate<Func<Task>>(instance));
            if (returns == typeof(ValueTask)) return Of(method.CreateDelegate<Func<ValueTask>>(instance));
            return Of(method.CreateDelegate<Action>(instance));
        }
        ValueTask Body() => method.Invoke(instance, BindingFlags.DoNotWrapExceptions, null, arguments, null) switch
        {
            Task t => new ValueTask(t),
            ValueTask v => v,
            _ => default,
        };
        return returns == typeof(void) ? new(() => Body(), null, method) : new(null, Body, method);
    }
}

/// <summary>The phase and iteration a workload is in, written by its loop, read by another thread.</summary>
internal sealed class Progress
{
    private volatile string _phase = "warmup";
    private volatile int _iteration;

    public string Phase { get => _phase; set => _phase = value; }

    /// <summary>The 1-based iteration running now (or last run).</summary>
    public int Iteration { get => _iteration; set => _iteration = value; }
}
