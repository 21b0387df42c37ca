using System.Reflection;
using LeakAssert.Artifacts;
using LeakAssert.Measurement;
using LeakAssert.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LeakAssert.MSTest.Execution;

/// <summary>
/// MSTest's hook: one [LeakTestMethod] (or one data row of it) run through <see cref="LeakTestRun"/>, after the check
/// that MSTest will not run another test beside it, with the outcome turned into MSTest's result and the artifacts
/// added to the result's files.
/// </summary>
internal static class LeakTestExecution
{
    // TestContext.Current exists from MSTest 4.1 on (not in 4.0.2, the oldest this adapter builds against).
    private static readonly PropertyInfo? CurrentContext = typeof(TestContext).GetProperty("Current", BindingFlags.Public | BindingFlags.Static);

    public static async Task<TestResult[]> RunAsync(ITestMethod testMethod, LeakTestSettings settings)
    {
        var method = testMethod.MethodInfo;
        var type = method.ReflectedType ?? method.DeclaringType!;
        var name = LeakTestRun.NameOf("LeakTestMethod", type.Name, method.Name);
        if (Parallelism.Problem(name, method, type) is { } parallel) return [Failed(parallel, null)];

        var arguments = testMethod.Arguments ?? [];
        var host = new Host();
        var run = new LeakTestRun(settings, name, method, LeakTestContext.For(type.Name, method.Name, arguments), host);
        var context = CurrentContext?.GetValue(null) as TestContext;
        using var timeout = Timeout(testMethod, context);
        TestResult? framework = null;
        string? failure;
        try
        {
            failure = await run.RunAsync(
                () => Workload.OfTestMethod(method, method.IsStatic ? null : Activator.CreateInstance(type), arguments),
                async () =>
                {
                    framework = await testMethod.InvokeAsync(null).ConfigureAwait(false);
                    return framework.Outcome == UnitTestOutcome.Passed;
                },
                timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The body, run as the workload, threw: the test fails with that exception, as MSTest reports any test's.
            return [host.Complete(Failed(null, e))];
        }
        if (failure is not null) return [host.Complete(Failed(failure, null, framework))];
        return [host.Complete(framework ?? new TestResult { Outcome = UnitTestOutcome.Passed })];
    }

    // MSTest's [Timeout] and the test's own token (cancelled by MSTest's timeout and by a cancelled run) both stop
    // the measurement.
    private static CancellationTokenSource Timeout(ITestMethod testMethod, TestContext? context)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(context?.CancellationToken ?? CancellationToken.None);
        if (testMethod.GetAttributes<TimeoutAttribute>().FirstOrDefault() is { Timeout: > 0 } t) source.CancelAfter(t.Timeout);
        return source;
    }

    private static TestResult Failed(string? message, Exception? thrown, TestResult? framework = null)
    {
        var result = framework ?? new TestResult();
        result.Outcome = UnitTestOutcome.Failed;
        result.TestFailureException = thrown ?? new LeakTestFailedException(message!);
        return result;
    }

    /// <summary>Keeps what the run hands over, then adds it to the result MSTest reports: files as its result files, lines to its output.</summary>
    private sealed class Host : ILeakTestHost
    {
        private readonly List<string> _files = [];
        private readonly List<string> _lines = [];

        public void Attach(ArtifactFile file) => _files.Add(Path.GetFullPath(file.Path));

        public void WriteLine(string line) => _lines.Add(line);

        public TestResult Complete(TestResult result)
        {
            if (_files.Count > 0) result.ResultFiles = [.. result.ResultFiles ?? [], .. _files];
            if (_lines.Count > 0) result.LogOutput += string.Concat(_lines.Select(l => l + Environment.NewLine));
            return result;
        }
    }
}

/// <summary>A [LeakTestMethod] that broke a bound or could not run; the message is LeakAssert's.</summary>
internal sealed class LeakTestFailedException(string message) : Exception(message)
{
    /// <inheritdoc />
    public override string? StackTrace => null;
}
