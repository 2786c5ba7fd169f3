/* Internals of the simulation kernel shared by its files: engine.c (time,
 * CPUs, tasks, scheduling), engine_sync.c (objects) and engine_memory.c
 * (memory and control ops). Not part of the engine's API. */
#ifndef THREADSIM_ENGINE_INTERNAL_H
#define THREADSIM_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "event_queue.h"
#include "rng.h"

#define NONE UINT32_MAX
#define ENGINE_DEFAULT_MAX_EVENTS 200000000ULL
#define ENGINE_MAX_PRINTS 1000000u
#define ENGINE_MAX_TRACE_RECORDS 50000000u
#define TASK_CHUNK_BITS 12
#define TASK_CHUNK (1u << TASK_CHUNK_BITS)

enum ev_kind {
    EV_ARRIVE = 0,   /* target task becomes ready for the first time */
    EV_WAKE,         /* target task's sleep, I/O or wake-up latency ended */
    EV_JOIN_TIMEOUT, /* target task's join timed out */
    EV_CPU,          /* target CPU: switch done, op done or slice end */
    EV_POLICY,       /* the policy's timer */
    EV_OBJ_TIMEOUT,  /* target task's wait on an object timed out */
    EV_DELIVER,      /* target object (an mp_queue): its oldest item in flight arrives */
    EV_SIGNAL,       /* target = process << 5 | signal number: a signal arrives */
    EV_GIL_TIMEOUT,  /* target task's timed wait for its process's GIL ran out */
    EV_REAPED        /* target process: its teardown (process_exit_ns) is over */
};

/* Classes order simultaneous events (ordering rules 1 and 2). */
enum ev_class { CLASS_CPU = 0, CLASS_POLICY = 1, CLASS_READY = 2 };

static inline uint64_t ev_key(enum ev_class cls, uint32_t sub)
{
    return ((uint64_t)cls << 32) | sub;
}

/* Task states: the trace's states while alive, plus NEW and DONE. */
enum { TASK_NEW = TRACE_STATE_COUNT, TASK_DONE };

/* REPEAT frames count iterations left in `remaining`; WITH frames keep the
 * object to release there, WHILE frames the index of their while op. */
/* CALL frames (a function with locals) and PLAIN_CALL frames (one without)
 * keep the index of their call op in `remaining`, for its `into`. */
enum frame_kind {
    FRAME_BLOCK = 0,
    FRAME_REPEAT = 1,
    FRAME_CALL = 2,
    FRAME_WITH = 3,
    FRAME_WHILE = 4,
    FRAME_PLAIN_CALL = 5,
    FRAME_HANDLER = 6      /* a signal handler; what it interrupted resumes after it */
};
#define FRAME_KIND_SHIFT 29
#define FRAME_END_MASK ((1u << FRAME_KIND_SHIFT) - 1)

/* One level of a task's program counter: the block [first, end) being run.
 * `end` carries the frame kind in its top bits. Repeat frames count the
 * iterations left after the current one. A call frame's caller locals are
 * found through the callee's locals header (struct locals). */
struct frame {
    uint32_t pc;
    uint32_t first;
    uint32_t end;
    uint32_t remaining;
};

/* Thread-local variables of one code unit, chained to the caller's. */
struct locals {
    struct locals *parent;
    int64_t v[];
};

#define TASK_INLINE_FRAMES 2

/* A simulated thread. Kept small: 10^6 of them must fit in a few hundred MB. */
struct task {
    struct sched_entity se;
    struct task_metrics m;
    int64_t state_since;   /* when the current state began */
    int64_t op_left;       /* CPU time left of the compute op in progress, or 0 */
    int64_t ret;           /* the value of the last `return` */
    struct frame *frames;  /* inline_frames or a heap array */
    struct locals *locals; /* locals of the current code unit, or NULL */
    uint32_t process;
    uint32_t decl;         /* declared thread index, or NONE for created threads */
    uint32_t timer;        /* pending wake-up/timeout event, or NONE */
    uint32_t joiners;      /* first task blocked joining this one, or NONE */
    uint32_t wait_next;    /* next task in the joiners list it is in */
    uint32_t waiting_for;  /* while BLOCKED: the task it joins (join) or the
                              object it waits for (object reasons), else NONE */
    uint32_t proc_next;    /* next created task of the same process */
    uint32_t wait_value;   /* condition wait: the rlock depth to restore (0: none);
                              GIL wait: the switch number when the timed wait began;
                              old GIL release window: the low 32 bits of op_left at its end */
    int32_t cpu;           /* CPU it is on (RUNNING or SWITCH), else -1 */
    uint16_t nframes;
    uint16_t frames_cap;
    uint8_t state;
    uint8_t reason;
    uint8_t daemon;
    uint8_t joined;        /* some join has returned for it */
    uint8_t timed_out;     /* its wait_for timed out: the op stops re-checking */
    uint8_t redo;          /* its pc was moved back to run the current op again */
    uint8_t nogil;         /* it runs a compute op that released the GIL */
    uint8_t gil_flags;     /* TASK_GIL_* */
    uint8_t start_blocked; /* blocked in its start op's wait (start_waits), not
                              for anything else its start op ran into */
    uint8_t queued;        /* in a wait queue (engine_waitq_push*, until
                              engine_waitq_pop or _remove takes it out) */
    uint32_t lock_retry;   /* barging locks: the lock a release woke it to try
                              again when it next runs, or NONE */
    uint32_t start_wait;   /* profile.thread_start_wait: the thread its start
                              op waits to see run, or NONE */
    uint32_t start_waiter; /* the thread whose start op waits for it to run, or NONE */
    uint32_t sleep_draws;  /* random sleeps it has drawn (rng_stream_range's n) */
    struct frame inline_frames[TASK_INLINE_FRAMES];
};

enum { RESUME_NONE = 0, RESUME_SLEEP, RESUME_COMPUTE };

/* task.gil_flags */
enum {
    TASK_GIL_SIGNALED = 1,  /* woken by a GIL release: failing to take it is a failed wake-up */
    TASK_GIL_WINDOW = 2,    /* old GIL: inside its release window at a check point (the
                               GIL is free until op_left comes down to wait_value) */
    TASK_GIL_WAKE_WAIT = 4  /* old GIL: its wake-up latency counts as GIL wait */
};

/* A FIFO of blocked tasks, linked through task.wait_next. */
struct waitq {
    uint32_t head;
    uint32_t tail;
};

/* An item in a queue or a pipe. */
struct item {
    int64_t value;
    int64_t bytes;
    uint64_t seq;          /* insertion order: ties of a priority queue */
    uint32_t flow;         /* pairs the put (send) with its get (recv) in the trace */
    int64_t due;           /* mp_queue items in flight: when they arrive */
};

/* The items of a queue or of one direction of a pipe: a ring (FIFO), a
 * stack (LIFO) or a heap (priority). */
struct chan {
    struct item *items;
    size_t head;
    size_t n;
    size_t cap;
    int64_t bytes;         /* bytes buffered (pipes) */
};

/* Wait queues of data objects (object.q). Queues: getters, putters, joiners;
 * pipes: per direction d, receivers (2d) and senders (2d + 1). */
enum { Q_GETTERS = 0, Q_PUTTERS = 1, Q_JOINERS = 2 };

/* A synchronisation object at run time. Its id is its index in
 * engine.objects and the object id of the trace. */
struct object {
    const struct object_decl *decl;
    uint32_t trace_id;     /* its object id in the trace */
    uint32_t owner;        /* lock/rlock: the holder, or NONE */
    int64_t count;         /* rlock depth, semaphore value, event flag, barrier
                              arrivals; queues: items put and not yet done */
    struct waitq waiters;
    struct waitq q[4];     /* queues and pipes (see Q_GETTERS) */
    struct chan chan[2];   /* queue: chan[0] (mp_queue: chan[1] in flight); pipe: per direction */
    bool closed[2];        /* pipe ends */
    uint32_t retrying;     /* barging lock or semaphore: waiters woken and not yet back at it */
    uint32_t release_flow; /* the flow of a release that left it to such waiters, 0: none */
    bool race_open;        /* barging: taken at race_at while a woken waiter was on its way
                              (or by one), and no one has lost to that take yet */
    int64_t race_at;
};

/* A racy `add` between its read and its write. */
struct pending_add {
    uint32_t task;
    int64_t *addr;
    int64_t read;          /* the value read at the start */
    int64_t delta;
    bool atomic;           /* read and write together at the end */
    uint16_t depth;        /* the task's frame depth at the add: a handler's frames are deeper */
};

struct cpu {
    uint32_t task;         /* task on it (switching or running), or NONE */
    uint32_t last_task;    /* the task that ran last, or NONE */
    uint32_t event;        /* pending EV_CPU, or NONE (with no task: the end of a thread's exit, thread_exit_ns) */
    bool switching;        /* paying the switch cost before `task` runs */
    int64_t run_from;      /* start of the stretch not yet accounted to the policy */
    int64_t progress_from; /* when op_left was last brought up to date */
    int64_t slice;         /* slice granted at dispatch */
    int64_t slice_end;     /* absolute end of the slice, or SIM_TIME_NEVER */
    int64_t gil_check;     /* the running GIL holder's next check point after a drop request, or SIM_TIME_NEVER */
    int64_t idle_since;    /* when it last had no task */
};

/* A process's GIL at run time: CPython's new or old GIL (docs/gil.md).
 * Old GIL: waiting counts the tasks in `waiters`, woken those a release woke
 * that have not tried again yet; the holder releases at its check points only
 * while waiting + woken > 0. */
struct gil {
    struct gil_config cfg;
    bool locked;
    bool drop_request;
    uint32_t holder;         /* or NONE */
    uint32_t last_holder;    /* or NONE */
    uint32_t switch_number;
    uint32_t forced;         /* the thread that dropped on request, waiting for a switch, or NONE */
    uint32_t waiting;        /* old GIL */
    uint32_t woken;          /* old GIL */
    int64_t tick_from;       /* old GIL: when the ticks towards the next check began (last take or release) */
    struct waitq waiters;
    struct engine_gil_stats stats;
};

/* A process at run time: a declared one, or a child created by a `process`
 * op, which takes the memory layout and private objects of its template (the
 * declared process it descends from). */
struct proc {
    const char *name;
    uint32_t decl;           /* template: index in scenario.processes */
    uint32_t parent;         /* creating process, or NONE */
    int64_t *mem;            /* private memory (the template's variables) */
    int32_t *obj_map;        /* object name -> object instance, or -1 */
    uint32_t live_nondaemon; /* started, unfinished non-daemon threads */
    uint32_t unfinished;     /* threads not DONE (started or not) */
    uint32_t created_head;   /* created tasks, newest first */
    uint32_t main_task;      /* its main thread (signal handlers run there) */
    uint32_t pending;        /* signals waiting for the main thread, a bit each */
    uint8_t resume;          /* what a running handler interrupted in the main thread:
                                RESUME_SLEEP (deadline in resume_value) or
                                RESUME_COMPUTE (CPU time left in resume_value) */
    int64_t resume_value;
    bool resume_nogil;       /* the set-aside compute had released the GIL */
    uint32_t alarm;          /* the pending SIGALRM event, or NONE */
    struct waitq joiners;    /* threads joining it */
    struct gil gil;          /* cfg.mode GIL_NONE: no GIL */
    bool ended;
    bool reaping;            /* ended, its teardown not over: joiners wait */
};

struct engine {
    const struct scenario *sc;
    const struct sched_policy *pol;
    void *rq;
    struct engine_options opts;
    struct event_queue eq;
    struct rng rng;

    struct task **chunks;  /* tasks in fixed chunks: entities never move */
    size_t nchunks;
    size_t chunks_cap;
    uint32_t ntasks;
    const char **created_names; /* names of created tasks, by id - sc->nthreads */
    size_t created_names_cap;

    struct cpu *cpus;
    struct proc *procs;
    uint32_t nprocs;
    size_t procs_cap;
    bool forkserver_up;       /* the forkserver has been started */
    struct trace *trace;
    struct engine_stats stats;
    struct engine_print *prints;
    size_t nprints;
    size_t prints_cap;

    int64_t now;
    uint64_t enqueue_seq;
    uint64_t ops_executed;
    uint32_t live_tasks;   /* tasks not DONE that have started */
    uint32_t pending_task_events; /* queued events other than the policy timer */
    uint32_t policy_timer;
    int64_t policy_timer_time;
    uint32_t *running_scratch;          /* CPUs with a task, at a policy timer */
    struct sched_entity **running_entities; /* their tasks */
    bool ran;

    struct object *objects;   /* one per declared object */
    uint32_t nobjects;
    size_t objects_cap;
    int64_t *shared_mem;
    uint32_t *var_off;        /* offset of each declared variable in its memory */
    int32_t *var_map;         /* [process * nvar_names + name] -> variable, or -1 */
    struct pending_add *adds;
    size_t nadds;
    size_t adds_cap;
    uint32_t next_flow;
    struct { uint32_t task; int64_t when; } *deadlines; /* wait_for ops in progress with a timeout */
    size_t ndeadlines;
    size_t deadlines_cap;
    struct pool *pools;
    size_t npools;
    size_t pools_cap;
    uint32_t pool_workers_named; /* pool workers so far, for their names */
    char **kept;              /* strings the engine made (worker names), freed with it */
    size_t nkept;
    size_t kept_cap;

    enum status failed;    /* first error raised while handling an instant */
    struct error *err;
};

/* Results of interpreting ops. */
enum step {
    STEP_NEXT = 0, /* go on with the next op */
    STEP_TIMED,    /* a compute op started: op_left is set */
    STEP_OFF_CPU,  /* the task blocked or finished; its CPU is free */
    STEP_ERROR     /* e->failed is set */
};

static inline struct task *engine_task_at(const struct engine *e, uint32_t id)
{
    return &e->chunks[id >> TASK_CHUNK_BITS][id & (TASK_CHUNK - 1)];
}

/* Raises a run-time error (status) about task t (may be NULL) at op (may be
 * NULL); the first error of a run wins. Returns STEP_ERROR. */
enum step engine_fail(struct engine *e, enum status status, const struct task *t, const struct op *op,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Records an instant event (when tracing). */
void engine_instant(struct engine *e, const struct task *t, enum trace_instant_kind kind, int64_t value,
                    const char *text);
/* Moves t to a new state at e->now (closing the old state's segment). */
void engine_set_state(struct engine *e, struct task *t, uint8_t state, uint8_t reason, int32_t cpu);
/* Queues an event; task events keep the "something can still happen" count. */
uint32_t engine_push(struct engine *e, int64_t time, enum ev_class cls, uint32_t sub, enum ev_kind kind,
                     uint32_t target);
void engine_cancel(struct engine *e, uint32_t handle, bool task_event);
/* Puts t on the policy's ready queue. */
void engine_task_ready(struct engine *e, struct task *t, enum enqueue_why why);
/* Pushes a frame running block b; false (with the error raised) past the nesting limit. */
bool engine_push_frame(struct engine *e, struct task *t, struct op_block b, enum frame_kind kind,
                       const struct op *op);
int64_t engine_operand(const struct task *t, const struct operand *o);
/* Wakes a blocked task (cancelling its timer); by_thread: pays wakeup_latency. */
void engine_task_wake(struct engine *e, struct task *t, bool by_thread);
/* Wakes a blocked task made ready by another thread after latency lat. */
void engine_task_wake_after(struct engine *e, struct task *t, sim_time lat);
/* What waking a thread costs its waker more now: profile.idle_kick_ns while
 * a CPU has been idle for idle_poll_ns or more, else 0. */
int64_t engine_idle_kick(const struct engine *e);
/* Takes the running task t off its CPU and blocks it with reason. */
void engine_task_block(struct engine *e, struct task *t, enum trace_reason reason);
const char *engine_name_of(const struct engine *e, const struct task *t);
/* The op a task is at (the last one started), for messages and results. */
const struct op *engine_current_op(const struct engine *e, const struct task *t);

/* engine_sync.c: objects. */
void engine_objects_init(struct engine *e);
void engine_objects_deinit(struct engine *e);
/* Releases an object a `with` frame holds, at the frame's end. */
enum step engine_with_release(struct engine *e, struct task *t, uint32_t obj);
/* An object wait timed out (EV_OBJ_TIMEOUT). */
void engine_object_timeout(struct engine *e, struct task *t);
/* Removes a blocked task from the object it waits on (it is being killed). */
void engine_object_forget(struct engine *e, struct task *t);
/* Appends the wait-for edge of a task blocked on an object to a report: "L
 * held by 'T'"; returns the task holding it, or NONE. */
uint32_t engine_object_wait_edge(const struct engine *e, const struct task *t, char *buf, size_t cap);
enum step op_acquire(struct engine *e, struct task *t, const struct op *op);
enum step op_release(struct engine *e, struct task *t, const struct op *op);
enum step op_with(struct engine *e, struct task *t, const struct op *op);
enum step op_wait(struct engine *e, struct task *t, const struct op *op);
enum step op_wait_for(struct engine *e, struct task *t, const struct op *op);
enum step op_event_set(struct engine *e, struct task *t, const struct op *op);
enum step op_event_clear(struct engine *e, struct task *t, const struct op *op);
enum step op_notify(struct engine *e, struct task *t, const struct op *op);

/* engine_ipc.c: queues, mp_queues and pipes. */
void engine_ipc_deinit(struct engine *e);
/* An mp_queue item in flight arrives (EV_DELIVER). */
void engine_ipc_deliver(struct engine *e, uint32_t obj);
/* A task blocked on a queue or pipe timed out / is being killed / is
 * described in a deadlock report. */
void engine_ipc_timeout(struct engine *e, struct task *t, struct object *o);
void engine_ipc_forget(struct engine *e, struct task *t, struct object *o);
void engine_ipc_describe(const struct engine *e, const struct task *t, const struct object *o, char *buf,
                         size_t cap);
enum step op_put(struct engine *e, struct task *t, const struct op *op);
enum step op_get(struct engine *e, struct task *t, const struct op *op);
enum step op_task_done(struct engine *e, struct task *t, const struct op *op);
enum step op_queue_join(struct engine *e, struct task *t, const struct op *op);
enum step op_send(struct engine *e, struct task *t, const struct op *op);
enum step op_recv(struct engine *e, struct task *t, const struct op *op);
enum step op_close(struct engine *e, struct task *t, const struct op *op);

/* engine_process.c: processes created at run time. */
enum step op_process(struct engine *e, struct task *t, const struct op *op);
enum step op_process_join(struct engine *e, struct task *t, const struct op *op);
enum step op_terminate(struct engine *e, struct task *t, const struct op *op);
/* The process has ended: wake the threads joining it. */
void engine_process_ended(struct engine *e, uint32_t process);
void engine_process_reaped(struct engine *e, uint32_t process);
/* Gives process p its own instances of its template's private objects. */
void engine_objects_for_process(struct engine *e, uint32_t p);
/* Gives process p private memory: a copy of process `from`'s (fork), or the
 * template's initial values (from = NONE). */
void engine_memory_for_process(struct engine *e, uint32_t p, uint32_t from);
/* Makes a task (in process `process`, for declared thread decl or NONE). */
struct task *engine_new_task(struct engine *e, uint32_t process, uint32_t decl);
/* Makes a NEW task ready (its arrival). */
void engine_task_arrive(struct engine *e, struct task *t);
/* Arrives t now, but it can run only after delay (a real thread's start
 * latency): until then it is blocked with reason wakeup. */
void engine_task_arrive_late(struct engine *e, struct task *t, sim_time delay);
/* The main thread m of a process made now by a process op or pool with
 * method: it arrives and first runs the method's start-up of a child (the
 * first forkserver start also the server's). Returns the parent's cost of
 * the start (engine_process.c). */
int64_t engine_child_arrive(struct engine *e, struct task *m, enum start_method method);
/* Runs the op t is at again when t next runs (its pc moved back). */
void engine_redo(struct task *t);
/* Stops a task that has not finished (a daemon at its process's end, a
 * terminated process's threads). */
void engine_task_kill(struct engine *e, struct task *t);

/* engine_sync.c helpers shared with engine_ipc.c. */
struct object *engine_object_of(struct engine *e, struct task *t, uint32_t name, const struct op *op);
void engine_waitq_push(struct engine *e, struct waitq *q, struct task *t);
struct task *engine_waitq_pop(struct engine *e, struct waitq *q);
void engine_waitq_remove(struct engine *e, struct waitq *q, struct task *t);
/* Blocks the running task t in wait queue q of object o (with a timeout, -1: none). */
enum step engine_block_on(struct engine *e, struct task *t, struct object *o, struct waitq *q,
                          enum trace_reason reason, sim_time timeout);
/* Wakes a task that got what it waited for on an object. */
void engine_grant(struct engine *e, struct task *t);
void engine_object_instant(struct engine *e, const struct task *t, enum trace_instant_kind kind,
                           const struct object *o, int64_t value, uint32_t flow);

/* A map in progress: its workers take chunks of items and write results
 * into the caller's array. */
struct pool {
    const struct op *op;   /* the map op */
    uint32_t caller;       /* the task waiting for it */
    uint32_t next;         /* next item to hand out */
    uint32_t done;         /* items finished */
    uint32_t slot;         /* unordered: where the next result goes */
    uint32_t *cur;         /* per worker: its item */
    uint32_t *end;         /* per worker: the end of its chunk */
    bool *busy;            /* per worker: calling the function for cur */
    bool collected;        /* the caller has gone on with the results */
    uint32_t made;         /* workers made so far, one a step of the map op */
    int64_t *results;      /* with `into`: the results until map returns */
};

/* Appends variable `name` (at address a in t's process) to a print buffer. */
void engine_format_var(struct engine *e, const struct task *t, uint32_t name, const int64_t *a, char *num,
                       size_t numcap, char **buf, size_t *len, size_t *cap);
/* Whether t is running a signal handler. */
bool engine_in_handler(const struct task *t);
/* Keeps a copy of s until the engine is destroyed; returns the copy. */
const char *engine_keep_string(struct engine *e, const char *s);
/* Ends the running task t (its program is over). */
enum step engine_exit_thread(struct engine *e, struct task *t);
/* The index of a new process made from the template of process `parent`,
 * with its memory (a fork copy, or fresh) and private objects. */
uint32_t engine_new_process(struct engine *e, const char *name, uint32_t parent, enum start_method method);

/* Interrupts the running task t at once (a signal for it): a compute op in
 * progress is put aside to resume after the handler. */
void engine_interrupt_running(struct engine *e, struct task *t);
struct locals *engine_locals_new(uint32_t n, struct locals *parent);
/* A handler frame's `remaining`: the signal, and this bit when it has locals. */
#define HANDLER_HAS_LOCALS 0x100u
/* The process a join, terminate or kill names: the newest child of that name
 * created by t's process, else any process of that name; -1 if none. */
int32_t engine_find_process(const struct engine *e, const struct task *t, const char *name);

/* engine_gil.c: the GIL. */
void engine_gil_init(struct engine *e, uint32_t p, const struct gil_config *cfg);
/* The GIL t must hold to run interpreted code now, or NULL. */
struct gil *engine_gil_needed(struct engine *e, struct task *t);
/* Takes the GIL for the running task t: true when it holds it; false when it
 * blocked waiting (its CPU is free). */
bool engine_gil_take(struct engine *e, struct task *t);
/* A task woken by a barging lock's release is about to run: it takes the
 * lock if free, else blocks again at the head of its queue (a failed
 * wake-up). Returns false when it blocked. */
bool engine_lock_retry(struct engine *e, struct task *t);
/* Releases the GIL held by t (blocking, releasing compute, exit); `forced`:
 * a drop on request, after which t waits for another thread to take it. */
void engine_gil_release(struct engine *e, struct task *t, bool forced);
void engine_gil_timeout(struct engine *e, struct task *t);
/* The time between check points of what t is running. */
int64_t engine_gil_spacing(const struct engine *e, const struct task *t);
/* Forgets a task being killed while waiting for the GIL, or woken by a
 * release and not back yet. Calling it twice does no harm. */
void engine_gil_forget(struct engine *e, struct task *t);
/* The GIL holder t got a drop request (new GIL), or someone now wants the GIL
 * (old GIL): make it reach a check point. */
void engine_cpu_gil_request(struct engine *e, struct task *t);
/* Old GIL, for the running task t that needs the GIL, at e->now: ends its
 * release window when it is over and takes the GIL (again), or releases it
 * at a check point when someone wants it. False when t blocked (its CPU is
 * free). */
bool engine_gil_old_run(struct engine *e, struct task *t, struct cpu *cpu);
/* Old GIL: the earlier of `when` and the next GIL event of the running t
 * (the end of its release window, its next check point). */
int64_t engine_gil_old_until(const struct engine *e, const struct task *t, const struct cpu *cpu, int64_t when);
/* Old GIL: the next check point of holder t, running on cpu, when someone
 * wants the GIL; SIM_TIME_NEVER when nobody does. */
int64_t engine_gil_old_next_check(const struct engine *e, const struct task *t, const struct cpu *cpu);
/* Old GIL: the CPU time that the compute t is at, of `cost` ns, adds for
 * its check points' releases and re-takes when t's process has an old GIL
 * and the compute holds it (profile.gil_check_ns each); 0 otherwise. */
int64_t engine_gil_old_check_cost(const struct engine *e, const struct task *t, int64_t cost);

/* engine_signal.c: kill, alarm and handlers. */
enum step op_kill(struct engine *e, struct task *t, const struct op *op);
enum step op_alarm(struct engine *e, struct task *t, const struct op *op);
/* A signal arrives at a process (EV_SIGNAL). */
void engine_signal_arrive(struct engine *e, uint32_t process, int signo);
/* Runs a pending signal's handler in t (its process's main thread) at an op
 * boundary: true when a handler frame was pushed. */
bool engine_signal_take(struct engine *e, struct task *t);
/* A handler frame ended: resume what it interrupted. */
enum step engine_signal_resume(struct engine *e, struct task *t);
/* Ends every thread of process p (SIGTERM, or a signal without handler). */
void engine_process_kill(struct engine *e, uint32_t p);

/* engine_pool.c: map with thread and process pools. */
enum step op_map(struct engine *e, struct task *t, const struct op *op);
enum step op_pool_step(struct engine *e, struct task *t, const struct op *op);
void engine_pools_deinit(struct engine *e);

/* engine_memory.c: memory and control. */
void engine_memory_init(struct engine *e);
void engine_memory_deinit(struct engine *e);
/* Evaluates a condition in t's context; false with the error raised on a bad index. */
bool engine_condition(struct engine *e, struct task *t, const struct op *op, const struct condition *c,
                      bool *out);
/* The value of an integer, "$local" or {"var": ...}; false with the error raised. */
bool engine_value(struct engine *e, struct task *t, const struct op *op, const struct value *v, int64_t *out);
/* Finishes a racy add whose CPU time has run out (called when t's compute ends). */
void engine_add_complete(struct engine *e, struct task *t);
enum step op_var_set(struct engine *e, struct task *t, const struct op *op);
enum step op_add(struct engine *e, struct task *t, const struct op *op);
enum step op_load(struct engine *e, struct task *t, const struct op *op);
enum step op_if(struct engine *e, struct task *t, const struct op *op);
enum step op_while(struct engine *e, struct task *t, const struct op *op);
/* A WHILE frame reached its end: loop again or not. */
bool engine_while_again(struct engine *e, struct task *t, uint32_t while_op, bool *again);
enum step op_let(struct engine *e, struct task *t, const struct op *op);
/* The address of a variable in t's process (NULL with the error raised). */
int64_t *engine_var_addr(struct engine *e, struct task *t, const struct op *op, const struct var_ref *r);

#endif
