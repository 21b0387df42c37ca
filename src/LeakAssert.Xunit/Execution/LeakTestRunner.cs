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
        var context = LeakTestContext.For(TestClass.Name, TestMethod.Name, TestMethodArguments);
        using var scope = LeakTestContext.Enter(context);
        // xunit v2 has no per-test timeout; when the run itself is cancelled, the measurement gives up too.
        using var cancel = Runner.CancelWith(CancellationTokenSource.Token);
        LeakTestSettings.PrepareProcess();
        var settings = TestMethod.GetCustomAttribute<LeakTestAttribute>()!.Settings;
        if (!settings.BodyIsWorkload)
        {
            var time = await base.InvokeTestMethodAsync(aggregator);
            // A body that passed without measuring anything fails: it would pass whatever it leaks.
            if (!aggregator.HasExceptions && settings.NothingMeasured($"[LeakTest] on {Test.TestCase.TestMethod.TestClass.Class.Name}.{TestMethod.Name}", context) is { } nothing)
                aggregator.Add(new LeakTestFailedException(nothing));
            return time;
        }

        var timer = new ExecutionTimer();
        await timer.AggregateAsync(() => aggregator.RunAsync(async () =>
        {
            var instance = TestMethod.IsStatic ? null : Activator.CreateInstance(TestClass, ConstructorArguments);
            try
            {
                foreach (var attribute in BeforeAfterAttributes) attribute.Before(TestMethod);
                try
                {
                    var failure = await settings.RunBodyAsync(Workload.OfTestMethod(TestMethod, instance, TestMethodArguments ?? []), context);
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
}
