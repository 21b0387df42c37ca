using System.Globalization;
using LeakAssert.Text;

namespace LeakAssert;

/// <summary>
/// A number of bytes. Units are binary, as pprof's are: 1 KB = 1024 bytes, 1 MB = 1 &lt;&lt; 20 bytes.
/// Printed the way pprof prints sizes ("1.50MB", "512kB", "100B").
/// </summary>
public readonly record struct ByteSize(long Bytes) : IComparable<ByteSize>
{
    /// <summary>No bytes.</summary>
    public static ByteSize Zero => default;

    /// <summary>This size as a bound on growth per measured iteration.</summary>
    public PerIterationBound PerIteration() =>
        Bytes < 0
            ? throw new ArgumentOutOfRangeException(nameof(Bytes), $"A per-iteration bound must be zero or more bytes, but was {Bytes} bytes.")
            : new PerIterationBound(this);

    /// <inheritdoc />
    public int CompareTo(ByteSize other) => Bytes.CompareTo(other.Bytes);

    /// <summary>Compares sizes.</summary>
    public static bool operator <(ByteSize a, ByteSize b) => a.Bytes < b.Bytes;
    /// <summary>Compares sizes.</summary>
    public static bool operator >(ByteSize a, ByteSize b) => a.Bytes > b.Bytes;
    /// <summary>Compares sizes.</summary>
    public static bool operator <=(ByteSize a, ByteSize b) => a.Bytes <= b.Bytes;
    /// <summary>Compares sizes.</summary>
    public static bool operator >=(ByteSize a, ByteSize b) => a.Bytes >= b.Bytes;

    /// <summary>pprof's label: two decimals at most, trailing ".00" dropped, binary units B, kB, MB, GB, TB.</summary>
    public override string ToString() => Format(Bytes);

    /// <summary>Formats a (possibly fractional or negative) byte count as pprof does.</summary>
    public static string Format(double bytes) => Numbers.Bytes(bytes);
}

/// <summary>A bound on retained growth per measured iteration, made with <c>64.Bytes().PerIteration()</c>.</summary>
public readonly record struct PerIterationBound(ByteSize Size)
{
    /// <inheritdoc />
    public override string ToString() => Size + " per iteration";
}

/// <summary><c>500.Bytes()</c>, <c>16.KB()</c>, <c>1.MB()</c>, <c>2.GB()</c>: binary units, as pprof.</summary>
public static class ByteSizeExtensions
{
    /// <summary>That many bytes.</summary>
    public static ByteSize Bytes(this int value) => Make(value, 1, nameof(Bytes));
    /// <summary>That many bytes.</summary>
    public static ByteSize Bytes(this long value) => Make(value, 1, nameof(Bytes));
    /// <summary>That many kibibytes (1 KB = 1024 bytes).</summary>
    public static ByteSize KB(this int value) => Make(value, 1L << 10, nameof(KB));
    /// <summary>That many mebibytes (1 MB = 1 &lt;&lt; 20 bytes).</summary>
    public static ByteSize MB(this int value) => Make(value, 1L << 20, nameof(MB));
    /// <summary>That many gibibytes (1 GB = 1 &lt;&lt; 30 bytes).</summary>
    public static ByteSize GB(this int value) => Make(value, 1L << 30, nameof(GB));
    /// <summary>A fractional number of mebibytes, rounded to the byte.</summary>
    public static ByteSize MB(this double value) =>
        double.IsFinite(value) && Math.Abs(value) < 1L << 40
            ? new ByteSize((long)Math.Round(value * (1 << 20)))
            : throw new ArgumentOutOfRangeException(nameof(value), $"A size in MB must be a finite number below 2^40, but was {value}.");

    private static ByteSize Make(long value, long unit, string name)
    {
        // A range symmetric about zero: Math.Abs(long.MinValue) overflows, and a size's negation must fit too.
        var max = long.MaxValue / unit;
        return value >= -max && value <= max
            ? new ByteSize(value * unit)
            : throw new ArgumentOutOfRangeException(nameof(value), string.Create(CultureInfo.InvariantCulture,
                $"{value}.{name}() is out of range: {name}() takes {-max} to {max}."));
    }
}
