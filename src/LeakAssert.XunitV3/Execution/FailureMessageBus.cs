using LeakAssert.Testing;
using Xunit.Sdk;
using Xunit.v3;

namespace LeakAssert.XunitV3.Execution;

/// <summary>
/// Passes every message on, but trims a leak test's failure: the report is the message, so library stack frames
/// are dropped (<see cref="StackFrames"/>) and the user's own stay.
/// </summary>
internal sealed class FailureMessageBus(IMessageBus inner) : IMessageBus
{
    public bool QueueMessage(IMessageSinkMessage message) =>
        inner.QueueMessage(message is ITestFailed failed ? Trimmed(failed) : message);

    public void Dispose() => inner.Dispose();

    private static TestFailed Trimmed(ITestFailed failed) => new()
    {
        AssemblyUniqueID = failed.AssemblyUniqueID,
        TestCollectionUniqueID = failed.TestCollectionUniqueID,
        TestClassUniqueID = failed.TestClassUniqueID,
        TestMethodUniqueID = failed.TestMethodUniqueID,
        TestCaseUniqueID = failed.TestCaseUniqueID,
        TestUniqueID = failed.TestUniqueID,
        ExecutionTime = failed.ExecutionTime,
        FinishTime = failed.FinishTime,
        Output = failed.Output,
        Warnings = failed.Warnings,
        Cause = failed.Cause,
        ExceptionParentIndices = failed.ExceptionParentIndices,
        Messages = failed.Messages,
        ExceptionTypes = [.. failed.ExceptionTypes.Select(t => t == typeof(LeakTestFailedException).FullName ? "LeakAssert" : t)],
        StackTraces = [.. failed.StackTraces.Select((stack, i) =>
            failed.ExceptionTypes[i] == typeof(LeakTestFailedException).FullName ? null : StackFrames.WithoutLibraryFrames(stack))],
    };
}

/// <summary>A [LeakTest] whose body, run as the workload, broke a bound; the message is the LeakAssert report.</summary>
internal sealed class LeakTestFailedException(string message) : Exception(message)
{
    /// <inheritdoc />
    public override string? StackTrace => null;
}
