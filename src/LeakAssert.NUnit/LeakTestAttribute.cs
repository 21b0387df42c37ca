using LeakAssert.NUnit.Execution;
using NUnit.Framework;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;
using NUnit.Framework.Internal.Commands;

namespace LeakAssert.NUnit;

/// <summary>
/// A leak test. It is non-parallelizable: NUnit runs it in its own work shift, when no parallel test is executing,
/// so nothing else can grow the heap it measures. Two forms:
/// <list type="bullet">
/// <item><c>[LeakTest]</c>: the body calls <see cref="Leak.Profile(Action, int, LeakOptions?)"/> and asserts with
/// <c>Should().NotRetainMoreThan(...)</c>; a body that measures nothing fails, saying so.</item>
/// <item><c>[LeakTest(Iterations = 2_000, MaxRetainedBytes = 64 * 1024)]</c>: the body itself is the workload, run
/// many times on the fixture instance NUnit created (one per fixture, as NUnit always does); [SetUp] runs once around
/// all iterations.</item>
/// </list>
/// With <c>[TestCase]</c> or <c>[TestCaseSource]</c> each row is its own leak test.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed partial class LeakTestAttribute : NUnitAttribute, ISimpleTestBuilder, IApplyToTest, IApplyToContext, IWrapTestMethod, IImplyFixture
{
    private static readonly NonParallelizableAttribute alone = new();

    /// <inheritdoc />
    public TestMethod BuildFrom(IMethodInfo method, Test? suite) => new TestAttribute().BuildFrom(method, suite);

    /// <summary>Marks the test non-parallelizable, and not runnable with a one-sentence reason when an argument is bad.</summary>
    public void ApplyToTest(Test test)
    {
        alone.ApplyToTest(test);
        var name = NameOf(test);
        // Ours before NUnit's own reason: NUnit refuses an async void method too, in words of its own.
        var problem = Settings.Problem(name) ?? (test.Method is { } m ? Settings.BodyProblem(name, m.MethodInfo) : null);
        if (problem is null) return;
        test.RunState = RunState.NotRunnable;
        test.Properties.Set(PropertyNames.SkipReason, problem);
    }

    /// <summary>"[LeakTest] on Class.Method", as every one-sentence failure of a leak test begins.</summary>
    internal static string NameOf(ITest test) => $"[LeakTest] on {test.TypeInfo?.Name ?? test.ClassName}.{test.MethodName}";

    /// <inheritdoc />
    public void ApplyToContext(TestExecutionContext context) => alone.ApplyToContext(context);

    /// <inheritdoc />
    public TestCommand Wrap(TestCommand command) => new LeakTestCommand(command, Settings);
}
