using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Verdicts;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Reporting;

/// <summary>
/// The report as one self-contained HTML page: the verdict, a chart of the exact retained growth, a flame graph and
/// pprof's top of the retained diff, and the full text report. CSS, SVG and script are inline and nothing is fetched,
/// so the file opens anywhere, offline and as a CI artifact. Every string from a profile is HTML-escaped (type and
/// method names hold &lt; &gt; &amp;); numbers are culture-invariant.
/// </summary>
internal static class HtmlReport
{
    private const int TopRows = 20;

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

    /// <summary>Writes the flame graph and top of one profile for one value (a .pb.gz file opened on its own).</summary>
    public static void Write(TextWriter w, HeapProfile profile, SampleValue value, string title)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(title);
        Open(w, title);
        Line(w, $"<h1>{E(title)}</h1>");
        var positive = profile.Samples.Sum(s => Math.Max(0, s[value]));
        Line(w, $"<p class=\"note\">{E(Inv($"The {profile.Name} profile, {value.Name()}: {Format(value, positive)} in the positive values from {profile.SampleCount(value)} samples; captured {profile.CapturedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC."))}</p>");
        Line(w, $"<h2>Flame graph ({value.Name()})</h2>");
        var flame = FlameGraph(w, profile, value);
        TopTable(w, profile, value);
        Close(w, flame);
    }

    private static void Open(TextWriter w, string title)
    {
        Line(w, "<!DOCTYPE html>");
        Line(w, "<html lang=\"en\">");
        Line(w, "<head>");
        Line(w, "<meta charset=\"utf-8\">");
        Line(w, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        Line(w, "<meta name=\"generator\" content=\"LeakAssert\">");
        Line(w, $"<title>{E(title)}</title>");
        Line(w, $"<style>{Css}</style>");
        Line(w, "</head>");
        Line(w, "<body>");
        Line(w, "<main>");
    }

    private static void Close(TextWriter w, string? flameTree)
    {
        Line(w, "</main>");
        if (flameTree is not null)
        {
            // JSON in a data block, not in script: the default encoder writes < > & ' as \u escapes, so no name can
            // close the element.
            Line(w, $"<script type=\"application/json\" id=\"flame-data\">{flameTree}</script>");
            Line(w, $"<script>{Script}</script>");
        }
        Line(w, "</body>");
        Line(w, "</html>");
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

    // The heap snapshots' diff by type, leading type first, each with the paths that hold it.
    private static void WhatLeaks(TextWriter w, LeakProfile p)
    {
        if (p.HeapGrowth is not { } heap)
        {
            if (HeapReport.Lines(p) is [var why]) Line(w, $"<p class=\"problem\" id=\"what-leaks\">{E(why)}</p>");
            return;
        }
        Line(w, "<h2>What leaks</h2>");
        Line(w, $"<p class=\"note\">{E(Inv($"Exact heap diff by type over the {Count(heap.Iterations)} iterations of {heap.Pass}, from heap snapshots of {Count(heap.Objects)} objects; the leading type first."))}</p>");
        Line(w, "<table class=\"top\" id=\"what-leaks\"><thead><tr><th>instances</th><th>per iteration</th><th>bytes</th><th class=\"fn\">type, and what holds it</th></tr></thead><tbody>");
        foreach (var t in heap.Types)
        {
            var held = string.Concat(t.HeldBy.Select(h => $"<br><span class=\"note\">held by {E(Count(h.Instances))}: {E(h.Path)}</span>"));
            Line(w, Inv($"<tr><td>+{E(Count(t.Count))}</td><td>{t.CountPerIteration:0.00}</td><td>{E(Bytes(t.Bytes))}</td><td class=\"fn\">{E(t.TypeName)}{held}</td></tr>"));
        }
        foreach (var a in heap.Accepted)
            Line(w, Inv($"<tr><td>+{E(Count(a.Count))}</td><td></td><td>{E(Bytes(a.Bytes))}</td><td class=\"fn\">{E(a.TypeName)}<br><span class=\"note\">accepted: {E(a.Reason)}</span></td></tr>"));
        Line(w, "</tbody></table>");
    }

    /// <summary>Writes the flame graph's place on the page and returns its data for the script, or null when there is nothing to draw.</summary>
    private static string? FlameGraph(TextWriter w, HeapProfile profile, SampleValue value)
    {
        var negative = profile.Samples.Sum(s => Math.Min(0, s[value]));
        var tree = FlameTree(profile, value);
        if (tree is null)
        {
            Line(w, $"<p class=\"problem\">{E(Inv($"Nothing to draw: no stack has a positive {value.Name()}."))}</p>");
            return null;
        }
        Line(w, "<div class=\"info\" id=\"flame-info\">Hover over a frame for its value; click to zoom into it, click a dimmed frame above to zoom out.</div>");
        Line(w, "<div class=\"flame\" id=\"flame\"></div>");
        var note = Inv($"Callers above callees, from the workload down to the allocating frame and, last, the type it allocated (grey); width is the {value.Name()}. Orange frames have source lines (a PDB), blue ones are runtime or library code.");
        if (negative < 0) note += Inv($" Shrinkage of {Format(value, -negative)} (memory freed since the baseline) is left out of the widths.");
        Line(w, $"<p class=\"note\">{E(note)}</p>");
        return tree;
    }

    // The flame graph's data as JSON: a tree from "all" through each stack's frames, outermost first, of the positive
    // values only; each node carries its name, value, the value printed and its share of all.
    private static string? FlameTree(HeapProfile profile, SampleValue value)
    {
        var root = new FlameNode("all", 0);
        foreach (var s in profile.Samples)
        {
            var v = s[value];
            if (v <= 0) continue;
            root.Value += v;
            var node = root;
            for (var i = s.Stack.Count - 1; i >= 0; i--)
            {
                var frame = s.Stack[i];
                if (!node.Children.TryGetValue(frame.Function, out var child))
                    node.Children[frame.Function] = child = new FlameNode(frame.Function, frame.File is null ? 2 : 1);
                if (frame.File is not null) child.Kind = 1;
                child.Value += v;
                node = child;
            }
            // The allocated type as the last row, as pprof's -tagleaf=type would: what the frame above allocated.
            var typeName = s.TypeName.Length == 0 ? "(unknown type)" : s.TypeName;
            if (!node.Children.TryGetValue(TypePrefix + typeName, out var type))
                node.Children[TypePrefix + typeName] = type = new FlameNode(typeName, 3);
            type.Value += v;
        }
        if (root.Value == 0) return null;

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            void Node(FlameNode n)
            {
                json.WriteStartObject();
                json.WriteString("n", n.Name);
                json.WriteNumber("v", n.Value);
                json.WriteString("s", Format(value, n.Value));
                json.WriteString("p", Percent(n.Value, root.Value).Trim());
                json.WriteNumber("k", n.Kind);
                json.WriteStartArray("c");
                // Frames under a thousandth of a percent would be below a pixel wide: left out to keep big profiles small.
                foreach (var c in n.Children.Values.Where(c => c.Value * 100_000 >= root.Value).OrderByDescending(c => c.Value).ThenBy(c => c.Name, StringComparer.Ordinal))
                    Node(c);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            Node(root);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    // Keeps a type apart from a function of the same name among one frame's children.
    private const string TypePrefix = "type:";

    private sealed class FlameNode(string name, int kind)
    {
        public string Name { get; } = name;
        /// <summary>0 the root, 1 a frame with source lines, 2 one without (runtime or library), 3 the allocated type.</summary>
        public int Kind { get; set; } = kind;
        public long Value { get; set; }
        public Dictionary<string, FlameNode> Children { get; } = new(StringComparer.Ordinal);
    }

    private static void TopTable(TextWriter w, HeapProfile profile, SampleValue value)
    {
        var top = Top.Of(profile, value, TopRows);
        if (top.Rows.Count == 0) return;
        var shown = top.Rows.Sum(r => r.Flat);
        Line(w, $"<h2>top ({value.Name()})</h2>");
        var dropped = top.Dropped > 0 ? Inv($"; top {top.Rows.Count} of {top.Rows.Count + top.Dropped} functions") : "";
        Line(w, $"<p class=\"note\">{E(Inv($"Showing nodes accounting for {Format(value, shown)}, {Percent(shown, top.Total).Trim()} of {Format(value, top.Total)} total{dropped}."))}</p>");
        Line(w, "<table class=\"top\" id=\"top\"><thead><tr><th>flat</th><th>flat%</th><th>sum%</th><th>cum</th><th>cum%</th><th>samples</th><th class=\"fn\">function</th></tr></thead><tbody>");
        long sum = 0;
        foreach (var r in top.Rows)
        {
            sum += r.Flat;
            var share = top.Total == 0 ? 0 : Math.Abs((double)r.Flat / top.Total);
            Line(w, Inv($"<tr><td style=\"background:linear-gradient(to right, {(r.Flat < 0 ? "#c8e1ff" : "#ffd8b5")} {share * 100:F1}%, transparent {share * 100:F1}%)\">{E(Format(value, r.Flat))}</td><td>{Percent(r.Flat, top.Total).Trim()}</td><td>{Percent(sum, top.Total).Trim()}</td><td>{E(Format(value, r.Cum))}</td><td>{Percent(r.Cum, top.Total).Trim()}</td><td>{r.Samples}</td><td class=\"fn\">{E(r.Function)}</td></tr>"));
        }
        Line(w, "</tbody></table>");
    }

    // Sizes as pprof prints them; counts with thousands separators, as the page's prose has them.
    private static string Format(SampleValue value, long v) => value.IsBytes() ? Bytes(v) : Count(v);

    // 1, 2 or 5 times a power of ten: steps a reader adds up at a glance.
    private static double NiceStep(double raw)
    {
        if (!(raw > 0)) return 1;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var n = raw / magnitude;
        return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * magnitude;
    }

    private static void Line(TextWriter w, string text)
    {
        w.Write(text);
        w.Write('\n');
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    // The page's CSS and script live as files beside this one, embedded in the assembly and inlined into each page.
    private static readonly string Css = Resource("report.css");
    private static readonly string Script = Resource("flame.js");

    private static string Resource(string name)
    {
        using var stream = typeof(HtmlReport).Assembly.GetManifestResourceStream("LeakAssert.Reporting.Html." + name)
            ?? throw new InvalidOperationException($"The LeakAssert assembly lacks its embedded resource {name}; it was built without Reporting/Html.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().TrimEnd('\n');
    }
}
