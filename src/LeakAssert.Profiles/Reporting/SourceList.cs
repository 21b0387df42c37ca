using System.Globalization;
using System.Text.RegularExpressions;
using LeakAssert.Profiles;
using LeakAssert.Text;

namespace LeakAssert.Reporting;

/// <summary>One source line of a <see cref="SourceRoutine"/>: its own (flat) and inclusive (cum) value, and its text when the file was found.</summary>
public sealed record SourceLine(int Line, long Flat, long Cum, string? Text);

/// <summary>
/// One function in one source file, as pprof's <c>list</c> shows it: the sums of its lines' flat and cum values, and
/// the lines with values with some around them. <see cref="File"/> is null when no frame of it had a file (no PDB);
/// <see cref="SourceFound"/> says whether the file was read, else <see cref="Lines"/> holds only lines with values.
/// </summary>
public sealed record SourceRoutine(string Function, string? File, long Flat, long Cum, bool SourceFound, IReadOnlyList<SourceLine> Lines);

/// <summary>pprof's <c>list</c>: per-source-line values of the functions whose name matches a regular expression.</summary>
public sealed record SourceList(string Pattern, SampleValue Value, long Total, IReadOnlyList<SourceRoutine> Routines)
{
    /// <summary>Lines shown around each line with a value, as pprof's margin.</summary>
    public const int DefaultContextLines = 5;

    /// <summary>
    /// The routines of every function whose name matches <paramref name="functionRegex"/> (unanchored, as pprof's),
    /// by name, then file. A line's flat is the value of samples whose leaf frame is that function at that line; its
    /// cum counts every sample with the function at that line anywhere in its stack, once. Source text is read from
    /// the frame's file when it exists; lines within <paramref name="contextLines"/> of a line with a value are kept.
    /// </summary>
    /// <exception cref="ArgumentException">The pattern is not a regular expression.</exception>
    public static SourceList Of(HeapProfile profile, SampleValue value, string functionRegex, int contextLines = DefaultContextLines)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(functionRegex);
        ArgumentOutOfRangeException.ThrowIfNegative(contextLines);
        Regex match;
        try
        {
            match = new Regex(functionRegex, RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The function pattern must be a regular expression, but \"{functionRegex}\" is not: {e.Message}", nameof(functionRegex), e);
        }

        // (function, file) -> line -> (flat, cum), as pprof's line-granularity graph nodes.
        var routines = new Dictionary<(string Function, string? File), Dictionary<int, (long Flat, long Cum)>>();
        var seen = new HashSet<(string, string?, int)>();
        long total = 0;
        foreach (var s in profile.Samples)
        {
            var v = s[value];
            if (v == 0) continue;
            total += Math.Abs(v);
            seen.Clear();
            for (var i = 0; i < s.Stack.Count; i++)
            {
                var f = s.Stack[i];
                if (!match.IsMatch(f.Function)) continue;
                var line = f.File is null ? 0 : f.Line;
                // A recursive stack passes one line more than once; cum counts the sample there once.
                if (!seen.Add((f.Function, f.File, line))) continue;
                if (!routines.TryGetValue((f.Function, f.File), out var lines)) routines[(f.Function, f.File)] = lines = [];
                var (flat, cum) = lines.GetValueOrDefault(line);
                lines[line] = (flat + (i == 0 ? v : 0), cum + v);
            }
        }

        var result = routines
            .OrderBy(r => r.Key.Function, StringComparer.Ordinal)
            .ThenBy(r => r.Key.File ?? "", StringComparer.Ordinal)
            .Select(r => Routine(r.Key.Function, r.Key.File, r.Value, contextLines))
            .ToArray();
        return new SourceList(functionRegex, value, total, result);
    }

    private static SourceRoutine Routine(string function, string? file, Dictionary<int, (long Flat, long Cum)> values, int context)
    {
        var flat = values.Values.Sum(v => v.Flat);
        var cum = values.Values.Sum(v => v.Cum);
        if (file is null) return new SourceRoutine(function, null, flat, cum, false, []);
        var source = ReadLines(file);
        var valued = values.Keys.Order().ToArray();
        var around = source is null
            ? []
            : valued.SelectMany(l => Enumerable.Range(l - context, 2 * context + 1)).Where(l => l >= 1 && l <= source.Length);
        // A line with a value is always shown, even past the end of a file that changed since the build.
        var lines = around.Union(valued).Order()
            .Select(l => new SourceLine(l, values.GetValueOrDefault(l).Flat, values.GetValueOrDefault(l).Cum,
                source is not null && l >= 1 && l <= source.Length ? source[l - 1] : null))
            .ToArray();
        return new SourceRoutine(function, file, flat, cum, source is not null, lines);
    }

    private static string[]? ReadLines(string file)
    {
        try
        {
            return System.IO.File.Exists(file) ? System.IO.File.ReadAllLines(file) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable is reported as not found: the values are still printed, only the text is missing.
            return null;
        }
    }

    /// <summary>
    /// Prints the list as pprof does: "Total:", then per routine a "ROUTINE ===" header, its flat and cum sums, and
    /// each line as flat, cum (a "." for zero), number and text. A gap between shown lines is marked "...".
    /// </summary>
    public void Write(TextWriter w, Func<long, string> format)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(format);
        if (Routines.Count == 0)
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"no matches found for regexp: {Pattern}"));
            return;
        }
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Total: {format(Total)}"));
        string ValueOrDot(long v) => v == 0 ? "." : format(v);
        foreach (var r in Routines)
        {
            if (r.File is null)
            {
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"No source information for {r.Function}"));
                continue;
            }
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ROUTINE ======================== {r.Function} in {r.File}"));
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{format(r.Flat),10} {format(r.Cum),10} (flat, cum) {Numbers.Percent(r.Cum, Total)} of Total"));
            if (!r.SourceFound)
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $" Source not found: {r.File}; showing only the lines with values."));
            var previous = 0;
            foreach (var l in r.Lines)
            {
                if (previous > 0 && l.Line > previous + 1) w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"",10} {"",10} {"...",6}"));
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ValueOrDot(l.Flat),10} {ValueOrDot(l.Cum),10} {l.Line,6}:{l.Text}"));
                previous = l.Line;
            }
        }
    }
}
