using Xunit;
using Xunit.Sdk;

namespace LeakAssert.Xunit;

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
/// Data rows (<c>[InlineData]</c>, <c>[MemberData]</c>, <c>[ClassData]</c>) make one leak test per row.
/// </summary>
[XunitTestCaseDiscoverer("LeakAssert.Xunit.Execution.LeakTestDiscoverer", "LeakAssert.Xunit")]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed partial class LeakTestAttribute : FactAttribute
{
}
