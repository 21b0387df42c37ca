using FluentAssertions.Execution;
using LeakAssert;
using LeakAssert.Demo;

// The main job on a built-in demo: the same workload shape through LeakAssert twice, once leaking, once fixed.
var leaky = new LeakyPriceService();
var fixedService = new FixedPriceService();
var failures = 0;

failures += Check("leaky: a static audit list that is never trimmed", () => leaky.Handle("MSFT"));
failures += Check("fixed: a bounded ring of recent quotes", () => fixedService.Handle("MSFT"));

// Exit 0 when the leak was caught and the fix passed: that is the demo working.
return failures == 1 ? 0 : 1;

static int Check(string title, Action workload)
{
    Console.WriteLine($"=== {title} ===");
    var profile = Leak.Profile(workload, iterations: 2_000);
    try
    {
        profile.Should().NotRetainMoreThan(64.Bytes().PerIteration(), "because each request is independent");
        Console.WriteLine(profile.Report());
        Console.WriteLine("Verdict: PASSED");
        return 0;
    }
    catch (AssertionFailedException failure)
    {
        Console.WriteLine(failure.Message);
        Console.WriteLine("Verdict: FAILED (a leak was caught)");
        return 1;
    }
    finally
    {
        Console.WriteLine();
    }
}
