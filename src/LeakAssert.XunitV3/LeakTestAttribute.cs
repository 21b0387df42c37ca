using System.Runtime.CompilerServices;
using LeakAssert.XunitV3.Execution;
using Xunit;
using Xunit.v3;

namespace LeakAssert.XunitV3;

/// <summary>
/// A leak test. It runs alone: after every parallel test of the assembly has finished, with no other test executing
/// in the process, so nothing else can grow the heap it measures. Two forms:
/// <list type="bullet">
/// <item><c>[LeakTest]</c>: the body calls <see cref="Leak.Profile(Action, int, LeakOptions?)"/> and asserts with
/// <c>Should().NotRetainMoreThan(...)</c>; a body that measures nothing fails, saying so.</item>
/// <item><c>[LeakTest(Iterations = 2_000, MaxRetainedBytes = 64 * 1024)]</c>: the body itself is the workload. One
/// instance of the test class serves every iteration, as a long-lived service would: the constructor runs once, before
/// the warmup, and what the body keeps in the instance's fields counts as retained.</item>
/// </list>
/// Data rows (<c>[InlineData]</c>, <c>[MemberData]</c>, <c>[ClassData]</c>) make one leak test per row. xunit's
/// <c>Timeout</c> and a cancelled run stop the measurement (<c>TestContext.Current.CancellationToken</c>).
/// </summary>
[XunitTestCaseDiscoverer(typeof(LeakTestDiscoverer))]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed partial class LeakTestAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
    : FactAttribute(sourceFilePath, sourceLineNumber)
{
}
