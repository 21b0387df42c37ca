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
        return returns == typeof(void)
            ? new((first, count, phase) => { WorkloadLoop.RunSync(() => Body(), first, count, phase); return default; }, false, method)
            : new((first, count, phase) => WorkloadLoop.RunAsync(Body, first, count, phase), true, method);
    }

    public static Workload Of(Func<Task> action) =>
        new((first, count, phase) => WorkloadLoop.RunAsync(() => new ValueTask(action()), first, count, phase), true, action.Method);
}
