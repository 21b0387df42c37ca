namespace LeakAssert.Profiles;

/// <summary>One frame of an allocation stack: the function, its module, and file:line where a PDB told.</summary>
public sealed record Frame(string Function, string Module, string? File, int Line)
{
    /// <summary>"Function (File.cs:12)" or "Function".</summary>
    public override string ToString() => File is null ? Function : $"{Function} ({System.IO.Path.GetFileName(File)}:{Line})";

    // "Ns.Type.Method(int32,bool)" -> "Ns.Type.Method": pprof's function names carry no signature.
    internal static string ShortName(string fullMethodName)
    {
        var paren = fullMethodName.IndexOf('(');
        return paren > 0 ? fullMethodName[..paren] : fullMethodName;
    }
}
