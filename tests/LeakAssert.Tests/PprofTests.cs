using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using FluentAssertions.Equivalency;
using Google.Protobuf;
using LeakAssert.Pprof;
using LeakAssert.Profiles;
using LeakAssert.Reporting;
using LeakAssert.Sampling;
using Xunit.Abstractions;
using Proto = LeakAssert.Pprof.Proto;

namespace LeakAssert.Tests;

/// <summary>Profiles as pprof files: the format pprof expects, a lossless round trip, plain errors for bad files.</summary>
public sealed class PprofTests
{
    private static readonly Frame Leaf = new("App.Cache.Add", "App", "/src/App/Cache.cs", 42);
    private static readonly Frame LeafOtherLine = new("App.Cache.Add", "App", "/src/App/Cache.cs", 47);
    private static readonly Frame Caller = new("App.Handler.Handle", "App", "/src/App/Handler.cs", 10);
    private static readonly Frame NoFile = new("System.Collections.Generic.List`1[System.__Canon].set_Capacity", "System.Private.CoreLib", null, 0);
    private static readonly Frame Root = new("Program+<>c.<Main>b__0_0", "App", "/src/App/Program.cs", 5);

    private static HeapProfile Sample(string name = "diff") => new(name,
    [
        new ProfileSample([Leaf, Caller, Root], "System.Byte[]", 5_000, 5_120_000, 4_900, 5_017_600, 50, 49, 1.2345678901234567e11),
        new ProfileSample([LeafOtherLine, Caller, Root], "System.String", 300, 19_200, -120, -7_680, 3, 2, 0.1),
        new ProfileSample([NoFile, Caller, Root], "System.Byte[]", 2, 262_168, 0, 0, 2, 0, 0),
        new ProfileSample([NoFile], "System.Object[]", 0, 0, -1, -131_096, 0, 1, 8.5e9),
        new ProfileSample([], "System.Int32[]", 1, 100, 1, 100, 1, 1, 3),
    ], new DateTimeOffset(2025, 3, 14, 15, 9, 26, 535, TimeSpan.FromHours(2)).AddTicks(8979));

    [SkippableFact]
    public void A_profile_round_trips_through_pprof_bytes_with_every_field()
    {
        var original = Sample();

        var read = PprofReader.Read(PprofWriter.ToBytes(original), "test.pb.gz");

        read.Name.Should().Be("diff");
        read.CapturedAt.Should().Be(original.CapturedAt);
        read.Samples.Should().BeEquivalentTo(original.Samples, WithinWholeBytesSquared);
        read.Samples[3].Stack[0].File.Should().BeNull("a frame without a file reads back without one");
        read.Samples[1].InuseSpace.Should().Be(-7_680, "a diff's negative values are kept");
        read.Samples[0].InuseBytesVariance.Should().Be(123_456_789_012, "the variance is a sample value, rounded to a whole byte²");
        read.Samples[1].InuseBytesVariance.Should().Be(0);
    }

    [SkippableFact]
    public void The_file_has_pprofs_heap_layout_with_shared_frames_written_once()
    {
        var p = Decode(PprofWriter.ToBytes(Sample()));
        string S(long i) => p.StringTable[(int)i];

        p.StringTable[0].Should().BeEmpty();
        p.SampleType.Select(t => S(t.Type) + "/" + S(t.Unit)).Should().Equal(
            "alloc_objects/count", "alloc_space/bytes", "inuse_objects/count", "inuse_space/bytes",
            "alloc_samples/count", "inuse_samples/count", "inuse_space_variance/bytes²");
        S(p.DefaultSampleType).Should().Be("inuse_space");
        (S(p.PeriodType.Type) + "/" + S(p.PeriodType.Unit)).Should().Be("space/bytes");
        p.Period.Should().Be(102_400);
        p.TimeNanos.Should().Be(Sample().CapturedAt.ToUnixTimeMilliseconds() * 1_000_000 + 897_900);
        p.Comment.Select(S).Should().Equal("leakassert:diff");

        p.Function.Select(f => f.Id).Should().Equal(1UL, 2UL, 3UL, 4UL);
        p.Function.Select(f => S(f.Name)).Should().Equal(Leaf.Function, Caller.Function, Root.Function, NoFile.Function);
        p.Function.Select(f => S(f.SystemName)).Should().Contain("App!App.Cache.Add").And.Contain("System.Private.CoreLib!" + NoFile.Function);
        p.Function.Select(f => S(f.Filename)).Should().Equal("/src/App/Cache.cs", "/src/App/Handler.cs", "/src/App/Program.cs", "");
        p.Location.Select(l => l.Id).Should().Equal(1UL, 2UL, 3UL, 4UL, 5UL);
        p.Location.Should().OnlyContain(l => l.Line.Count == 1);
        p.Location.Select(l => (l.Line[0].FunctionId, l.Line[0].Line_)).Should().Equal((1L, 42L), (2L, 10L), (3L, 5L), (1L, 47L), (4L, 0L));

        p.Sample[0].LocationId.Should().Equal([1UL, 2UL, 3UL], "leaf first, as pprof orders a stack");
        p.Sample[1].LocationId.Should().Equal(4UL, 2UL, 3UL);
        p.Sample[0].Value.Should().Equal(5_000L, 5_120_000L, 4_900L, 5_017_600L, 50L, 49L, 123_456_789_012L);
        p.Sample[1].Value.Should().Equal(300L, 19_200L, -120L, -7_680L, 3L, 2L, 0L);
        // pprof merges samples (as -base does) only when their labels are equal: the type is the only label.
        p.Sample.SelectMany(s => s.Label).Select(l => S(l.Key)).Should().Equal(Enumerable.Repeat("type", p.Sample.Count));
        S(p.Sample[1].Label[0].Str).Should().Be("System.String");
    }

    [SkippableFact]
    public void Uncompressed_profile_proto_reads_as_pprof_reads_it()
    {
        var plain = Decode(PprofWriter.ToBytes(Sample("after"))).ToByteArray();

        var read = PprofReader.Read(plain, "plain.pb");

        read.Name.Should().Be("after");
        read.Samples.Should().BeEquivalentTo(Sample().Samples, WithinWholeBytesSquared);
    }

    [SkippableFact]
    public void Random_bytes_are_not_gzip_data()
    {
        var random = new byte[4096];
        new Random(20250314).NextBytes(random);
        random[0] = 0x42;

        var read = () => PprofReader.Read(random, "profile.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage("profile.pb.gz is not gzip data: expected a gzipped pprof profile (.pb.gz).");
    }

    [SkippableTheory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(-4)]
    [InlineData(-1)]
    [InlineData(12)]
    public void A_truncated_file_says_it_is_truncated(double cut)
    {
        var bytes = PprofWriter.ToBytes(Sample());
        var length = cut switch { < 0 => bytes.Length + (int)cut, < 1 => (int)(bytes.Length * cut), _ => (int)cut };

        var read = () => PprofReader.Read(bytes[..length], "leak.diff.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage(
            "leak.diff.pb.gz is truncated gzip data: its compressed stream ends early; expected a complete gzipped pprof profile (.pb.gz).");
    }

    [SkippableFact]
    public void Corrupt_gzip_data_says_it_is_corrupt()
    {
        var bytes = PprofWriter.ToBytes(Sample());
        for (var i = 20; i < 40; i++) bytes[i] ^= 0x5a;

        var read = () => PprofReader.Read(bytes, "leak.diff.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage(
            "leak.diff.pb.gz is corrupt gzip data: it fails to decompress or its checksum does not match; expected a gzipped pprof profile (.pb.gz).");
    }

    [SkippableFact]
    public void Gzip_that_holds_no_profile_message_is_not_a_pprof_profile()
    {
        // 0x0f opens a field with the wire type 7, which does not exist: no protobuf message starts so.
        var read = () => PprofReader.Read(Gzip([0x0f, .. "not a profile"u8]), "notes.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage(
            "notes.pb.gz is not a pprof profile: its gzip data does not hold a profile.proto message; expected a gzipped pprof profile (.pb.gz).");
    }

    [SkippableFact]
    public void Gzip_of_text_is_not_a_pprof_profile()
    {
        var read = () => PprofReader.Read(Gzip("hello, this is not a profile\n"u8.ToArray()), "hello.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage(
            "hello.pb.gz is not a pprof profile: its gzip data does not hold a profile.proto message; expected a gzipped pprof profile (.pb.gz).");
    }

    [SkippableFact]
    public void Gzip_of_an_empty_message_is_not_a_pprof_profile()
    {
        // drop_frames = 0: a well-formed message that has none of a profile's parts.
        var read = () => PprofReader.Read(Gzip([0x38, 0x00]), "nothing.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage(
            "nothing.pb.gz is not a pprof profile: its string table does not start with the empty string, as profile.proto requires.");
    }

    [SkippableFact]
    public void A_cpu_profile_is_not_a_heap_profile()
    {
        var cpu = new Proto.Profile { StringTable = { "", "samples", "count", "cpu", "nanoseconds" } };
        cpu.SampleType.Add(new Proto.ValueType { Type = 1, Unit = 2 });
        cpu.SampleType.Add(new Proto.ValueType { Type = 3, Unit = 4 });

        var read = () => PprofReader.Read(Gzip(cpu.ToByteArray()), "cpu.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage(
            "cpu.pb.gz is not a pprof profile: its sample types are samples/count, cpu/nanoseconds; expected a heap profile with alloc_objects/count, alloc_space/bytes, inuse_objects/count, inuse_space/bytes.");
    }

    [SkippableFact]
    public void A_sample_count_beyond_an_int_is_named()
    {
        var p = Decode(PprofWriter.ToBytes(Sample()));
        p.Sample[2].Value[5] = 1L << 40;

        var read = () => PprofReader.Read(Gzip(p.ToByteArray()), "huge.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage("huge.pb.gz is not a pprof profile: sample 3 has inuse_samples 1099511627776; expected a count up to 2147483647.");
    }

    [SkippableFact]
    public void Negative_counts_from_pprofs_own_base_subtraction_read_as_unknown()
    {
        // go tool pprof -proto -base before after subtracts every value, LeakAssert's counts and variance included.
        var p = Decode(PprofWriter.ToBytes(Sample()));
        p.Sample[0].Value[4] = -3;
        p.Sample[0].Value[6] = -5_000;

        var read = PprofReader.Read(Gzip(p.ToByteArray()), "merged.pb.gz").Samples[0];

        (read.AllocSamples, read.InuseSamples, read.InuseBytesVariance).Should().Be((0, 49, 0.0));
    }

    [SkippableFact]
    public void A_sample_that_refers_to_a_missing_location_is_named()
    {
        var p = Decode(PprofWriter.ToBytes(Sample()));
        p.Sample[1].LocationId[0] = 99;

        var read = () => PprofReader.Read(Gzip(p.ToByteArray()), "broken.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage("broken.pb.gz is not a pprof profile: sample 2 refers to location 99, which the profile does not define.");
    }

    [SkippableFact]
    public void An_empty_file_says_so()
    {
        var read = () => PprofReader.Read([], "empty.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage("empty.pb.gz is empty: expected a gzipped pprof profile (.pb.gz).");
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(3)]
    public void A_gzip_bomb_is_refused_at_the_cap_without_being_kept(int gibibytes)
    {
        var bomb = GzipOfZeros((long)gibibytes << 30);
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var read = () => PprofReader.Read(bomb, "bomb.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage(
            "bomb.pb.gz is too large: its gzip data decompresses to more than 256MB, the most LeakAssert reads as one profile.");
        (GC.GetAllocatedBytesForCurrentThread() - allocated).Should().BeLessThan(16L << 20,
            "decompressing stops past the cap and keeps nothing, where {0} GiB of zeros came out", gibibytes);
    }

    [SkippableFact]
    public void Gzip_data_of_exactly_the_cap_is_decompressed_and_read()
    {
        var read = () => PprofReader.Read(GzipOfZeros(256L << 20), "zeros.pb.gz");

        read.Should().Throw<InvalidDataException>().WithMessage(
            "zeros.pb.gz is not a pprof profile: its gzip data does not hold a profile.proto message; expected a gzipped pprof profile (.pb.gz).");
    }

    [SkippableFact]
    public void A_file_larger_than_the_cap_is_refused_before_it_is_read() => InTemporaryDirectory(directory =>
    {
        var path = Path.Combine(directory, "huge.pb.gz");
        // Sparse where the file system allows: its length costs no disk.
        using (var file = File.Create(path)) file.SetLength((256L << 20) + 1);
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var read = () => PprofFiles.Read(path);

        read.Should().Throw<InvalidDataException>().WithMessage(
            "huge.pb.gz is too large: the file holds more than 256MB, the most LeakAssert reads as one profile.");
        (GC.GetAllocatedBytesForCurrentThread() - allocated).Should().BeLessThan(1L << 20, "the file's length refuses it");
    });

    [SkippableFact]
    public void A_directory_or_a_missing_file_is_named_in_one_sentence() => InTemporaryDirectory(directory =>
    {
        var missing = Path.Combine(directory, "nope.pb.gz");
        var missingDirectory = Path.Combine(directory, "nowhere", "nope.pb.gz");

        FluentActions.Invoking(() => PprofFiles.Read(directory)).Should().Throw<InvalidDataException>()
            .WithMessage($"{directory} is a directory, not a profile: expected a gzipped pprof profile (.pb.gz).");
        foreach (var path in new[] { missing, missingDirectory })
            FluentActions.Invoking(() => PprofFiles.Read(path)).Should().Throw<FileNotFoundException>()
                .WithMessage($"{path} does not exist: expected a gzipped pprof profile (.pb.gz).")
                .Which.FileName.Should().Be(path);
    });

    [SkippableFact]
    public void Files_are_written_with_their_names_and_read_back()
    {
        var directory = Directory.CreateTempSubdirectory("leakassert-pprof-");
        try
        {
            var set = new ProfileSet(Sample("before"), Sample("after"), Sample("diff"), 60, 2);
            var target = Path.Combine(directory.FullName, "nested");

            var paths = PprofFiles.Write(set, target, "orders");

            paths.Should().Be((Path.Combine(target, "orders.before.pb.gz"), Path.Combine(target, "orders.after.pb.gz"), Path.Combine(target, "orders.diff.pb.gz")));
            PprofFiles.Read(paths.Before).Name.Should().Be("before");
            PprofFiles.Read(paths.After).Name.Should().Be("after");
            PprofFiles.Read(paths.Diff).Samples.Should().BeEquivalentTo(set.Diff.Samples, WithinWholeBytesSquared);
            File.WriteAllText(paths.Diff, "not a profile");
            var read = () => PprofFiles.Read(paths.Diff);
            read.Should().Throw<InvalidDataException>().WithMessage("orders.diff.pb.gz is not gzip data: expected a gzipped pprof profile (.pb.gz).");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [SkippableTheory]
    [InlineData(null, "The base name must name the files, but it is null or empty. (Parameter 'baseName')")]
    [InlineData("", "The base name must name the files, but it is null or empty. (Parameter 'baseName')")]
    public void A_base_name_that_is_no_file_name_is_refused_in_one_sentence(string? baseName, string message)
    {
        var set = new ProfileSet(Sample("before"), Sample("after"), Sample("diff"), 0, 0);

        var write = () => PprofFiles.Write(set, Path.GetTempPath(), baseName!);

        write.Should().Throw<ArgumentException>().Which.Message.Should().Be(message);
    }

    // Windows' rules on every OS: a name that Linux accepts but Windows refuses is refused here too.
    [Theory]
    [InlineData("a/b", "contains the character '/'")]
    [InlineData("a\\b", "contains the character '\\'")]
    [InlineData("a\0b", "contains the character U+0000")]
    [InlineData("a:b", "contains the character ':'")]
    [InlineData("a?b", "contains the character '?'")]
    [InlineData("a*b", "contains the character '*'")]
    [InlineData("a\"b", "contains the character '\"'")]
    [InlineData("a<b", "contains the character '<'")]
    [InlineData("a>b", "contains the character '>'")]
    [InlineData("a|b", "contains the character '|'")]
    [InlineData("a\tb", "contains the character U+0009")]
    [InlineData("CON", "names the device CON on Windows")]
    [InlineData("nul", "names the device nul on Windows")]
    [InlineData("Com1", "names the device Com1 on Windows")]
    [InlineData("LPT9", "names the device LPT9 on Windows")]
    [InlineData("AUX.leak", "names the device AUX on Windows")]
    public void A_base_name_some_OS_refuses_is_refused_on_every_OS_naming_what_is_wrong(string baseName, string problem)
    {
        var set = new ProfileSet(Sample("before"), Sample("after"), Sample("diff"), 0, 0);

        var write = () => PprofFiles.Write(set, Path.GetTempPath(), baseName);

        write.Should().Throw<ArgumentException>().Which.Message.Should().Be(
            $"The base name must be a file name every OS accepts ({PortableFileName.Allowed}), but \"{baseName}\" {problem}. (Parameter 'baseName')");
    }

    [Fact]
    public void The_refusal_of_a_base_name_says_what_is_allowed()
    {
        var set = new ProfileSet(Sample("before"), Sample("after"), Sample("diff"), 0, 0);

        var write = () => PprofFiles.Write(set, Path.GetTempPath(), "a:b");

        write.Should().Throw<ArgumentException>().Which.Message.Should().Be(
            "The base name must be a file name every OS accepts (no control characters, none of / \\ : * ? \" < > |, no trailing dot or space, and no device name such as CON, NUL, COM1 or LPT1 before the first dot), but \"a:b\" contains the character ':'. (Parameter 'baseName')");
    }

    [Theory]
    [InlineData("CONSOLE")]
    [InlineData("com10")]
    [InlineData("x.")]
    [InlineData("Cart.Adding_items(a,b)")]
    public void A_base_name_every_OS_accepts_is_written(string baseName)
    {
        var directory = Directory.CreateTempSubdirectory("leakassert-pprof-");
        try
        {
            var paths = PprofFiles.Write(new ProfileSet(Sample("before"), Sample("after"), Sample("diff"), 0, 0), directory.FullName, baseName);
            File.Exists(paths.Diff).Should().BeTrue();
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    // The file keeps the variance to a whole byte², as sample values are integers; everything else is exact.
    private static EquivalencyAssertionOptions<ProfileSample> WithinWholeBytesSquared(EquivalencyAssertionOptions<ProfileSample> o) => o
        .WithStrictOrdering()
        .Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 0.5))
        .WhenTypeIs<double>();

    private static Proto.Profile Decode(byte[] pbgz)
    {
        using var gzip = new GZipStream(new MemoryStream(pbgz), CompressionMode.Decompress);
        return Proto.Profile.Parser.ParseFrom(gzip);
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(bytes);
        return buffer.ToArray();
    }

    private static void InTemporaryDirectory(Action<string> test)
    {
        var directory = Directory.CreateTempSubdirectory("leakassert-pprof-");
        try
        {
            test(directory.FullName);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>A gzip bomb: that many zero bytes in about a thousandth of the space, never all in memory at once.</summary>
    internal static byte[] GzipOfZeros(long bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (var left = bytes; left > 0; left -= zeros.Length) gzip.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
        }
        return buffer.ToArray();
    }
}

/// <summary>The files of a real leak, opened by the real <c>go tool pprof</c>: it shows what LeakAssert's own top shows.</summary>
[Collection(HeapCollection.Name)]
public sealed class GoPprofTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(2);

    [SkippableFact]
    public void Go_tool_pprof_opens_the_files_and_its_top_row_is_leakasserts_top_row()
    {
        var go = TestTools.Go();
        var leak = new PprofLeak();
        var profile = Leak.Profile(leak.Remember, iterations: 5_000);
        PprofLeak.Clear();
        profile.Profiles.Should().NotBeNull("{0}\n{1}", profile.SamplingProblem, profile.Report());
        var diff = profile.Profiles!.Diff;
        var ours = Top.Of(diff, SampleValue.InuseSpace).Rows[0];
        output.WriteLine(profile.Report());
        ours.Function.Should().Be("LeakAssert.Tests.PprofLeak.Remember", profile.Report());

        var directory = Directory.CreateTempSubdirectory("leakassert-gopprof-");
        try
        {
            var files = PprofFiles.Write(profile.Profiles, directory.FullName, "leak");
            var tmp = Directory.CreateDirectory(Path.Combine(directory.FullName, "pprof-tmp")).FullName;

            var top = RunPprof(go, tmp, "-top", "-sample_index=inuse_space", files.Diff);
            var (function, flat) = FirstRow(top);
            function.Should().Be(ours.Function, top);
            flat.Value.Should().BeCloseTo(ours.Flat, flat.Rounding, "pprof prints {0} for LeakAssert's {1} bytes\n{2}", flat.Text, ours.Flat, top);

            var based = RunPprof(go, tmp, "-top", "-sample_index=inuse_space", "-base", files.Before, files.After);
            var (baseFunction, baseFlat) = FirstRow(based);
            baseFunction.Should().Be(ours.Function, based);
            baseFlat.Value.Should().BeCloseTo(ours.Flat, baseFlat.Rounding + 64, "-base after - before is the diff, up to each row's rounding to whole bytes\n{0}", based);

            var traces = RunPprof(go, tmp, "-traces", "-sample_index=inuse_space", files.Diff);
            traces.Should().Contain("-----------+-------------------------------------------------------").And.Contain("type:  System.Byte[]");
            // A trace's value stands beside its leaf frame; LeakAssert's largest trace is among pprof's.
            var largest = Traces.Of(diff, SampleValue.InuseSpace).Samples[0];
            var leaves = Regex.Matches(traces, @"^\s+(-?[0-9.]+(?:B|kB|MB|GB|TB)?)\s+(\S+)\s*$", RegexOptions.Multiline)
                .Where(m => m.Groups[2].Value == largest.Stack[0].Function)
                .Select(m => ParseBytes(m.Groups[1].Value))
                .ToList();
            leaves.Should().Contain(v => Math.Abs(v.Value - largest.InuseSpace) <= (long)v.Rounding,
                "pprof's -traces shows the stack of {0} with {1} bytes\n{2}", largest.Stack[0].Function, largest.InuseSpace, traces);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [SkippableFact]
    public void Go_tool_pprof_base_before_after_has_the_total_of_the_diff_file()
    {
        var go = TestTools.Go();
        // Before and after share stacks with different sample counts: pprof must still cancel their values, which
        // it does only for samples whose labels are equal.
        Frame leaf = new("App.Cache.Add", "App", "/src/App/Cache.cs", 42), other = new("App.Cache.Trim", "App", "/src/App/Cache.cs", 70);
        Frame caller = new("App.Handler.Handle", "App", "/src/App/Handler.cs", 10);
        List<SampledAllocation> all = [];
        void Add(int count, Frame top, string type, long size, bool beforeBaseline, bool aliveAtBaseline, bool aliveAtEnd)
        {
            for (var i = 0; i < count; i++) all.Add(new SampledAllocation([top, caller], type, size, beforeBaseline, aliveAtBaseline, aliveAtEnd));
        }
        Add(30, leaf, "System.Byte[]", 4_000, beforeBaseline: true, aliveAtBaseline: true, aliveAtEnd: true);
        Add(10, leaf, "System.Byte[]", 4_000, beforeBaseline: true, aliveAtBaseline: true, aliveAtEnd: false);
        Add(25, leaf, "System.Byte[]", 4_000, beforeBaseline: false, aliveAtBaseline: false, aliveAtEnd: true);
        Add(40, leaf, "System.Byte[]", 4_000, beforeBaseline: false, aliveAtBaseline: false, aliveAtEnd: false);
        Add(20, other, "System.String", 2_000, beforeBaseline: true, aliveAtBaseline: true, aliveAtEnd: false);
        Add(5, other, "System.String", 2_000, beforeBaseline: false, aliveAtBaseline: false, aliveAtEnd: true);
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var set = new ProfileSet(ProfileBuilder.Before(all, at), ProfileBuilder.After(all, at), ProfileBuilder.Diff(all, at), all.Count, 0);
        var ours = Top.Of(set.Diff, SampleValue.InuseSpace).Total;

        var directory = Directory.CreateTempSubdirectory("leakassert-gopprof-base-");
        try
        {
            var files = PprofFiles.Write(set, directory.FullName, "shared");
            var tmp = Directory.CreateDirectory(Path.Combine(directory.FullName, "pprof-tmp")).FullName;

            var diffTop = RunPprof(go, tmp, "-top", files.Diff);
            var basedTop = RunPprof(go, tmp, "-top", "-base", files.Before, files.After);
            var diffTotal = Total(diffTop);
            var basedTotal = Total(basedTop);

            diffTotal.Value.Should().BeCloseTo(ours, diffTotal.Rounding, "pprof's total of the diff file is LeakAssert's\n{0}", diffTop);
            basedTotal.Text.Should().Be(diffTotal.Text, "-base before after cancels the shared stacks as the diff file does\n{0}\n{1}", basedTop, diffTop);
            basedTotal.Value.Should().BeCloseTo(ours, basedTotal.Rounding, basedTop);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [SkippableFact]
    public void Go_tool_pprof_list_puts_the_value_on_the_line_leakasserts_list_does()
    {
        var go = TestTools.Go();
        var leak = new PprofLeak();
        var profile = Leak.Profile(leak.Remember, iterations: 5_000);
        PprofLeak.Clear();
        profile.Profiles.Should().NotBeNull("{0}\n{1}", profile.SamplingProblem, profile.Report());
        const string Pattern = @"PprofLeak\.Remember$";
        var ours = SourceList.Of(profile.Profiles!.Diff, SampleValue.InuseSpace, Pattern).Routines.Should().ContainSingle(profile.Report()).Subject;
        ours.SourceFound.Should().BeTrue("pprof needs the file too to print lines\n{0}", profile.Report());
        var leaking = ours.Lines.Should().ContainSingle(l => l.Flat != 0, profile.Report()).Subject;
        leaking.Text.Should().Contain("new byte[1000]");

        var directory = Directory.CreateTempSubdirectory("leakassert-gopprof-list-");
        try
        {
            var files = PprofFiles.Write(profile.Profiles, directory.FullName, "leak");
            var tmp = Directory.CreateDirectory(Path.Combine(directory.FullName, "pprof-tmp")).FullName;

            var listed = RunPprof(go, tmp, "-list", Pattern, files.Diff);

            listed.Should().Contain($"ROUTINE ======================== LeakAssert.Tests.PprofLeak.Remember in {ours.File}");
            // pprof's rows: flat, cum ("." for zero), line number, a colon and the source text.
            var rows = Regex.Matches(listed, @"^\s*(\S+)\s+(\S+)\s+(\d+):(.*)$", RegexOptions.Multiline)
                .Select(m => (Flat: m.Groups[1].Value, Cum: m.Groups[2].Value, Line: int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), Text: m.Groups[4].Value.TrimEnd('\r')))
                .ToList();
            var valued = rows.Where(r => r.Flat != ".").ToList();
            valued.Should().ContainSingle("pprof puts the leak on one line, as LeakAssert does\n{0}", listed);
            valued[0].Line.Should().Be(leaking.Line, listed);
            valued[0].Text.Should().Be(leaking.Text, listed);
            var flat = ParseBytes(valued[0].Flat);
            flat.Value.Should().BeCloseTo(leaking.Flat, flat.Rounding, "pprof prints {0} for LeakAssert's {1} bytes\n{2}", flat.Text, leaking.Flat, listed);
            rows.Select(r => r.Line).Should().Contain(ours.Lines.Select(l => l.Line), "pprof shows at least the lines LeakAssert does (both keep 5 lines around)");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    // "Showing nodes accounting for 1.2MB, 80% of 1.5MB total" -> the total.
    private static (long Value, ulong Rounding, string Text) Total(string output)
    {
        var m = Regex.Match(output, @"of (-?[0-9.]+(?:B|kB|MB|GB|TB)?) total");
        m.Success.Should().BeTrue("pprof printed its total\n{0}", output);
        return ParseBytes(m.Groups[1].Value);
    }

    // "4.88MB" -> bytes, and how far pprof's two decimals may be from the exact value (half a hundredth of the unit).
    private static (long Value, ulong Rounding, string Text) ParseBytes(string text)
    {
        var m = Regex.Match(text, @"^(-?[0-9]+(?:\.[0-9]+)?)(B|kB|MB|GB|TB)?$");
        m.Success.Should().BeTrue($"\"{text}\" is a pprof byte value");
        var scale = m.Groups[2].Value switch { "kB" => 1L << 10, "MB" => 1L << 20, "GB" => 1L << 30, "TB" => 1L << 40, _ => 1L };
        var number = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return ((long)Math.Round(number * scale), (ulong)Math.Ceiling(0.005 * scale) + 1, text);
    }

    private static (string Function, (long Value, ulong Rounding, string Text) Flat) FirstRow(string output)
    {
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var header = lines.FindIndex(l => l.TrimStart().StartsWith("flat  flat%", StringComparison.Ordinal));
        header.Should().BeGreaterThanOrEqualTo(0, "pprof printed its top table\n{0}", output);
        lines.Count.Should().BeGreaterThan(header + 1, output);
        var columns = lines[header + 1].Split(' ', 6, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        columns.Should().HaveCount(6, "a row is flat, flat%, sum%, cum, cum% and the function\n{0}", output);
        return (columns[5], ParseBytes(columns[0]));
    }

    private string RunPprof(string go, string tmp, params string[] args)
    {
        var start = new ProcessStartInfo(go) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in (string[])["tool", "pprof", "-symbolize=none", .. args]) start.ArgumentList.Add(a);
        // pprof keeps fetched profiles under $HOME/pprof unless PPROF_TMPDIR says otherwise.
        start.Environment["PPROF_TMPDIR"] = tmp;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(ProcessTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"go {string.Join(' ', start.ArgumentList)} did not finish within {ProcessTimeout.TotalSeconds:F0} s");
        }
        var text = stdout.Result + stderr.Result;
        output.WriteLine($"$ go {string.Join(' ', start.ArgumentList)}\n{text}");
        process.ExitCode.Should().Be(0, "go {0} failed:\n{1}", string.Join(' ', start.ArgumentList), text);
        return text;
    }
}

/// <summary>A leak of its own, so that the top row names a method only this test allocates in.</summary>
public sealed class PprofLeak
{
    private static readonly List<byte[]> Sink = new(capacity: 200_000);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Remember()
    {
        var block = new byte[1000];
        block[0] = 1;
        Sink.Add(block);
    }

    public static void Clear() => Sink.Clear();
}
