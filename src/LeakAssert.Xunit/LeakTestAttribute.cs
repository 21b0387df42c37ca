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
public sealed class LeakTestAttribute : FactAttribute
{
    private int? _iterations, _warmup;
    private long? _maxRetainedBytes, _maxRetainedBytesPerIteration;
    private double? _timeBudgetSeconds;

    /// <summary>Measured iterations of the body; when not set, as many as fit in <see cref="TimeBudgetSeconds"/>.</summary>
    public int Iterations { get => _iterations ?? 0; set => _iterations = value; }

    /// <summary>Unmeasured iterations run first; default a tenth of the iterations (1 to 1,000).</summary>
    public int Warmup { get => _warmup ?? 0; set => _warmup = value; }

    /// <summary>Fails when the body's iterations retain more than this many bytes in all. Makes the body the workload.</summary>
    public long MaxRetainedBytes { get => _maxRetainedBytes ?? 0; set => _maxRetainedBytes = value; }

    /// <summary>
    /// Fails when each iteration retains more than this many bytes and growth is still rising (a cache that fills and
    /// stops passes). Makes the body the workload.
    /// </summary>
    public long MaxRetainedBytesPerIteration { get => _maxRetainedBytesPerIteration ?? 0; set => _maxRetainedBytesPerIteration = value; }

    /// <summary>Seconds of measured iterations when <see cref="Iterations"/> is not set; default 2.</summary>
    public double TimeBudgetSeconds { get => _timeBudgetSeconds ?? Testing.LeakTestSettings.DefaultTimeBudgetSeconds; set => _timeBudgetSeconds = value; }

    internal Testing.LeakTestSettings Settings => new(_iterations, _warmup, _maxRetainedBytes, _maxRetainedBytesPerIteration, _timeBudgetSeconds);
}
