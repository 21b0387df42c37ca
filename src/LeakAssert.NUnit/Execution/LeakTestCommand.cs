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
        var leakTest = LeakTestContext.For(test.TypeInfo?.Name ?? test.ClassName ?? "Test", test.MethodName ?? test.Name, test.Arguments);
        // NUnit's [CancelAfter] cancels this token: every measurement of the test honours it.
        using (Runner.CancelWith(context.CancellationToken))
        using (LeakTestContext.Enter(leakTest))
        {
            LeakTestSettings.PrepareProcess();
            if (settings.BodyIsWorkload) RunBody(context, leakTest);
            else RunInner(context, leakTest);
        }
        var result = context.CurrentResult;
        foreach (var file in leakTest.Written)
            TestContext.AddTestAttachment(file.Path, "LeakAssert " + file.Kind.Description);
        if (result.ResultState.Status == TestStatus.Failed && result.StackTrace is { } stack)
            result.SetResult(result.ResultState, result.Message, StackFrames.WithoutLibraryFrames(stack));
        return result;
    }

    // NUnit records a test's exception further out; it is recorded here so the result can be completed below. A body
    // that passed without measuring anything fails: it would pass whatever it leaks.
    private void RunInner(TestExecutionContext context, LeakTestContext leakTest)
    {
        try
        {
            context.CurrentResult = innerCommand.Execute(context);
        }
        catch (Exception e)
        {
            context.CurrentResult.RecordException(e);
        }
        var test = context.CurrentTest;
        if (context.CurrentResult.ResultState.Status == TestStatus.Passed
            && settings.NothingMeasured(LeakTestAttribute.NameOf(test), leakTest) is { } nothing)
            context.CurrentResult.SetResult(ResultState.Failure, nothing, null);
    }

    private void RunBody(TestExecutionContext context, LeakTestContext leakTest)
    {
        var method = context.CurrentTest.Method!.MethodInfo;
        var instance = method.IsStatic ? null : context.TestObject;
        var arguments = context.CurrentTest.Arguments;
        try
        {
            var failure = settings.RunBodyAsync(Workload.OfTestMethod(method, instance, arguments), leakTest).GetAwaiter().GetResult();
            if (failure is null) context.CurrentResult.SetResult(ResultState.Success);
            else context.CurrentResult.SetResult(ResultState.Failure, failure, null);
        }
        catch (Exception e)
        {
            // The body threw: the test fails with that exception, as NUnit reports any test's exception.
            context.CurrentResult.RecordException(e);
        }
    }
}
