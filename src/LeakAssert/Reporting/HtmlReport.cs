using System.Globalization;
using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Verdicts;
using static LeakAssert.Reporting.ProfilePage;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Reporting;

/// <summary>
/// The report as one self-contained HTML page: the verdict, a chart of the exact retained growth, a flame graph and
/// pprof's top of the retained diff, and the full text report. The page, its flame graph and top are
/// <see cref="ProfilePage"/>'s (which also writes a profile's page on its own); this adds what a run measured.
/// </summary>
internal static class HtmlReport
{
    /// <summary>Writes the page of one run: verdict (when there is one), growth chart, flame graph, top and text report.</summary>
    public static void Write(TextWriter w, LeakProfile profile, Verdict? verdict)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(profile);
        Open(w, "LeakAssert report");
        Line(w, "<h1>LeakAssert report</h1>");
        if (verdict is not null)
            Line(w, $"<p class=\"verdict {(verdict.Passed ? "pass" : "fail")}\" id=\"verdict\">{E(LeakReport.VerdictSentence(verdict))}</p>");
        Line(w, "<ul class=\"summary\">");
        foreach (var sentence in LeakReport.Summary(profile)) Line(w, $"<li>{E(sentence)}</li>");
        Line(w, "</ul>");
        WhatLeaks(w, profile);

        Line(w, "<h2>Exact retained growth</h2>");
        Line(w, "<p class=\"note\">Each point is the retained heap after a forced full blocking GC, less the baseline. The verdict rests on these figures alone.</p>");
        GrowthChart(w, profile);

        string? flame = null;
        if (profile.Profiles is { } set)
        {
            Line(w, "<h2>Flame graph of the retained diff (inuse_space)</h2>");
            foreach (var sentence in LeakReport.ProfileSource(profile, set)) Line(w, $"<p class=\"note\">{E(sentence)}</p>");
            flame = FlameGraph(w, set.Diff, SampleValue.InuseSpace);
            TopTable(w, set.Diff, SampleValue.InuseSpace);
        }
        else
        {
            Line(w, "<h2>Where it was allocated</h2>");
            Line(w, $"<p class=\"problem\" id=\"sampling-problem\">{E(LeakReport.NoProfileSentence(profile))}</p>");
        }

        Line(w, "<details><summary>Full text report</summary>");
        w.Write("<pre>");
        w.Write(E(LeakReport.ToText(profile, verdict)));
        Line(w, "</pre></details>");
        Close(w, flame);
    }

    // An SVG line chart: iteration against growth over the baseline; the repeat pass dashed on a shaded band.
    private static void GrowthChart(TextWriter w, LeakProfile p)
    {
        const double Width = 1000, Height = 340, Left = 78, Right = 24, Top = 40, Bottom = 46;
        var baseline = p.Checkpoints[0].RetainedBytes;
        var measured = p.Checkpoints.Select(c => (X: (double)c.Iteration, Y: (double)(c.RetainedBytes - baseline), c)).ToList();
        var attribution = p.RepeatPassCheckpoints.Select(c => (X: (double)c.Iteration, Y: (double)(c.RetainedBytes - baseline), c)).ToList();
        var all = measured.Concat(attribution).ToList();
        var xMax = Math.Max(1, all.Max(q => q.X));
        var xStep = NiceStep(xMax / 6);
        xMax = Math.Ceiling(xMax / xStep) * xStep;
        var (yUnit, yUnitName) = ByteUnit(all.Max(q => Math.Abs(q.Y)));
        var yLo = Math.Min(0, all.Min(q => q.Y));
        var yHi = Math.Max(all.Max(q => q.Y), yLo + 1024);
        var yStep = NiceStep((yHi - yLo) / yUnit / 5) * yUnit;
        yLo = Math.Floor(yLo / yStep) * yStep;
        yHi = Math.Ceiling(yHi / yStep) * yStep;
        double Px(double x) => Left + x / xMax * (Width - Left - Right);
        double Py(double y) => Top + (yHi - y) / (yHi - yLo) * (Height - Top - Bottom);

        Line(w, Inv($"<div class=\"chart\"><svg viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"retained growth by iteration\">"));
        if (attribution.Count > 0)
        {
            var from = Px(p.Iterations);
            Line(w, Inv($"<rect class=\"band\" x=\"{from:F1}\" y=\"{Top}\" width=\"{Width - Right - from:F1}\" height=\"{Height - Top - Bottom}\"/>"));
            // Bottom right: growth rises, so the points stay clear of it.
            Line(w, Inv($"<text class=\"band-label\" x=\"{Width - Right - 8}\" y=\"{Height - Bottom - 10}\" text-anchor=\"end\">repeat pass: a leak grows here too</text>"));
        }
        for (var y = yLo; y <= yHi + yStep / 2; y += yStep)
        {
            Line(w, Inv($"<line class=\"grid\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Py(y):F1}\" y2=\"{Py(y):F1}\"/>"));
            Line(w, Inv($"<text class=\"tick\" x=\"{Left - 8}\" y=\"{Py(y) + 4:F1}\" text-anchor=\"end\">{E(ByteTick(y, yUnit, yUnitName))}</text>"));
        }
        for (var x = 0.0; x <= xMax + xStep / 2; x += xStep)
        {
            Line(w, Inv($"<line class=\"grid\" x1=\"{Px(x):F1}\" x2=\"{Px(x):F1}\" y1=\"{Top}\" y2=\"{Height - Bottom}\"/>"));
            Line(w, Inv($"<text class=\"tick\" x=\"{Px(x):F1}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{Count((long)x)}</text>"));
        }
        Line(w, Inv($"<line class=\"axis\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Py(0):F1}\" y2=\"{Py(0):F1}\"/>"));
        Line(w, Inv($"<text class=\"axis-label\" x=\"{(Left + Width - Right) / 2:F1}\" y=\"{Height - 6}\" text-anchor=\"middle\">iteration</text>"));
        Line(w, Inv($"<text class=\"axis-label\" transform=\"translate(16 {(Top + Height - Bottom) / 2:F1}) rotate(-90)\" text-anchor=\"middle\">retained growth</text>"));

        if (measured.Count >= 3)
        {
            // The least-squares line the verdict's slope comes from, through the means of the measured points.
            var slope = p.Growth.SlopeBytesPerIteration;
            var intercept = measured.Average(q => q.Y) - slope * measured.Average(q => q.X);
            var x1 = measured[^1].X;
            Line(w, Inv($"<line class=\"fit\" x1=\"{Px(0):F1}\" y1=\"{Py(Math.Clamp(intercept, yLo, yHi)):F1}\" x2=\"{Px(x1):F1}\" y2=\"{Py(Math.Clamp(intercept + slope * x1, yLo, yHi)):F1}\"><title>{E(Inv($"least squares: {Bytes(slope)} per iteration"))}</title></line>"));
        }
        Series(w, measured, "measured", Px, Py, baseline);
        Series(w, attribution, "attribution", Px, Py, baseline);

        // Legend above the plot, so that it hides no point.
        Line(w, Inv($"<g class=\"legend\" transform=\"translate({Left} {Top - 20})\">"));
        Line(w, "<line class=\"measured\" x1=\"0\" x2=\"22\" y1=\"0\" y2=\"0\"/><circle class=\"measured\" cx=\"11\" cy=\"0\" r=\"3.5\"/><text x=\"30\" y=\"4\">measured checkpoints</text>");
        var next = 190;
        if (attribution.Count > 0)
        {
            Line(w, Inv($"<line class=\"attribution\" x1=\"{next}\" x2=\"{next + 22}\" y1=\"0\" y2=\"0\"/><circle class=\"attribution\" cx=\"{next + 11}\" cy=\"0\" r=\"3.5\"/><text x=\"{next + 30}\" y=\"4\">repeat pass</text>"));
            next += 150;
        }
        if (measured.Count >= 3)
            Line(w, Inv($"<line class=\"fit\" x1=\"{next}\" x2=\"{next + 22}\" y1=\"0\" y2=\"0\"/><text x=\"{next + 30}\" y=\"4\">{E(Inv($"fit: {Bytes(p.Growth.SlopeBytesPerIteration)} per iteration"))}</text>"));
        Line(w, "</g>");
        Line(w, "</svg></div>");
    }

    private static void Series(TextWriter w, List<(double X, double Y, Checkpoint C)> points, string css, Func<double, double> px, Func<double, double> py, long baseline)
    {
        if (points.Count == 0) return;
        Line(w, Inv($"<polyline class=\"{css}\" points=\"{string.Join(' ', points.Select(q => Inv($"{px(q.X):F1},{py(q.Y):F1}")))}\"/>"));
        foreach (var (x, y, c) in points)
        {
            var tip = Inv($"iteration {Count(c.Iteration)}: retained {Bytes(c.RetainedBytes)}, growth {Bytes(c.RetainedBytes - baseline)}{(css == "attribution" ? " (repeat pass)" : "")}");
            Line(w, Inv($"<circle class=\"{css}\" cx=\"{px(x):F1}\" cy=\"{py(y):F1}\" r=\"3.5\"><title>{E(tip)}</title></circle>"));
        }
    }

    // The leak groups, each a collapsible trace, as the text report prints them; by type when there are none to show.
    private static void WhatLeaks(TextWriter w, LeakProfile p)
    {
        var lines = HeapReport.Lines(p);
        if (p.HeapGrowth is not { } heap || heap.LeaksProblem is not null)
        {
            if (lines.Count > 0) Line(w, $"<pre class=\"problem\" id=\"what-leaks\">{E(string.Join("\n", lines))}</pre>");
            return;
        }
        Line(w, "<h2>What leaks</h2>");
        // The heading says "What leaks"; the line under it says over what.
        var span = lines[0].StartsWith("What leaks: ", StringComparison.Ordinal) ? lines[0]["What leaks: ".Length..] : lines[0];
        Line(w, $"<p class=\"note\" id=\"what-leaks\">{E(char.ToUpperInvariant(span[0]) + span[1..])}</p>");
        for (var i = 0; i < heap.Leaks.Count; i++)
        {
            var g = heap.Leaks[i];
            var trace = LeakTrace.Lines(g, "").Append(LeakTrace.Retains(g, ""));
            if (HeapReport.AllocatedAt(p.Profiles?.Diff, g) is { } site) trace = trace.Append("allocated at: " + site);
            Line(w, $"<details class=\"leak\"{(i == 0 ? " open" : "")}><summary>{E(LeakTrace.Header(i + 1, g))}</summary><pre>{E(string.Join("\n", trace))}</pre></details>");
        }
        foreach (var line in lines.Skip(1).Where(l => l.StartsWith("Accepted", StringComparison.Ordinal) || l.StartsWith("One-off", StringComparison.Ordinal) || l.StartsWith("Smaller", StringComparison.Ordinal)))
            Line(w, $"<p class=\"note\">{E(line)}</p>");
    }

    // 1, 2 or 5 times a power of ten: steps a reader adds up at a glance.
    private static double NiceStep(double raw)
    {
        if (!(raw > 0)) return 1;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var n = raw / magnitude;
        return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * magnitude;
    }
}
