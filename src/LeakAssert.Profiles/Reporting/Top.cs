using System.Globalization;
using LeakAssert.Profiles;
using LeakAssert.Text;

namespace LeakAssert.Reporting;

/// <summary>One row of pprof's <c>top</c>: a function's own (flat) and inclusive (cum) value, and the samples behind cum.</summary>
public sealed record TopRow(string Function, long Flat, long Cum, int Samples);

/// <summary>pprof's <c>top</c> over one value of a profile: rows first, then a printer.</summary>
public sealed record Top(IReadOnlyList<TopRow> Rows, long Total, int Dropped)
{
    /// <summary>Rows by function, largest flat first (absolute value, so a diff's shrinkage ranks too).</summary>
    public static Top Of(HeapProfile profile, SampleValue value, int maxRows = 10)
    {
        var flat = new Dictionary<string, long>();
        var cum = new Dictionary<string, long>();
        var samples = new Dictionary<string, int>();
        long total = 0;
        foreach (var s in profile.Samples)
        {
            var v = s[value];
            if (v == 0) continue;
            total += Math.Abs(v);
            if (s.Stack.Count > 0) flat[s.Stack[0].Function] = flat.GetValueOrDefault(s.Stack[0].Function) + v;
            foreach (var function in s.Stack.Select(f => f.Function).Distinct())
            {
                cum[function] = cum.GetValueOrDefault(function) + v;
                samples[function] = samples.GetValueOrDefault(function) + s.SampleCount(value);
            }
        }
        var rows = cum.Keys
            .Select(f => new TopRow(f, flat.GetValueOrDefault(f), cum[f], samples[f]))
            .OrderByDescending(r => Math.Abs(r.Flat))
            .ThenByDescending(r => Math.Abs(r.Cum))
            .ThenBy(r => r.Function, StringComparer.Ordinal)
            .ToList();
        return new Top(rows.Take(maxRows).ToArray(), total, Math.Max(0, rows.Count - maxRows));
    }

    /// <summary>Prints the table as pprof does, with a samples column before the function.</summary>
    public void Write(TextWriter w, Func<long, string> format)
    {
        var shown = Rows.Sum(r => r.Flat);
        w.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Showing nodes accounting for {format(shown)}, {Numbers.Percent(shown, Total).Trim()} of {format(Total)} total"));
        if (Dropped > 0) w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Showing top {Rows.Count} nodes out of {Rows.Count + Dropped}"));
        w.WriteLine("      flat  flat%   sum%        cum   cum%  samples");
        long sum = 0;
        foreach (var r in Rows)
        {
            sum += r.Flat;
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{format(r.Flat),10} {Numbers.Percent(r.Flat, Total)} {Numbers.Percent(sum, Total)} {format(r.Cum),10} {Numbers.Percent(r.Cum, Total)} {r.Samples,8}  {r.Function}"));
        }
    }
}
