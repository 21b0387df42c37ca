namespace LeakAssert.Snapshots;

/// <summary>
/// One leak: the object that each iteration adds (the boundary, the first new object on the path from the root), the
/// old object and field that holds it (or the root), how many each iteration adds and what each one retains (every new
/// object reachable only through it). Only growth that is steady over the stretch is a group: in proportion in both
/// halves. The text report, the HTML report and the .leaks.json artifact all print from this.
/// </summary>
public sealed record LeakGroup
{
    /// <summary>
    /// A short hash of the holder's type and field and the boundary's type: the same leak has the same signature in
    /// every run, so that <c>AcceptedGrowth.Signature</c> can name it.
    /// </summary>
    public required string Signature { get; init; }

    /// <summary>The type of the object each iteration adds, as the runtime spells it ("Contoso.Quote").</summary>
    public required string BoundaryType { get; init; }

    /// <summary>
    /// What holds the boundary objects: the class of a static field, the type of the old object whose field holds them
    /// (a framework collection's owner, not the collection), or the root in words ("strong handle").
    /// </summary>
    public required string HolderType { get; init; }

    /// <summary>The field of <see cref="HolderType"/> that holds them; null for a root that is not a field.</summary>
    public string? HolderField { get; init; }

    /// <summary>What kind of GC root the path starts at.</summary>
    public required RootKind RootKind { get; init; }

    /// <summary>Boundary objects gained over the stretch (alive at its end, not before it).</summary>
    public required long Count { get; init; }

    /// <summary>The bytes the boundary objects retain together: all new objects they dominate, themselves included.</summary>
    public required long RetainedBytes { get; init; }

    /// <summary>The iterations of the stretch.</summary>
    public required int Iterations { get; init; }

    /// <summary>Boundary objects gained per iteration.</summary>
    public double CountPerIteration => Iterations == 0 ? 0 : (double)Count / Iterations;

    /// <summary>Bytes the group retains per iteration.</summary>
    public double RetainedBytesPerIteration => Iterations == 0 ? 0 : (double)RetainedBytes / Iterations;

    /// <summary>How many of the boundary objects the first and the second half of the stretch added; null without a middle snapshot.</summary>
    public (long First, long Second)? Halves { get; init; }

    /// <summary>The path from the root to one boundary object, root side first, every hop kept (the printers fold).</summary>
    public required IReadOnlyList<LeakPathNode> Path { get; init; }

    /// <summary>The root the path starts at, in words ("static field Contoso.Cache._all", "thread stack").</summary>
    public required string Root { get; init; }

    /// <summary>What the group retains, by type, most instances first.</summary>
    public required IReadOnlyList<RetainedType> Retains { get; init; }

    /// <summary>
    /// When the boundary objects are threads that keep running: what their stacks and thread statics hold, each a group
    /// of its own to the heap (a thread root's objects are not reachable from its Thread object), counted in
    /// <see cref="RetainedBytes"/>. Empty otherwise.
    /// </summary>
    public IReadOnlyList<LeakGroup> HeldByThreads { get; init; } = [];
}

/// <summary>One object on a leak's path.</summary>
/// <param name="TypeName">The type as the runtime spells it ("System.Collections.Generic.List`1[Contoso.Quote]").</param>
/// <param name="Field">The field that refers to the next object on the path; null for the last, or where no single field can.</param>
/// <param name="Role">Whether the object is old, the holder, new, or the boundary object.</param>
/// <param name="IsUserType">Whether its type is outside the System, Microsoft and Internal namespaces.</param>
/// <param name="IsCollectionPart">Whether it is a framework collection or part of one (its entries array, a node, an invocation list).</param>
public sealed record LeakPathNode(string TypeName, string? Field, LeakNodeRole Role, bool IsUserType, bool IsCollectionPart);

/// <summary>An object's part in a leak's path.</summary>
public enum LeakNodeRole
{
    /// <summary>Alive before the stretch, on the way from the root to the holder.</summary>
    Old,

    /// <summary>The last old object: its field is where to look.</summary>
    Holder,

    /// <summary>New, between the holder and the boundary object (a collection's new storage, a delegate).</summary>
    New,

    /// <summary>The object each iteration adds.</summary>
    Boundary,
}

/// <summary>Objects of one type that a leak group retains.</summary>
/// <param name="TypeName">The type as the runtime spells it.</param>
/// <param name="Count">Objects over the stretch.</param>
/// <param name="Bytes">Their bytes.</param>
public sealed record RetainedType(string TypeName, long Count, long Bytes);

/// <summary>A leak group the test accepted, and why.</summary>
public sealed record AcceptedLeak(LeakGroup Group, string Reason);
