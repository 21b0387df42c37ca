using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LeakAssert.Profiles;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Reporting;

/// <summary>
/// A profile as one self-contained HTML page: a flame graph and pprof's top. CSS, SVG and script are inline and
/// nothing is fetched, so the file opens anywhere, offline and as a CI artifact. Every string from a profile is
/// HTML-escaped (type and method names hold &lt; &gt; &amp;); numbers are culture-invariant. The leak report's page
/// (<c>HtmlReport</c> in the core) is built from the same parts.
/// </summary>
internal static class ProfilePage
{
    private const int TopRows = 20;

    /// <summary>Writes the page of one profile: the flame graph and top for one value (a .pb.gz file opened on its own).</summary>
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

    internal static void Open(TextWriter w, string title)
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

    internal static void Close(TextWriter w, string? flameTree)
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

    /// <summary>Writes the flame graph's place on the page and returns its data for the script, or null when there is nothing to draw.</summary>
    internal static string? FlameGraph(TextWriter w, HeapProfile profile, SampleValue value)
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

    internal static void TopTable(TextWriter w, HeapProfile profile, SampleValue value)
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
    internal static string Format(SampleValue value, long v) => value.IsBytes() ? Bytes(v) : Count(v);

    internal static void Line(TextWriter w, string text)
    {
        w.Write(text);
        w.Write('\n');
    }

    internal static string E(string text) => WebUtility.HtmlEncode(text);

    // The page's CSS and script live as files beside this one, embedded in the assembly and inlined into each page.
    private static readonly string Css = Resource("report.css");
    private static readonly string Script = Resource("flame.js");

    private static string Resource(string name)
    {
        using var stream = typeof(ProfilePage).Assembly.GetManifestResourceStream("LeakAssert.Reporting.Html." + name)
            ?? throw new InvalidOperationException($"The LeakAssert.Profiles assembly lacks its embedded resource {name}; it was built without Reporting/Html.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().TrimEnd('\n');
    }
}
