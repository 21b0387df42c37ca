using System.ComponentModel;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace LeakAssert.Xunit.Execution;

/// <summary>One [LeakTest] (or one data row of it), run by <see cref="LeakTestRunner"/>.</summary>
internal sealed class LeakTestCase : XunitTestCase
{
    /// <summary>For deserialization only.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public LeakTestCase() { }

    internal LeakTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions displayOptions, ITestMethod method, object[]? arguments = null)
        : base(sink, display, displayOptions, method, arguments) { }

    /// <inheritdoc />
    public override Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments,
        ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource) =>
        new LeakTestCaseRunner(this, DisplayName, SkipReason, constructorArguments, TestMethodArguments, new FailureMessageBus(messageBus),
            aggregator, cancellationTokenSource).RunAsync();

    private sealed class LeakTestCaseRunner(IXunitTestCase testCase, string displayName, string skipReason, object[] constructorArguments,
        object[] testMethodArguments, IMessageBus messageBus, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
        : XunitTestCaseRunner(testCase, displayName, skipReason, constructorArguments, testMethodArguments, messageBus, aggregator, cancellationTokenSource)
    {
        protected override Task<RunSummary> RunTestAsync() =>
            new LeakTestRunner(new XunitTest(TestCase, DisplayName), MessageBus, TestClass, ConstructorArguments, TestMethod, TestMethodArguments,
                SkipReason, BeforeAfterAttributes, new ExceptionAggregator(Aggregator), CancellationTokenSource).RunAsync();
    }
}
