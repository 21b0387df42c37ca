using System.Reflection;
using LeakAssert.Artifacts;
using LeakAssert.Measurement;
using LeakAssert.Testing;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace LeakAssert.Xunit.Execution;

/// <summary>
/// Runs one leak test with its <see cref="LeakTestContext"/> current, so a failing assertion writes its artifacts.
/// With a bound on the attribute the body becomes the workload: one class instance, the body run many times by the
/// LeakAssert runner, the verdict decided here.
/// </summary>
internal sealed class LeakTestRunner(ITest test, IMessageBus messageBus, Type testClass, object[] constructorArguments, MethodInfo testMethod,
    object[] testMethodArguments, string skipReason, IReadOnlyList<BeforeAfterTestAttribute> beforeAfterAttributes, ExceptionAggregator aggregator,
    CancellationTokenSource cancellationTokenSource)
    : XunitTestRunner(test, messageBus, testClass, constructorArguments, testMethod, testMethodArguments, skipReason, beforeAfterAttributes, aggregator,
        cancellationTokenSource)
{
    protected override async Task<decimal> InvokeTestMethodAsync(ExceptionAggregator aggregator)
    {
        var context = new LeakTestContext(TestClass.Name, TestMethod.Name, Arguments());
        using var scope = LeakTestContext.Enter(context);
        LeakTestSettings.PrepareProcess();
        var settings = TestMethod.GetCustomAttribute<LeakTestAttribute>()!.Settings;
        if (!settings.BodyIsWorkload) return await base.InvokeTestMethodAsync(aggregator);

        var timer = new ExecutionTimer();
        await timer.AggregateAsync(() => aggregator.RunAsync(async () =>
        {
            var instance = TestMethod.IsStatic ? null : Activator.CreateInstance(TestClass, ConstructorArguments);
            try
            {
                foreach (var attribute in BeforeAfterAttributes) attribute.Before(TestMethod);
                try
                {
                    var failure = await settings.RunBodyAsync(Body(instance), context);
                    if (failure is not null) throw new LeakTestFailedException(failure);
                }
                finally
                {
                    foreach (var attribute in BeforeAfterAttributes.Reverse()) attribute.After(TestMethod);
                }
            }
            finally
            {
                if (instance is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync();
                else if (instance is IDisposable disposable) disposable.Dispose();
            }
        }));
        return timer.Total;
    }

    /// <summary>The body as a workload: a direct delegate when it takes no arguments, so its stacks start at the test method.</summary>
    private Workload Body(object? instance)
    {
        var method = TestMethod;
        var returns = method.ReturnType;
        var isAsync = returns == typeof(Task) || returns == typeof(ValueTask);
        if (returns != typeof(void) && !isAsync)
            throw new InvalidOperationException($"[LeakTest] on {TestClass.Name}.{method.Name}: a body that is the workload must return void, Task or ValueTask, but returns {returns.Name}.");
        if (TestMethodArguments is not { Length: > 0 })
        {
            if (returns == typeof(Task)) return Workload.Of(method.CreateDelegate<Func<Task>>(instance));
            if (returns == typeof(ValueTask)) return Workload.Of(method.CreateDelegate<Func<ValueTask>>(instance));
            return Workload.Of(method.CreateDelegate<Action>(instance));
        }
        var arguments = TestMethodArguments;
        return Workload.OfMethod(() => method.Invoke(instance, BindingFlags.DoNotWrapExceptions, null, arguments, null) switch
        {
            Task t => new ValueTask(t),
            ValueTask v => v,
            _ => default,
        }, isAsync, method);
    }

    private string? Arguments() =>
        TestMethodArguments is { Length: > 0 } args ? string.Join(",", args.Select(a => Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? "null")) : null;
}
