using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LeakAssert.Assertions;
using LeakAssert.Measurement;
using LeakAssert.Profiles;

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
        foreach (var sentence in Lines(t => LeakReport.WriteSummary(t, profile))) Line(w, $"<li>{E(sentence)}</li>");
        Line(w, "</ul>");

        Line(w, "<h2>Exact retained growth</h2>");
        Line(w, "<p class=\"note\">Each point is the retained heap after a forced full compacting GC, less the baseline. The verdict rests on these figures alone.</p>");
        GrowthChart(w, profile);

        string? flame = null;
        if (profile.Profiles is { } set)
        {
            Line(w, "<h2>Flame graph of the retained diff (inuse_space)</h2>");
            foreach (var sentence in Lines(t => LeakReport.WriteProfileSource(t, profile, set))) Line(w, $"<p class=\"note\">{E(sentence)}</p>");
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
        Line(w, $"<p class=\"note\">{E(Inv($"The {profile.Name} profile, {Name(value)}: {Format(value, positive)} in the positive values from {profile.SampleCount(value)} samples; captured {profile.CapturedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC."))}</p>");
        Line(w, $"<h2>Flame graph ({Name(value)})</h2>");
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
        var attribution = p.AttributionCheckpoints.Select(c => (X: (double)c.Iteration, Y: (double)(c.RetainedBytes - baseline), c)).ToList();
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
            Line(w, Inv($"<text class=\"tick\" x=\"{Px(x):F1}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{Verdict.Count((long)x)}</text>"));
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
            Line(w, Inv($"<line class=\"fit\" x1=\"{Px(0):F1}\" y1=\"{Py(Math.Clamp(intercept, yLo, yHi)):F1}\" x2=\"{Px(x1):F1}\" y2=\"{Py(Math.Clamp(intercept + slope * x1, yLo, yHi)):F1}\"><title>{E(Inv($"least squares: {ByteSize.Format(slope)} per iteration"))}</title></line>"));
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
            Line(w, Inv($"<line class=\"fit\" x1=\"{next}\" x2=\"{next + 22}\" y1=\"0\" y2=\"0\"/><text x=\"{next + 30}\" y=\"4\">{E(Inv($"fit: {ByteSize.Format(p.Growth.SlopeBytesPerIteration)} per iteration"))}</text>"));
        Line(w, "</g>");
        Line(w, "</svg></div>");
    }

    private static void Series(TextWriter w, List<(double X, double Y, Checkpoint C)> points, string css, Func<double, double> px, Func<double, double> py, long baseline)
    {
        if (points.Count == 0) return;
        Line(w, Inv($"<polyline class=\"{css}\" points=\"{string.Join(' ', points.Select(q => Inv($"{px(q.X):F1},{py(q.Y):F1}")))}\"/>"));
        foreach (var (x, y, c) in points)
        {
            var tip = Inv($"iteration {Verdict.Count(c.Iteration)}: retained {ByteSize.Format(c.RetainedBytes)}, growth {ByteSize.Format(c.RetainedBytes - baseline)}{(css == "attribution" ? " (repeat pass)" : "")}");
            Line(w, Inv($"<circle class=\"{css}\" cx=\"{px(x):F1}\" cy=\"{py(y):F1}\" r=\"3.5\"><title>{E(tip)}</title></circle>"));
        }
    }

    /// <summary>Writes the flame graph's place on the page and returns its data for the script, or null when there is nothing to draw.</summary>
    private static string? FlameGraph(TextWriter w, HeapProfile profile, SampleValue value)
    {
        var negative = profile.Samples.Sum(s => Math.Min(0, s[value]));
        var tree = FlameTree(profile, value);
        if (tree is null)
        {
            Line(w, $"<p class=\"problem\">{E(Inv($"Nothing to draw: no stack has a positive {Name(value)}."))}</p>");
            return null;
        }
        Line(w, "<div class=\"info\" id=\"flame-info\">Hover over a frame for its value; click to zoom into it, click a dimmed frame above to zoom out.</div>");
        Line(w, "<div class=\"flame\" id=\"flame\"></div>");
        var note = Inv($"Callers above callees, from the workload down to the allocating frame and, last, the type it allocated (grey); width is the {Name(value)}. Orange frames have source lines (a PDB), blue ones are runtime or library code.");
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
                json.WriteString("p", Top.Percent(n.Value, root.Value).Trim());
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
        Line(w, $"<h2>top ({Name(value)})</h2>");
        var dropped = top.Dropped > 0 ? Inv($"; top {top.Rows.Count} of {top.Rows.Count + top.Dropped} functions") : "";
        Line(w, $"<p class=\"note\">{E(Inv($"Showing nodes accounting for {Format(value, shown)}, {Top.Percent(shown, top.Total).Trim()} of {Format(value, top.Total)} total{dropped}."))}</p>");
        Line(w, "<table class=\"top\" id=\"top\"><thead><tr><th>flat</th><th>flat%</th><th>sum%</th><th>cum</th><th>cum%</th><th>samples</th><th class=\"fn\">function</th></tr></thead><tbody>");
        long sum = 0;
        foreach (var r in top.Rows)
        {
            sum += r.Flat;
            var share = top.Total == 0 ? 0 : Math.Abs((double)r.Flat / top.Total);
            Line(w, Inv($"<tr><td style=\"background:linear-gradient(to right, {(r.Flat < 0 ? "#c8e1ff" : "#ffd8b5")} {share * 100:F1}%, transparent {share * 100:F1}%)\">{E(Format(value, r.Flat))}</td><td>{Top.Percent(r.Flat, top.Total).Trim()}</td><td>{Top.Percent(sum, top.Total).Trim()}</td><td>{E(Format(value, r.Cum))}</td><td>{Top.Percent(r.Cum, top.Total).Trim()}</td><td>{r.Samples}</td><td class=\"fn\">{E(r.Function)}</td></tr>"));
        }
        Line(w, "</tbody></table>");
    }

    private static string Name(SampleValue value) => value switch
    {
        SampleValue.AllocObjects => "alloc_objects",
        SampleValue.AllocSpace => "alloc_space",
        SampleValue.InuseObjects => "inuse_objects",
        _ => "inuse_space",
    };

    private static string Format(SampleValue value, long v) =>
        value is SampleValue.AllocSpace or SampleValue.InuseSpace ? ByteSize.Format(v) : Verdict.Count(v);

    // 1, 2 or 5 times a power of ten: steps a reader adds up at a glance.
    private static double NiceStep(double raw)
    {
        if (!(raw > 0)) return 1;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var n = raw / magnitude;
        return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * magnitude;
    }

    // The binary unit the axis counts in, as ByteSize prints sizes.
    private static (double Unit, string Name) ByteUnit(double max)
    {
        string[] names = ["B", "kB", "MB", "GB", "TB"];
        var k = 0;
        while (k < names.Length - 1 && max >= Math.Pow(1024, k + 1)) k++;
        return (Math.Pow(1024, k), names[k]);
    }

    private static string ByteTick(double bytes, double unit, string name) =>
        Math.Abs(bytes) < unit / 1e6 ? "0" : (bytes / unit).ToString("0.##", CultureInfo.InvariantCulture) + name;

    private static IEnumerable<string> Lines(Action<TextWriter> write)
    {
        using var t = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        write(t);
        return t.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static void Line(TextWriter w, string text)
    {
        w.Write(text);
        w.Write('\n');
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private const string Css = """
        :root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--fg); background: #fff; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; }
        main { max-width: 1180px; margin: 0 auto; padding: 20px 28px 40px; }
        h1 { font-size: 22px; margin: 0 0 12px; }
        h2 { font-size: 16px; margin: 26px 0 6px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
        .verdict { margin: 0 0 10px; padding: 10px 14px; border-radius: 6px; font-weight: 600; }
        .verdict.fail { background: #ffebe9; border: 1px solid #ff8182; color: #82071e; }
        .verdict.pass { background: #dafbe1; border: 1px solid #4ac26b; color: #116329; }
        .summary { margin: 0; padding-left: 20px; }
        .note { margin: 2px 0 8px; color: var(--muted); }
        .problem { padding: 10px 14px; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; }
        .chart svg { display: block; width: 100%; height: auto; font: 12px system-ui, "DejaVu Sans", Arial, sans-serif; }
        .chart .grid { stroke: #eaeef2; }
        .chart .axis { stroke: #8c959f; }
        .chart .tick { fill: var(--muted); }
        .chart .axis-label { fill: var(--fg); font-weight: 600; }
        .chart .band { fill: #fff4e5; }
        .chart .band-label { fill: #9a6700; }
        .chart polyline, .chart line.measured, .chart line.attribution { fill: none; stroke-width: 2.5; }
        .chart .measured { stroke: #cf222e; }
        .chart circle.measured { fill: #cf222e; }
        .chart .attribution { stroke: #bc4c00; stroke-dasharray: 6 4; }
        .chart circle.attribution { fill: #fff; stroke-width: 2; stroke-dasharray: none; }
        .chart .fit { stroke: #57606a; stroke-width: 1.5; stroke-dasharray: 2 4; }
        .chart .legend text { fill: var(--fg); }
        .info { margin: 4px 0 4px; padding: 4px 8px; min-height: 28px; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font: 12px/18px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
        .flame { position: relative; width: 100%; overflow: hidden; font: 12px/19px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
        .frame { position: absolute; height: 19px; padding: 0 4px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; border: 1px solid #fff; border-width: 0 1px 1px 0; border-radius: 2px; cursor: pointer; color: #1f2328; }
        .frame:hover { outline: 1px solid #1f2328; outline-offset: -1px; }
        .frame.k0 { background: #d1d9e0; font-weight: 600; }
        .frame.k3 { font-style: italic; color: #424a53; }
        .frame.ancestor { opacity: 0.5; }
        table.top { width: 100%; border-collapse: collapse; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
        table.top th, table.top td { padding: 3px 8px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--line); }
        table.top th { background: var(--panel); }
        table.top td:first-child { min-width: 110px; }
        table.top tbody tr:hover { background: var(--panel); }
        table.top .fn { text-align: left; white-space: normal; word-break: break-all; }
        details { margin-top: 26px; }
        summary { cursor: pointer; font-weight: 600; }
        pre { padding: 12px; overflow-x: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
        """;

    // Lays the tree out as positioned divs (root on top, as pprof's flame graph), widths in percent so the page can
    // be resized; a click re-roots the view at a frame, its callers drawn dimmed above to zoom back out.
    private const string Script = """
        (() => {
          'use strict';
          const root = JSON.parse(document.getElementById('flame-data').textContent);
          const box = document.getElementById('flame');
          const info = document.getElementById('flame-info');
          const hint = info.textContent;
          const row = 20;
          const parents = new Map();
          (function index(n) { for (const c of n.c) { parents.set(c, n); index(c); } })(root);
          const hash = s => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return Math.abs(h); };
          const color = n => n.k === 1 ? 'hsl(' + (18 + hash(n.n) % 24) + ', 90%, ' + (62 + hash(n.n) % 10) + '%)'
            : n.k === 2 ? 'hsl(' + (198 + hash(n.n) % 18) + ', 60%, ' + (76 + hash(n.n) % 8) + '%)'
            : n.k === 3 ? 'hsl(' + (hash(n.n) % 360) + ', 8%, ' + (84 + hash(n.n) % 6) + '%)' : '';
          const kind = n => n.k === 3 ? 'type ' : '';
          const describe = n => kind(n) + n.n + '  ' + n.s + ' (' + n.p + ' of all)';
          function frame(n, depth, left, width, ancestor) {
            const d = document.createElement('div');
            d.className = 'frame k' + n.k + (ancestor ? ' ancestor' : '');
            d.style.left = (left * 100) + '%';
            d.style.width = (width * 100) + '%';
            d.style.top = (depth * row) + 'px';
            if (n.k) d.style.background = color(n);
            d.dataset.function = n.n;
            d.title = kind(n) + n.n + '\n' + n.s + ' (' + n.p + ' of all)';
            d.textContent = n.n;
            d.addEventListener('mouseenter', () => { info.textContent = describe(n); });
            d.addEventListener('mouseleave', () => { info.textContent = hint; });
            d.addEventListener('click', () => render(n));
            box.appendChild(d);
          }
          function render(focus) {
            box.replaceChildren();
            const chain = [];
            for (let n = focus; n; n = parents.get(n)) chain.unshift(n);
            chain.forEach((n, i) => { if (n !== focus) frame(n, i, 0, 1, true); });
            let deepest = 0;
            (function lay(n, depth, left, width) {
              deepest = Math.max(deepest, depth);
              frame(n, depth, left, width, false);
              let x = left;
              for (const c of n.c) {
                const w = width * c.v / n.v;
                if (w >= 0.0005) lay(c, depth + 1, x, w);
                x += w;
              }
            })(focus, chain.length - 1, 0, 1);
            box.style.height = ((deepest + 1) * row) + 'px';
          }
          render(root);
        })();
        """;
}
