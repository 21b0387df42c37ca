using System.Globalization;

namespace LeakAssert.Tests;

public sealed class ByteSizeTests
{
    [Theory]
    [InlineData(0, "0")]
    [InlineData(1, "1B")]
    [InlineData(1023, "1023B")]
    [InlineData(1024, "1kB")]
    [InlineData(1536, "1.50kB")]
    [InlineData(1_048_576, "1MB")]
    [InlineData(2_222_981, "2.12MB")]
    [InlineData(-2048, "-2kB")]
    [InlineData(3L << 30, "3GB")]
    public void Sizes_print_as_pprof_prints_them(long bytes, string expected) =>
        new ByteSize(bytes).ToString().Should().Be(expected);

    [Fact]
    public void Units_are_binary_as_in_pprof()
    {
        1.KB().Bytes.Should().Be(1024);
        1.MB().Bytes.Should().Be(1 << 20);
        2.GB().Bytes.Should().Be(2L << 30);
        0.5.MB().Bytes.Should().Be(1 << 19);
        64.Bytes().PerIteration().ToString().Should().Be("64B per iteration");
    }

    [Fact]
    public void Sizes_compare_by_bytes() => (1.MB() > 1023.KB()).Should().BeTrue();

    [Fact]
    public void A_negative_per_iteration_bound_is_refused_in_one_sentence()
    {
        var act = () => (-1).Bytes().PerIteration();
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("A per-iteration bound must be zero or more bytes, but was -1 bytes.*");
    }

    [Fact]
    public void The_one_long_without_a_positive_twin_is_refused_in_one_invariant_sentence()
    {
        var culture = CultureInfo.CurrentCulture;
        // Swedish writes its minus sign as U+2212: the message must not.
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("sv-SE");
        try
        {
            FluentActions.Invoking(() => long.MinValue.Bytes()).Should().Throw<ArgumentOutOfRangeException>().WithMessage(
                "-9223372036854775808.Bytes() is out of range: Bytes() takes -9223372036854775807 to 9223372036854775807.*");
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
        (long.MinValue + 1).Bytes().Bytes.Should().Be(long.MinValue + 1);
        long.MaxValue.Bytes().Bytes.Should().Be(long.MaxValue);
    }

    [Fact]
    public void A_size_that_is_not_a_number_is_refused() =>
        FluentActions.Invoking(() => double.NaN.MB()).Should().Throw<ArgumentOutOfRangeException>().WithMessage("A size in MB must be a finite number*");
}
