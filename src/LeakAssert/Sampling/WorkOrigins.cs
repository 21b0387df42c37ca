namespace LeakAssert.Sampling;

/// <summary>
/// Where the work a thread is doing came from, read from the trace in order: a task was scheduled by the stack of its
/// TPL TaskScheduled event and runs between its TaskStarted and TaskCompleted on one thread; a thread was started by
/// the stack of the runtime's Thread/Creating event and runs its code after Thread/Running on the new thread. A sample
/// taken on a pool thread or a started thread can then be followed back to the workload that caused it.
/// </summary>
internal sealed class WorkOrigins
{
    private readonly Dictionary<int, WorkOrigin> _scheduledTasks = [];
    private readonly Dictionary<ulong, WorkOrigin> _creatingThreads = [];
    private readonly Dictionary<int, WorkOrigin> _threads = [];
    private readonly Dictionary<int, List<(int TaskId, WorkOrigin? Origin)>> _running = [];

    /// <summary>Samples, tasks and threads started while this thread did this work come from it; null when unknown.</summary>
    public WorkOrigin? Current(int threadId)
    {
        if (_running.TryGetValue(threadId, out var tasks))
            for (var i = tasks.Count - 1; i >= 0; i--)
                if (tasks[i].Origin is { } origin) return origin;
        return _threads.GetValueOrDefault(threadId);
    }

    public void TaskScheduled(int threadId, int taskId, ulong[]? stack) =>
        _scheduledTasks[taskId] = new WorkOrigin(WorkKind.Task, stack, Current(threadId));

    // A task scheduled before the session (or run without being scheduled) has no known origin, but it still nests.
    public void TaskStarted(int threadId, int taskId)
    {
        if (!_running.TryGetValue(threadId, out var tasks)) _running[threadId] = tasks = [];
        tasks.Add((taskId, _scheduledTasks.GetValueOrDefault(taskId)));
    }

    public void TaskCompleted(int threadId, int taskId)
    {
        _scheduledTasks.Remove(taskId);
        if (!_running.TryGetValue(threadId, out var tasks)) return;
        var at = tasks.FindLastIndex(t => t.TaskId == taskId);
        if (at >= 0) tasks.RemoveRange(at, tasks.Count - at);
    }

    // The id is the runtime's for the new thread, the same in its Thread/Running event.
    public void ThreadCreating(int threadId, ulong id, ulong[]? stack) =>
        _creatingThreads[id] = new WorkOrigin(WorkKind.Thread, stack, Current(threadId));

    // The OS may reuse a thread id: whatever ran under it before says nothing about the new thread.
    public void ThreadRunning(int threadId, ulong id)
    {
        _running.Remove(threadId);
        if (_creatingThreads.Remove(id, out var origin)) _threads[threadId] = origin;
        else _threads.Remove(threadId);
    }
}

internal enum WorkKind { Task, Thread }

/// <summary>The stack that scheduled a task or started a thread (leaf first; null when unknown), and the work its own thread was doing then.</summary>
internal sealed record WorkOrigin(WorkKind Kind, ulong[]? Stack, WorkOrigin? Parent);
