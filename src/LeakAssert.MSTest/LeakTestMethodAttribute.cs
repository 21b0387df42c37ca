using System.Runtime.CompilerServices;
using LeakAssert.MSTest.Execution;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LeakAssert.MSTest;

/// <summary>
/// A leak test. MSTest cannot be told from here to run it alone, so it refuses to measure beside parallel tests: in
/// an assembly with <c>[Parallelize]</c> it fails, saying what to add, unless the method or its class has
/// <c>[DoNotParallelize]</c> (MSTest then runs it after the parallel tests, one at a time) or the assembly's
/// <c>Workers</c> is 1. Two forms:
/// <list type="bullet">
/// <item><c>[LeakTestMethod]</c>: the body calls <see cref="Leak.Profile(Action, int, LeakOptions?)"/> and asserts with
/// <c>Should().NotRetainMoreThan(...)</c>; a body that measures nothing fails, saying so.</item>
/// <item><c>[LeakTestMethod(Iterations = 2_000, MaxRetainedBytes = 64 * 1024)]</c>: the body itself is the workload,
/// run many times on one instance of the class made with its parameterless constructor; [TestInitialize] and
/// [TestCleanup] do not run around it.</item>
/// </list>
/// Each <c>[DataRow]</c> is its own leak test. <c>[Timeout]</c> and the test's cancellation stop the measurement.
/// Artifacts are the result's files (the TRX's result files) and are named in the failure message.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed partial class LeakTestMethodAttribute([CallerFilePath] string callerFilePath = "", [CallerLineNumber] int callerLineNumber = -1)
    : TestMethodAttribute(callerFilePath, callerLineNumber)
{
    /// <inheritdoc />
    public override Task<TestResult[]> ExecuteAsync(ITestMethod testMethod) => LeakTestExecution.RunAsync(testMethod, Settings);
}
