using System.Text.RegularExpressions;
using LeakAssert.Sampling;
using Microsoft.Diagnostics.NETCore.Client;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace LeakAssert.Tests;

/// <summary>
/// The self-sessions failing as a machine can make them fail (through <see cref="Faults"/>): each failure is one
/// sentence in the report, the exact verdict still decides (a real leak fails, a non-leak passes), and nothing throws
/// out of Leak.Profile or hangs.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class SessionFaultTests(ITestOutputHelper output)
{
    private const string NoServer = "the runtime's diagnostics server is not available (is DOTNET_EnableDiagnostics=0 set?)";

    private static readonly LeakOptions Quick = new() { AttributionBudget = TimeSpan.Zero };

    // The non-leak records a session and takes snapshots too, so that the fault meets it as well.
    private static readonly LeakOptions Traced = Quick with { Sampling = SamplingMode.Always, HeapSnapshots = HeapSnapshotMode.Always };

    [Fact]
    public void When_no_session_will_start_the_report_says_why_and_the_exact_verdict_still_decides()
    {
        Faults.BeforeStart = _ => throw new ServerNotAvailableException("injected by the test");
        var (leaking, clean) = ProfileBoth();

        leaking.SamplingProblem.Should().Be(NoServer, leaking.Report());
        leaking.HeapSnapshotProblem.Should().Be(NoServer, leaking.Report());
        leaking.Report().Should().Contain($"No heap profile: {NoServer}. The verdict rests on the exact figures above", leaking.Report())
            .And.Contain($"What leaks: no heap snapshots: {NoServer}.", leaking.Report());
        clean.SamplingProblem.Should().Be(NoServer, clean.Report());
        clean.HeapSnapshotProblem.Should().Be(NoServer, clean.Report());
        ExactVerdictsDecide(leaking, clean);
    }

    [Fact]
    public void A_sampling_session_that_starts_too_late_is_drained_as_it_stops_and_the_next_session_records()
    {
        using var late = new ManualResetEventSlim();
        LeakProfile leaking;
        try
        {
            Faults.BeforeStart = label => { if (label == "sampling") late.Wait(); };
            leaking = Leak.Profile(new StaticListLeak().Remember, iterations: 2_000, Quick);
            StaticListLeak.Clear();
        }
        finally
        {
            Faults.BeforeStart = null;
            late.Set();
        }
        // The late session starts now and is stopped while this run records: were it not drained, its stop would hang
        // and hold up this run's own stop.
        var next = Leak.Profile(new StaticListLeak().Remember, iterations: 2_000, Quick);
        StaticListLeak.Clear();

        leaking.SamplingProblem.Should().Be("the EventPipe session did not start within 10 s", leaking.Report());
        leaking.Report().Should().Contain("No heap profile: the EventPipe session did not start within 10 s.", leaking.Report());
        LeakFails(leaking);
        output.WriteLine($"late start: {leaking.Elapsed.TotalSeconds:0.0} s; the next run: {next.Elapsed.TotalSeconds:0.0} s");
        next.SamplingProblem.Should().BeNull(next.Report());
        next.Profiles.Should().NotBeNull(next.Report());
    }

    [Fact]
    public void A_heap_snapshot_that_loses_events_is_no_snapshot_and_the_exact_verdict_still_decides()
    {
        // Enough objects that a 1 MB buffer cannot hold the dump (SnapshotTests takes one alone the same way).
        var many = Tiny.Make(300_000);
        Faults.HeapDumpBufferMB = 1;
        var (leaking, clean) = ProfileBoth();

        const string Lost = @"^the heap snapshot lost [\d,]+ events, so it is incomplete$";
        output.WriteLine(leaking.HeapSnapshotProblem);
        leaking.HeapSnapshotProblem.Should().MatchRegex(Lost, leaking.Report());
        leaking.HeapGrowth.Should().BeNull("a graph with objects missing would send a search down wrong paths\n{0}", leaking.Report());
        leaking.Report().Should().MatchRegex(@"(?m)^What leaks: no heap snapshots: the heap snapshot lost [\d,]+ events, so it is incomplete\.$", leaking.Report());
        clean.HeapSnapshotProblem.Should().MatchRegex(Lost, clean.Report());
        ExactVerdictsDecide(leaking, clean);
        GC.KeepAlive(many);
    }

    [Fact]
    public void A_temp_folder_that_cannot_be_written_is_one_sentence_and_the_exact_verdict_still_decides()
    {
        // A folder under a file: no user, root included, can make it.
        var file = Path.GetTempFileName();
        try
        {
            Faults.TempFolder = Path.Combine(file, "sessions");
            var (leaking, clean) = ProfileBoth();

            var noFolder = "no temporary folder could be made for the session's trace: DirectoryNotFoundException: Could not find a part of the path '" + Faults.TempFolder;
            output.WriteLine(leaking.SamplingProblem);
            leaking.SamplingProblem.Should().StartWith(noFolder, leaking.Report()).And.EndWith("'", "the report adds the period\n{0}", leaking.Report());
            leaking.Report().Should().Contain("No heap profile: " + noFolder, leaking.Report())
                .And.Contain("the session that follows objects between heap snapshots did not start: " + noFolder, leaking.Report());
            Regex.Matches(leaking.Report(), Regex.Escape(noFolder)).Should().HaveCount(2, "one sentence for the profile, one for the leak groups\n{0}", leaking.Report());
            leaking.HeapGrowth.Should().NotBeNull("a heap dump needs no folder\n{0}", leaking.Report());
            clean.SamplingProblem.Should().StartWith(noFolder, clean.Report());
            ExactVerdictsDecide(leaking, clean);
        }
        finally
        {
            Faults.TempFolder = null;
            File.Delete(file);
        }
    }

    [Fact]
    public void A_sampling_pump_that_throws_mid_stream_is_one_sentence_and_its_session_still_stops()
    {
        Faults.Stream = (label, stream) => label == "sampling" ? new BreakingStream(stream) : stream;
        var (leaking, clean) = ProfileBoth();

        // Not "did not stop within 30 s": the rest of the stream was drained, so the stop ended.
        const string Broke = "reading the EventPipe stream failed: InvalidOperationException: " + BreakingStream.Message;
        leaking.SamplingProblem.Should().Be(Broke, leaking.Report());
        leaking.Report().Should().Contain($"No heap profile: {Broke}.", leaking.Report());
        leaking.HeapGrowth.Should().NotBeNull("the heap snapshots have sessions of their own\n{0}", leaking.Report());
        clean.SamplingProblem.Should().Be(Broke, clean.Report());
        ExactVerdictsDecide(leaking, clean);
    }

    [Fact]
    public void A_heap_snapshot_reader_that_throws_mid_stream_is_one_sentence_and_the_exact_verdict_still_decides()
    {
        Faults.Stream = (label, stream) => label == "heap dump" ? new BreakingStream(stream) : stream;
        var (leaking, clean) = ProfileBoth();

        output.WriteLine(leaking.HeapSnapshotProblem);
        leaking.HeapSnapshotProblem.Should().StartWith("reading the heap snapshot failed: ", leaking.Report())
            .And.Contain(BreakingStream.Message, leaking.Report());
        leaking.Report().Should().Contain("What leaks: no heap snapshots: reading the heap snapshot failed: ", leaking.Report());
        leaking.SamplingProblem.Should().BeNull(leaking.Report());
        clean.HeapSnapshotProblem.Should().StartWith("reading the heap snapshot failed: ", clean.Report());
        ExactVerdictsDecide(leaking, clean);
    }

    /// <summary>A leak of 1 kB arrays and a workload that only churns, profiled with every fault hook reset after.</summary>
    private static (LeakProfile Leaking, LeakProfile Clean) ProfileBoth()
    {
        try
        {
            var leaking = Leak.Profile(new StaticListLeak().Remember, iterations: 2_000, Quick);
            StaticListLeak.Clear();
            var clean = Leak.Profile(() => Garbage.Churn(), iterations: 500, Traced);
            return (leaking, clean);
        }
        finally
        {
            Faults.BeforeStart = null;
            Faults.Stream = null;
            Faults.HeapDumpBufferMB = null;
        }
    }

    private static void ExactVerdictsDecide(LeakProfile leaking, LeakProfile clean)
    {
        LeakFails(leaking);
        clean.Should().NotRetainMoreThan(64.Bytes().PerIteration(), clean.Report());
    }

    private static void LeakFails(LeakProfile leaking)
    {
        var act = () => leaking.Should().NotRetainMoreThan(64.Bytes().PerIteration());
        act.Should().Throw<XunitException>(leaking.Report()).WithMessage("*still rising*");
    }

    /// <summary>Passes the first read through, then throws, as a broken consumer would.</summary>
    private sealed class BreakingStream(Stream inner) : Stream
    {
        public const string Message = "injected by the test: the stream broke";
        private int _reads;

        public override int Read(byte[] buffer, int offset, int count) =>
            _reads++ == 0 ? inner.Read(buffer, offset, count) : throw new InvalidOperationException(Message);

        public override int Read(Span<byte> buffer) =>
            _reads++ == 0 ? inner.Read(buffer) : throw new InvalidOperationException(Message);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
