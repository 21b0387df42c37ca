using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LeakAssert.Tests;

/// <summary>
/// Leak.Profile takes a sync workload: an async lambda would bind to its Action overload as async void and be
/// measured only up to its first await. Snippets compiled against LeakAssert here: an async workload is a compile
/// error in one sentence pointing to Leak.ProfileAsync, and a sync one binds to Action as before.
/// </summary>
public sealed class AsyncWorkloadCompileTests
{
    private const string Sentence = "Leak.Profile runs a sync workload and would measure an async one only up to its first await; use await Leak.ProfileAsync(...) for an async workload.";

    [Theory]
    [InlineData("Leak.Profile(async () => { await Task.Yield(); List.Add(1); }, iterations: 100);")]
    [InlineData("Leak.Profile(async () => await Task.Yield());")]
    [InlineData("Leak.Profile(() => Task.Delay(1), 100);")]
    [InlineData("Leak.Profile(() => new ValueTask(), 100);")]
    [InlineData("Leak.Profile(HandleAsync, 100, new LeakOptions());")]
    public void An_async_workload_is_a_compile_error_that_points_to_ProfileAsync(string call)
    {
        var (errors, _) = Compile(call);

        errors.Should().ContainSingle(string.Join("\n", errors)).Which.Id.Should().Be("CS0619", "an obsolete member used as an error");
        errors[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture).Should().EndWith($"is obsolete: '{Sentence}'");
    }

    [Theory]
    [InlineData("Leak.Profile(() => List.Add(1), 100);")]
    [InlineData("Leak.Profile(() => Set.Add(1));")]
    [InlineData("Leak.Profile(Handle, iterations: 100);")]
    [InlineData("Leak.Profile(() => { List.Add(1); }, 100, new LeakOptions());")]
    public void A_sync_workload_lambda_or_method_group_still_binds_to_Action(string call)
    {
        var (errors, bound) = Compile(call);

        errors.Should().BeEmpty();
        bound!.Parameters[0].Type.ToDisplayString().Should().Be("System.Action");
    }

    [Fact]
    public void Reached_by_reflection_an_async_overload_throws_the_same_sentence()
    {
        var refused = typeof(Leak).GetMethods().Where(m => m.Name == nameof(Leak.Profile) && m.GetParameters()[0].ParameterType != typeof(Action)).ToArray();

        refused.Should().HaveCount(4, "Func<Task> and Func<ValueTask>, each with and without an iteration count");
        foreach (var method in refused)
        {
            method.GetCustomAttribute<ObsoleteAttribute>().Should().BeEquivalentTo(new { Message = Sentence, IsError = true });
            var arguments = method.GetParameters().Select(p => p.ParameterType == typeof(int) ? 10 : (object?)null).ToArray();
            arguments[0] = method.GetParameters()[0].ParameterType == typeof(Func<Task>) ? () => Task.CompletedTask : (Func<ValueTask>)(() => default);
            FluentActions.Invoking(() => method.Invoke(null, arguments)).Should().Throw<TargetInvocationException>()
                .WithInnerException<NotSupportedException>().WithMessage(Sentence);
        }
    }

    private static readonly MetadataReference[] References =
        [.. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Append(typeof(Leak).Assembly.Location)
            .Distinct().Select(p => MetadataReference.CreateFromFile(p))];

    // The call compiled in a method beside a list, a set and two handlers; its errors, and the Profile overload it bound to.
    private static (IReadOnlyList<Diagnostic> Errors, IMethodSymbol? Bound) Compile(string call)
    {
        var source = $$"""
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using LeakAssert;

            static class Snippet
            {
                static readonly List<int> List = [];
                static readonly HashSet<int> Set = [];
                static void Handle() { }
                static Task HandleAsync() => Task.CompletedTask;
                static void Run() { {{call}} }
            }
            """;
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest));
        var compilation = CSharpCompilation.Create("Snippet", [tree], References, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        var invocation = tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>().First(i => i.Expression.ToString() == "Leak.Profile");
        var bound = compilation.GetSemanticModel(tree).GetSymbolInfo(invocation).Symbol as IMethodSymbol;
        return (errors, bound);
    }
}
