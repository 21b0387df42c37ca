using System.ComponentModel;
using Xunit.Sdk;
using Xunit.v3;

namespace LeakAssert.XunitV3.Execution;

/// <summary>One [LeakTest] (or one data row of it), run by <see cref="LeakTestRunner"/>.</summary>
internal sealed class LeakTestCase : XunitTestCase, ISelfExecutingXunitTestCase
{
    /// <summary>For deserialization only.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public LeakTestCase() { }

    internal LeakTestCase(IXunitTestMethod testMethod, string displayName, string uniqueID, bool @explicit, Type[]? skipExceptions, string? skipReason,
        Type? skipType, string? skipUnless, string? skipWhen, Dictionary<string, HashSet<string>> traits, object?[]? arguments, string? sourceFilePath,
        int? sourceLineNumber, int timeout)
        : base(testMethod, displayName, uniqueID, @explicit, testLabel: null, disableParallelization: true, skipExceptions, skipReason, skipType,
            skipUnless, skipWhen, traits, arguments, sourceFilePath, sourceLineNumber, timeout) { }

    /// <inheritdoc />
    public async ValueTask<RunSummary> Run(ExplicitOption explicitOption, IMessageBus messageBus, object?[] constructorArguments,
        ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource, ParallelMode parallelMode, ExecutionScheduler scheduler,
        FixtureMappingManager methodFixtureMappings)
    {
        var tests = await aggregator.RunAsync(CreateTests, []);
        if (aggregator.ToException() is { } exception)
            return XunitRunnerHelper.FailTestCases(messageBus, cancellationTokenSource, [this], exception, sendTestCaseMessages: false);
        return await LeakTestCaseRunner.Instance.Run(this, tests, new FailureMessageBus(messageBus), aggregator, cancellationTokenSource, parallelMode,
            scheduler, TestCaseDisplayName, SkipReason, explicitOption, constructorArguments, methodFixtureMappings);
    }

    private sealed class LeakTestCaseRunner : XunitTestCaseRunner
    {
        public static new LeakTestCaseRunner Instance { get; } = new();

        protected override ValueTask<RunSummary> RunTest(XunitTestCaseRunnerContext ctxt, IXunitTest test) =>
            LeakTestRunner.Instance.Run(test, ctxt.MessageBus, ctxt.ConstructorArguments, ctxt.ExplicitOption, ctxt.Aggregator.Clone(),
                ctxt.CancellationTokenSource, ctxt.ParallelMode, ctxt.Scheduler, ctxt.BeforeAfterTestAttributes, ctxt.CaseFixtureMappings);
    }
}
