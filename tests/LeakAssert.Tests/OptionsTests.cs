using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace LeakAssert.Tests;

/// <summary>Bad input is refused before anything runs, with one sentence naming the argument and the allowed range.</summary>
public sealed class OptionsTests
{
    public static TheoryData<int, LeakOptions, string> BadInput => new()
    {
        { 0, new LeakOptions(), "iterations must be between 1 and 100,000,000, but was 0.*" },
        { -5, new LeakOptions(), "iterations must be between 1 and 100,000,000, but was -5.*" },
        { 10, new LeakOptions { Warmup = -1 }, "LeakOptions.Warmup must be between 0 and 100,000,000, but was -1.*" },
        { 10, new LeakOptions { Checkpoints = 3 }, "LeakOptions.Checkpoints must be between 4 and 1,000, but was 3.*" },
        { 10, new LeakOptions { TimeBudget = TimeSpan.FromMilliseconds(1) }, "LeakOptions.TimeBudget must be between 10 ms and 1 hour, but was 00:00:00.0010000.*" },
        { 10, new LeakOptions { AttributionBudget = TimeSpan.FromDays(2) }, "LeakOptions.AttributionBudget must be between zero and 1 hour, but was 2.00:00:00.*" },
        { 10, new LeakOptions { AttributionBudget = TimeSpan.FromSeconds(-1) }, "LeakOptions.AttributionBudget must be between zero and 1 hour*" },
        { 10, new LeakOptions { MinAttributionSamples = 0 }, "LeakOptions.MinAttributionSamples must be between 1 and 10,000, but was 0.*" },
        { 10, new LeakOptions { Sampling = (SamplingMode)7 }, "LeakOptions.Sampling must be WhenGrowing, Always or Off, but was 7.*" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public void Bad_arguments_are_refused_in_one_sentence(int iterations, LeakOptions options, string message)
    {
        var ran = false;
        var act = () => Leak.Profile(() => ran = true, iterations, options);

        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage(message);
        ran.Should().BeFalse();
    }

    [Fact]
    public void A_time_budget_too_short_for_16_iterations_still_runs_16_and_says_so()
    {
        // One iteration is twice the whole budget: the budget alone would allow none.
        var profile = Leak.Profile(() => Thread.Sleep(20), new LeakOptions { TimeBudget = TimeSpan.FromMilliseconds(10), Sampling = SamplingMode.Off });

        profile.Iterations.Should().Be(16, profile.Report());
        profile.Report().Should().Contain("(after 1 warmup; 16 is the fewest LeakAssert measures, so they ran 0.", "the report says the budget was overrun and why")
            .And.Contain(" s, past the 0.01 s budget).");
        var docs = XDocument.Load(Path.Combine(AppContext.BaseDirectory, "LeakAssert.xml"));
        var summary = docs.Descendants("member").Single(m => (string?)m.Attribute("name") == "P:LeakAssert.LeakOptions.TimeBudget").Element("summary")!.Value;
        Regex.Replace(summary, @"\s+", " ").Should().Contain("at least 16 measured iterations", "the minimum is part of the option's contract");
    }

    [Fact]
    public async Task A_null_workload_is_refused()
    {
        FluentActions.Invoking(() => Leak.Profile((Action)null!, 10)).Should().Throw<ArgumentNullException>().WithParameterName("workload");
        await FluentActions.Awaiting(() => Leak.ProfileAsync((Func<Task>)null!, 10)).Should().ThrowAsync<ArgumentNullException>();
        await FluentActions.Awaiting(() => Leak.ProfileAsync((Func<ValueTask>)null!, 10)).Should().ThrowAsync<ArgumentNullException>();
    }
}
