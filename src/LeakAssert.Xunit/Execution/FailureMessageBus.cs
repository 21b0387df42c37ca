using Xunit.Abstractions;
using Xunit.Sdk;

namespace LeakAssert.Xunit.Execution;

/// <summary>
/// Passes every message on, but trims a leak test's failure: the report is the message, and the stack frames of
/// LeakAssert and FluentAssertions say nothing a user can act on, so they are dropped (the user's own frames stay).
/// </summary>
internal sealed class FailureMessageBus(IMessageBus inner) : IMessageBus
{
    public bool QueueMessage(IMessageSinkMessage message) =>
        inner.QueueMessage(message is ITestFailed failed ? Trimmed(failed) : message);

    public void Dispose() => inner.Dispose();

    private static TestFailed Trimmed(ITestFailed failed)
    {
        var stacks = failed.StackTraces.Select((stack, i) =>
            failed.ExceptionTypes[i] == typeof(LeakTestFailedException).FullName ? null : WithoutLibraryFrames(stack)).ToArray();
        var types = failed.ExceptionTypes.Select(t => t == typeof(LeakTestFailedException).FullName ? "LeakAssert" : t).ToArray();
        return new TestFailed(failed.Test, failed.ExecutionTime, failed.Output, types, failed.Messages, stacks, failed.ExceptionParentIndices);
    }

    private static string? WithoutLibraryFrames(string? stack)
    {
        if (stack is null) return null;
        var kept = stack.Split('\n').Where(line => !IsLibraryFrame(line.TrimStart())).ToArray();
        return kept.Length == 0 ? null : string.Join('\n', kept);
    }

    private static bool IsLibraryFrame(string frame) =>
        frame.StartsWith("at FluentAssertions.", StringComparison.Ordinal)
        || frame.StartsWith("at LeakAssert.Assertions.", StringComparison.Ordinal)
        || frame.StartsWith("at LeakAssert.Xunit.Execution.", StringComparison.Ordinal)
        || frame.StartsWith("at System.Reflection.", StringComparison.Ordinal)
        || frame.StartsWith("--- End of stack trace", StringComparison.Ordinal);
}

/// <summary>A [LeakTest] whose body, run as the workload, broke a bound; the message is the LeakAssert report.</summary>
internal sealed class LeakTestFailedException(string message) : Exception(message)
{
    /// <inheritdoc />
    public override string? StackTrace => null;
}
