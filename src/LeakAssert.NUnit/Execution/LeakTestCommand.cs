using System.Globalization;
using System.Reflection;
using LeakAssert.Artifacts;
using LeakAssert.Measurement;
using LeakAssert.Testing;
using NUnit.Framework;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;
using NUnit.Framework.Internal.Commands;

namespace LeakAssert.NUnit.Execution;

/// <summary>
/// Runs a [LeakTest] with its <see cref="LeakTestContext"/> current, so a failing assertion writes its artifacts, and
/// attaches those files to the result. With a bound on the attribute the body becomes the workload, run many times on
/// the fixture instance, and the verdict is decided here.
/// </summary>
internal sealed class LeakTestCommand(TestCommand inner, LeakTestSettings settings) : DelegatingTestCommand(inner)
{
    public override TestResult Execute(TestExecutionContext context)
    {
        var test = context.CurrentTest;
        var leakTest = new LeakTestContext(test.TypeInfo?.Name ?? test.ClassName ?? "Test", test.MethodName ?? test.Name, Arguments(test));
        using (LeakTestContext.Enter(leakTest))
        {
            LeakTestSettings.PrepareProcess();
            if (settings.BodyIsWorkload) RunBody(context, leakTest);
            else RunInner(context);
        }
        var result = context.CurrentResult;
        foreach (var file in leakTest.WrittenFiles)
            TestContext.AddTestAttachment(file, "LeakAssert " + Kind(file));
        if (result.ResultState.Status == TestStatus.Failed && result.StackTrace is { } stack)
            result.SetResult(result.ResultState, result.Message, WithoutLibraryFrames(stack));
        return result;
    }

    // NUnit records a test's exception further out; it is recorded here so the result can be completed below.
    private void RunInner(TestExecutionContext context)
    {
        try
        {
            context.CurrentResult = innerCommand.Execute(context);
        }
        catch (Exception e)
        {
            context.CurrentResult.RecordException(e);
        }
    }

    private void RunBody(TestExecutionContext context, LeakTestContext leakTest)
    {
        var method = context.CurrentTest.Method!.MethodInfo;
        var instance = method.IsStatic ? null : context.TestObject;
        var arguments = context.CurrentTest.Arguments;
        try
        {
            var failure = settings.RunBodyAsync(Body(method, instance, arguments), leakTest).GetAwaiter().GetResult();
            if (failure is null) context.CurrentResult.SetResult(ResultState.Success);
            else context.CurrentResult.SetResult(ResultState.Failure, failure, null);
        }
        catch (Exception e)
        {
            // The body threw: the test fails with that exception, as NUnit reports any test's exception.
            context.CurrentResult.RecordException(e);
        }
    }

    internal static bool ReturnsVoidOrTask(MethodInfo method) =>
        method.ReturnType == typeof(void) || method.ReturnType == typeof(Task) || method.ReturnType == typeof(ValueTask);

    /// <summary>The body as a workload: a direct delegate when it takes no arguments, so its stacks start at the test method.</summary>
    private static Workload Body(MethodInfo method, object? instance, object?[] arguments)
    {
        if (arguments.Length == 0)
        {
            if (method.ReturnType == typeof(Task)) return Workload.Of(method.CreateDelegate<Func<Task>>(instance));
            if (method.ReturnType == typeof(ValueTask)) return Workload.Of(method.CreateDelegate<Func<ValueTask>>(instance));
            return Workload.Of(method.CreateDelegate<Action>(instance));
        }
        var isAsync = method.ReturnType != typeof(void);
        return Workload.OfMethod(() => method.Invoke(instance, BindingFlags.DoNotWrapExceptions, null, arguments, null) switch
        {
            Task t => new ValueTask(t),
            ValueTask v => v,
            _ => default,
        }, isAsync, method);
    }

    private static string? Arguments(Test test) =>
        test.Arguments is { Length: > 0 } args ? string.Join(",", args.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture) ?? "null")) : null;

    private static string Kind(string file) => Path.GetFileName(file) switch
    {
        var f when f.EndsWith(".report.txt", StringComparison.Ordinal) => "report",
        var f when f.EndsWith(".report.html", StringComparison.Ordinal) => "HTML report",
        var f when f.EndsWith(".pb.gz", StringComparison.Ordinal) => "pprof profile",
        _ => "artifact",
    };

    // The report is the message; frames of LeakAssert and FluentAssertions say nothing a user can act on.
    private static string? WithoutLibraryFrames(string stack)
    {
        var kept = stack.Split('\n').Where(line => !IsLibraryFrame(line.TrimStart())).ToArray();
        return kept.Length == 0 ? null : string.Join('\n', kept);
    }

    private static bool IsLibraryFrame(string frame) =>
        frame.StartsWith("at FluentAssertions.", StringComparison.Ordinal)
        || frame.StartsWith("at LeakAssert.Assertions.", StringComparison.Ordinal)
        || frame.StartsWith("at LeakAssert.NUnit.Execution.", StringComparison.Ordinal)
        || frame.StartsWith("at System.Reflection.", StringComparison.Ordinal)
        || frame.StartsWith("--- End of stack trace", StringComparison.Ordinal);
}
