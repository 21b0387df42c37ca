using System.Globalization;

namespace LeakAssert.Text;

/// <summary>
/// The one home of number formatting: every report, page and command prints sizes, counts and shares through these,
/// culture-invariant, so a figure reads the same in the text report, the HTML page and the CLI.
/// </summary>
internal static class Numbers
{
    private static readonly string[] ByteUnits = ["B", "kB", "MB", "GB", "TB", "PB"];

    /// <summary>pprof's size label: two decimals at most, trailing ".00" dropped, binary units B, kB, MB, GB, TB.</summary>
    public static string Bytes(double bytes)
    {
        var magnitude = Math.Abs(bytes);
        var unit = 0;
        while (unit < ByteUnits.Length - 1 && magnitude >= 1024)
        {
            magnitude /= 1024;
            unit++;
        }
        var text = (Math.Sign(bytes) * magnitude).ToString("F2", CultureInfo.InvariantCulture);
        if (text.EndsWith(".00", StringComparison.Ordinal)) text = text[..^3];
        return text is "0" or "-0" ? "0" : text + ByteUnits[unit];
    }

    /// <summary>A count in prose: "2,000".</summary>
    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A count per iteration: at most two decimals ("1", "0.25"), two significant digits below 0.01 ("0.0033").</summary>
    public static string Rate(double perIteration) =>
        Math.Abs(perIteration) >= 0.01 || perIteration == 0
            ? perIteration.ToString("#,0.##", CultureInfo.InvariantCulture)
            : perIteration.ToString("G2", CultureInfo.InvariantCulture);

    /// <summary>A count in a pprof table, as pprof prints it: "2000".</summary>
    public static string Plain(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>A value of a profile: a size when it counts bytes, else a plain count, as pprof's tables print them.</summary>
    public static Func<long, string> ValueFormat(bool bytes) => bytes ? v => Bytes(v) : Plain;

    /// <summary>pprof's percentage(): "  100%" near 100, two decimals from 1%, two significant digits below; six wide.</summary>
    public static string Percent(long value, long total)
    {
        var ratio = total == 0 ? 0 : Math.Abs((double)value / total) * 100;
        if (ratio >= 99.95 && ratio <= 100.05) return "  100%";
        var text = ratio >= 1 ? ratio.ToString("F2", CultureInfo.InvariantCulture) : ratio.ToString("G2", CultureInfo.InvariantCulture);
        return (text + "%").PadLeft(6);
    }

    /// <summary>The binary unit a chart axis counts in for values up to <paramref name="max"/> bytes.</summary>
    public static (double Unit, string Name) ByteUnit(double max)
    {
        var k = 0;
        while (k < ByteUnits.Length - 2 && max >= Math.Pow(1024, k + 1)) k++;
        return (Math.Pow(1024, k), ByteUnits[k]);
    }

    /// <summary>An axis tick in a chosen unit: "0", "1.5MB".</summary>
    public static string ByteTick(double bytes, double unit, string name) =>
        Math.Abs(bytes) < unit / 1e6 ? "0" : (bytes / unit).ToString("0.##", CultureInfo.InvariantCulture) + name;

    /// <summary>A formattable string, culture-invariant.</summary>
    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
