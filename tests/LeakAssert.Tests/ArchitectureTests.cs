using System.Text.RegularExpressions;

namespace LeakAssert.Tests;

/// <summary>
/// Data flows one way through src/LeakAssert's folders (run -> measure/sample -> profile -> report/assert ->
/// artifacts): a folder never refers back to one that refers to it, however long the loop. Read from the source, so
/// that a change that brings a cycle back fails here before it is built on. The root namespace (Leak, LeakOptions,
/// LeakProfile, ByteSize) is the public entry and may use every folder.
/// </summary>
public sealed partial class ArchitectureTests
{
    // The bottom floors: the profile model and number formatting need nothing else of LeakAssert.
    private static readonly string[] Leaves = ["Profiles", "Text"];

    // The core and the profile model, pprof files and printers it builds on (the leakassert tool's only dependency).
    private static readonly string[] CoreProjects =
        [.. new[] { "LeakAssert", "LeakAssert.Profiles" }.Select(p => Path.Combine(DemoProcessTests.RepositoryRoot(), "src", p))];

    [Fact]
    public void The_folders_of_the_core_have_no_dependency_cycle()
    {
        var graph = FolderGraph(CoreProjects);

        var cycles = Cycles(graph);

        cycles.Should().BeEmpty("data flows one way; the folder graph is:\n{0}", Describe(graph));
    }

    [Fact]
    public void The_profile_model_and_number_formatting_depend_on_no_other_folder()
    {
        var graph = FolderGraph(CoreProjects);

        foreach (var leaf in Leaves)
            graph.Should().ContainKey(leaf).WhoseValue.Should().BeEmpty("{0} is a bottom floor; the folder graph is:\n{1}", leaf, Describe(graph));
    }

    [Fact]
    public void The_cycle_check_finds_a_loop_of_any_length_and_passes_a_chain()
    {
        var loop = new Dictionary<string, HashSet<string>>
        {
            ["A"] = ["B"], ["B"] = ["C"], ["C"] = ["A"], ["D"] = ["A"],
        };
        var chain = new Dictionary<string, HashSet<string>>
        {
            ["A"] = ["B", "C"], ["B"] = ["C"], ["C"] = [],
        };

        Cycles(loop).Should().Equal(["A -> B -> C"]);
        Cycles(chain).Should().BeEmpty();
    }

    [Fact]
    public void The_graph_reads_usings_qualified_names_and_relative_namespaces()
    {
        var root = Directory.CreateTempSubdirectory("leakassert-arch-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "Low"));
            Directory.CreateDirectory(Path.Combine(root, "High"));
            File.WriteAllText(Path.Combine(root, "Low", "A.cs"), "namespace LeakAssert.Low;\nclass A { string s = \"x\"; object o = options.High; }\n");
            File.WriteAllText(Path.Combine(root, "High", "B.cs"), "using LeakAssert.Low;\nnamespace LeakAssert.High;\nclass B { object c = typeof(Low.A); }\n");
            File.WriteAllText(Path.Combine(root, "High", "C.cs"), "namespace LeakAssert.High;\nclass C { object d = LeakAssert.Low.A.Make(); }\n");

            var graph = FolderGraph(root);

            graph["High"].Should().Equal("Low");
            graph["Low"].Should().BeEmpty("a member access such as options.High is not a folder");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Each folder of the given project directories and the folders its files refer to; a folder of one name in two
    /// projects (Reporting: the profile printers in LeakAssert.Profiles, the leak report in the core) is one node.
    /// </summary>
    private static Dictionary<string, HashSet<string>> FolderGraph(params string[] roots)
    {
        var directories = roots.SelectMany(Directory.GetDirectories)
            .Where(d => Path.GetFileName(d) is not ("bin" or "obj")).ToList();
        var folders = directories.Select(Path.GetFileName).OfType<string>().ToHashSet();
        var graph = folders.ToDictionary(f => f, _ => new HashSet<string>());
        foreach (var directory in directories)
        {
            var folder = Path.GetFileName(directory);
            foreach (var file in Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories))
            {
                var code = Comment().Replace(File.ReadAllText(file), "");
                // "LeakAssert.X" anywhere, and "X." as a namespace relative to LeakAssert (not a member access).
                var named = FullName().Matches(code).Select(m => m.Groups[1].Value)
                    .Concat(RelativeName().Matches(code).Select(m => m.Groups[1].Value));
                foreach (var target in named)
                    if (target != folder && folders.Contains(target)) graph[folder].Add(target);
            }
        }
        return graph;
    }

    /// <summary>Every cycle, once each, as "A -> B -> C" from its alphabetically first folder.</summary>
    private static List<string> Cycles(Dictionary<string, HashSet<string>> graph)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        void Walk(string node, List<string> path)
        {
            foreach (var next in graph.GetValueOrDefault(node, []).Order(StringComparer.Ordinal))
            {
                var at = path.IndexOf(next);
                if (at >= 0)
                {
                    var loop = path.Skip(at).ToList();
                    var start = loop.IndexOf(loop.Min(StringComparer.Ordinal)!);
                    found.Add(string.Join(" -> ", loop.Skip(start).Concat(loop.Take(start))));
                    continue;
                }
                path.Add(next);
                Walk(next, path);
                path.RemoveAt(path.Count - 1);
            }
        }
        foreach (var node in graph.Keys.Order(StringComparer.Ordinal)) Walk(node, [node]);
        return [.. found];
    }

    private static string Describe(Dictionary<string, HashSet<string>> graph) =>
        string.Join('\n', graph.OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => $"{e.Key,-12} -> {(e.Value.Count == 0 ? "-" : string.Join(", ", e.Value.Order(StringComparer.Ordinal)))}"));

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"\bLeakAssert\.(\w+)")]
    private static partial Regex FullName();

    [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\.[A-Z]")]
    private static partial Regex RelativeName();
}
