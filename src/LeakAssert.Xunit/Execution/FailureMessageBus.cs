using LeakAssert.Testing;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace LeakAssert.Xunit.Execution;

/// <summary>
/// Passes every message on, but trims a leak test's failure: the report is the message, so library stack frames
/// are dropped (<see cref="StackFrames"/>) and the user's own stay.
/// </summary>
internal sealed class FailureMessageBus(IMessageBus inner) : IMessageBus
{
    public bool QueueMessage(IMessageSinkMessage message) =>
        inner.QueueMessage(message is ITestFailed failed ? Trimmed(failed) : message);

    public void Dispose() => inner.Dispose();

    private static TestFailed Trimmed(ITestFailed failed)
    {
        var stacks = failed.StackTraces.Select((stack, i) =>
            failed.ExceptionTypes[i] == typeof(LeakTestFailedException).FullName ? null : StackFrames.WithoutLibraryFrames(stack)).ToArray();
        var types = failed.ExceptionTypes.Select(t => t == typeof(LeakTestFailedException).FullName ? "LeakAssert" : t).ToArray();
        return new TestFailed(failed.Test, failed.ExecutionTime, failed.Output, types, failed.Messages, stacks, failed.ExceptionParentIndices);
    }
}

/// <summary>A [LeakTest] whose body, run as the workload, broke a bound; the message is the LeakAssert report.</summary>
internal sealed class LeakTestFailedException(string message) : Exception(message)
{
    /// <inheritdoc />
    public override string? StackTrace => null;
}
