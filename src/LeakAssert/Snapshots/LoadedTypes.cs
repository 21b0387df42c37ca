using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Loader;

namespace LeakAssert.Snapshots;

/// <summary>
/// What reflection over this process's loaded assemblies adds to a heap graph, whose edges carry no field names and
/// whose static roots name the field but not its class: the one instance field of a parent that can hold a child, and
/// the class that declares a static root. Cached per snapshot, so that nothing outlives it.
/// </summary>
internal sealed class LoadedTypes
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
    private const int StructDepth = 3;

    private readonly Assembly[] _assemblies;
    private readonly Dictionary<string, Type?> _definitions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Type?> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, InstanceField[]> _fields = [];
    private readonly Dictionary<Assembly, Type[]> _assemblyTypes = [];

    public LoadedTypes()
    {
        // CoreLib first: most names on a path are its own.
        var core = typeof(object).Assembly;
        _assemblies = [core, .. AppDomain.CurrentDomain.GetAssemblies().Where(a => a != core)];
    }

    /// <summary>The loaded type the runtime named so, or null.</summary>
    public Type? Resolve(string runtimeName)
    {
        if (!_types.TryGetValue(runtimeName, out var type))
            _types[runtimeName] = type = TypeName.Parse(runtimeName).Resolve(Definition);
        return type;
    }

    /// <summary>
    /// The instance field of <paramref name="parent"/> (base classes and embedded structs included) that holds
    /// <paramref name="child"/>, when exactly one field can; null when none or several can, or the parent is unknown.
    /// An unknown child leaves every reference field a candidate.
    /// </summary>
    public string? FieldHolding(Type? parent, Type? child)
    {
        if (parent is null || parent.IsArray) return null;
        InstanceField? found = null;
        foreach (var field in Fields(parent))
        {
            if (child is not null && !field.Declared.IsAssignableFrom(child)) continue;
            if (found is not null) return null;
            found = field;
        }
        return found is null ? null : found.IsEvent ? found.Label + " (event)" : found.Label;
    }

    /// <summary>
    /// "static field Contoso.Cache._all": the runtime reports a static root's field name, the address of its slot and
    /// the type of its value, but not the class. The class is the one whose field of that name lives at that slot
    /// (searched from the value type's own assemblies out, so that the search usually ends early), or else the one
    /// loaded class with a static field of that name that can hold the value.
    /// </summary>
    public string DescribeStatic(string field, Type? value, ulong slot)
    {
        var candidates = new List<FieldInfo>();
        foreach (var type in TypesNear(value))
        {
            FieldInfo? f;
            try
            {
                f = type.GetField(field, Declared | BindingFlags.Static);
                if (f is null || f.IsLiteral || f.IsDefined(typeof(ThreadStaticAttribute), inherit: false)) continue;
                if (value is not null && !f.FieldType.IsAssignableFrom(value)) continue;
                if (SlotOf(f) == (nint)slot) return Describe(f);
            }
            catch (Exception e) when (IsLoadFailure(e))
            {
                // A field whose type needs an assembly that is not there (a test host's optional one) holds nothing here.
                continue;
            }
            candidates.Add(f);
        }
        return candidates.Count switch
        {
            1 => Describe(candidates[0]),
            0 => $"static field {Label(field)}",
            var n => $"static field {Label(field)} (declared by one of {n} classes)",
        };
    }

    // What reflection throws for a type or field whose assembly cannot be loaded.
    private static bool IsLoadFailure(Exception e) =>
        e is FileNotFoundException or FileLoadException or TypeLoadException or BadImageFormatException or MissingMemberException;

    /// <summary>The loaded type of each type ID, through the runtime's type handle that the ID is.</summary>
    /// <remarks>
    /// Only while no collectible load context exists (checked by the caller before the dump and here after it): a
    /// collectible type's handle dangles once its context unloads, and reading it would end the process. Without
    /// one, no handle of a live object's type is ever freed.
    /// </remarks>
    public static Type?[] ByHandle(ulong[] ids)
    {
        var types = new Type?[ids.Length];
        if (AnyCollectible()) return types;
        for (var i = 0; i < ids.Length; i++) types[i] = Type.GetTypeFromHandle(RuntimeTypeHandle.FromIntPtr((nint)ids[i]));
        return types;
    }

    /// <summary>Whether a collectible load context exists, whose types' handles may be freed.</summary>
    public static bool AnyCollectible() => AssemblyLoadContext.All.Any(c => c.IsCollectible);

    /// <summary>A field's name as its source reads: a property's backing field by the property's name.</summary>
    public static string Label(string fieldName) =>
        fieldName.StartsWith('<') && fieldName.EndsWith(">k__BackingField", StringComparison.Ordinal) ? fieldName[1..^16] : fieldName;

    private static string Describe(FieldInfo field) =>
        $"static field {(field.DeclaringType!.FullName ?? field.DeclaringType.Name).Replace('+', '.')}.{Label(field.Name)}";

    private Type? Definition(string path)
    {
        if (_definitions.TryGetValue(path, out var found)) return found;
        foreach (var assembly in _assemblies)
        {
            try
            {
                found = assembly.GetType(path, throwOnError: false);
            }
            catch (Exception ex) when (ex is ArgumentException or FileLoadException or BadImageFormatException)
            {
                // A name this loader cannot parse, or an assembly it cannot read: not this assembly's type.
                found = null;
            }
            if (found is not null) break;
        }
        return _definitions[path] = found;
    }

    private InstanceField[] Fields(Type type)
    {
        if (!_fields.TryGetValue(type, out var fields))
        {
            var list = new List<InstanceField>();
            Collect(type, "", 0, list);
            _fields[type] = fields = [.. list];
        }
        return fields;
    }

    // Reference fields are candidates; a struct field's own reference fields are too ("_entry.value"), as the
    // runtime reports an embedded struct's references as the containing object's.
    private static void Collect(Type type, string prefix, int depth, List<InstanceField> into)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            FieldInfo[] declaredFields;
            try { declaredFields = t.GetFields(Declared | BindingFlags.Instance); }
            catch (Exception e) when (IsLoadFailure(e)) { return; }
            foreach (var f in declaredFields)
            {
                Type declared;
                try { declared = f.FieldType; }
                catch (Exception e) when (IsLoadFailure(e)) { continue; } // its type's assembly is missing: it holds nothing we can name

                if (declared.IsPointer || declared.IsByRef || declared.IsFunctionPointer) continue;
                var label = prefix + Label(f.Name);
                if (!declared.IsValueType)
                    into.Add(new InstanceField(label, declared, depth == 0 && t.GetEvent(f.Name, Declared | BindingFlags.Instance) is not null));
                else if (!declared.IsPrimitive && !declared.IsEnum && depth < StructDepth)
                    Collect(declared, label + ".", depth + 1, into);
            }
        }
    }

    // The value type's assemblies first (its own, its element's and its type arguments'), then all others: a static
    // field usually lives next to the type it holds. Generic classes are left out: the runtime reports none of their
    // statics.
    private IEnumerable<Type> TypesNear(Type? value)
    {
        var near = new List<Assembly>();
        void Add(Type t)
        {
            if (t.HasElementType) Add(t.GetElementType()!);
            if (!near.Contains(t.Assembly)) near.Add(t.Assembly);
            foreach (var argument in t.GenericTypeArguments) Add(argument);
        }
        if (value is not null) Add(value);
        foreach (var assembly in near.Concat(_assemblies.Except(near)))
            foreach (var type in TypesOf(assembly))
                if (!type.IsGenericTypeDefinition) yield return type;
    }

    private Type[] TypesOf(Assembly assembly)
    {
        if (assembly.IsDynamic) return [];
        if (!_assemblyTypes.TryGetValue(assembly, out var types)) _assemblyTypes[assembly] = types = AllTypesOf(assembly);
        return types;
    }

    private static Type[] AllTypesOf(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            // Some types need an assembly that is not there; the others are still worth searching.
            return [.. ex.Types.OfType<Type>()];
        }
    }

    // The address of a reference-type static's slot, which is what the runtime reports as a static root's ID (a
    // struct's static is a box, whose slot this cannot give). Read through ldsflda, the one way to a static's address.
    private static nint? SlotOf(FieldInfo field)
    {
        if (field.FieldType.IsValueType) return null;
        var method = new DynamicMethod("StaticSlot", typeof(nint), Type.EmptyTypes, typeof(LoadedTypes).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldsflda, field);
        il.Emit(OpCodes.Conv_U);
        il.Emit(OpCodes.Ret);
        try
        {
            return method.CreateDelegate<Func<nint>>()();
        }
        catch (Exception ex) when (ex is TypeInitializationException or InvalidProgramException or MemberAccessException or NotSupportedException)
        {
            // A class whose initializer fails, or a field this process cannot address: not the one at the slot.
            return null;
        }
    }

    private sealed record InstanceField(string Label, Type Declared, bool IsEvent);
}
