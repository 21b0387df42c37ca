using System.Reflection;

namespace LeakAssert.Measurement;

/// <summary>A sync or async workload behind one shape: run iterations [first, first + count).</summary>
internal sealed class Workload
{
    private readonly Func<int, int, string, ValueTask> _run;

    private Workload(Func<int, int, string, ValueTask> run, bool isAsync, MethodInfo method)
    {
        _run = run;
        IsAsync = isAsync;
        Module = method.Module.Name is var name && name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? name[..^4] : method.Module.Name;
    }

    public bool IsAsync { get; }

    /// <summary>The workload's own module: continuations of an async workload are recognised by its frames.</summary>
    public string Module { get; }

    public ValueTask Run(int first, int count, string phase) => _run(first, count, phase);

    public static Workload Of(Action action) =>
        new((first, count, phase) => { WorkloadLoop.RunSync(action, first, count, phase); return default; }, false, action.Method);

    public static Workload Of(Func<ValueTask> action) =>
        new((first, count, phase) => WorkloadLoop.RunAsync(action, first, count, phase), true, action.Method);

    /// <summary>A test method's body as the workload; <paramref name="method"/> names its module for async stacks.</summary>
    public static Workload OfMethod(Func<ValueTask> body, bool isAsync, MethodInfo method) =>
        isAsync
            ? new((first, count, phase) => WorkloadLoop.RunAsync(body, first, count, phase), true, method)
            : new((first, count, phase) => { WorkloadLoop.RunSync(() => body(), first, count, phase); return default; }, false, method);

    public static Workload Of(Func<Task> action) =>
        new((first, count, phase) => WorkloadLoop.RunAsync(() => new ValueTask(action()), first, count, phase), true, action.Method);
}
