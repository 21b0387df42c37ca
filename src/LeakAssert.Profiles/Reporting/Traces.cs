using System.Globalization;
using LeakAssert.Profiles;

namespace LeakAssert.Reporting;

/// <summary>pprof's <c>traces</c>: every sampled stack with its value, largest first, separated as pprof separates them.</summary>
public sealed record Traces(IReadOnlyList<ProfileSample> Samples, SampleValue Value, int Dropped)
{
    internal const string Separator = "-----------+-------------------------------------------------------";

    /// <summary>The stacks with a non-zero value, largest absolute value first.</summary>
    public static Traces Of(HeapProfile profile, SampleValue value, int maxStacks = int.MaxValue)
    {
        var all = profile.Samples.Where(s => s[value] != 0).OrderByDescending(s => Math.Abs(s[value])).ToList();
        return new Traces(all.Take(maxStacks).ToArray(), value, Math.Max(0, all.Count - maxStacks));
    }

    /// <summary>Prints each stack as pprof does: labels, then the value beside the leaf frame, callers below.</summary>
    public void Write(TextWriter w, Func<long, string> format)
    {
        foreach (var s in Samples)
        {
            w.WriteLine(Separator);
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"type",10}:  {s.TypeName}"));
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"samples",10}:  {s.SampleCount(Value)}"));
            if (Value == SampleValue.InuseSpace)
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"margin95",10}:  ±{format((long)Math.Round(1.96 * Math.Sqrt(s.InuseBytesVariance)))}"));
            for (var i = 0; i < s.Stack.Count; i++)
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(i == 0 ? format(s[Value]) : ""),10}   {s.Stack[i]}"));
        }
        w.WriteLine(Separator);
        if (Dropped > 0) w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"({Dropped} smaller stacks not shown)"));
    }
}
