// The properties of every adapter's leak-test attribute, in one place: each adapter compiles this file into its
// attribute's partial class, chosen by the constant its project defines (see src/README.md).
#if LEAKASSERT_MSTEST
namespace LeakAssert.MSTest;

public sealed partial class LeakTestMethodAttribute
#elif LEAKASSERT_NUNIT
namespace LeakAssert.NUnit;

public sealed partial class LeakTestAttribute
#elif LEAKASSERT_XUNIT
namespace LeakAssert.Xunit;

public sealed partial class LeakTestAttribute
#elif LEAKASSERT_XUNITV3
namespace LeakAssert.XunitV3;

public sealed partial class LeakTestAttribute
#endif
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
