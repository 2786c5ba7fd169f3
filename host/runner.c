/* The real runner. The parent lays out one MAP_SHARED mapping of a memfd
 * (nothing to unlink, it vanishes with the last process), forks one child per
 * declared process, and watches: children's exits, the failure flag, the
 * per-thread states (deadlock) and the wall clock (watchdog). Each child runs
 * its threads as pthreads interpreting the scenario's ops against
 * process-shared primitives, recording state changes into per-thread buffers
 * in the mapping; the parent merges them into a trace afterwards. */
/* memfd_create, sched_getcpu and prctl are Linux extensions */
#define _GNU_SOURCE
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <sched.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernels.h"
#include "sim/rng.h"
#include "sim/trace_metrics.h"
#include "sim/xalloc.h"

#define HOST_EVENTS_RESERVED 4        /* the last places of a buffer, kept for the thread's exit */
/* memory writes are recorded only in the first half of a buffer, hand-over
 * instants (is_detail) only in its first three quarters */
#define HOST_WRITE_EVENTS(cap) ((cap) / 2)
#define HOST_DETAIL_EVENTS(cap) ((cap) / 4 * 3)
#define HOST_TEXT_BYTES (1u << 20)   /* printed text of one run */
#define HOST_TEXT_WARM (64u << 10)   /* of it, made usable before time zero */
#define HOST_QUEUE_CAP 4096          /* items one queue holds at once */
#define HOST_NAME_MAX 64
#define HOST_STACK_BYTES (1u << 20)
#define HOST_PREWARM 16              /* thread stacks a process warms before time zero */
#define HOST_STACK_WARM (64u << 10)  /* of a thread's stack, the top made usable before time zero */
#define HOST_STACK_POOL 32           /* stacks a process makes for the threads it starts in the run */
#define HOST_GATE_EARLY_NS 300000    /* a process opens its gate this long before its arrival */
#define HOST_POLL_NS 2000000LL       /* the parent's watch period */
#define HOST_STUCK_POLLS 25          /* unchanged polls before a deadlock is called */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HOST_SANITIZED 1
#else
#define HOST_SANITIZED 0
#endif

/* One recorded state change or instant, stamped by the thread itself. */
enum hev_kind { HEV_RUN = 0, HEV_BLOCK, HEV_INSTANT };

struct host_event {
    int64_t t;      /* stamp() */
    int64_t value;  /* HEV_RUN: the thread's CPU time + 1 at it (cpu_mark), or 0 */
    uint32_t obj;
    uint32_t flow;
    uint32_t text;  /* offset in the text arena, UINT32_MAX: none */
    int16_t cpu;
    uint8_t kind;   /* enum hev_kind */
    uint8_t sub;    /* reason (HEV_BLOCK) or instant kind (HEV_INSTANT) */
};
_Static_assert(sizeof(struct host_event) == HOST_EVENT_BYTES, "HOST_EVENT_BYTES is a host_event's size");

enum slot_state { SLOT_FREE = 0, SLOT_NEW, SLOT_RUN, SLOT_BLOCKED, SLOT_DONE };

/* A thread's public face: its state for the deadlock detector and its
 * recording buffer. Only the thread writes its events; the parent reads them
 * after every child has exited. */
/* Events a thread's buffer turned away: how many, and when the first was. */
struct hdrop {
    uint32_t n;
    int64_t first_stamp;
};

struct hslot {
    atomic_int state;
    atomic_int reason;
    atomic_uint obj;
    atomic_int timed;        /* blocked with a timeout: will wake by itself */
    atomic_ulong progress;   /* ops done, to tell a stuck run from a slow one */
    uint32_t process;
    int32_t decl;            /* declared thread index, -1: created by a thread op */
    char name[HOST_NAME_MAX];
    uint32_t nevents;
    struct hdrop dropped;    /* events its full buffer turned away */
    struct hdrop details_dropped; /* hand-over and message instants past HOST_DETAIL_EVENTS */
    int64_t cpu_ns;          /* CPU time from its arrival to its exit, -1: unknown */
    /* the main thread of a process made by a `process` op or a process
     * pool: the stamps of its fork's return in the forking process and of
     * the child's first instruction, and that instruction's CPU (0: not
     * known), and the CPU time the child process had used when this
     * thread arrived (its start-up in the runner, -1: unknown) */
    int64_t begun;           /* the stamp of its starter's START instant, 0: none */
    int64_t forked;          /* its parent's (or the forkserver's) fork returned */
    int64_t born;
    int32_t born_cpu;
    int64_t boot_cpu_ns;
    uint32_t writes_dropped; /* memory writes not recorded (past HOST_WRITE_EVENTS) */
    /* condition waits, as CPython's Condition: each waiter sleeps on a lock
     * of its own (this semaphore, 0 until notified) and queues in the
     * condition's FIFO list (under the condition's mutex) */
    sem_t wake;
    uint32_t next_waiter;    /* the next slot in the condition's list */
    bool queued;             /* in a condition's list */
};

/* A synchronisation object or queue: a monitor (process-shared mutex and
 * condition variables) around the object's state. A lock or rlock is
 * instead a process-shared POSIX semaphore, as CPython's lock is on Linux
 * (thread_pthread.h, USE_SEMAPHORES); its owner, depth and waiters are
 * bookkeeping beside it. */
struct hobj {
    pthread_mutex_t m;
    pthread_cond_t cv;       /* state changed: event set, item put, ... */
    pthread_cond_t cv_space; /* queue: an item was taken; queue: all tasks done */
    sem_t sem;               /* lock, rlock: 1 free, 0 held */
    int64_t count;           /* semaphore: value; event: flag; queue: items */
    _Atomic int64_t owner;   /* lock, rlock: holder slot (a lock: its acquirer), -1: free */
    int64_t depth;           /* rlock recursion (touched by the holder only) */
    atomic_int lwaiters;     /* lock, rlock: threads blocked in sem_wait */
    int64_t waiters;         /* semaphore: blocked acquirers */
    uint32_t whead, wtail;   /* condition, event: waiters' slots, oldest first (UINT32_MAX: none) */
    int64_t arrived;         /* barrier */
    uint64_t generation;     /* barrier: rounds */
    int64_t unfinished;      /* queue: items put and not task_done */
    atomic_uint handoff_flow; /* flow of the release that a blocked acquirer takes */
    uint32_t items;          /* queue: index of its first item in the item area */
    /* pipe: direction d carries what end d sends to end 1 - d, through a
     * real pipe(2); one writer and one reader at a time per direction, so
     * messages stay whole */
    int fd[2][2];            /* [direction][0 read, 1 write] */
    pthread_mutex_t wm[2];
    pthread_mutex_t rm[2];
    atomic_int closed[2];    /* end closed */
    atomic_int eof[2];       /* direction: its EOF record has been read */
};

/* What goes through a pipe before a message's payload. */
struct pipe_header {
    int64_t value;
    uint32_t flow;
    uint32_t eof;            /* 1: the sending end was closed */
    int64_t bytes;           /* payload bytes that follow */
};

struct hitem {
    int64_t value;
    uint32_t flow;
    uint32_t pad;
};

/* What the main thread of a process made at run time runs. */
struct child_start {
    uint32_t fn;             /* a function, or UINT32_MAX with pool set */
    uint32_t nargs;
    int64_t args[SCENARIO_MAX_LOCALS];
    int32_t pool;            /* a pool worker's process pool (index), -1: none */
};

/* A process: the declared ones first, then those made by `process` ops.
 * A made process has the memory layout and private objects of its
 * template (the declared process it descends from), in its own copies. */
struct hproc {
    struct host_gil gil;
    struct gil_config gil_cfg;
    atomic_int pid;
    atomic_int state;        /* PROC_NONE, PROC_RUNNING, PROC_DONE */
    uint32_t template_proc;
    uint32_t cell_base;      /* made processes: first cell of its private memory */
    uint32_t obj_base;       /* made processes: first of its private objects */
    int32_t parent;          /* the process that made it, -1: declared */
    uint32_t main_slot;      /* its main thread, where handlers run */
    atomic_int ended_by;     /* a scenario signal without a handler ended it: the signal */
    atomic_int via_server;   /* forked by the forkserver: not its creator's child */
    atomic_int ppid;         /* its parent process, as it saw it at its start */
    atomic_int execd;        /* a spawned worker: a fresh image of threadsim (exec) */
    atomic_int reaped;       /* its parent has waited for it: its pid may be another's now */
    struct child_start start;/* made processes: what its main thread runs (read by a spawned worker) */
    char name[HOST_NAME_MAX];
};

enum { PROC_NONE = 0, PROC_RUNNING, PROC_DONE };

/* Where each part of the run lies in the mapping, as offsets: a spawned
 * worker maps it at another address. */
struct hlayout {
    uint64_t procs, objs, slots, cells, items, pools, results, text, events, source, size;
};

/* How a spawned worker gets the very scenario of the run: the runner's
 * source (the file, or the JSON text, in the mapping at layout.source),
 * loaded again, then what the caller changed after loading (overrides,
 * fitted profile), then checked against the runner's fingerprint. */
enum { SOURCE_NONE = 0, SOURCE_FILE, SOURCE_TEXT };

struct hsource {
    int kind;
    uint64_t len;            /* bytes of text (or of the path) at layout.source */
    char origin[256];        /* SOURCE_TEXT: the origin it was loaded with */
    uint64_t seed;
    struct machine machine;  /* profile_path not used */
    struct sched_config sched; /* levels not used */
    struct profile profile;
    uint64_t fingerprint;
    /* the runner's options */
    int64_t timeout_ns;
    uint32_t max_threads, max_processes;
    uint64_t max_memory;
    bool record;
    uint32_t trace_events;
};

#define HOST_MAGIC 0x7468727364736d31ULL /* "thrdsm1": a mapping of this runner */

struct hshared {
    uint64_t magic;
    uint64_t run_id;         /* names the forkserver's socket, in every process of the run */
    struct hlayout layout;
    struct hsource source;
    int64_t t0;              /* time zero: the processes arrive at t0 + arrival */
    atomic_int ready;        /* children ready to start */
    atomic_int go;
    atomic_uint next_flow;
    atomic_uint nslots;      /* slots in use (declared threads first) */
    atomic_ulong text_used;
    atomic_ulong lost_updates;
    atomic_llong last_exit;  /* when the last thread finished, trace or not */
    atomic_uint nprocs;      /* processes in use (declared first) */
    atomic_uint next_items;  /* queue item blocks handed out */
    atomic_int abort;        /* the runner is stopping: make no more processes */
    int32_t runner_pid;      /* the process that runs host_run: every process's lifeline */
    atomic_uint pools;       /* process pools handed out */
    atomic_uint pool_workers;/* pool workers named so far, as multiprocessing numbers them */
    atomic_int fs_state;     /* the forkserver: 0 none, 1 starting, 2 listening, 3 failed */
    atomic_int fs_pid;
    atomic_uint fs_starts;   /* processes the forkserver made */
    atomic_int failed;       /* a thread hit a run-time error (first wins) */
    int fail_status;
    char fail_path[ERROR_PATH_MAX];
    char fail_msg[ERROR_MSG_MAX];
};

/* The run: pointers into the mapping plus read-only tables, made by the
 * parent before forking so every child inherits them. */
struct hrun {
    const struct scenario *sc;
    const struct host_options *opt;
    unsigned char *map;
    size_t map_size;
    int memfd;               /* the mapping's memfd, handed to spawned workers; -1: none */
    struct hshared *sh;
    struct hproc *procs;
    struct hobj *objs;
    struct hslot *slots;
    int64_t *cells;          /* variables' values */
    uint32_t *var_off;       /* per variable: first cell */
    struct hitem *items;
    struct hpool *pools;     /* HOST_POOLS process pools */
    int64_t *pool_results;   /* HOST_POOLS x HOST_POOL_ITEMS */
    char *text;
    struct host_event *events;
    int32_t *var_map;        /* [template process][var name] -> variable, -1 */
    int32_t *obj_map;        /* [template process][object name] -> object, -1 */
    uint32_t *tcell;         /* [declared process]: first cell of its private memory */
    uint32_t *tobj;          /* [declared process]: its first private object */
    uint32_t max_slots;
    uint32_t big_slots;      /* the first slots, whose buffers hold opt->trace_events (host_trace_threads) */
    uint32_t big_events;     /* events each of their buffers holds */
    uint32_t max_procs;
    uint32_t priv_cells;     /* private cells of the largest template */
    uint32_t priv_objs;      /* private objects of the largest template */
    uint32_t ncells;         /* cells of the declared variables */
    cpu_set_t pin;           /* the CPUs every process of the run is pinned to */
    uint32_t ncpus;          /* CPUs in pin */
    uint32_t cpus_allowed;   /* CPUs the runner itself may use */
    int16_t cpu_index[CPU_SETSIZE]; /* host CPU -> its index in pin, -1 */
    /* child only: this process and its thread bookkeeping (process-private) */
    uint32_t proc;
    /* under live_m: a thread's end wakes its joiners (live_cv), the last
     * non-daemon one's the process's end (end_cv), a thread's first run
     * its starter (start_cv). One variable each, as Python's threads have
     * (a Thread's _started event, its own lock for join): a broadcast to
     * all of them woke every waiter at every start and end, each a thread
     * to run on the run's CPUs. */
    pthread_mutex_t live_m;
    pthread_cond_t live_cv;
    pthread_cond_t end_cv;
    pthread_cond_t start_cv;
    uint32_t live;           /* non-daemon threads not finished */
    uint32_t nchildren;      /* processes this one made (joined at its end) */
    bool in_handler;         /* the main thread runs a handler (signals wait) */
    uint32_t children[64];
    /* stacks for the threads its ops start, made and touched before time
     * zero (stack_pool_init); stack_next counts those taken */
    unsigned char *stacks;
    uint32_t nstacks;
    atomic_uint stack_next;
    /* a declared process's threads are made before the run's time zero and
     * wait here until their arrival (false: they start at once) */
    atomic_bool gated;
    pthread_mutex_t gate_m;
    pthread_cond_t gate_cv;
};

/* A pool's map in progress. Workers take chunks of items in order. A
 * process pool's lives in the mapping (its workers are other processes). */
struct hpool {
    uint32_t op;             /* its map op (scenario.ops): an index, since a
                                spawned worker has its own copy of the scenario */
    atomic_uint next;        /* first item not yet taken */
    atomic_uint slot;        /* unordered: next result position */
    uint32_t done;           /* items finished; under mu */
    uint32_t alive;          /* workers not yet finished; under mu */
    int32_t index;           /* process pool: its index (results in pool_results), -1: a thread pool */
    int64_t *results;        /* a thread pool's results (process-private) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

#define HOST_POOLS 8             /* process pools of one run */
#define HOST_POOL_ITEMS 65536    /* items of one process pool's map */

/* A running thread's private state. */
struct hthread {
    struct hrun *run;
    uint32_t slot;
    struct host_event *events; /* its slot's trace buffer (slot_events), of */
    uint32_t cap;              /* slot_cap events: looked up once, not per event */
    struct host_gil *gil;    /* NULL: the process has no GIL */
    uint64_t ticks;          /* old GIL: ticks since the last release */
    uint64_t sleep_draws;    /* random sleeps drawn so far (rng_stream_range's n) */
    uint32_t fn;             /* function run by a created thread, or UINT32_MAX */
    uint32_t nargs;
    int64_t args[SCENARIO_MAX_LOCALS];
    bool daemon;
    bool at_gate;            /* made before time zero: runs from its arrival */
    bool own_stack;          /* runs on a stack of the process's pool */
    struct hpool *pool;      /* a pool worker's pool, else NULL */
    int64_t ret;             /* value of the last return */
    bool *started;           /* set (under live_m) once it runs; NULL: nobody waits */
    int cpu;                 /* the CPU of its last recorded running segment */
};

enum flow { FLOW_NEXT = 0, FLOW_RETURN, FLOW_EXIT };

/* ------------------------------------------------------------------ checks */

static const char *const unsupported_ops[OP_KIND_COUNT] = {
    [OP_POOL_STEP] = NULL,
};

enum status host_check(const struct scenario *sc, const struct host_options *opt, struct error *err)
{
    for (uint32_t i = 0; i < sc->nops; i++) {
        const struct op *op = &sc->ops[i];
        if (unsupported_ops[op->kind])
            return error_set(err, STATUS_BAD_INPUT, op->path,
                             "the real runner does not support %s yet; run it with `threadsim run` instead",
                             unsupported_ops[op->kind]);
        if (op->kind == OP_MAP && op->u.map.process_pool && op->u.map.nitems > HOST_POOL_ITEMS)
            return error_set(err, STATUS_BAD_INPUT, op->path,
                             "a process pool's map in the real runner takes at most %d items", HOST_POOL_ITEMS);
        if (op->kind == OP_WAIT && op->u.sync.timeout >= 0) {
            /* a barrier wait with a timeout breaks the barrier in Python */
            for (uint32_t o = 0; o < sc->nobjects; o++)
                if (sc->objects[o].type == OBJ_BARRIER &&
                    strcmp(sc->objects[o].name, sc->obj_names[op->u.sync.obj.name]) == 0)
                    return error_set(err, STATUS_BAD_INPUT, op->path,
                                     "the real runner does not support barrier waits with a timeout yet");
        }
    }
    for (uint32_t o = 0; o < sc->nobjects; o++) {
        if (sc->objects[o].type == OBJ_BARRIER && sc->objects[o].timeout >= 0)
            return error_set(err, STATUS_BAD_INPUT, sc->objects[o].path,
                             "the real runner does not support barrier timeouts yet");
    }
    if (sc->nprocesses > opt->max_processes)
        return error_set(err, STATUS_BAD_INPUT, "processes",
                         "%u processes exceed the real runner's limit of %u", sc->nprocesses, opt->max_processes);
    if (sc->nthreads > opt->max_threads)
        return error_set(err, STATUS_BAD_INPUT, "processes",
                         "%u threads exceed the real runner's limit of %u", sc->nthreads, opt->max_threads);
    if (opt->record && opt->trace_events != 0) {
        if (opt->trace_events < HOST_TRACE_EVENTS_MIN || opt->trace_events > HOST_TRACE_EVENTS_MAX)
            return error_set(err, STATUS_BAD_INPUT, "", "a thread's trace buffer holds %u to %u events, not %u",
                             HOST_TRACE_EVENTS_MIN, HOST_TRACE_EVENTS_MAX, opt->trace_events);
        /* the first threads' buffers are touched before the run: they must
         * fit in memory, and leave room under the address-space bound */
        uint32_t threads = host_trace_threads(sc, opt);
        uint64_t want = (uint64_t)threads * opt->trace_events * HOST_EVENT_BYTES;
        uint64_t phys = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
        uint64_t room = phys / 2 < HOST_TRACE_BYTES_MAX ? phys / 2 : HOST_TRACE_BYTES_MAX;
        if (opt->max_memory && opt->max_memory / 2 < room)
            room = opt->max_memory / 2;
        if (want > room)
            return error_set(err, STATUS_BAD_INPUT, "",
                             "trace buffers of %u events for %u threads need %" PRIu64 " MiB, more than the %" PRIu64
                             " MiB they may take (%" PRIu64 " MiB at most, and half of this host's memory%s)",
                             opt->trace_events, threads, want >> 20, room >> 20, HOST_TRACE_BYTES_MAX >> 20,
                             opt->max_memory ? " and of a run's address-space limit" : "");
    }
    return STATUS_OK;
}

void host_options_init(struct host_options *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ns = 60LL * 1000000000;
    o->max_threads = 256;
    o->max_processes = 64;
    o->max_memory = HOST_SANITIZED ? 0 : 4ULL << 30;
    o->record = true;
    o->trace_events = HOST_EVENTS_PER_THREAD;
}

uint32_t host_trace_threads(const struct scenario *sc, const struct host_options *opt)
{
    uint64_t n = sc->nthreads;
    for (uint32_t i = 0; i < sc->nops; i++) {
        const struct op *op = &sc->ops[i];
        if (op->kind == OP_THREAD)
            n++;
        else if (op->kind == OP_MAP && !op->u.map.process_pool)
            n += op->u.map.workers;
    }
    uint32_t slots = opt->max_threads > sc->nthreads ? opt->max_threads : sc->nthreads;
    return n < slots ? (uint32_t)n : slots;
}

/* The trace buffer of slot s: the first r->big_slots hold r->big_events
 * each, the others the default. */
static uint32_t slot_cap(const struct hrun *r, uint32_t s)
{
    return s < r->big_slots ? r->big_events : HOST_EVENTS_PER_THREAD;
}

static struct host_event *slot_events(const struct hrun *r, uint32_t s)
{
    uint32_t big = r->big_slots;
    size_t at = s < big ? (size_t)s * r->big_events
                        : (size_t)big * r->big_events + (size_t)(s - big) * HOST_EVENTS_PER_THREAD;
    return r->events + at;
}

/* --------------------------------------------------------------- recording */

static int64_t now_ns(void)
{
    return host_now_ns();
}

/* An event's time stamp. Reading CLOCK_MONOTONIC costs ~100 ns on a VM's
 * kvm-clock; the TSC (constant and non-stop on current x86) costs a few ns.
 * The parent maps stamps to CLOCK_MONOTONIC with two pairs (stamp, clock)
 * taken at the start and the end of the run. */
static int64_t stamp(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return (int64_t)__builtin_ia32_rdtsc();
#else
    return host_now_ns();
#endif
}

/* The instants of a hand-over or a message (acquire, release, put, get, a
 * lost update...): a loop of them would fill a buffer, so they only use its
 * first HOST_DETAIL_EVENTS places, and the state changes (the timeline) and
 * a thread's arrival, starts, joins, prints and exit go on being recorded
 * after them. */
static bool is_detail(unsigned sub)
{
    switch (sub) {
    case INSTANT_ARRIVE:
    case INSTANT_EXIT:
    case INSTANT_PRINT:
    case INSTANT_START:
    case INSTANT_JOIN:
    case INSTANT_PREEMPT:
    case INSTANT_DEADLOCK:
    case INSTANT_SIGNAL:
    case INSTANT_GIL_TAKE:
    case INSTANT_GIL_DROP:
        return false;
    default:
        return true;
    }
}

/* Counts an event turned away; returns -1, as record does then. */
static int drop(struct hdrop *d)
{
    if (d->n++ == 0)
        d->first_stamp = stamp();
    return -1;
}

/* Whether slot s is the main thread of process p made by a `process` op or
 * a process pool (not a declared process). */
static bool made_main(const struct hrun *r, uint32_t p, uint32_t s)
{
    return p >= r->sc->nprocesses && r->procs[p].main_slot == s;
}

/* The first thing a child process made by an op does after its fork: it
 * stamps when and where it first ran. The child of a spawn calls it between
 * fork and exec, where only async-signal-safe calls belong: the TSC read is
 * one instruction, and glibc's sched_getcpu reads the CPU without a lock
 * (rseq, or the vDSO's getcpu), though POSIX does not list it. */
static void note_birth(const struct hrun *r, struct hslot *sl)
{
    if (!r->opt->record)
        return;
    sl->born = stamp();
    sl->born_cpu = sched_getcpu();
}

/* Returns the CPU it stamped, or -1 when it recorded nothing. */
static int record(struct hthread *th, enum hev_kind kind, unsigned sub, uint32_t obj, int64_t value,
                  uint32_t flow, uint32_t text)
{
    struct hrun *r = th->run;
    if (!r->opt->record)
        return -1;
    struct hslot *s = &r->slots[th->slot];
    uint32_t cap = th->cap;
    if (kind == HEV_INSTANT && s->nevents >= HOST_DETAIL_EVENTS(cap) && is_detail(sub))
        return drop(&s->details_dropped);
    /* the last few places are kept for the thread's exit, so a full buffer
     * still tells when the thread finished */
    if (s->nevents >= cap - HOST_EVENTS_RESERVED && !(kind == HEV_INSTANT && sub == INSTANT_EXIT && s->nevents < cap))
        return drop(&s->dropped);
    struct host_event *ev = &th->events[s->nevents++];
    ev->t = stamp();
    ev->value = value;
    ev->obj = obj;
    ev->flow = flow;
    ev->text = text;
    int cpu = sched_getcpu();
    ev->cpu = (int16_t)cpu;
    ev->kind = (uint8_t)kind;
    ev->sub = (uint8_t)sub;
    return cpu;
}

static void instant(struct hthread *th, enum trace_instant_kind kind, uint32_t obj, int64_t value, uint32_t flow)
{
    record(th, HEV_INSTANT, kind, obj, value, flow, UINT32_MAX);
}

/* A memory write (set, add) as the simulator records it: obj is the
 * variable's trace object, value what was written. A loop of adds would
 * fill a buffer, so writes only use its first half: the state changes after
 * them are still recorded, and the writes past it are only counted. */
static void write_instant(struct hthread *th, uint32_t decl, int64_t value)
{
    struct hrun *r = th->run;
    if (!r->opt->record)
        return;
    struct hslot *s = &r->slots[th->slot];
    if (s->nevents >= HOST_WRITE_EVENTS(th->cap)) {
        s->writes_dropped++;
        return;
    }
    instant(th, INSTANT_WRITE, r->sc->nobjects + decl, value, 0);
}

static uint32_t new_flow(struct hrun *r)
{
    return atomic_fetch_add(&r->sh->next_flow, 1) + 1;
}

static void set_running(struct hthread *th)
{
    struct hslot *s = &th->run->slots[th->slot];
    atomic_store(&s->state, SLOT_RUN);
    atomic_fetch_add(&s->progress, 1);
    th->cpu = record(th, HEV_RUN, 0, UINT32_MAX, 0, 0, UINT32_MAX);
}

/* A running segment of th from now on, stamped with th's CPU time, a
 * system call of about a microsecond: only around costly ops (a fork),
 * where the merge then shows exactly how much of the segments between two
 * such stamps th had no CPU for, and where. */
static void cpu_mark(struct hthread *th)
{
    if (!th->run->opt->record)
        return;
    th->cpu = record(th, HEV_RUN, 0, UINT32_MAX, host_thread_cpu_ns() + 1, 0, UINT32_MAX);
}

/* th starts thread slot s (a `thread` or `start` op, a thread pool's
 * worker, a made process's main thread): its START instant, whose stamp s
 * keeps, so the merge makes s arrive there, as the simulator does. */
static void start_instant(struct hthread *th, uint32_t s)
{
    struct hrun *r = th->run;
    if (!r->opt->record)
        return;
    const struct hslot *own = &r->slots[th->slot];
    uint32_t at = own->nevents;
    instant(th, INSTANT_START, UINT32_MAX, s, 0);
    r->slots[s].begun = own->nevents > at ? th->events[at].t : stamp();
}

/* Between chunks of a long compute without a GIL, and of a long loop: if
 * the OS moved the thread to another CPU, a new running segment starts
 * there, so the real trace shows where the work ran. This host's scheduler
 * may keep two threads on one CPU for milliseconds while the other is idle,
 * then move one. Nothing to do in a run that records nothing. */
static void note_cpu(struct hthread *th)
{
    if (!th->run->opt->record)
        return;
    int c = sched_getcpu();
    if (c == th->cpu)
        return;
    th->cpu = c;
    record(th, HEV_RUN, 0, UINT32_MAX, 0, 0, UINT32_MAX);
}

static void set_blocked(struct hthread *th, enum trace_reason reason, uint32_t obj, bool timed)
{
    struct hslot *s = &th->run->slots[th->slot];
    atomic_store(&s->reason, (int)reason);
    atomic_store(&s->obj, obj);
    atomic_store(&s->timed, timed);
    atomic_store(&s->state, SLOT_BLOCKED);
    record(th, HEV_BLOCK, reason, obj, 0, 0, UINT32_MAX);
}

/* A run-time error: reported once through the mapping, then this process
 * ends; the parent sees the flag and stops everything. */
static _Noreturn void fail(struct hthread *th, const struct op *op, enum status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static _Noreturn void fail(struct hthread *th, const struct op *op, enum status status, const char *fmt, ...)
{
    struct hshared *sh = th->run->sh;
    int expected = 0;
    if (atomic_compare_exchange_strong(&sh->failed, &expected, 1)) {
        const struct hslot *s = &th->run->slots[th->slot];
        char msg[ERROR_MSG_MAX - 2 * HOST_NAME_MAX - 40];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        sh->fail_status = status;
        snprintf(sh->fail_path, sizeof sh->fail_path, "%s", op ? op->path : "");
        snprintf(sh->fail_msg, sizeof sh->fail_msg, "thread '%s' of process '%s': %s", s->name,
                 th->run->procs[s->process].name, msg);
        atomic_store(&sh->failed, 2);
    }
    _exit(status);
}

/* A failure outside a scenario thread (a worker that cannot start, a
 * crashed child), reported through the mapping as a thread's run-time
 * error is. Returns status. */
static int worker_fail(struct hshared *sh, enum status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int worker_fail(struct hshared *sh, enum status status, const char *fmt, ...)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&sh->failed, &expected, 1)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sh->fail_msg, sizeof sh->fail_msg, fmt, ap);
        va_end(ap);
        sh->fail_status = status;
        sh->fail_path[0] = '\0';
        atomic_store(&sh->failed, 2);
    }
    return status;
}

/* A child process has been waited for (status ws): a crash (not a signal
 * of the scenario, nor the runner's SIGKILL) or a failure exit that no
 * thread reported (a sanitizer's report of a crash exits 1) is a bug,
 * reported as a crashed declared process is. */
static void child_reaped(struct hrun *r, uint32_t p, int ws)
{
    static const int crashes[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP};
    atomic_store(&r->procs[p].reaped, 1);
    for (size_t i = 0; WIFSIGNALED(ws) && i < sizeof crashes / sizeof crashes[0]; i++)
        if (WTERMSIG(ws) == crashes[i])
            worker_fail(r->sh, STATUS_RUNTIME, "process '%s' crashed: killed by signal %d (%s)", r->procs[p].name,
                        WTERMSIG(ws), strsignal(WTERMSIG(ws)));
    if (WIFEXITED(ws) && WEXITSTATUS(ws) != 0 && !atomic_load(&r->procs[p].ended_by) && !atomic_load(&r->sh->abort))
        worker_fail(r->sh, STATUS_RUNTIME, "process '%s' exited with status %d", r->procs[p].name,
                    WEXITSTATUS(ws));
}

/* ------------------------------------------------------------- GIL helpers */

static void gil_on_wait(void *arg)
{
    set_blocked(arg, REASON_GIL, UINT32_MAX, false);
}

/* A take or drop of the new GIL, as the simulator records them (its value
 * the process): the drawings' GIL owner lane and the cursor panel's GIL
 * owner. The old GIL's check points drop it and take it back every few
 * hundred ns inside host_gil_checkpoint, unrecorded, so none of its takes
 * and drops are recorded: a lane made of some of them would be wrong. */
static void gil_instant(struct hthread *th, enum trace_instant_kind kind)
{
    if (th->gil->mode == GIL_NEW)
        instant(th, kind, UINT32_MAX, th->run->proc, 0);
}

/* Takes the GIL (if the process has one) and marks the thread running.
 * The time until it has the GIL, the wait for its mutex included, is a GIL
 * wait: two threads are never seen running at once. */
static void gil_take(struct hthread *th)
{
    if (th->gil) {
        set_blocked(th, REASON_GIL, UINT32_MAX, false);
        host_gil_take(th->gil, th->slot, NULL, NULL);
        gil_instant(th, INSTANT_GIL_TAKE);
        th->ticks = 0;
    }
    set_running(th);
}

/* Stamped before the drop, so a drop is never later than the take it
 * lets happen. */
static void gil_drop(struct hthread *th)
{
    if (th->gil) {
        gil_instant(th, INSTANT_GIL_DROP);
        host_gil_drop(th->gil, th->slot, false);
    }
}

/* Signals: the C handler only notes the signal (async-signal-safe); the
 * process's main thread runs the scenario's handler at its next check
 * point, as CPython does. A process-wide variable because a C signal handler
 * gets no context; each process (fork) has its own copy. */
static volatile sig_atomic_t signals_pending;

/* Read by every thread's check points while a handler sets bits in it: an
 * atomic load, so the flag is no data race. */
static int pending_signals(void)
{
    return __atomic_load_n(&signals_pending, __ATOMIC_RELAXED);
}
static struct hrun *signals_run;

static const int scenario_signals[] = {SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM};

static uint32_t template_of(const struct hrun *r, uint32_t p)
{
    return r->procs[p].template_proc;
}

static const struct handler *handler_of(const struct hrun *r, uint32_t p, int signo)
{
    const struct process_decl *pd = &r->sc->processes[template_of(r, p)];
    for (uint32_t i = 0; i < pd->nhandlers; i++)
        if (pd->handlers[i].signo == signo)
            return &pd->handlers[i];
    return NULL;
}

static void on_signal(int signo)
{
    struct hrun *r = signals_run;
    if (r && handler_of(r, r->proc, signo)) {
        __atomic_fetch_or(&signals_pending, 1 << signo, __ATOMIC_SEQ_CST);
        return;
    }
    /* no handler: the default action ends the process; noted so the runner
     * does not take it for a crash */
    if (r)
        atomic_store(&r->procs[r->proc].ended_by, signo);
    _exit(128 + signo);
}

static void signals_install(struct hrun *r)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    signals_run = r;
    __atomic_store_n(&signals_pending, 0, __ATOMIC_SEQ_CST);
    for (size_t i = 0; i < sizeof scenario_signals / sizeof scenario_signals[0]; i++)
        sigaction(scenario_signals[i], &sa, NULL);
}

/* Other threads leave the signals to the main thread, so they interrupt its
 * sleeps as in Python. */
static void signals_block_here(void)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof scenario_signals / sizeof scenario_signals[0]; i++)
        sigaddset(&set, scenario_signals[i]);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static enum flow exec_block(struct hthread *th, struct op_block blk, int64_t *locals);

/* Runs the handlers of the pending signals in the main thread th. */
static void run_handlers(struct hthread *th)
{
    struct hrun *r = th->run;
    /* in_handler is the main thread's own: other threads must not read it */
    if (th->slot != r->procs[r->proc].main_slot || r->in_handler)
        return;
    while (pending_signals()) {
        for (int signo = 1; signo < 31; signo++) {
            if (!(pending_signals() & (1 << signo)))
                continue;
            __atomic_fetch_and(&signals_pending, ~(1 << signo), __ATOMIC_SEQ_CST);
            const struct handler *h = handler_of(r, r->proc, signo);
            if (!h)
                continue;
            int64_t locals[SCENARIO_MAX_LOCALS];
            memset(locals, 0, sizeof locals);
            instant(th, INSTANT_SIGNAL, UINT32_MAX, signo, 0);
            r->in_handler = true;
            exec_block(th, h->body, locals);
            r->in_handler = false;
        }
    }
}

/* A check point between bytecodes (or ops): the eval breaker. */
static void checkpoint(struct hthread *th, uint64_t ticks)
{
    if (pending_signals())
        run_handlers(th);
    if (!th->gil)
        return;
    th->ticks += ticks;
    if (th->gil->mode == GIL_NEW && host_gil_drop_requested(th->gil)) {
        /* the forced switch and the wait to take it back are GIL waits */
        set_blocked(th, REASON_GIL, UINT32_MAX, false);
        gil_instant(th, INSTANT_GIL_DROP);
        host_gil_drop(th->gil, th->slot, true);
        host_gil_take(th->gil, th->slot, NULL, NULL);
        gil_instant(th, INSTANT_GIL_TAKE);
        set_running(th);
        return;
    }
    host_gil_checkpoint(th->gil, th->slot, &th->ticks, gil_on_wait, th);
    if (atomic_load_explicit(&th->run->slots[th->slot].state, memory_order_relaxed) != SLOT_RUN)
        set_running(th);
}

/* ---------------------------------------------------------- values, memory */

static const char *proc_name(const struct hrun *r, uint32_t p)
{
    return r->procs[p].name;
}

/* The object `oi` (a declared object) as process r->proc sees it: its own
 * copy when oi is private and r->proc was made at run time. */
static struct hobj *obj_at(struct hrun *r, uint32_t oi)
{
    const struct object_decl *d = &r->sc->objects[oi];
    if (d->process < 0 || r->proc < r->sc->nprocesses)
        return &r->objs[oi];
    return &r->objs[r->procs[r->proc].obj_base + oi - r->tobj[d->process]];
}

/* The first cell of private variable d in process p. */
static uint32_t cell_of(const struct hrun *r, uint32_t p, uint32_t d)
{
    const struct var_decl *v = &r->sc->vars[d];
    if (v->process < 0 || p < r->sc->nprocesses)
        return r->var_off[d];
    return r->procs[p].cell_base + r->var_off[d] - r->tcell[v->process];
}

static int64_t operand(const int64_t *locals, const struct operand *o)
{
    return o->kind == OPERAND_LOCAL ? locals[o->slot] : o->value;
}

static int64_t *var_addr(struct hthread *th, const struct op *op, const int64_t *locals, const struct var_ref *ref,
                         uint32_t *decl_out)
{
    struct hrun *r = th->run;
    const struct scenario *sc = r->sc;
    int32_t d = r->var_map[(size_t)template_of(r, r->proc) * sc->nvar_names + ref->name];
    if (d < 0)
        fail(th, op, STATUS_RUNTIME,
             "'%s' is not in the memory of process '%s': processes do not share memory unless it is declared "
             "in the top-level \"shared\"", sc->var_names[ref->name], proc_name(r, r->proc));
    const struct var_decl *v = &sc->vars[d];
    int64_t idx = 0;
    if (ref->indexed) {
        idx = operand(locals, &ref->index);
        if (idx < 0 || idx >= (int64_t)v->length)
            fail(th, op, STATUS_RUNTIME, "index %" PRId64 " is outside '%s' (length %u)", idx, v->name, v->length);
    }
    if (decl_out)
        *decl_out = (uint32_t)d;
    return &r->cells[cell_of(r, r->proc, (uint32_t)d) + (uint32_t)idx];
}

static int64_t load_cell(const int64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void store_cell(int64_t *p, int64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static int64_t value_of(struct hthread *th, const struct op *op, const int64_t *locals, const struct value *v);

static int64_t expr_of(struct hthread *th, const struct op *op, const int64_t *locals, const struct expr *x)
{
    int64_t acc = 0;
    for (uint32_t i = 0; i < x->n; i++) {
        int64_t v = value_of(th, op, locals, &x->args[i]);
        if (i == 0) {
            acc = v;
            continue;
        }
        const char *why = expr_step(x->op, &acc, v);
        if (why)
            fail(th, op, STATUS_RUNTIME, "%s", why);
    }
    return acc;
}

static int64_t value_of(struct hthread *th, const struct op *op, const int64_t *locals, const struct value *v)
{
    switch (v->kind) {
    case VALUE_CONST: return v->value;
    case VALUE_LOCAL: return locals[v->slot];
    case VALUE_VAR: return load_cell(var_addr(th, op, locals, &v->var, NULL));
    case VALUE_EXPR: return expr_of(th, op, locals, v->expr);
    }
    return 0;
}

static bool condition_of(struct hthread *th, const struct op *op, const int64_t *locals, const struct condition *c)
{
    int64_t a = value_of(th, op, locals, &c->left);
    int64_t b = value_of(th, op, locals, &c->right);
    switch (c->cmp) {
    case CMP_EQ: return a == b;
    case CMP_NE: return a != b;
    case CMP_LT: return a < b;
    case CMP_LE: return a <= b;
    case CMP_GT: return a > b;
    case CMP_GE: return a >= b;
    }
    return false;
}

/* -------------------------------------------------------------- objects */

static uint32_t obj_index(struct hthread *th, const struct op *op, const struct obj_ref *ref)
{
    struct hrun *r = th->run;
    int32_t o = r->obj_map[(size_t)template_of(r, r->proc) * r->sc->nobj_names + ref->name];
    if (o < 0)
        fail(th, op, STATUS_RUNTIME, "object '%s' is not visible in process '%s'", r->sc->obj_names[ref->name],
             proc_name(r, r->proc));
    return (uint32_t)o;
}

/* The timespec of a CLOCK_MONOTONIC time in ns. */
static struct timespec timespec_at(int64_t at)
{
    return (struct timespec){.tv_sec = (time_t)(at / 1000000000), .tv_nsec = (long)(at % 1000000000)};
}

static void deadline_of(struct timespec *ts, int64_t timeout)
{
    *ts = timespec_at(now_ns() + timeout);
}

/* Sleeps to a CLOCK_MONOTONIC time, through signals. */
static void sleep_until(int64_t at)
{
    struct timespec ts = timespec_at(at);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* The arrival of this process's declared threads, on CLOCK_MONOTONIC. */
static int64_t arrival_at(const struct hrun *r)
{
    return r->sh->t0 + r->sc->processes[r->proc].arrival;
}

/* Waits on cv with o->m held, until the deadline (NULL: none). Returns false
 * on timeout. */
static bool obj_wait(struct hobj *o, pthread_cond_t *cv, const struct timespec *deadline)
{
    if (!deadline) {
        pthread_cond_wait(cv, &o->m);
        return true;
    }
    return pthread_cond_timedwait(cv, &o->m, deadline) != ETIMEDOUT;
}

static enum trace_reason reason_of(enum object_type t)
{
    static const enum trace_reason reasons[OBJ_TYPE_COUNT] = {
        [OBJ_LOCK] = REASON_LOCK, [OBJ_RLOCK] = REASON_LOCK, [OBJ_SEMAPHORE] = REASON_SEMAPHORE,
        [OBJ_BOUNDED_SEMAPHORE] = REASON_SEMAPHORE, [OBJ_EVENT] = REASON_EVENT,
        [OBJ_CONDITION] = REASON_CONDITION, [OBJ_BARRIER] = REASON_BARRIER, [OBJ_QUEUE] = REASON_QUEUE,
        [OBJ_MP_QUEUE] = REASON_QUEUE, [OBJ_PIPE] = REASON_PIPE,
    };
    return reasons[t];
}

/* Blocking section of an op: the GIL is dropped before the object's mutex is
 * taken (never wait for the GIL holding a monitor) and taken again after. */
struct blocking {
    struct hthread *th;
    bool dropped;
    bool blocked;
};

static void block_begin(struct blocking *b, struct hthread *th)
{
    b->th = th;
    b->dropped = false;
    b->blocked = false;
}

/* Marks the thread blocked on obj (once per section). */
static void block_mark(struct blocking *b, enum trace_reason reason, uint32_t obj, bool timed)
{
    if (!b->blocked) {
        set_blocked(b->th, reason, obj, timed);
        b->blocked = true;
    }
}

/* Drops the GIL before a wait that may block (Py_BEGIN_ALLOW_THREADS); the
 * object's monitor `held` (NULL: none) is let go meanwhile, since the GIL is
 * never waited for under it. block_end takes the GIL back. */
static void block_drop_gil(struct blocking *b, pthread_mutex_t *held)
{
    if (!b->th->gil)
        return;
    if (held)
        pthread_mutex_unlock(held);
    gil_drop(b->th);
    b->dropped = true;
    if (held)
        pthread_mutex_lock(held);
}

/* The start of a wait that may block without an object's monitor: the
 * deadline of its timeout (NULL when timeout < 0: none), then the GIL let
 * go. */
static const struct timespec *block_wait_begin(struct blocking *b, struct hthread *th, int64_t timeout,
                                               struct timespec *dl)
{
    if (timeout >= 0)
        deadline_of(dl, timeout);
    block_begin(b, th);
    block_drop_gil(b, NULL);
    return timeout >= 0 ? dl : NULL;
}

static void block_end(struct blocking *b)
{
    if (b->dropped)
        gil_take(b->th);
    else if (b->blocked)
        set_running(b->th);
}

static bool is_semaphore(const struct object_decl *d)
{
    return d->type == OBJ_SEMAPHORE || d->type == OBJ_BOUNDED_SEMAPHORE;
}

/* A lock or rlock: a POSIX semaphore with an owner beside it. */
static bool is_mutex(const struct object_decl *d)
{
    return d->type == OBJ_LOCK || d->type == OBJ_RLOCK;
}

/* Waits for a lock's semaphore until the deadline (NULL: none); a signal's
 * EINTR does not end the wait. Returns false on timeout. */
static bool sem_wait_until(sem_t *sem, const struct timespec *deadline)
{
    for (;;) {
        int rc = deadline ? sem_clockwait(sem, CLOCK_MONOTONIC, deadline) : sem_wait(sem);
        if (rc == 0)
            return true;
        if (errno == ETIMEDOUT)
            return false;
    }
}

/* Acquires a lock or rlock: a try first without dropping the GIL, then a
 * wait on the semaphore without it, as CPython's acquire_timed does.
 * Returns false on timeout. */
static bool mutex_acquire(struct hthread *th, uint32_t oi, int64_t timeout)
{
    struct hrun *r = th->run;
    const struct object_decl *d = &r->sc->objects[oi];
    struct hobj *o = obj_at(r, oi);
    int64_t me = th->slot;
    if (d->type == OBJ_RLOCK && atomic_load(&o->owner) == me) {
        o->depth++;
        instant(th, INSTANT_ACQUIRE, oi, 0, 0);
        return true;
    }
    bool ok = sem_trywait(&o->sem) == 0;
    uint32_t flow = 0;
    if (!ok && timeout != 0) {
        struct timespec dl;
        struct blocking b;
        const struct timespec *until = block_wait_begin(&b, th, timeout, &dl);
        block_mark(&b, reason_of(d->type), oi, timeout >= 0);
        atomic_fetch_add(&o->lwaiters, 1);
        ok = sem_wait_until(&o->sem, until);
        atomic_fetch_sub(&o->lwaiters, 1);
        if (ok)
            flow = atomic_exchange(&o->handoff_flow, 0);
        block_end(&b);
    }
    if (!ok)
        return false;
    atomic_store(&o->owner, me);
    o->depth = 1;
    instant(th, INSTANT_ACQUIRE, oi, 0, flow);
    return true;
}

static void mutex_release(struct hthread *th, const struct op *op, uint32_t oi)
{
    struct hrun *r = th->run;
    const struct object_decl *d = &r->sc->objects[oi];
    struct hobj *o = obj_at(r, oi);
    int64_t owner = atomic_load(&o->owner);
    if (d->type == OBJ_RLOCK) {
        if (owner != (int64_t)th->slot)
            fail(th, op, STATUS_RUNTIME, "release of rlock '%s' that this thread does not hold (Python: RuntimeError)",
                 d->name);
        if (--o->depth > 0) {
            instant(th, INSTANT_RELEASE, oi, -1, 0);
            return;
        }
    } else if (owner < 0) {
        fail(th, op, STATUS_RUNTIME, "release of lock '%s' that is not held (Python: RuntimeError)", d->name);
    }
    uint32_t flow = 0;
    if (atomic_load(&o->lwaiters) > 0) {
        flow = new_flow(r);
        atomic_store(&o->handoff_flow, flow);
    }
    atomic_store(&o->owner, -1);
    /* stamped before the post, so a release is never later than the acquire
     * it hands over to */
    instant(th, INSTANT_RELEASE, oi, -1, flow);
    sem_post(&o->sem);
}

/* Acquires a lock, rlock or semaphore (or a condition's lock). Returns false
 * on timeout. With a GIL, tries first without dropping it, as CPython does. */
static bool lock_acquire(struct hthread *th, const struct op *op, uint32_t oi, int64_t timeout)
{
    struct hrun *r = th->run;
    const struct object_decl *d = &r->sc->objects[oi];
    if (is_mutex(d))
        return mutex_acquire(th, oi, timeout);
    struct hobj *o = obj_at(r, oi);
    struct timespec dl;
    if (timeout >= 0)
        deadline_of(&dl, timeout);
    struct blocking b;
    block_begin(&b, th);
    pthread_mutex_lock(&o->m);
    if (o->count == 0 && timeout != 0)
        block_drop_gil(&b, &o->m);
    bool ok = true;
    bool waited = false;
    while (o->count == 0) {
        if (timeout == 0) {
            ok = false;
            break;
        }
        block_mark(&b, reason_of(d->type), oi, timeout >= 0);
        waited = true;
        o->waiters++;
        ok = obj_wait(o, &o->cv, timeout >= 0 ? &dl : NULL);
        o->waiters--;
        if (!ok && o->count == 0)
            break;
        ok = true;
    }
    uint32_t flow = 0;
    if (ok) {
        o->count--;
        if (waited)
            flow = atomic_exchange(&o->handoff_flow, 0);
    }
    pthread_mutex_unlock(&o->m);
    (void)op;
    block_end(&b);
    if (ok)
        instant(th, INSTANT_ACQUIRE, oi, 0, flow);
    return ok;
}

static void lock_release(struct hthread *th, const struct op *op, uint32_t oi)
{
    struct hrun *r = th->run;
    const struct object_decl *d = &r->sc->objects[oi];
    if (is_mutex(d)) {
        mutex_release(th, op, oi);
        return;
    }
    struct hobj *o = obj_at(r, oi);
    uint32_t flow = 0;
    pthread_mutex_lock(&o->m);
    if (d->type == OBJ_BOUNDED_SEMAPHORE && o->count >= d->value) {
        pthread_mutex_unlock(&o->m);
        fail(th, op, STATUS_RUNTIME, "bounded semaphore '%s' released too many times (Python: ValueError)", d->name);
    }
    o->count++;
    if (o->waiters > 0) {
        flow = new_flow(r);
        atomic_store(&o->handoff_flow, flow);
        pthread_cond_signal(&o->cv);
    }
    /* stamped inside the monitor, so a release is never later than the
     * acquire it hands over to */
    instant(th, INSTANT_RELEASE, oi, -1, flow);
    pthread_mutex_unlock(&o->m);
}

/* The lock object behind a `with` or acquire: a condition's own lock. */
static uint32_t lock_of(struct hthread *th, uint32_t oi)
{
    const struct object_decl *d = &th->run->sc->objects[oi];
    return d->type == OBJ_CONDITION ? d->lock : oi;
}

/* Waiter lists, as CPython's Condition keeps them (and so its Event, a
 * Condition's notify_all): each waiter sleeps on a lock of its own (its
 * slot's semaphore, 0 until woken) queued in the object's FIFO list, under
 * the object's mutex. A wake-up takes waiters off the list and posts each
 * one's semaphore once: no broadcast that every waiter wakes to and then
 * fights over the monitor for (a turn of 09_condition_abc cost twice the
 * simulation's CPU that way). */

/* Queues slot s at the tail of o's list. Under o->m. */
static void waiter_push(struct hrun *r, struct hobj *o, uint32_t s)
{
    struct hslot *w = &r->slots[s];
    w->next_waiter = UINT32_MAX;
    w->queued = true;
    if (o->wtail == UINT32_MAX)
        o->whead = s;
    else
        r->slots[o->wtail].next_waiter = s;
    o->wtail = s;
}

/* Wakes the n oldest waiters of o (n < 0: all). Returns how many. Under o->m. */
static int64_t waiters_wake(struct hrun *r, struct hobj *o, int64_t n)
{
    int64_t k = 0;
    while (o->whead != UINT32_MAX && (n < 0 || k < n)) {
        struct hslot *w = &r->slots[o->whead];
        o->whead = w->next_waiter;
        if (o->whead == UINT32_MAX)
            o->wtail = UINT32_MAX;
        w->queued = false;
        /* a waiter whose process has ended (a daemon thread, a process
         * terminated) takes no wake-up, as the simulator forgets it */
        if (atomic_load(&r->procs[w->process].state) == PROC_DONE)
            continue;
        sem_post(&w->wake);
        k++;
    }
    return k;
}

/* Slot s, queued on o, sleeps until woken or the deadline (NULL: none).
 * One that times out takes itself off the list, as Python's does; if a
 * wake-up took it first, the wake-up is spent on it and it still returns
 * false, as Python's Condition.wait does then (its post is made or about to
 * be, and is taken, so the semaphore is 0 again). Without o->m. Returns
 * true when woken in time. */
static bool waiter_sleep(struct hrun *r, struct hobj *o, uint32_t s, const struct timespec *until)
{
    struct hslot *w = &r->slots[s];
    if (sem_wait_until(&w->wake, until))
        return true;
    pthread_mutex_lock(&o->m);
    bool taken = !w->queued;
    if (!taken) {
        uint32_t prev = UINT32_MAX;
        for (uint32_t i = o->whead; i != s; i = r->slots[i].next_waiter)
            prev = i;
        if (prev == UINT32_MAX)
            o->whead = w->next_waiter;
        else
            r->slots[prev].next_waiter = w->next_waiter;
        if (o->wtail == s)
            o->wtail = prev;
        w->queued = false;
    }
    pthread_mutex_unlock(&o->m);
    if (taken)
        sem_wait_until(&w->wake, NULL);
    return false;
}

/* Condition wait, as CPython's Condition.wait: queues this thread while
 * holding the condition's lock, so no notify can be missed, releases that
 * lock completely, sleeps on its own lock and takes the condition's lock
 * back. */
static bool condition_wait(struct hthread *th, const struct op *op, uint32_t oi, int64_t timeout)
{
    struct hrun *r = th->run;
    const struct object_decl *d = &r->sc->objects[oi];
    struct hobj *c = obj_at(r, oi);
    uint32_t li = d->lock;
    struct hobj *l = obj_at(r, li);
    int64_t owner = atomic_load(&l->owner);
    bool mine = owner >= 0 && (r->sc->objects[li].type != OBJ_RLOCK || owner == (int64_t)th->slot);
    int64_t depth = l->depth;
    if (!mine)
        fail(th, op, STATUS_RUNTIME, "wait on condition '%s' without holding its lock (Python: RuntimeError)",
             d->name);
    pthread_mutex_lock(&c->m);
    waiter_push(r, c, th->slot);
    pthread_mutex_unlock(&c->m);
    instant(th, INSTANT_WAIT, oi, 0, 0);
    l->depth = 1;
    lock_release(th, op, li);
    struct blocking b;
    struct timespec dl;
    const struct timespec *until = block_wait_begin(&b, th, timeout, &dl);
    block_mark(&b, REASON_CONDITION, oi, timeout >= 0);
    bool woken = waiter_sleep(r, c, th->slot, until);
    block_end(&b);
    instant(th, INSTANT_WAKE, oi, woken, 0);
    lock_acquire(th, op, li, -1);
    l->depth = depth;
    return woken;
}

/* notify(n): wakes the n oldest waiters (n < 0: all), as CPython's does. */
static void condition_notify(struct hthread *th, uint32_t oi, int64_t n)
{
    struct hobj *c = obj_at(th->run, oi);
    pthread_mutex_lock(&c->m);
    int64_t k = waiters_wake(th->run, c, n);
    pthread_mutex_unlock(&c->m);
    instant(th, INSTANT_NOTIFY, oi, k, 0);
}

/* Event wait, as CPython's: returns at once when the flag is set, else
 * queues and sleeps until a set() wakes it (even when a clear() follows at
 * once: a set wakes every thread waiting then) or the timeout ends. */
static bool event_wait(struct hthread *th, uint32_t oi, int64_t timeout)
{
    struct hrun *r = th->run;
    struct hobj *o = obj_at(r, oi);
    instant(th, INSTANT_WAIT, oi, 0, 0);
    pthread_mutex_lock(&o->m);
    bool set = o->count != 0;
    if (!set)
        waiter_push(r, o, th->slot);
    pthread_mutex_unlock(&o->m);
    if (!set) {
        struct blocking b;
        struct timespec dl;
        const struct timespec *until = block_wait_begin(&b, th, timeout, &dl);
        block_mark(&b, REASON_EVENT, oi, timeout >= 0);
        set = waiter_sleep(r, o, th->slot, until);
        block_end(&b);
    }
    instant(th, INSTANT_WAKE, oi, set, 0);
    return set;
}

static void event_set(struct hthread *th, uint32_t oi, bool value)
{
    struct hobj *o = obj_at(th->run, oi);
    pthread_mutex_lock(&o->m);
    o->count = value;
    if (value)
        waiters_wake(th->run, o, -1);
    pthread_mutex_unlock(&o->m);
    instant(th, value ? INSTANT_SET : INSTANT_CLEAR, oi, 0, 0);
}

static void barrier_wait(struct hthread *th, uint32_t oi)
{
    struct hrun *r = th->run;
    struct hobj *o = obj_at(r, oi);
    struct blocking b;
    block_begin(&b, th);
    block_drop_gil(&b, NULL);
    instant(th, INSTANT_WAIT, oi, 0, 0);
    pthread_mutex_lock(&o->m);
    uint64_t gen = o->generation;
    if (++o->arrived >= r->sc->objects[oi].parties) {
        o->arrived = 0;
        o->generation++;
        pthread_cond_broadcast(&o->cv);
    } else {
        while (o->generation == gen) {
            block_mark(&b, REASON_BARRIER, oi, false);
            obj_wait(o, &o->cv, NULL);
        }
    }
    pthread_mutex_unlock(&o->m);
    block_end(&b);
    instant(th, INSTANT_WAKE, oi, 1, 0);
}

/* Queues hold their items in the mapping; the order is the queue's. */
static bool queue_put(struct hthread *th, const struct op *op, uint32_t oi, int64_t value, int64_t timeout)
{
    struct hrun *r = th->run;
    const struct object_decl *d = &r->sc->objects[oi];
    struct hobj *o = obj_at(r, oi);
    struct hitem *items = &r->items[o->items];
    struct timespec dl;
    if (timeout >= 0)
        deadline_of(&dl, timeout);
    struct blocking b;
    block_begin(&b, th);
    pthread_mutex_lock(&o->m);
    bool full = d->maxsize > 0 && o->count >= d->maxsize;
    if (full && timeout != 0)
        block_drop_gil(&b, &o->m);
    bool ok = true;
    while (d->maxsize > 0 && o->count >= d->maxsize) {
        if (timeout == 0) {
            ok = false;
            break;
        }
        block_mark(&b, REASON_QUEUE, oi, timeout >= 0);
        if (!obj_wait(o, &o->cv_space, timeout >= 0 ? &dl : NULL) && o->count >= d->maxsize) {
            ok = false;
            break;
        }
    }
    uint32_t flow = 0;
    if (ok) {
        if (o->count >= HOST_QUEUE_CAP) {
            pthread_mutex_unlock(&o->m);
            fail(th, op, STATUS_WATCHDOG, "queue '%s' would hold more than %d items, the real runner's limit",
                 d->name, HOST_QUEUE_CAP);
        }
        flow = new_flow(r);
        items[o->count].value = value;
        items[o->count].flow = flow;
        o->count++;
        o->unfinished++;
        /* stamped inside the monitor, so a put is never later than its get */
        instant(th, INSTANT_PUT, oi, value, flow);
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->m);
    block_end(&b);
    return ok;
}

static bool queue_get(struct hthread *th, uint32_t oi, int64_t timeout, int64_t *value)
{
    struct hrun *r = th->run;
    const struct object_decl *d = &r->sc->objects[oi];
    struct hobj *o = obj_at(r, oi);
    struct hitem *items = &r->items[o->items];
    struct timespec dl;
    if (timeout >= 0)
        deadline_of(&dl, timeout);
    struct blocking b;
    block_begin(&b, th);
    pthread_mutex_lock(&o->m);
    if (o->count == 0 && timeout != 0)
        block_drop_gil(&b, &o->m);
    bool ok = true;
    while (o->count == 0) {
        if (timeout == 0) {
            ok = false;
            break;
        }
        block_mark(&b, REASON_QUEUE, oi, timeout >= 0);
        if (!obj_wait(o, &o->cv, timeout >= 0 ? &dl : NULL) && o->count == 0) {
            ok = false;
            break;
        }
    }
    uint32_t flow = 0;
    if (ok) {
        int64_t at = 0;
        if (d->order == QUEUE_LIFO && d->type == OBJ_QUEUE) {
            at = o->count - 1;
        } else if (d->order == QUEUE_PRIORITY && d->type == OBJ_QUEUE) {
            for (int64_t i = 1; i < o->count; i++)
                if (items[i].value < items[at].value)
                    at = i;
        }
        *value = items[at].value;
        flow = items[at].flow;
        memmove(&items[at], &items[at + 1], (size_t)(o->count - at - 1) * sizeof *items);
        o->count--;
        pthread_cond_broadcast(&o->cv_space);
    }
    pthread_mutex_unlock(&o->m);
    block_end(&b);
    if (ok)
        instant(th, INSTANT_GET, oi, *value, flow);
    return ok;
}

static void queue_task_done(struct hthread *th, const struct op *op, uint32_t oi)
{
    struct hobj *o = obj_at(th->run, oi);
    pthread_mutex_lock(&o->m);
    if (o->unfinished <= 0) {
        pthread_mutex_unlock(&o->m);
        fail(th, op, STATUS_RUNTIME, "task_done() called too many times on queue '%s' (Python: ValueError)",
             th->run->sc->objects[oi].name);
    }
    if (--o->unfinished == 0)
        pthread_cond_broadcast(&o->cv_space);
    pthread_mutex_unlock(&o->m);
}

static void queue_join(struct hthread *th, uint32_t oi)
{
    struct hobj *o = obj_at(th->run, oi);
    struct blocking b;
    block_begin(&b, th);
    block_drop_gil(&b, NULL);
    pthread_mutex_lock(&o->m);
    while (o->unfinished > 0) {
        block_mark(&b, REASON_QUEUE, oi, false);
        obj_wait(o, &o->cv_space, NULL);
    }
    pthread_mutex_unlock(&o->m);
    block_end(&b);
}

/* A one-way pipe sends from end 1 to end 0, like Pipe(duplex=False). */
static void pipe_end_check(struct hthread *th, const struct op *op, uint32_t oi, bool send)
{
    const struct object_decl *d = &th->run->sc->objects[oi];
    uint32_t end = op->u.data.end;
    if (end > 1 || (!d->duplex && end != (send ? 1u : 0u)))
        fail(th, op, STATUS_RUNTIME, "end %u of the one-way pipe '%s' can only %s (Pipe(duplex=False) returns "
             "(receive end 0, send end 1))", end, d->name, send ? "receive" : "send");
}

static bool io_all(int fd, void *buf, size_t len, bool writing)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Whether fd is ready for events within timeout ns (-1: forever, 0: now). */
static bool fd_ready(int fd, short events, int64_t timeout)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int ms = timeout < 0 ? -1 : (int)((timeout + 999999) / 1000000);
    for (;;) {
        int n = poll(&pfd, 1, ms);
        if (n < 0 && errno == EINTR)
            continue;
        return n > 0;
    }
}

/* Writes a message (header then `bytes` of payload) into direction dir,
 * blocking while the pipe is full, with the GIL dropped. */
static void pipe_write(struct hthread *th, const struct op *op, uint32_t oi, uint32_t dir,
                       const struct pipe_header *h)
{
    struct hobj *o = obj_at(th->run, oi);
    static const unsigned char zeros[4096];
    struct blocking b;
    block_begin(&b, th);
    block_drop_gil(&b, NULL);
    pthread_mutex_lock(&o->wm[dir]);
    if (!fd_ready(o->fd[dir][1], POLLOUT, 0))
        block_mark(&b, REASON_PIPE, oi, false);
    struct pipe_header copy = *h;
    bool ok = io_all(o->fd[dir][1], &copy, sizeof copy, true);
    for (int64_t left = h->bytes; ok && left > 0;) {
        size_t n = left < (int64_t)sizeof zeros ? (size_t)left : sizeof zeros;
        ok = io_all(o->fd[dir][1], (void *)zeros, n, true);
        left -= (int64_t)n;
    }
    pthread_mutex_unlock(&o->wm[dir]);
    block_end(&b);
    if (!ok)
        fail(th, op, STATUS_RUNTIME, "cannot write to pipe '%s': %s", th->run->sc->objects[oi].name,
             strerror(errno));
}

static void pipe_send(struct hthread *th, const struct op *op, uint32_t oi, int64_t value)
{
    struct hobj *o = obj_at(th->run, oi);
    const struct object_decl *d = &th->run->sc->objects[oi];
    pipe_end_check(th, op, oi, true);
    uint32_t end = op->u.data.end;
    if (atomic_load(&o->closed[end]))
        fail(th, op, STATUS_RUNTIME, "send on end %u of '%s', which is closed (Python: OSError)", end, d->name);
    if (atomic_load(&o->closed[1 - end]))
        fail(th, op, STATUS_RUNTIME, "send on '%s' whose other end is closed: nobody can read it (Python: "
             "BrokenPipeError)", d->name);
    struct pipe_header h = {.value = value, .flow = new_flow(th->run), .eof = 0,
                            .bytes = op->u.data.bytes > 0 ? op->u.data.bytes : 0};
    /* stamped before the data can be read, so a send never follows its recv */
    instant(th, INSTANT_SEND, oi, value, h.flow);
    pipe_write(th, op, oi, end, &h);
}

static void pipe_recv(struct hthread *th, const struct op *op, uint32_t oi, int64_t *value)
{
    struct hobj *o = obj_at(th->run, oi);
    const struct object_decl *d = &th->run->sc->objects[oi];
    pipe_end_check(th, op, oi, false);
    uint32_t end = op->u.data.end, dir = 1 - end;
    if (atomic_load(&o->closed[end]))
        fail(th, op, STATUS_RUNTIME, "recv on end %u of '%s', which is closed (Python: OSError)", end, d->name);
    int64_t timeout = op->u.data.timeout;
    struct blocking b;
    block_begin(&b, th);
    block_drop_gil(&b, NULL);
    pthread_mutex_lock(&o->rm[dir]);
    struct pipe_header h = {.eof = 1};
    bool ok = true, timed_out = false;
    if (!atomic_load(&o->eof[dir])) {
        if (!fd_ready(o->fd[dir][0], POLLIN, 0)) {
            block_mark(&b, REASON_PIPE, oi, timeout >= 0);
            timed_out = !fd_ready(o->fd[dir][0], POLLIN, timeout);
        }
        if (!timed_out) {
            ok = io_all(o->fd[dir][0], &h, sizeof h, false);
            unsigned char sink[4096];
            for (int64_t left = h.bytes; ok && !h.eof && left > 0;) {
                size_t n = left < (int64_t)sizeof sink ? (size_t)left : sizeof sink;
                ok = io_all(o->fd[dir][0], sink, n, false);
                left -= (int64_t)n;
            }
            if (ok && h.eof)
                atomic_store(&o->eof[dir], 1);
        }
    }
    pthread_mutex_unlock(&o->rm[dir]);
    block_end(&b);
    if (timed_out)
        fail(th, op, STATUS_RUNTIME, "recv on pipe '%s' timed out", d->name);
    if (!ok)
        fail(th, op, STATUS_RUNTIME, "cannot read from pipe '%s': %s", d->name, strerror(errno));
    if (h.eof) {
        *value = op->u.data.eof;
        instant(th, INSTANT_RECV, oi, -1, 0);
    } else {
        *value = h.value;
        instant(th, INSTANT_RECV, oi, h.value, h.flow);
    }
}

/* Closing an end sends an EOF record after what it already sent. */
static void pipe_close(struct hthread *th, const struct op *op, uint32_t oi)
{
    struct hobj *o = obj_at(th->run, oi);
    uint32_t end = op->u.data.end;
    if (end > 1)
        fail(th, op, STATUS_RUNTIME, "a pipe has ends 0 and 1, not %u", end);
    int was = 0;
    if (!atomic_compare_exchange_strong(&o->closed[end], &was, 1))
        return;
    instant(th, INSTANT_CLOSE, oi, end, 0);
    struct pipe_header h = {.eof = 1};
    pipe_write(th, op, oi, end, &h);
}

/* ------------------------------------------------------------ the ops */

static enum flow exec_block(struct hthread *th, struct op_block blk, int64_t *locals);
static void thread_start(struct hrun *r, uint32_t slot, uint32_t fn, const int64_t *args, uint32_t nargs,
                         bool daemon, struct hthread *by, const struct op *op, struct hpool *pool);

static void run_compute(struct hthread *th, const struct op *op, const int64_t *locals)
{
    const struct op_compute *c = &op->u.compute;
    const struct profile *pf = &th->run->sc->profile;
    bool gil = th->gil && !c->release_gil;
    if (th->gil && c->release_gil)
        gil_drop(th);
    bool old = gil && th->gil->mode == GIL_OLD;
    switch (c->kind) {
    case COMPUTE_COUNT: {
        int64_t n = operand(locals, &c->n);
        double bpi = pf->count_bytecodes_per_iter > 0 ? pf->count_bytecodes_per_iter : 1;
        if (!gil) {
            while (!host_count_step(&n, HOST_CPU_CHECK_ITERS))
                note_cpu(th);
            break;
        }
        int64_t chunk = old ? (int64_t)(th->gil->check_interval / bpi) : 1000;
        if (chunk < 1)
            chunk = 1;
        int64_t left = n;
        while (!host_count_step(&n, chunk)) {
            checkpoint(th, (uint64_t)((double)chunk * bpi));
            left = n;
        }
        /* the bytecodes of the last (or only) partial chunk count too,
         * or a short count in a loop would never tick */
        th->ticks += (uint64_t)((double)left * bpi);
        break;
    }
    case COMPUTE_PRIMES: {
        struct host_primes_state s;
        host_primes_init(&s, operand(locals, &c->from), operand(locals, &c->to));
        if (!gil) {
            while (!host_primes_step(&s, HOST_CPU_CHECK_DIVISIONS))
                note_cpu(th);
            break;
        }
        double bpd = pf->primes_bytecodes_per_division > 0 ? pf->primes_bytecodes_per_division : 1;
        uint64_t chunk = old ? (uint64_t)(th->gil->check_interval / bpd) : 1000;
        if (chunk < 1)
            chunk = 1;
        while (!host_primes_step(&s, chunk))
            checkpoint(th, (uint64_t)((double)chunk * bpd));
        break;
    }
    case COMPUTE_FOR:
    case COMPUTE_SPIN: {
        if (!gil && c->dur >= HOST_SPIN_SHORT_NS) {
            int64_t until = host_thread_cpu_ns() + c->dur;
            while (!host_spin_step(until, HOST_SPIN_SHORT_NS))
                note_cpu(th);
            break;
        }
        /* under the new GIL a short spin has no check point to reach (they
         * come every 20 us), and timing it on the thread's CPU clock, a
         * system call of about a microsecond, would cost far more than it */
        if (!gil || (!old && c->dur < HOST_SPIN_SHORT_NS)) {
            host_spin(c->dur);
            break;
        }
        /* a spin's "bytecode" is one of count's, at the profile's speed */
        double ns_per_tick = pf->count_ns_per_iter / (pf->count_bytecodes_per_iter > 0 ? pf->count_bytecodes_per_iter : 1);
        int64_t chunk = old ? (int64_t)(th->gil->check_interval * ns_per_tick) : 20000;
        if (chunk < 200)
            chunk = 200;
        int64_t until = host_thread_cpu_ns() + c->dur;
        while (!host_spin_step(until, chunk))
            checkpoint(th, old ? th->gil->check_interval : 0);
        break;
    }
    }
    if (th->gil && c->release_gil)
        gil_take(th);
}

static void run_sleep(struct hthread *th, const struct op *op, const int64_t *locals)
{
    const struct op_sleep *sl = &op->u.sleep;
    int64_t dur = sl->dur;
    /* the simulator's draw: the key's, or the thread's n-th */
    if (sl->random && sl->keyed)
        dur = rng_stream_range(th->run->sc->seed, NULL, NULL, (uint64_t)operand(locals, &sl->key), sl->dur,
                               sl->dur_hi);
    else if (sl->random)
        dur = rng_stream_range(th->run->sc->seed, th->run->procs[th->run->proc].name,
                               th->run->slots[th->slot].name, th->sleep_draws++, sl->dur, sl->dur_hi);
    gil_drop(th);
    set_blocked(th, op->kind == OP_IO ? REASON_IO : REASON_SLEEP, UINT32_MAX, true);
    struct timespec ts;
    deadline_of(&ts, dur);
    /* a signal interrupts the sleep; the handler runs, then the sleep goes
     * on until its deadline (PEP 475) */
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        if (!pending_signals())
            continue;
        set_running(th);
        gil_take(th);
        run_handlers(th);
        gil_drop(th);
        set_blocked(th, op->kind == OP_IO ? REASON_IO : REASON_SLEEP, UINT32_MAX, true);
    }
    gil_take(th);
}

/* Appends s to buf (size cap, used *len) without overflowing. */
static void text_append(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n >= cap)
        n = cap - 1 - *len;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}

static void run_print(struct hthread *th, const struct op *op, const int64_t *locals)
{
    struct hrun *r = th->run;
    const struct scenario *sc = r->sc;
    char buf[SCENARIO_MAX_TEXT];
    char num[48];
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < op->u.print.npieces; i++) {
        const struct print_piece *pc = &op->u.print.pieces[i];
        switch (pc->kind) {
        case PRINT_TEXT:
            text_append(buf, sizeof buf, &len, pc->text);
            break;
        case PRINT_LOCAL:
            snprintf(num, sizeof num, "%" PRId64, locals[pc->slot]);
            text_append(buf, sizeof buf, &len, num);
            break;
        case PRINT_BUILTIN:
            if (strcmp(pc->text, "thread") == 0) {
                text_append(buf, sizeof buf, &len, r->slots[th->slot].name);
            } else if (strcmp(pc->text, "process") == 0) {
                text_append(buf, sizeof buf, &len, proc_name(r, r->proc));
            } else {
                snprintf(num, sizeof num, "%.3fms", (double)(now_ns() - r->sh->t0) / 1e6);
                text_append(buf, sizeof buf, &len, num);
            }
            break;
        case PRINT_VAR: {
            struct var_ref ref = {.name = pc->slot, .indexed = false};
            uint32_t d;
            int64_t *a = var_addr(th, op, locals, &ref, &d);
            uint32_t n = sc->vars[d].length;
            if (n == 0) {
                snprintf(num, sizeof num, "%" PRId64, load_cell(a));
                text_append(buf, sizeof buf, &len, num);
                break;
            }
            text_append(buf, sizeof buf, &len, "[");
            for (uint32_t k = 0; k < n; k++) {
                snprintf(num, sizeof num, k ? ", %" PRId64 : "%" PRId64, load_cell(a + k));
                text_append(buf, sizeof buf, &len, num);
            }
            text_append(buf, sizeof buf, &len, "]");
            break;
        }
        }
    }
    uint32_t off = UINT32_MAX;
    uint64_t at = atomic_fetch_add(&r->sh->text_used, len + 1);
    if (at + len + 1 <= HOST_TEXT_BYTES) {
        memcpy(r->text + at, buf, len + 1);
        off = (uint32_t)at;
    }
    record(th, HEV_INSTANT, INSTANT_PRINT, UINT32_MAX, 0, 0, off);
}

/* The racy add: a real read, the op's CPU time, then a real write, with no
 * lock, so another thread's write in between is lost exactly as in `x += 1`.
 * lost_updates counts the adds that overwrote other writes (one such add may
 * wipe out several updates when its thread was preempted in between).
 * Relaxed atomics keep it free of undefined behaviour (and quiet under TSan)
 * without making it atomic. A GIL check point sits between read and write,
 * where CPython's eval breaker can switch threads. */
static void run_add(struct hthread *th, const struct op *op, const int64_t *locals)
{
    struct hrun *r = th->run;
    uint32_t d;
    int64_t *cell = var_addr(th, op, locals, &op->u.var.var, &d);
    int64_t v = value_of(th, op, locals, &op->u.var.value);
    int64_t result;
    if (op->u.var.atomic) {
        result = __atomic_add_fetch(cell, v, __ATOMIC_SEQ_CST);
        write_instant(th, d, result);
    } else {
        int64_t old = load_cell(cell);
        int64_t cost = op->u.var.cost >= 0 ? op->u.var.cost : r->sc->profile.add_ns;
        if (th->gil && !r->procs[r->proc].gil_cfg.backedge_checks)
            checkpoint(th, 2);
        int64_t until = now_ns() + cost;
        while (now_ns() < until)
            ;
        result = old + v;
        /* the store is unconditional, so updates really are lost; swapping
         * instead of storing only tells, in the same instruction, whether
         * another write came in between (ABA aside) */
        if (__atomic_exchange_n(cell, result, __ATOMIC_RELAXED) != old) {
            atomic_fetch_add(&r->sh->lost_updates, 1);
            instant(th, INSTANT_LOST_UPDATE, r->sc->nobjects + d, result, 0);
        }
        write_instant(th, d, result);
    }
}

static uint32_t find_thread_slot(struct hthread *th, const struct op *op)
{
    struct hrun *r = th->run;
    const struct op_join *j = &op->u.join;
    if (j->thread >= 0)
        return (uint32_t)j->thread;
    uint32_t n = atomic_load(&r->sh->nslots);
    /* a slot counts once its state is stored, after its process and name
     * (new_slot, fork_process): one being made by another thread now is
     * skipped, as a thread not started yet */
    for (uint32_t s = n; s-- > r->sc->nthreads;)
        if (atomic_load(&r->slots[s].state) != SLOT_FREE && r->slots[s].process == r->proc &&
            strcmp(r->slots[s].name, j->name) == 0)
            return s;
    fail(th, op, STATUS_RUNTIME, "no thread named '%s' has been started in process '%s'", j->name,
         proc_name(r, r->proc));
}

static bool thread_join(struct hthread *th, const struct op *op)
{
    struct hrun *r = th->run;
    uint32_t s = find_thread_slot(th, op);
    if (s == th->slot)
        fail(th, op, STATUS_RUNTIME, "a thread cannot join itself (Python: RuntimeError)");
    if (atomic_load(&r->slots[s].state) == SLOT_NEW && r->slots[s].decl >= 0)
        fail(th, op, STATUS_RUNTIME, "cannot join thread '%s' before it is started (Python: RuntimeError)",
             r->slots[s].name);
    int64_t timeout = op->u.join.timeout;
    struct timespec dl;
    struct blocking b;
    block_wait_begin(&b, th, timeout, &dl);
    pthread_mutex_lock(&r->live_m);
    bool ok = true;
    while (atomic_load(&r->slots[s].state) != SLOT_DONE) {
        block_mark(&b, REASON_JOIN, s, timeout >= 0);
        if (timeout >= 0) {
            if (pthread_cond_timedwait(&r->live_cv, &r->live_m, &dl) == ETIMEDOUT &&
                atomic_load(&r->slots[s].state) != SLOT_DONE) {
                ok = false;
                break;
            }
        } else {
            pthread_cond_wait(&r->live_cv, &r->live_m);
        }
    }
    pthread_mutex_unlock(&r->live_m);
    block_end(&b);
    if (ok)
        instant(th, INSTANT_JOIN, UINT32_MAX, s, 0);
    return ok;
}

static void call_function(struct hthread *th, const struct op *op, uint32_t fn, const int64_t *args, uint32_t nargs,
                          bool has_into, uint32_t into, int64_t *locals)
{
    const struct function *f = &th->run->sc->functions[fn];
    int64_t frame[SCENARIO_MAX_LOCALS];
    memset(frame, 0, sizeof frame);
    for (uint32_t i = 0; i < nargs && i < f->nparams; i++)
        frame[i] = args[i];
    (void)op;
    th->ret = 0;
    enum flow fl = exec_block(th, f->body, frame);
    if (fl == FLOW_EXIT)
        return;
    if (has_into)
        locals[into] = th->ret;
}

/* A slot for a thread created at run time. */
static uint32_t new_slot(struct hthread *th, const struct op *op, const char *name)
{
    struct hrun *r = th->run;
    uint32_t s = atomic_fetch_add(&r->sh->nslots, 1);
    if (s >= r->max_slots)
        fail(th, op, STATUS_WATCHDOG, "more than %u threads: the real runner's thread limit", r->max_slots);
    struct hslot *sl = &r->slots[s];
    sl->process = r->proc;
    sl->decl = -1;
    snprintf(sl->name, sizeof sl->name, "%s", name);
    atomic_store(&sl->state, SLOT_NEW);
    return s;
}

static uint32_t fork_process(struct hthread *th, const struct op *op, const char *name, const struct gil_config *gil,
                             enum start_method method, const struct child_start *cs);

/* A pool's results: a process pool's are in the mapping. */
static int64_t *pool_results(const struct hrun *r, const struct hpool *pl)
{
    return pl->index >= 0 ? &r->pool_results[(size_t)pl->index * HOST_POOL_ITEMS] : pl->results;
}

static struct hpool *pool_at(const struct hrun *r, int32_t index)
{
    return index >= 0 ? &r->pools[index] : NULL;
}

/* map with a thread pool: daemon worker threads named as ThreadPool names
 * them; the caller blocks (GIL dropped) until every item is done, then the
 * results go to the `into` array. */
static void run_map(struct hthread *th, const struct op *op, const int64_t *locals)
{
    struct hrun *r = th->run;
    const struct op_map *m = &op->u.map;
    if (m->nitems == 0)
        return;
    int64_t *into = NULL;
    if (m->has_into) {
        uint32_t d;
        into = var_addr(th, op, locals, &m->into, &d);
        if (r->sc->vars[d].length < m->nitems)
            fail(th, op, STATUS_RUNTIME, "'%s' has %u elements, too few for the %u results", r->sc->vars[d].name,
                 r->sc->vars[d].length, m->nitems);
    }
    struct hpool *pl;
    if (m->process_pool) {
        uint32_t k = atomic_fetch_add(&r->sh->pools, 1);
        if (k >= HOST_POOLS)
            fail(th, op, STATUS_WATCHDOG, "more than %d process pools: the real runner's limit", HOST_POOLS);
        pl = &r->pools[k];
        memset(pl, 0, sizeof *pl);
        pl->index = (int32_t)k;
        pthread_mutexattr_t ma;
        pthread_condattr_t ca;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        pthread_condattr_init(&ca);
        pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        pthread_mutex_init(&pl->mu, &ma);
        pthread_cond_init(&pl->cv, &ca);
        pthread_mutexattr_destroy(&ma);
        pthread_condattr_destroy(&ca);
    } else {
        pl = xcalloc(1, sizeof *pl);
        pl->index = -1;
        pl->results = xcalloc(m->nitems, sizeof *pl->results);
        pthread_mutex_init(&pl->mu, NULL);
        pthread_cond_init(&pl->cv, NULL);
    }
    pl->op = (uint32_t)(op - r->sc->ops);
    uint32_t workers = m->workers < m->nitems ? m->workers : m->nitems;
    pl->alive = workers;
    static const char *const worker_kind[] = {"ForkPoolWorker", "SpawnPoolWorker", "ForkServerPoolWorker"};
    for (uint32_t w = 0; w < workers; w++) {
        char name[HOST_NAME_MAX];
        uint32_t number = atomic_fetch_add(&r->sh->pool_workers, 1) + 1;
        if (m->process_pool) {
            snprintf(name, sizeof name, "%s-%u", worker_kind[m->method], number);
            struct child_start cs = {.fn = UINT32_MAX, .pool = pl->index};
            fork_process(th, op, name, NULL, m->method, &cs);
            continue;
        }
        snprintf(name, sizeof name, "Thread-%u (worker)", number);
        uint32_t s = new_slot(th, op, name);
        start_instant(th, s);
        thread_start(r, s, UINT32_MAX, NULL, 0, true, th, op, pl);
    }
    struct blocking b;
    block_begin(&b, th);
    block_drop_gil(&b, NULL);
    pthread_mutex_lock(&pl->mu);
    while (pl->done < m->nitems || pl->alive > 0) {
        block_mark(&b, REASON_POOL, UINT32_MAX, false);
        pthread_cond_wait(&pl->cv, &pl->mu);
    }
    pthread_mutex_unlock(&pl->mu);
    block_end(&b);
    for (uint32_t i = 0; into && i < m->nitems; i++)
        store_cell(&into[i], pool_results(r, pl)[i]);
    pthread_mutex_destroy(&pl->mu);
    pthread_cond_destroy(&pl->cv);
    if (!m->process_pool) {
        free(pl->results);
        free(pl);
    }
}

static int init_object(struct hobj *o, const struct object_decl *d);
static _Noreturn void process_end(struct hrun *r);
static void process_local_init(struct hrun *r, uint32_t p);

/* The process named name: the latest made by this process, else any. */
static uint32_t find_process(struct hthread *th, const struct op *op, const char *name)
{
    struct hrun *r = th->run;
    uint32_t n = atomic_load(&r->sh->nprocs);
    uint32_t found = UINT32_MAX;
    for (uint32_t p = 0; p < n && p < r->max_procs; p++)
        if (strcmp(r->procs[p].name, name) == 0 && (found == UINT32_MAX || r->procs[p].parent == (int32_t)r->proc))
            found = p;
    if (found == UINT32_MAX)
        fail(th, op, STATUS_RUNTIME, "no process named '%s' has been started", name);
    return found;
}

/* Forks a process named name from the calling thread: the child has only
 * that thread, which becomes the child's MainThread. Its private memory is a
 * copy of the caller's at that moment (fork) or the initial values (spawn,
 * forkserver: a fresh interpreter has them), its private objects are new,
 * its GIL is gil or the caller's. A spawn then execs threadsim (spawn_exec,
 * docs/host.md). Returns the new process. */
/* ------------------------------------------------------------ forkserver */

/* A forkserver request: the process and main-thread slot the requester has
 * already set up in the mapping, and what the main thread runs. */
struct fs_request {
    uint32_t proc;
    uint32_t slot;
    struct child_start cs;
};

/* The forkserver's socket: an abstract unix socket named after the runner
 * and the run (not the mapping's address, which a spawned worker does not
 * share), so nothing is created in the file system and two runs never meet. */
static socklen_t fs_address(const struct hrun *r, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "threadsim-forkserver-%d-%" PRIx64,
                     (int)r->sh->runner_pid, r->sh->run_id);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* The server: forks a worker per request, so the workers are its children
 * (as multiprocessing's forkserver's are), reaps them and marks them done,
 * and ends when the runner stops or goes away. It runs no scenario code. */
static _Noreturn void forkserver_main(struct hrun *r, int lfd)
{
    signals_block_here();
    signal(SIGCHLD, SIG_DFL);
    for (;;) {
        struct pollfd pf = {.fd = lfd, .events = POLLIN};
        int ready = poll(&pf, 1, 10);
        int ws;
        pid_t dead;
        while ((dead = waitpid(-1, &ws, WNOHANG)) > 0) {
            uint32_t n = atomic_load(&r->sh->nprocs);
            for (uint32_t p = r->sc->nprocesses; p < n && p < r->max_procs; p++)
                if (atomic_load(&r->procs[p].pid) == (int)dead && atomic_load(&r->procs[p].via_server)) {
                    child_reaped(r, p, ws);
                    atomic_store(&r->procs[p].state, PROC_DONE);
                }
        }
        if (atomic_load(&r->sh->abort) || (kill(r->sh->runner_pid, 0) != 0 && errno == ESRCH))
            _exit(0);
        if (ready <= 0)
            continue;
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        struct fs_request req;
        int32_t pid = -1;
        if (io_all(c, &req, sizeof req, false) && req.proc < r->max_procs && req.slot < r->max_slots) {
            pid = (int32_t)fork();
            if (pid == 0) {
                note_birth(r, &r->slots[req.slot]);
                close(lfd);
                close(c);
                process_local_init(r, req.proc);
                thread_start(r, req.slot, req.cs.fn, req.cs.args, req.cs.nargs, false, NULL, NULL, pool_at(r, req.cs.pool));
                process_end(r);
            }
            if (pid > 0) {
                if (r->opt->record)
                    r->slots[req.slot].forked = stamp();
                atomic_store(&r->procs[req.proc].pid, pid);
            }
        }
        io_all(c, &pid, sizeof pid, true);
        close(c);
    }
}

/* Starts the forkserver if no process of the run has yet: the first to ask
 * binds the socket, then forks the server from itself (only this thread
 * lives on in it). Returns whether a server is listening. */
static bool forkserver_ensure(struct hrun *r)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&r->sh->fs_state, &expected, 1)) {
        struct sockaddr_un a;
        socklen_t len = fs_address(r, &a);
        int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, len) != 0 || listen(lfd, 64) != 0) {
            if (lfd >= 0)
                close(lfd);
            atomic_store(&r->sh->fs_state, 3);
            return false;
        }
        pid_t pid = fork();
        if (pid == 0)
            forkserver_main(r, lfd);
        close(lfd);
        if (pid < 0) {
            atomic_store(&r->sh->fs_state, 3);
            return false;
        }
        atomic_store(&r->sh->fs_pid, (int)pid);
        atomic_store(&r->sh->fs_state, 2);
        return true;
    }
    while (atomic_load(&r->sh->fs_state) == 1) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&r->sh->fs_state) == 2;
}

/* Asks the forkserver for process p; returns the worker's pid, -1. */
static pid_t forkserver_request(struct hrun *r, uint32_t p, uint32_t slot, const struct child_start *cs)
{
    if (!forkserver_ensure(r))
        return -1;
    struct sockaddr_un a;
    socklen_t len = fs_address(r, &a);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct fs_request req = {.proc = p, .slot = slot, .cs = *cs};
    int32_t pid = -1;
    if (connect(fd, (struct sockaddr *)&a, len) != 0 || !io_all(fd, &req, sizeof req, true) ||
        !io_all(fd, &pid, sizeof pid, false))
        pid = -1;
    close(fd);
    if (pid > 0)
        atomic_fetch_add(&r->sh->fs_starts, 1);
    return pid;
}

/* The child side of a spawn, between fork and exec: only async-signal-safe
 * calls (the parent has other threads). The memfd is inherited by this
 * program image alone: the runner keeps it close-on-exec. */
static _Noreturn void spawn_exec(struct hrun *r, const char *exe, char *fdarg, char *parg, const char *path,
                                 const char *why)
{
    fcntl(r->memfd, F_SETFD, 0);
    char argv0[] = "threadsim", mode[] = "__worker";
    char *argv[] = {argv0, mode, fdarg, parg, NULL};
    execv(exe, argv);
    int expected = 0;
    if (atomic_compare_exchange_strong(&r->sh->failed, &expected, 1)) {
        r->sh->fail_status = STATUS_INTERNAL;
        size_t n = strlen(path) < sizeof r->sh->fail_path ? strlen(path) : sizeof r->sh->fail_path - 1;
        memcpy(r->sh->fail_path, path, n);
        r->sh->fail_path[n] = '\0';
        n = strlen(why) < sizeof r->sh->fail_msg ? strlen(why) : sizeof r->sh->fail_msg - 1;
        memcpy(r->sh->fail_msg, why, n);
        r->sh->fail_msg[n] = '\0';
        atomic_store(&r->sh->failed, 2);
    }
    _exit(STATUS_INTERNAL);
}

static uint32_t fork_process(struct hthread *th, const struct op *op, const char *name, const struct gil_config *gil,
                             enum start_method method, const struct child_start *cs)
{
    struct hrun *r = th->run;
    const struct scenario *sc = r->sc;
    if (atomic_load(&r->sh->abort))
        _exit(STATUS_WATCHDOG);
    uint32_t p = atomic_fetch_add(&r->sh->nprocs, 1);
    if (p >= r->max_procs || r->nchildren >= sizeof r->children / sizeof r->children[0])
        fail(th, op, STATUS_WATCHDOG, "more than %u processes: the real runner's process limit", r->max_procs);
    uint32_t t = template_of(r, r->proc);
    struct hproc *hp = &r->procs[p];
    hp->template_proc = t;
    hp->parent = (int32_t)r->proc;
    hp->gil_cfg = gil ? *gil : r->procs[r->proc].gil_cfg;
    snprintf(hp->name, sizeof hp->name, "%s", name);
    hp->cell_base = r->ncells + (p - sc->nprocesses) * r->priv_cells;
    hp->obj_base = sc->nobjects + (p - sc->nprocesses) * r->priv_objs;
    if (host_gil_init(&hp->gil, &hp->gil_cfg) != 0)
        fail(th, op, STATUS_WATCHDOG, "cannot make the GIL of process '%s'", name);
    for (uint32_t v = 0; v < sc->nvars; v++) {
        if (sc->vars[v].process != (int32_t)t)
            continue;
        uint32_t n = sc->vars[v].length ? sc->vars[v].length : 1;
        for (uint32_t k = 0; k < n; k++)
            r->cells[cell_of(r, p, v) + k] = method == START_FORK ? load_cell(&r->cells[cell_of(r, r->proc, v) + k])
                                                                  : (sc->vars[v].init ? sc->vars[v].init[k] : 0);
    }
    for (uint32_t o = 0; o < sc->nobjects; o++) {
        if (sc->objects[o].process != (int32_t)t)
            continue;
        struct hobj *copy = &r->objs[hp->obj_base + o - r->tobj[t]];
        if (init_object(copy, &sc->objects[o]) != 0)
            fail(th, op, STATUS_WATCHDOG, "cannot make the objects of process '%s'", name);
        if (sc->objects[o].type == OBJ_QUEUE || sc->objects[o].type == OBJ_MP_QUEUE)
            copy->items = atomic_fetch_add(&r->sh->next_items, 1) * HOST_QUEUE_CAP;
    }
    uint32_t slot = atomic_fetch_add(&r->sh->nslots, 1);
    if (slot >= r->max_slots)
        fail(th, op, STATUS_WATCHDOG, "more than %u threads: the real runner's thread limit", r->max_slots);
    struct hslot *sl = &r->slots[slot];
    sl->process = p;
    sl->decl = -1;
    snprintf(sl->name, sizeof sl->name, "MainThread");
    sl->forked = sl->born = 0;
    sl->boot_cpu_ns = -1;
    atomic_store(&sl->state, SLOT_NEW);
    hp->main_slot = slot;
    atomic_store(&hp->state, PROC_RUNNING);
    cpu_mark(th);
    start_instant(th, slot);
    if (method == START_FORKSERVER) {
        atomic_store(&hp->via_server, 1);
        pid_t spid = forkserver_request(r, p, slot, cs);
        if (spid < 0)
            fail(th, op, STATUS_WATCHDOG, "the forkserver could not start process '%s'", name);
        atomic_store(&hp->pid, (int)spid);
        r->children[r->nchildren++] = p;
        cpu_mark(th);
        return p;
    }
    /* spawn: a fresh image of threadsim, `threadsim __worker FD P`, that
     * maps the run through the memfd and runs what hp->start says */
    bool exec = method == START_SPAWN && r->sh->source.kind != SOURCE_NONE;
    char fdarg[16], parg[16], why[ERROR_MSG_MAX];
    const char *exe = r->opt->self_exe ? r->opt->self_exe : "/proc/self/exe";
    if (exec) {
        hp->start = *cs;
        snprintf(fdarg, sizeof fdarg, "%d", r->memfd);
        snprintf(parg, sizeof parg, "%" PRIu32, p);
        snprintf(why, sizeof why, "thread '%s' of process '%s': cannot execute %s to spawn process '%s'",
                 r->slots[th->slot].name, proc_name(r, r->proc), exe, name);
    }
    /* the child takes no scenario signal before it is set up as process p
     * (process_local_init unblocks them): one sent at once, a `terminate`
     * right after the start, would otherwise run its creator's handlers */
    sigset_t block, old;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof scenario_signals / sizeof scenario_signals[0]; i++)
        sigaddset(&block, scenario_signals[i]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pid_t pid = fork();
    if (pid == 0)
        note_birth(r, sl);
    if (pid > 0 && r->opt->record)
        sl->forked = stamp();
    if (pid != 0)
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        fail(th, op, STATUS_WATCHDOG, "cannot fork process '%s': %s", name, strerror(errno));
    if (pid == 0 && exec)
        spawn_exec(r, exe, fdarg, parg, op->path, why);
    if (pid == 0) {
        /* only this thread lives on in the child: it becomes the process */
        process_local_init(r, p);
        thread_start(r, slot, cs->fn, cs->args, cs->nargs, false, NULL, NULL, pool_at(r, cs->pool));
        process_end(r);
    }
    atomic_store(&hp->pid, (int)pid);
    r->children[r->nchildren++] = p;
    cpu_mark(th);
    return p;
}

static void run_process(struct hthread *th, const struct op *op, const int64_t *locals)
{
    const struct op_process *po = &op->u.process;
    struct child_start cs = {.fn = po->fn, .pool = -1,
                             .nargs = po->nargs < SCENARIO_MAX_LOCALS ? po->nargs : SCENARIO_MAX_LOCALS};
    for (uint32_t i = 0; i < cs.nargs; i++)
        cs.args[i] = operand(locals, &po->args[i]);
    fork_process(th, op, po->name, po->has_gil ? &po->gil : NULL, po->method, &cs);
}

static int signal_number(int scenario_signo)
{
    switch (scenario_signo) {
    case SIG_HUP: return SIGHUP;
    case SIG_INT: return SIGINT;
    case SIG_USR1: return SIGUSR1;
    case SIG_USR2: return SIGUSR2;
    case SIG_ALRM: return SIGALRM;
    default: return SIGTERM;
    }
}

static void run_kill(struct hthread *th, const struct op *op)
{
    struct hrun *r = th->run;
    uint32_t p = find_process(th, op, op->u.signal.process);
    int pid = atomic_load(&r->procs[p].pid);
    if (pid <= 0 || atomic_load(&r->procs[p].state) == PROC_DONE)
        return;
    kill(pid, signal_number(op->u.signal.signo));
    /* a signal to oneself is handled before the next op, as in Python */
    if (p == r->proc)
        checkpoint(th, 0);
}

static void run_alarm(struct hthread *th, const struct op *op)
{
    (void)th;
    struct itimerval it;
    memset(&it, 0, sizeof it);
    int64_t after = op->u.signal.after;
    it.it_value.tv_sec = (time_t)(after / 1000000000);
    it.it_value.tv_usec = (suseconds_t)((after % 1000000000) / 1000);
    if (after > 0 && it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
        it.it_value.tv_usec = 1;
    setitimer(ITIMER_REAL, &it, NULL);
}

/* Waits up to ms for process pid to end: on its pidfd, which becomes
 * readable when the kernel has torn it down (as a parent's blocking waitpid
 * returns, which is how Python's Process.join waits), else by sleeping a
 * millisecond. *pidfd is opened on first use; -1 when it cannot be. */
static void process_end_wait(int pid, int *pidfd, int64_t ms)
{
    if (*pidfd == -2 && pid > 0) {
        *pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (*pidfd < 0)
            *pidfd = -1;
    }
    if (*pidfd >= 0) {
        struct pollfd pf = {*pidfd, POLLIN, 0};
        poll(&pf, 1, (int)(ms < 100 ? ms : 100));
        return;
    }
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

/* join of a process: its creator reaps it; any other process waits for it
 * to be marked done. */
static void run_process_join(struct hthread *th, const struct op *op)
{
    struct hrun *r = th->run;
    uint32_t p = find_process(th, op, op->u.proc.name);
    if (p == r->proc)
        fail(th, op, STATUS_RUNTIME, "a process cannot join itself");
    int64_t timeout = op->u.proc.timeout;
    int64_t end = timeout >= 0 ? now_ns() + timeout : INT64_MAX;
    struct blocking b;
    block_begin(&b, th);
    block_drop_gil(&b, NULL);
    bool mine = r->procs[p].parent == (int32_t)r->proc && !atomic_load(&r->procs[p].via_server);
    int pidfd = -2;
    for (;;) {
        int pid = atomic_load(&r->procs[p].pid);
        if (atomic_load(&r->procs[p].state) == PROC_DONE && !mine)
            break;
        int ws;
        if (mine && pid > 0) {
            pid_t w = waitpid(pid, &ws, WNOHANG);
            if (w == pid || (w < 0 && errno == ECHILD)) {
                if (w == pid)
                    child_reaped(r, p, ws);
                else
                    atomic_store(&r->procs[p].reaped, 1);
                atomic_store(&r->procs[p].state, PROC_DONE);
                break;
            }
        }
        int64_t now = now_ns();
        if (now >= end)
            break;
        block_mark(&b, REASON_PROCESS, UINT32_MAX, timeout >= 0);
        process_end_wait(pid, &pidfd, end == INT64_MAX ? 100 : (end - now + 999999) / 1000000);
    }
    if (pidfd >= 0)
        close(pidfd);
    block_end(&b);
}

static void run_terminate(struct hthread *th, const struct op *op)
{
    struct hrun *r = th->run;
    uint32_t p = find_process(th, op, op->u.proc.name);
    int pid = atomic_load(&r->procs[p].pid);
    if (pid > 0 && atomic_load(&r->procs[p].state) != PROC_DONE)
        kill(pid, SIGTERM);
}

/* Runs one op; returns how control goes on. */
static enum flow exec_op(struct hthread *th, const struct op *op, int64_t *locals)
{
    struct hrun *r = th->run;
    const struct scenario *sc = r->sc;
    atomic_fetch_add_explicit(&r->slots[th->slot].progress, 1, memory_order_relaxed);
    switch (op->kind) {
    case OP_COMPUTE:
        run_compute(th, op, locals);
        break;
    case OP_SLEEP:
    case OP_IO:
        run_sleep(th, op, locals);
        break;
    case OP_REPEAT: {
        int64_t n = operand(locals, &op->u.repeat.times);
        for (int64_t i = 0; i < n; i++) {
            enum flow fl = exec_block(th, op->u.repeat.body, locals);
            if (fl != FLOW_NEXT)
                return fl;
            /* a long loop of short ops may move to another CPU too */
            if ((i & 255) == 255)
                note_cpu(th);
        }
        break;
    }
    case OP_CALL: {
        int64_t args[SCENARIO_MAX_LOCALS];
        const struct op_call *c = &op->u.call;
        for (uint32_t i = 0; i < c->nargs && i < SCENARIO_MAX_LOCALS; i++)
            args[i] = operand(locals, &c->args[i]);
        call_function(th, op, c->fn, args, c->nargs, c->has_into, c->into, locals);
        if (atomic_load(&r->slots[th->slot].state) == SLOT_DONE)
            return FLOW_EXIT;
        break;
    }
    case OP_PRINT:
        run_print(th, op, locals);
        break;
    case OP_START: {
        uint32_t s = op->u.start.thread;
        if (atomic_load(&r->slots[s].state) != SLOT_NEW)
            fail(th, op, STATUS_RUNTIME, "thread '%s' is started twice (Python: RuntimeError)", op->u.start.name);
        start_instant(th, s);
        thread_start(r, s, UINT32_MAX, NULL, 0, sc->threads[s].daemon, th, op, NULL);
        break;
    }
    case OP_MAP:
        run_map(th, op, locals);
        break;
    case OP_PROCESS:
        run_process(th, op, locals);
        break;
    case OP_PROCESS_JOIN:
        run_process_join(th, op);
        break;
    case OP_TERMINATE:
        run_terminate(th, op);
        break;
    case OP_KILL:
        run_kill(th, op);
        break;
    case OP_ALARM:
        run_alarm(th, op);
        break;
    case OP_THREAD: {
        const struct op_thread *t = &op->u.thread;
        int64_t args[SCENARIO_MAX_LOCALS];
        for (uint32_t i = 0; i < t->nargs && i < SCENARIO_MAX_LOCALS; i++)
            args[i] = operand(locals, &t->args[i]);
        uint32_t s = new_slot(th, op, t->name);
        start_instant(th, s);
        thread_start(r, s, t->fn, args, t->nargs, t->daemon, th, op, NULL);
        break;
    }
    case OP_JOIN: {
        bool ok = thread_join(th, op);
        (void)ok;
        break;
    }
    case OP_EXIT:
        return FLOW_EXIT;
    case OP_ACQUIRE: {
        uint32_t oi = lock_of(th, obj_index(th, op, &op->u.sync.obj));
        bool ok = lock_acquire(th, op, oi, op->u.sync.timeout);
        if (op->u.sync.has_into)
            locals[op->u.sync.into] = ok;
        break;
    }
    case OP_RELEASE:
        lock_release(th, op, lock_of(th, obj_index(th, op, &op->u.sync.obj)));
        break;
    case OP_WITH: {
        uint32_t oi = lock_of(th, obj_index(th, op, &op->u.sync.obj));
        lock_acquire(th, op, oi, -1);
        enum flow fl = exec_block(th, op->u.sync.body, locals);
        if (fl == FLOW_EXIT)
            return fl;
        lock_release(th, op, oi);
        if (fl != FLOW_NEXT)
            return fl;
        break;
    }
    case OP_WAIT: {
        uint32_t oi = obj_index(th, op, &op->u.sync.obj);
        bool ok = true;
        switch (sc->objects[oi].type) {
        case OBJ_EVENT: ok = event_wait(th, oi, op->u.sync.timeout); break;
        case OBJ_CONDITION: ok = condition_wait(th, op, oi, op->u.sync.timeout); break;
        case OBJ_BARRIER: barrier_wait(th, oi); break;
        default: fail(th, op, STATUS_RUNTIME, "cannot wait on '%s'", sc->objects[oi].name);
        }
        if (op->u.sync.has_into)
            locals[op->u.sync.into] = ok;
        break;
    }
    case OP_WAIT_FOR: {
        uint32_t oi = obj_index(th, op, &op->u.sync.obj);
        int64_t timeout = op->u.sync.timeout;
        int64_t end = timeout >= 0 ? now_ns() + timeout : 0;
        bool ok;
        while (!(ok = condition_of(th, op, locals, &op->u.sync.until))) {
            int64_t left = -1;
            if (timeout >= 0) {
                left = end - now_ns();
                if (left <= 0)
                    break;
            }
            condition_wait(th, op, oi, left);
        }
        if (op->u.sync.has_into)
            locals[op->u.sync.into] = ok;
        break;
    }
    case OP_EVENT_SET:
    case OP_EVENT_CLEAR:
        event_set(th, obj_index(th, op, &op->u.sync.obj), op->kind == OP_EVENT_SET);
        break;
    case OP_NOTIFY:
    case OP_NOTIFY_ALL: {
        uint32_t oi = obj_index(th, op, &op->u.sync.obj);
        condition_notify(th, oi, op->kind == OP_NOTIFY ? op->u.sync.n : -1);
        break;
    }
    case OP_VAR_SET: {
        uint32_t d;
        int64_t *cell = var_addr(th, op, locals, &op->u.var.var, &d);
        int64_t v = value_of(th, op, locals, &op->u.var.value);
        store_cell(cell, v);
        write_instant(th, d, v);
        break;
    }
    case OP_ADD:
        run_add(th, op, locals);
        break;
    case OP_LOAD:
        locals[op->u.var.into] = load_cell(var_addr(th, op, locals, &op->u.var.var, NULL));
        break;
    case OP_IF:
        return exec_block(th, condition_of(th, op, locals, &op->u.branch.cond) ? op->u.branch.then
                                                                              : op->u.branch.otherwise,
                          locals);
    case OP_WHILE:
        while (condition_of(th, op, locals, &op->u.branch.cond)) {
            enum flow fl = exec_block(th, op->u.branch.then, locals);
            if (fl != FLOW_NEXT)
                return fl;
            checkpoint(th, 1);
        }
        break;
    case OP_PUT: {
        uint32_t oi = obj_index(th, op, &op->u.data.obj);
        int64_t v = value_of(th, op, locals, &op->u.data.value);
        bool ok = queue_put(th, op, oi, v, op->u.data.timeout);
        if (!ok && op->u.data.timeout >= 0)
            fail(th, op, STATUS_RUNTIME, "put on queue '%s' timed out (Python: queue.Full)", sc->objects[oi].name);
        break;
    }
    case OP_GET: {
        uint32_t oi = obj_index(th, op, &op->u.data.obj);
        int64_t v = 0;
        if (!queue_get(th, oi, op->u.data.timeout, &v))
            fail(th, op, STATUS_RUNTIME, "get on queue '%s' timed out (Python: queue.Empty)", sc->objects[oi].name);
        if (op->u.data.has_into)
            locals[op->u.data.into] = v;
        break;
    }
    case OP_TASK_DONE:
        queue_task_done(th, op, obj_index(th, op, &op->u.data.obj));
        break;
    case OP_QUEUE_JOIN:
        queue_join(th, obj_index(th, op, &op->u.data.obj));
        break;
    case OP_SEND:
        pipe_send(th, op, obj_index(th, op, &op->u.data.obj), value_of(th, op, locals, &op->u.data.value));
        break;
    case OP_RECV: {
        int64_t v = 0;
        pipe_recv(th, op, obj_index(th, op, &op->u.data.obj), &v);
        if (op->u.data.has_into)
            locals[op->u.data.into] = v;
        break;
    }
    case OP_CLOSE:
        pipe_close(th, op, obj_index(th, op, &op->u.data.obj));
        break;
    case OP_LET:
        locals[op->u.let.into] = value_of(th, op, locals, &op->u.let.value);
        break;
    case OP_RETURN:
        th->ret = value_of(th, op, locals, &op->u.let.value);
        return FLOW_RETURN;
    default:
        fail(th, op, STATUS_INTERNAL, "op not supported by the real runner");
    }
    checkpoint(th, 1);
    return FLOW_NEXT;
}

static enum flow exec_block(struct hthread *th, struct op_block blk, int64_t *locals)
{
    const struct op *ops = th->run->sc->ops;
    for (uint32_t i = 0; i < blk.count; i++) {
        enum flow fl = exec_op(th, &ops[blk.first + i], locals);
        if (fl == FLOW_RETURN)
            return FLOW_RETURN;
        if (fl == FLOW_EXIT)
            return FLOW_EXIT;
    }
    return FLOW_NEXT;
}

/* ------------------------------------------------------ threads, processes */

/* A pool worker: chunks of items until none is left. */
static void pool_work(struct hthread *th)
{
    struct hpool *pl = th->pool;
    const struct op_map *m = &th->run->sc->ops[pl->op].u.map;
    int64_t locals[SCENARIO_MAX_LOCALS];
    for (;;) {
        uint32_t first = atomic_fetch_add(&pl->next, m->chunksize);
        if (first >= m->nitems)
            break;
        uint32_t end = first + m->chunksize < m->nitems ? first + m->chunksize : m->nitems;
        for (uint32_t i = first; i < end; i++) {
            call_function(th, NULL, m->fn, &m->items[i], 1, false, 0, locals);
            uint32_t pos = m->ordered ? i : atomic_fetch_add(&pl->slot, 1);
            pool_results(th->run, pl)[pos] = th->ret;
            pthread_mutex_lock(&pl->mu);
            pl->done++;
            pthread_cond_broadcast(&pl->cv);
            pthread_mutex_unlock(&pl->mu);
        }
    }
}

/* The end of a worker: the caller waits for it before freeing the pool. */
static void pool_leave(struct hpool *pl)
{
    pthread_mutex_lock(&pl->mu);
    pl->alive--;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
}

/* Fills in the pages of [p, p + len) in one call (`advice`:
 * MADV_POPULATE_WRITE, which also breaks their copy-on-write sharing, or
 * MADV_POPULATE_READ for code), and with `touch` makes
 * each usable from user space by reading a byte of it. On a virtual
 * machine the first user access to a page costs 5-6 us even when the
 * kernel has populated it (11 us when it has not), every later one 25 ns
 * (a C program here: 64 pages, first read or write after the populate
 * 5.8 us, then 28 ns, in any thread of the process). So touching pays only
 * before time zero: a thread made in the run would pay for pages it may
 * never use (a runner thread uses 3-7 of the 16 pages below its stack
 * pointer; with them touched, 10_barrier took 1.81 ms instead of 1.24).
 * Best effort: older kernels refuse the populate. */
__attribute__((no_sanitize("address", "thread"))) static void populate(void *p, size_t len, int advice, bool touch)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)p & ~(page - 1), hi = (uintptr_t)p + len;
    /* reads of pages the kernel did not fill would map the zero page (the
     * write faults anyway) or, past a file's end, raise SIGBUS; and the
     * reads may land in a sanitizer's redzones, which is no error here */
    if (hi <= lo || madvise((void *)lo, hi - lo, advice) != 0)
        return;
    for (uintptr_t a = lo; touch && a < hi; a += page)
        (void)*(volatile const char *)a;
}

static void fill_pages(void *p, size_t len, bool touch)
{
    populate(p, len, MADV_POPULATE_WRITE, touch);
}

/* The same for code: maps [p, p + len) of a file's text and reads a byte of
 * each page, so that the first call of a routine there does not fault. */
static void fill_text(void *p, size_t len)
{
    populate(p, len, MADV_POPULATE_READ, true);
}

/* A page fault costs about 10 us on some virtual machines (it exits to the
 * hypervisor), and a new thread takes one per page of its stack and of its
 * event buffer as it first touches them: a few hundred microseconds that
 * belong to the runner, not to the scenario, and that the simulator does not
 * charge. One madvise call fills the pages in at a fraction of that, before
 * the thread counts as arrived; a thread made before time zero (a declared
 * one) also touches them (fill_pages). */
static void prefault_thread(struct hthread *th)
{
    enum { STACK_BYTES = 64 * 1024, EVENT_BYTES = 16 * 1024 };
    char here;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    /* below the page in use, which is there already */
    uintptr_t below = (uintptr_t)&here & ~(page - 1);
    if (!th->own_stack)
        fill_pages((void *)(below - STACK_BYTES), STACK_BYTES, th->at_gate);
    struct hrun *r = th->run;
    if (r->opt->record && th->slot != UINT32_MAX) {
        uintptr_t ev = (uintptr_t)th->events & ~(page - 1);
        fill_pages((void *)ev, EVENT_BYTES, th->at_gate);
    }
}

static void *thread_main(void *arg)
{
    struct hthread *th = arg;
    struct hrun *r = th->run;
    struct hslot *s = &r->slots[th->slot];
    const struct scenario *sc = r->sc;
    int64_t locals[SCENARIO_MAX_LOCALS];
    memset(locals, 0, sizeof locals);
    s->cpu_ns = -1; /* until it exits: a daemon thread may never */
    if (th->slot != r->procs[r->proc].main_slot)
        signals_block_here();
    prefault_thread(th);
    if (th->started) {
        pthread_mutex_lock(&r->live_m);
        *th->started = true;
        th->started = NULL;
        pthread_cond_broadcast(&r->start_cv);
        pthread_mutex_unlock(&r->live_m);
    }
    if (th->at_gate) {
        /* its first allocation (the thread's malloc cache, fresh heap
         * memory) before time zero: a declared thread's first `thread` or
         * `start` op spent 26-50 us in its calloc of the new thread's
         * state, 0.4-3 us after this */
        free(xcalloc(1, sizeof *th));
        /* the gate may have opened before this thread got here: either way
         * it runs from the arrival, not from the opening, 0.3 ms before */
        pthread_mutex_lock(&r->gate_m);
        while (atomic_load(&r->gated))
            pthread_cond_wait(&r->gate_cv, &r->gate_m);
        pthread_mutex_unlock(&r->gate_m);
        sleep_until(arrival_at(r));
    }
    int64_t cpu0 = r->opt->record ? host_thread_cpu_ns() : -1;
    /* a made process's main thread: what the child used since its fork */
    if (cpu0 >= 0 && made_main(r, r->proc, th->slot))
        s->boot_cpu_ns = host_process_cpu_ns();
    instant(th, INSTANT_ARRIVE, UINT32_MAX, 0, 0);
    gil_take(th);
    if (th->pool) {
        pool_work(th);
    } else if (th->fn != UINT32_MAX) {
        call_function(th, NULL, th->fn, th->args, th->nargs, false, 0, locals);
    } else {
        exec_block(th, sc->threads[s->decl].program, locals);
    }
    /* the thread has finished when it lets go of the GIL (its drop is
     * stamped before its exit, as the simulator records them) */
    if (th->gil)
        gil_instant(th, INSTANT_GIL_DROP);
    instant(th, INSTANT_EXIT, UINT32_MAX, 0, 0);
    int64_t cpu1 = cpu0 >= 0 ? host_thread_cpu_ns() : -1;
    s->cpu_ns = cpu0 >= 0 && cpu1 >= cpu0 ? cpu1 - cpu0 : -1;
    if (th->gil)
        host_gil_drop(th->gil, th->slot, false);
    /* before this thread counts as finished: a pool worker process may end
     * (exit) as soon as it does */
    if (th->pool)
        pool_leave(th->pool);
    int64_t now = now_ns();
    long long last = atomic_load(&r->sh->last_exit);
    while (last < now && !atomic_compare_exchange_weak(&r->sh->last_exit, &last, now))
        ;
    pthread_mutex_lock(&r->live_m);
    atomic_store(&s->state, SLOT_DONE);
    if (!th->daemon && --r->live == 0)
        pthread_cond_signal(&r->end_cv);
    pthread_cond_broadcast(&r->live_cv);
    pthread_mutex_unlock(&r->live_m);
    free(th);
    return NULL;
}

/* Stacks for the threads a process starts in the run (`thread` ops, thread
 * pools' workers, declared threads without autostart), made before time zero with the top HOST_STACK_WARM bytes of
 * each written, and a guard page below each. glibc's own stacks, even kept
 * from threads made and ended before time zero (prewarm_stacks), have their
 * pages given back when their thread ends; filling them in again with
 * madvise as the new thread begins (prefault_thread) still left about 3 us
 * at the first touch of each page on a virtual machine (16 of them: 33-37
 * us in a C program, against 1.3 us with the pages written beforehand), and
 * 5.6-6.5 us at a thread's first `with` in the runner. Taken in order and
 * never given back (a detached thread's end does not say when its stack is
 * free); once all are taken, threads get glibc's. */
static void stack_pool_init(struct hrun *r, uint32_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (n == 0)
        return;
    unsigned char *m = mmap(NULL, (size_t)n * HOST_STACK_BYTES, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char *base = m + (size_t)i * HOST_STACK_BYTES;
        mprotect(base, page, PROT_NONE);
        for (size_t off = HOST_STACK_BYTES - HOST_STACK_WARM; off < HOST_STACK_BYTES; off += page)
            *(volatile unsigned char *)(base + off) = 0;
    }
    r->stacks = m;
    r->nstacks = n;
}

/* The next stack of the process's pool, or NULL when all are taken. */
static void *stack_take(struct hrun *r)
{
    if (!r->stacks)
        return NULL;
    unsigned k = atomic_fetch_add(&r->stack_next, 1);
    return k < r->nstacks ? r->stacks + (size_t)k * HOST_STACK_BYTES : NULL;
}

static void thread_start(struct hrun *r, uint32_t slot, uint32_t fn, const int64_t *args, uint32_t nargs,
                         bool daemon, struct hthread *by, const struct op *op, struct hpool *pool)
{
    struct hthread *th = xcalloc(1, sizeof *th);
    th->pool = pool;
    th->run = r;
    th->slot = slot;
    if (r->opt->record) {
        th->events = slot_events(r, slot);
        th->cap = slot_cap(r, slot);
    }
    th->gil = r->procs[r->proc].gil_cfg.mode != GIL_NONE ? &r->procs[r->proc].gil : NULL;
    th->fn = fn;
    th->nargs = nargs < SCENARIO_MAX_LOCALS ? nargs : SCENARIO_MAX_LOCALS;
    if (args)
        memcpy(th->args, args, th->nargs * sizeof *args);
    th->daemon = daemon;
    th->at_gate = atomic_load(&r->gated);
    pthread_mutex_lock(&r->live_m);
    if (!daemon)
        r->live++;
    atomic_store(&r->slots[slot].state, SLOT_RUN);
    pthread_mutex_unlock(&r->live_m);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    void *stack = th->at_gate ? NULL : stack_take(r);
    th->own_stack = stack != NULL;
    if (stack)
        pthread_attr_setstack(&attr, stack, HOST_STACK_BYTES);
    else
        pthread_attr_setstacksize(&attr, HOST_STACK_BYTES);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* a thread op returns once the new thread runs, as Python's
     * Thread.start() does (it waits for the thread's _started event): a
     * thread started first is then waiting before one started after it acts */
    bool started = false;
    th->started = by ? &started : NULL;
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, thread_main, th);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        if (by)
            fail(by, op, STATUS_WATCHDOG, "cannot create a thread: %s", strerror(rc));
        _exit(STATUS_WATCHDOG);
    }
    if (!by)
        return;
    /* blocked meanwhile (the GIL kept: the new thread takes it only after
     * saying it started) */
    struct blocking b;
    block_begin(&b, by);
    pthread_mutex_lock(&r->live_m);
    while (!started) {
        block_mark(&b, REASON_WAKEUP, UINT32_MAX, false);
        pthread_cond_wait(&r->start_cv, &r->live_m);
    }
    pthread_mutex_unlock(&r->live_m);
    block_end(&b);
}

/* A process ends when its non-daemon threads have; like multiprocessing at
 * exit, it first joins the processes it made. */
static _Noreturn void process_end(struct hrun *r)
{
    /* this thread only waits: signals go to the main thread */
    signals_block_here();
    pthread_mutex_lock(&r->live_m);
    while (r->live > 0) {
        /* the lifeline: a process outlives neither the runner (killed,
         * interrupted) nor its abort, even when its creator is gone */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&r->end_cv, &r->live_m, &ts);
        if ((kill(r->sh->runner_pid, 0) != 0 && errno == ESRCH) || atomic_load(&r->sh->abort))
            _exit(STATUS_WATCHDOG);
    }
    pthread_mutex_unlock(&r->live_m);
    for (uint32_t i = 0; i < r->nchildren; i++) {
        /* the forkserver's workers are its children: wait until it has
         * reaped them (or they have finished) */
        while (atomic_load(&r->procs[r->children[i]].via_server) &&
               atomic_load(&r->procs[r->children[i]].state) != PROC_DONE) {
            if ((kill(r->sh->runner_pid, 0) != 0 && errno == ESRCH) || atomic_load(&r->sh->abort))
                _exit(STATUS_WATCHDOG);
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        int pid = atomic_load(&r->procs[r->children[i]].pid), ws;
        pid_t w;
        while (pid > 0 && (w = waitpid(pid, &ws, 0)) < 0 && errno == EINTR)
            ;
        if (pid > 0 && w == pid)
            child_reaped(r, r->children[i], ws);
    }
    atomic_store(&r->procs[r->proc].state, PROC_DONE);
    /* daemon threads end with the process, as in Python */
    _exit(0);
}

static void process_local_init(struct hrun *r, uint32_t p)
{
    /* one malloc arena for the process: glibc otherwise gives each new
     * thread an arena of its own at its first allocation (a 128 MiB
     * reservation and its first pages: 0.1 ms on a virtual machine, in the
     * middle of a thread op or a thread's exit); CPython's threads share
     * its allocator */
    mallopt(M_ARENA_MAX, 1);
    r->proc = p;
    pthread_mutex_init(&r->live_m, NULL);
    pthread_cond_init(&r->live_cv, NULL);
    pthread_cond_init(&r->end_cv, NULL);
    pthread_cond_init(&r->start_cv, NULL);
    r->live = 0;
    r->nchildren = 0;
    r->in_handler = false;
    /* a made process has no pool: a forked one's copy of its creator's
     * would be shared with it until written */
    r->stacks = NULL;
    r->nstacks = 0;
    atomic_store(&r->stack_next, 0);
    signals_install(r);
    /* the threads started from here inherit this mask: the main thread
     * takes signals, the others block them on start */
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof scenario_signals / sizeof scenario_signals[0]; i++)
        sigaddset(&set, scenario_signals[i]);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    atomic_store(&r->procs[p].pid, (int)getpid());
    atomic_store(&r->procs[p].ppid, (int)getppid());
    atomic_store(&r->procs[p].state, PROC_RUNNING);
}

/* Runs, once and briefly, the code of a print and of the compute kernels,
 * before time zero: a forked process does not copy its parent's page tables
 * for the program's and the C library's code, so each first call of a
 * routine faults its pages in, 5-20 us each on a virtual machine (a
 * process's first print of a time took 42-80 us, 21-42 us after this). A
 * Python program has run its interpreter's loop and its print machinery
 * before the lecture's code runs. Declared processes only: a process made
 * by a `process` op pays its start, as the profile's fork_child_ns says. */
static void warm_code(void)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%" PRId64 " %.3fms", now_ns(), 1.5);
    __asm__ volatile("" : : "r"(buf) : "memory");
    host_count(10000);
    host_primes(2, 3000);
    /* a long spin: it measures, once a process, what a look at the thread's
     * CPU clock costs (8 looks, some 10 us here) */
    host_spin(HOST_SPIN_SHORT_NS);
}

/* Breaks, before time zero, the copy-on-write sharing of the private
 * writable memory a declared process inherited from the runner and will
 * write to: its heap and the program's and the C libraries' data. Else the
 * first write to each of those pages in the run copies it, 15-30 us a page
 * on a virtual machine (a main thread's first `thread` op took four such
 * faults, some 70 us, in glibc's thread list and the heap). A Python program
 * has written its own long before its lecture code runs. Anonymous
 * mappings and any of more than HOST_WARM_MAX bytes are left alone: every
 * page made the process's own is a page table entry each fork it makes in
 * the run copies, and the runner's caller may hold large ones (calibrate has
 * a thread's 8 MiB stack; warming that took its fork_parent_ns from 0.8-1.1
 * to 1.2-1.9 ms).
 * The code of the program and of the C library is mapped and read too
 * (fill_text): a fork leaves a file's text out of the child's page tables,
 * and the first call of each routine in the run then faulted its pages in.
 * A declared thread's first print took 12.5 us (33 us with a {time}), its
 * second 0.6-0.9 us. A fork does not copy those entries either, so the
 * process's own forks do not get slower. Best effort. */
#define HOST_WARM_MAX (512u << 10)
static void warm_private_memory(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    char exe[256];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strchr(line, '\n')) {
            /* a longer line (a long path): not one of ours; skip its rest */
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
            continue;
        }
        unsigned long lo, hi;
        char perms[5], path[256] = "";
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %255s", &lo, &hi, perms, path) < 3)
            continue;
        if (strcmp(perms, "r-xp") == 0 && ((exe[0] && strcmp(path, exe) == 0) || strstr(path, "/libc.so")))
            fill_text((void *)lo, hi - lo);
        if (strcmp(perms, "rw-p") != 0)
            continue;
        if ((path[0] == '/' || strcmp(path, "[heap]") == 0) && hi - lo <= HOST_WARM_MAX)
            fill_pages((void *)lo, hi - lo, true);
    }
    fclose(f);
}

static void *prewarm_main(void *arg)
{
    prefault_thread(arg);
    return NULL;
}

/* Threads the scenario's ops may start: `thread` ops and thread pools'
 * workers, once each, at most HOST_PREWARM. */
static uint32_t threads_to_come(const struct scenario *sc)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < sc->nops && n < HOST_PREWARM; i++) {
        const struct op *op = &sc->ops[i];
        if (op->kind == OP_THREAD)
            n++;
        else if (op->kind == OP_MAP && !op->u.map.process_pool)
            n += op->u.map.workers;
    }
    return n < HOST_PREWARM ? n : HOST_PREWARM;
}

/* Makes and joins as many threads as the process will start: its declared
 * threads (made next, or by a start op) and those its ops may start later,
 * so that glibc keeps their stacks for the threads to come (the mappings:
 * glibc gives a stack's pages back when its thread ends, and
 * prefault_thread fills them in again): a thread then starts in a run as
 * fast as calibrate's thread_start_ns measured (its trial's process warms
 * its stacks the same way). (Counting only the later ones left the last
 * `thread` op of a process with a fresh stack: the declared main thread
 * took a kept one.) The threads to come now run on the stack pool
 * (stack_pool_init), yet making these threads before time zero still
 * pays: without it, 03_bank_account_race's real runs took 1.14 ms against
 * 0.93 ms and 20_primes_threads's 1.28 against 1.16 ms (medians of 21
 * alternated runs each, 2026-12-05). */
static void prewarm_stacks(struct hrun *r, const struct process_decl *pd)
{
    /* every declared thread: those without autostart come by a start op */
    uint32_t n = threads_to_come(r->sc) + pd->nthreads;
    if (n > HOST_PREWARM)
        n = HOST_PREWARM;
    pthread_t tid[HOST_PREWARM];
    struct hthread th[HOST_PREWARM];
    uint32_t made = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, HOST_STACK_BYTES);
    /* all alive at once, so each gets a stack of its own */
    for (; made < n; made++) {
        memset(&th[made], 0, sizeof th[made]);
        th[made].run = r;
        th[made].slot = UINT32_MAX;
        if (pthread_create(&tid[made], &attr, prewarm_main, &th[made]) != 0)
            break;
    }
    pthread_attr_destroy(&attr);
    for (uint32_t i = 0; i < made; i++)
        pthread_join(tid[i], NULL);
}

static _Noreturn void child_main(struct hrun *r, uint32_t p)
{
    const struct scenario *sc = r->sc;
    const struct process_decl *pd = &sc->processes[p];
    process_local_init(r, p);
    /* before any thread of its own is made, so that only what the process
     * inherited is copied */
    warm_private_memory();
    /* the threads are made now, before time zero, and wait at the gate: what
     * the run measures from its arrival is the threads' wake-up, not the
     * creation of their stacks in a freshly forked process (about 0.5 ms of
     * page faults on a virtual machine), which a Python program has done
     * before its first line runs */
    prewarm_stacks(r, pd);
    /* its declared threads without autostart come by a start op */
    uint32_t later = threads_to_come(sc);
    for (uint32_t t = pd->first_thread; t < pd->first_thread + pd->nthreads; t++)
        later += !sc->threads[t].autostart;
    stack_pool_init(r, later < HOST_STACK_POOL ? later : HOST_STACK_POOL);
    /* the run's shared state (all but the event buffers), mapped into this
     * process's page tables now: a fork does not copy those of a shared
     * mapping, and each first touch of a page would otherwise fault (a print
     * took 30-100 us on a virtual machine for its page of text). The state
     * itself and the text's first HOST_TEXT_WARM bytes are made usable too
     * (fill_pages); the process pools' results (4 MiB) and the rest of the
     * text only where a run gets to them, a page at a time */
    unsigned char *results = (unsigned char *)r->pool_results, *text = (unsigned char *)r->text;
    fill_pages(r->map, (size_t)(results - r->map), true);
    fill_pages(results, (size_t)(text - results), false);
    fill_pages(text, HOST_TEXT_WARM, true);
    fill_pages(text + HOST_TEXT_WARM, (size_t)((unsigned char *)r->events - text) - HOST_TEXT_WARM, false);
    warm_code();
    pthread_mutex_init(&r->gate_m, NULL);
    pthread_cond_init(&r->gate_cv, NULL);
    atomic_store(&r->gated, true);
    for (uint32_t t = pd->first_thread; t < pd->first_thread + pd->nthreads; t++)
        if (sc->threads[t].autostart)
            thread_start(r, t, UINT32_MAX, NULL, 0, sc->threads[t].daemon, NULL, NULL, NULL);
    atomic_fetch_add(&r->sh->ready, 1);
    while (!atomic_load(&r->sh->go)) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    /* the gate opens a little before the arrival, and each thread sleeps
     * to the arrival by its own timer: at the arrival only the scenario's
     * threads wake, not this one first and then them, each hop a thread
     * to place on the run's CPUs (a third declared process on two busy
     * CPUs waited for both hops) */
    sleep_until(arrival_at(r) - HOST_GATE_EARLY_NS);
    pthread_mutex_lock(&r->gate_m);
    atomic_store(&r->gated, false);
    pthread_cond_broadcast(&r->gate_cv);
    pthread_mutex_unlock(&r->gate_m);
    process_end(r);
}

/* --------------------------------------------------------------- parent */

static size_t align_up(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

static int init_object(struct hobj *o, const struct object_decl *d)
{
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    int rc;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if ((rc = pthread_mutex_init(&o->m, &ma)) == 0 && (rc = pthread_cond_init(&o->cv, &ca)) == 0)
        rc = pthread_cond_init(&o->cv_space, &ca);
    pthread_condattr_destroy(&ca);
    o->owner = -1;
    o->whead = o->wtail = UINT32_MAX;
    if (is_mutex(d) && rc == 0 && sem_init(&o->sem, 1, 1) != 0)
        rc = errno;
    if (is_semaphore(d))
        o->count = d->value;
    for (int dir = 0; dir < 2; dir++)
        o->fd[dir][0] = o->fd[dir][1] = -1;
    if (d->type == OBJ_PIPE && rc == 0) {
        for (int dir = 0; dir < 2 && rc == 0; dir++) {
            if (pipe(o->fd[dir]) != 0)
                return errno;
            /* the kernel rounds the capacity up to whole pages */
            fcntl(o->fd[dir][1], F_SETPIPE_SZ, (int)(d->capacity > 4096 ? d->capacity : 4096));
            if ((rc = pthread_mutex_init(&o->wm[dir], &ma)) == 0)
                rc = pthread_mutex_init(&o->rm[dir], &ma);
        }
    }
    pthread_mutexattr_destroy(&ma);
    return rc;
}

/* A digest of what the runner's processes index by number (ops, threads,
 * processes, objects, variables, functions, names): a spawned worker checks
 * that the scenario it loaded again is the runner's. FNV-1a. */
static uint64_t fingerprint_add(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t fingerprint_str(uint64_t h, const char *s)
{
    return fingerprint_add(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static uint64_t scenario_fingerprint(const struct scenario *sc)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    uint32_t counts[] = {sc->nops, sc->nthreads, sc->nprocesses, sc->nobjects, sc->nvars, sc->nfunctions,
                         sc->nobj_names, sc->nvar_names};
    h = fingerprint_add(h, counts, sizeof counts);
    h = fingerprint_add(h, &sc->seed, sizeof sc->seed);
    for (uint32_t i = 0; i < sc->nops; i++) {
        h = fingerprint_add(h, &sc->ops[i].kind, sizeof sc->ops[i].kind);
        h = fingerprint_str(h, sc->ops[i].path);
    }
    for (uint32_t i = 0; i < sc->nthreads; i++)
        h = fingerprint_str(h, sc->threads[i].name);
    for (uint32_t i = 0; i < sc->nprocesses; i++)
        h = fingerprint_str(h, sc->processes[i].name);
    for (uint32_t i = 0; i < sc->nobjects; i++)
        h = fingerprint_str(h, sc->objects[i].path);
    for (uint32_t i = 0; i < sc->nvars; i++) {
        uint32_t n = sc->vars[i].length ? sc->vars[i].length : 1;
        h = fingerprint_str(h, sc->vars[i].name);
        if (sc->vars[i].init)
            h = fingerprint_add(h, sc->vars[i].init, n * sizeof *sc->vars[i].init);
    }
    for (uint32_t i = 0; i < sc->nfunctions; i++)
        h = fingerprint_str(h, sc->functions[i].name);
    h = fingerprint_add(h, &sc->profile, sizeof sc->profile);
    return h;
}

/* Puts in the mapping what a spawned worker needs to load the run's
 * scenario again: its source, the caller's changes after loading, the
 * runner's options. Without a source, spawn forks (host_options). */
static void source_save(struct hrun *r, const struct scenario *sc, const struct host_options *opt)
{
    struct hsource *src = &r->sh->source;
    char *dst = (char *)r->map + r->sh->layout.source;
    if (opt->source_file) {
        src->kind = SOURCE_FILE;
        src->len = strlen(opt->source_file);
        memcpy(dst, opt->source_file, src->len);
    } else if (opt->source_text) {
        src->kind = SOURCE_TEXT;
        src->len = opt->source_len;
        memcpy(dst, opt->source_text, src->len);
        snprintf(src->origin, sizeof src->origin, "%s", opt->source_origin ? opt->source_origin : "scenario");
    }
    dst[src->len] = '\0';
    src->seed = sc->seed;
    src->machine = sc->machine;
    src->machine.profile_path = NULL;
    src->sched = sc->sched;
    src->sched.levels = NULL;
    src->profile = sc->profile;
    src->fingerprint = scenario_fingerprint(sc);
    src->timeout_ns = opt->timeout_ns;
    src->max_threads = opt->max_threads;
    src->max_processes = opt->max_processes;
    src->max_memory = opt->max_memory;
    src->record = opt->record;
    src->trace_events = opt->trace_events;
}

/* The tables every process of the run derives from the scenario alone
 * (memory layout, name lookups): a spawned worker rebuilds them from its own
 * copy of the scenario. */
static void run_tables(struct hrun *r, const struct scenario *sc, const struct host_options *opt)
{
    memset(r, 0, sizeof *r);
    atomic_init(&r->gated, false);
    r->memfd = -1;
    r->sc = sc;
    r->opt = opt;
    r->max_slots = opt->max_threads > sc->nthreads ? opt->max_threads : sc->nthreads;
    r->big_slots = host_trace_threads(sc, opt);
    r->big_events = opt->trace_events ? opt->trace_events : HOST_EVENTS_PER_THREAD;
    r->var_off = xmalloc((sc->nvars + 1) * sizeof *r->var_off);
    uint32_t ncells = 0;
    for (uint32_t v = 0; v < sc->nvars; v++) {
        r->var_off[v] = ncells;
        ncells += sc->vars[v].length ? sc->vars[v].length : 1;
    }
    r->ncells = ncells;
    /* each declared process's private variables and objects are contiguous
     * (the loader lists them process by process): a process made at run
     * time gets room for the largest such set */
    r->max_procs = opt->max_processes > sc->nprocesses ? opt->max_processes : sc->nprocesses;
    r->tcell = xcalloc(sc->nprocesses + 1, sizeof *r->tcell);
    r->tobj = xcalloc(sc->nprocesses + 1, sizeof *r->tobj);
    for (uint32_t p = 0; p < sc->nprocesses; p++) {
        uint32_t first = UINT32_MAX, cells = 0, fo = UINT32_MAX, objs = 0;
        for (uint32_t v = 0; v < sc->nvars; v++)
            if (sc->vars[v].process == (int32_t)p) {
                first = first < r->var_off[v] ? first : r->var_off[v];
                cells += sc->vars[v].length ? sc->vars[v].length : 1;
            }
        for (uint32_t o = 0; o < sc->nobjects; o++)
            if (sc->objects[o].process == (int32_t)p) {
                fo = fo < o ? fo : o;
                objs++;
            }
        r->tcell[p] = first == UINT32_MAX ? 0 : first;
        r->tobj[p] = fo == UINT32_MAX ? 0 : fo;
        r->priv_cells = cells > r->priv_cells ? cells : r->priv_cells;
        r->priv_objs = objs > r->priv_objs ? objs : r->priv_objs;
    }
    size_t nv = (size_t)sc->nprocesses * sc->nvar_names, no = (size_t)sc->nprocesses * sc->nobj_names;
    r->var_map = xmalloc((nv ? nv : 1) * sizeof *r->var_map);
    r->obj_map = xmalloc((no ? no : 1) * sizeof *r->obj_map);
    for (uint32_t p = 0; p < sc->nprocesses; p++) {
        for (uint32_t k = 0; k < sc->nvar_names; k++) {
            int32_t found = -1;
            for (uint32_t i = 0; i < sc->nvars; i++) {
                if (strcmp(sc->vars[i].name, sc->var_names[k]) != 0)
                    continue;
                if (sc->vars[i].process == (int32_t)p || (sc->vars[i].process < 0 && found < 0))
                    found = (int32_t)i;
            }
            r->var_map[(size_t)p * sc->nvar_names + k] = found;
        }
        for (uint32_t k = 0; k < sc->nobj_names; k++) {
            int32_t found = -1;
            for (uint32_t i = 0; i < sc->nobjects; i++) {
                if (strcmp(sc->objects[i].name, sc->obj_names[k]) != 0)
                    continue;
                if (sc->objects[i].process == (int32_t)p || (sc->objects[i].process < 0 && found < 0))
                    found = (int32_t)i;
            }
            r->obj_map[(size_t)p * sc->nobj_names + k] = found;
        }
    }
}

/* Where each part of the mapping lies, for the scenario and options of r
 * and source_len bytes of scenario source. */
static void run_layout(const struct hrun *r, size_t source_len, struct hlayout *l)
{
    const struct scenario *sc = r->sc;
    uint32_t extra = r->max_procs - sc->nprocesses;
    uint32_t nqueues = 0;
    for (uint32_t o = 0; o < sc->nobjects; o++)
        if (sc->objects[o].type == OBJ_QUEUE || sc->objects[o].type == OBJ_MP_QUEUE)
            nqueues++;
    size_t nobjs = sc->nobjects + (size_t)extra * r->priv_objs;
    size_t off = 0;
    off = align_up(off + sizeof(struct hshared));
    l->procs = off; off = align_up(off + r->max_procs * sizeof(struct hproc));
    l->objs = off; off = align_up(off + nobjs * sizeof(struct hobj));
    l->slots = off; off = align_up(off + r->max_slots * sizeof(struct hslot));
    l->cells = off; off = align_up(off + (r->ncells + (size_t)extra * r->priv_cells) * sizeof(int64_t));
    l->items = off; off = align_up(off + (size_t)(nqueues + (size_t)extra * r->priv_objs) * HOST_QUEUE_CAP * sizeof(struct hitem));
    l->pools = off; off = align_up(off + HOST_POOLS * sizeof(struct hpool));
    l->results = off; off = align_up(off + (size_t)HOST_POOLS * HOST_POOL_ITEMS * sizeof(int64_t));
    l->text = off; off = align_up(off + HOST_TEXT_BYTES);
    l->source = off;
    off = align_up(off + source_len + 1);
    l->events = off;
    if (r->opt->record)
        off += ((size_t)r->big_slots * r->big_events + (size_t)(r->max_slots - r->big_slots) * HOST_EVENTS_PER_THREAD) *
               sizeof(struct host_event);
    l->size = off;
}

/* Points r's tables into the mapping m laid out as l. */
static void run_attach(struct hrun *r, unsigned char *m, const struct hlayout *l)
{
    r->map = m;
    r->map_size = l->size;
    r->sh = (struct hshared *)m;
    r->procs = (struct hproc *)(m + l->procs);
    r->objs = (struct hobj *)(m + l->objs);
    r->slots = (struct hslot *)(m + l->slots);
    r->cells = (int64_t *)(m + l->cells);
    r->items = (struct hitem *)(m + l->items);
    r->pools = (struct hpool *)(m + l->pools);
    r->pool_results = (int64_t *)(m + l->results);
    r->text = (char *)(m + l->text);
    r->events = (struct host_event *)(m + l->events);
}

/* Lays out and fills the mapping. Returns STATUS_OK or fills err. */
static enum status run_setup(struct hrun *r, const struct scenario *sc, const struct host_options *opt,
                             struct error *err)
{
    run_tables(r, sc, opt);
    size_t source_len = opt->source_file ? strlen(opt->source_file) : opt->source_text ? opt->source_len : 0;
    struct hlayout l;
    run_layout(r, source_len, &l);
    /* a memfd, not an anonymous mapping: a spawned worker (a new program
     * image) maps it through the descriptor it inherits. Nothing appears in
     * the file system; the memory goes with the last descriptor and mapping */
    r->memfd = memfd_create("threadsim-run", MFD_CLOEXEC);
    if (r->memfd < 0 || ftruncate(r->memfd, (off_t)l.size) != 0)
        return error_set(err, STATUS_INTERNAL, NULL, "cannot make %zu bytes of shared memory: %s",
                         (size_t)l.size, strerror(errno));
    void *m = mmap(NULL, l.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, r->memfd, 0);
    if (m == MAP_FAILED)
        return error_set(err, STATUS_INTERNAL, NULL, "cannot map %zu bytes of shared memory: %s", (size_t)l.size,
                         strerror(errno));
    run_attach(r, m, &l);
    r->sh->magic = HOST_MAGIC;
    r->sh->layout = l;
    r->sh->run_id = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 40);
    source_save(r, sc, opt);
    size_t nobjs = sc->nobjects + (size_t)(r->max_procs - sc->nprocesses) * r->priv_objs;

    for (uint32_t v = 0; v < sc->nvars; v++) {
        uint32_t n = sc->vars[v].length ? sc->vars[v].length : 1;
        for (uint32_t k = 0; k < n; k++)
            r->cells[r->var_off[v] + k] = sc->vars[v].init ? sc->vars[v].init[k] : 0;
    }
    for (uint32_t i = 0; i < r->max_slots; i++)
        if (sem_init(&r->slots[i].wake, 1, 0) != 0)
            return error_set(err, STATUS_INTERNAL, NULL, "cannot make a thread's wake-up semaphore: %s",
                             strerror(errno));
    uint32_t q = 0;
    /* no descriptor yet, so a teardown after a failure closes only pipes made */
    for (size_t o = 0; o < nobjs; o++)
        for (int dir = 0; dir < 2; dir++)
            r->objs[o].fd[dir][0] = r->objs[o].fd[dir][1] = -1;
    for (uint32_t o = 0; o < sc->nobjects; o++) {
        if (init_object(&r->objs[o], &sc->objects[o]) != 0)
            return error_set(err, STATUS_WATCHDOG, sc->objects[o].path,
                             "cannot make the real primitives of this object (out of file descriptors?)");
        if (sc->objects[o].type == OBJ_QUEUE || sc->objects[o].type == OBJ_MP_QUEUE)
            r->objs[o].items = q++ * HOST_QUEUE_CAP;
    }
    atomic_store(&r->sh->next_items, q);
    for (uint32_t p = 0; p < sc->nprocesses; p++) {
        struct hproc *hp = &r->procs[p];
        if (host_gil_init(&hp->gil, &sc->processes[p].gil) != 0)
            return error_set(err, STATUS_INTERNAL, NULL, "cannot make a process-shared GIL");
        hp->gil_cfg = sc->processes[p].gil;
        hp->template_proc = p;
        hp->parent = -1;
        hp->main_slot = sc->processes[p].first_thread;
        snprintf(hp->name, sizeof hp->name, "%s", sc->processes[p].name);
    }
    atomic_store(&r->sh->nprocs, sc->nprocesses);
    for (uint32_t t = 0; t < sc->nthreads; t++) {
        struct hslot *s = &r->slots[t];
        s->process = sc->threads[t].process;
        s->decl = (int32_t)t;
        snprintf(s->name, sizeof s->name, "%s", sc->threads[t].name);
        atomic_store(&s->state, SLOT_NEW);
    }
    atomic_store(&r->sh->nslots, sc->nthreads);
    /* touch the first threads' event buffers now, so recording never pays
     * a page fault (the threads made past them do, once a page) */
    if (opt->record)
        memset(r->events, 0, (size_t)r->big_slots * r->big_events * sizeof(struct host_event));

    return STATUS_OK;
}

static void run_teardown(struct hrun *r)
{
    if (r->map) {
        uint32_t np = atomic_load(&r->sh->nprocs);
        for (uint32_t p = 0; p < np && p < r->max_procs; p++)
            host_gil_deinit(&r->procs[p].gil);
        size_t nobjs = r->sc->nobjects + (size_t)(r->max_procs - r->sc->nprocesses) * r->priv_objs;
        for (size_t o = 0; o < nobjs; o++)
            for (int dir = 0; dir < 2; dir++)
                for (int k = 0; k < 2; k++)
                    if (r->objs[o].fd[dir][k] >= 0)
                        close(r->objs[o].fd[dir][k]);
        munmap(r->map, r->map_size);
    }
    if (r->memfd >= 0)
        close(r->memfd);
    r->memfd = -1;
    free(r->var_map);
    free(r->obj_map);
    free(r->var_off);
    free(r->tcell);
    free(r->tobj);
    r->tcell = r->tobj = NULL;
    r->map = NULL;
    r->var_map = r->obj_map = NULL;
    r->var_off = NULL;
}

static const char *slot_process(const struct hrun *r, uint32_t s)
{
    return r->procs[r->slots[s].process].name;
}

/* The deadlock detector: every started, unfinished thread is blocked with
 * no timeout on a scenario object (or joining such a thread), and nothing
 * has progressed for a while. Fills msg with who waits for what. */
static bool deadlocked(struct hrun *r, uint64_t *last_progress, int *stable, char *msg, size_t size)
{
    uint32_t n = atomic_load(&r->sh->nslots);
    uint64_t progress = 0;
    uint32_t blocked = 0;
    for (uint32_t s = 0; s < n && s < r->max_slots; s++) {
        int st = atomic_load(&r->slots[s].state);
        progress += atomic_load(&r->slots[s].progress);
        /* a thread made at run time that has not started yet (its process
         * may still be forking) will run */
        if (st == SLOT_NEW && r->slots[s].decl < 0)
            return *stable = 0, false;
        if (st == SLOT_NEW || st == SLOT_DONE || st == SLOT_FREE)
            continue;
        if (st != SLOT_BLOCKED || atomic_load(&r->slots[s].timed))
            return *stable = 0, false;
        int reason = atomic_load(&r->slots[s].reason);
        if (reason == REASON_GIL || reason == REASON_SLEEP || reason == REASON_IO)
            return *stable = 0, false;
        blocked++;
    }
    /* a thread joining a process while a process made at run time has not
     * been reaped and has no thread running or blocked (it is ending, or
     * has ended, and its joiner has not yet seen it: on a loaded CPU this
     * takes a while) will go on */
    bool joining = false;
    for (uint32_t s = 0; s < n && s < r->max_slots && !joining; s++)
        joining = atomic_load(&r->slots[s].state) == SLOT_BLOCKED &&
                  atomic_load(&r->slots[s].reason) == REASON_PROCESS;
    uint32_t np = atomic_load(&r->sh->nprocs);
    for (uint32_t p = r->sc->nprocesses; joining && p < np && p < r->max_procs; p++) {
        if (atomic_load(&r->procs[p].state) == PROC_NONE || atomic_load(&r->procs[p].reaped))
            continue;
        bool active = false;
        for (uint32_t s = 0; s < n && s < r->max_slots && !active; s++) {
            int st = atomic_load(&r->slots[s].state);
            active = r->slots[s].process == p && (st == SLOT_RUN || st == SLOT_BLOCKED);
        }
        if (!active)
            return *stable = 0, false;
    }
    if (blocked == 0 || progress != *last_progress) {
        *last_progress = progress;
        *stable = 0;
        return false;
    }
    if (++*stable < HOST_STUCK_POLLS)
        return false;
    size_t len = (size_t)snprintf(msg, size, "every thread is blocked:");
    for (uint32_t s = 0; s < n && s < r->max_slots && len < size; s++) {
        if (atomic_load(&r->slots[s].state) != SLOT_BLOCKED)
            continue;
        uint32_t o = atomic_load(&r->slots[s].obj);
        int reason = atomic_load(&r->slots[s].reason);
        if (reason == REASON_POOL || reason == REASON_PROCESS) {
            len += (size_t)snprintf(msg + len, size - len, " %s/%s waits for %s;", slot_process(r, s),
                                    r->slots[s].name, reason == REASON_POOL ? "its pool's results" : "a process");
            continue;
        }
        if (reason == REASON_JOIN && o < n) {
            len += (size_t)snprintf(msg + len, size - len, " %s/%s joins %s/%s;", slot_process(r, s),
                                    r->slots[s].name, slot_process(r, o), r->slots[o].name);
            continue;
        }
        if (o >= r->sc->nobjects)
            continue;
        const struct object_decl *d = &r->sc->objects[o];
        len += (size_t)snprintf(msg + len, size - len, " %s/%s waits for %s '%s'", slot_process(r, s),
                                r->slots[s].name, scenario_object_type_name(d->type), d->name);
        int64_t owner = atomic_load(&r->objs[o].owner);
        if (is_mutex(d) && owner >= 0 && (uint32_t)owner < n)
            len += (size_t)snprintf(msg + len, size - len, " held by %s/%s", slot_process(r, (uint32_t)owner),
                                    r->slots[owner].name);
        len += (size_t)snprintf(msg + len, size - len, ";");
    }
    if (len > 0 && len < size && msg[len - 1] == ';')
        msg[len - 1] = '\0';
    return true;
}

static void kill_all(pid_t *pids, uint32_t n)
{
    for (uint32_t p = 0; p < n; p++)
        if (pids[p] > 0)
            kill(pids[p], SIGKILL);
}

static void reap_all(pid_t *pids, uint32_t n)
{
    for (uint32_t p = 0; p < n; p++) {
        if (pids[p] <= 0)
            continue;
        while (waitpid(pids[p], NULL, 0) < 0 && errno == EINTR)
            ;
        pids[p] = 0;
    }
}

enum { HOST_MAX_CHILDREN = 256 };

/* This process's children (zombies too), from every thread's
 * /proc/self/task/TID/children: at most cap; 0 without the files. */
static size_t own_children(pid_t *out, size_t cap)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < cap) {
        if (de->d_name[0] == '.')
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/children", de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        long pid;
        while (n < cap && fscanf(f, "%ld", &pid) == 1)
            out[n++] = (pid_t)pid;
        fclose(f);
    }
    closedir(d);
    return n;
}

/* Kills and reaps the children of this process that are none of before[n]
 * (its children from before the run): what came to the runner (a
 * subreaper) and is in no table, such as the helper process a sanitizer's
 * exit-time leak check forks from a process the clean-up kills. Returns how
 * many are still to reap. */
static uint32_t reap_strays(const pid_t *before, size_t nbefore)
{
    pid_t kids[HOST_MAX_CHILDREN];
    size_t n = own_children(kids, HOST_MAX_CHILDREN);
    uint32_t left = 0;
    for (size_t i = 0; i < n; i++) {
        bool old = false;
        for (size_t j = 0; j < nbefore && !old; j++)
            old = kids[i] == before[j];
        if (old)
            continue;
        kill(kids[i], SIGKILL);
        if (waitpid(kids[i], NULL, WNOHANG) != kids[i])
            left++;
    }
    return left;
}

/* After the abort: waits until every process made at run time and the
 * forkserver are gone, killing any that a fork in progress made after the
 * first kill, and reaps those that came to the runner (a subreaper) when
 * their parent was killed, and any other child it did not have before the
 * run (before[nbefore]). A process its parent reaped is skipped: its pid
 * may be another's. Bounded: one whose parent is slow to die is left to the
 * lifeline after 2 s. */
static void reap_made(struct hrun *r, const pid_t *before, size_t nbefore)
{
    int64_t until = now_ns() + 2000000000LL;
    for (;;) {
        uint32_t n = atomic_load(&r->sh->nprocs), left = 0;
        for (uint32_t p = r->sc->nprocesses; p <= n && p <= r->max_procs; p++) {
            bool server = p == n || p == r->max_procs;
            int pid = server ? atomic_load(&r->sh->fs_pid) : atomic_load(&r->procs[p].pid);
            if (pid <= 0 || (!server && atomic_load(&r->procs[p].reaped)))
                continue;
            pid_t w = waitpid(pid, NULL, WNOHANG);
            if (w == pid || (w < 0 && errno == ECHILD && kill(pid, 0) != 0 && errno == ESRCH)) {
                if (server)
                    atomic_store(&r->sh->fs_pid, -pid);
                else
                    atomic_store(&r->procs[p].reaped, 1);
                continue;
            }
            kill(pid, SIGKILL);
            left++;
        }
        left += reap_strays(before, nbefore);
        if (left == 0 || now_ns() > until)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Maps event stamps to CLOCK_MONOTONIC: a line through two (stamp, clock) pairs. */
struct stamp_map {
    int64_t stamp0, clock0;
    double ns_per_stamp;
};

static int64_t stamp_to_ns(const struct stamp_map *m, int64_t st)
{
    return m->clock0 + (int64_t)((double)(st - m->stamp0) * m->ns_per_stamp);
}

/* What d turned away, as a trace task gives it: from when (relative to t0)
 * and how many; left as they are (-1, 0) when nothing was. */
static void drop_report(const struct stamp_map *sm, int64_t t0, const struct hdrop *d, int64_t *until,
                        uint64_t *count)
{
    if (d->n == 0)
        return;
    int64_t from = stamp_to_ns(sm, d->first_stamp) - t0;
    *until = from > 0 ? from : 0;
    *count = d->n;
}

/* Adds seg to tr unless it is empty. */
static void add_segment(struct trace *tr, const struct trace_segment *seg)
{
    if (seg->end > seg->start)
        trace_segment_add(tr, seg);
}

/* CPU c of the host as the trace numbers it: within the run's set, as the
 * simulator's CPUs are. */
static int run_cpu(const struct hrun *r, int c)
{
    return c >= 0 && c < CPU_SETSIZE && r->cpu_index[c] >= 0 ? r->cpu_index[c] : c;
}

/* The start-up of thread s, started at begun (relative to t0) and first
 * recorded at first: blocked (reason wakeup) until it first ran. The main
 * thread of a process made by an op is blocked while its fork makes it,
 * then ready (it can run, but has no CPU yet) until the child's first
 * instruction; from there to its first record it is running (the child's
 * start-up in the runner, as the simulator charges a child's start-up to
 * its CPU), with what of that the child process had no CPU for shown as
 * ready at its end. */
static void add_start_up(const struct hrun *r, const struct stamp_map *sm, struct trace *tr, uint32_t s,
                         int64_t begun, int64_t first, int first_cpu)
{
    const struct hslot *sl = &r->slots[s];
    int64_t born = sl->born != 0 ? stamp_to_ns(sm, sl->born) - r->sh->t0 : -1;
    if (born < begun || born > first)
        born = first;
    int64_t forked = sl->forked != 0 ? stamp_to_ns(sm, sl->forked) - r->sh->t0 : born;
    if (forked < begun || forked > born)
        forked = born;
    /* a made process's main thread is blocked while its fork makes it */
    bool made = made_main(r, sl->process, s);
    struct trace_segment seg = {.task = s, .cpu = -1, .state = TRACE_BLOCKED,
                                .reason = made ? REASON_FORK : REASON_WAKEUP, .obj = UINT32_MAX, .start = begun,
                                .end = forked};
    add_segment(tr, &seg);
    seg.state = TRACE_READY;
    seg.reason = REASON_NONE;
    seg.start = forked;
    seg.end = born;
    add_segment(tr, &seg);
    if (made)
        tr->tasks[s].first_op = first;
    if (first <= born)
        return;
    int64_t ready = sl->boot_cpu_ns >= 0 && sl->boot_cpu_ns < first - born ? first - born - sl->boot_cpu_ns : 0;
    /* where the child first ran; a spawned child's start-up is mostly its
     * new image's, which the kernel places afresh at the exec: the CPU of
     * its first record */
    int cpu = sl->born_cpu;
    if (cpu < 0 || (atomic_load(&r->procs[sl->process].execd) && first_cpu >= 0))
        cpu = first_cpu;
    seg = (struct trace_segment){.task = s, .cpu = run_cpu(r, cpu), .state = TRACE_RUNNING,
                                 .reason = REASON_NONE, .obj = UINT32_MAX, .start = born, .end = first - ready};
    add_segment(tr, &seg);
    seg.cpu = -1;
    seg.state = TRACE_READY;
    seg.start = seg.end;
    seg.end = first;
    add_segment(tr, &seg);
}

/* The trace from the recorded events, times relative to t0. Threads that
 * autostart arrive with their process, at t0 + arrival by definition. */
/* Adds thread s's segments and instants to tr (running >= 0), or returns the
 * time it spent in running segments (running < 0). What of that time it did
 * not have a CPU (running time less its CPU time) is known only in total:
 * it is shown as a READY end of each running segment, in proportion to the
 * segment's length, so the wait metric is exact and its place approximate
 * (the OS may have preempted the thread anywhere in the segment). A wake-up
 * that waited for a CPU is in its blocked segment. */
struct run_sum {
    int64_t running;    /* time in running segments */
    int64_t exact_run;  /* of which between two CPU stamps (cpu_mark) */
    int64_t exact_cpu;  /* the CPU time those stamps say it had there */
};

/* The running time of a segment from event a to event b (NULL: not an
 * event) that the thread had no CPU for, when both carry CPU stamps; -1
 * otherwise. */
static int64_t stamped_wait(const struct host_event *a, const struct host_event *b, int64_t len)
{
    if (!a || !b || a->kind != HEV_RUN || b->kind != HEV_RUN || a->value <= 0 || b->value < a->value)
        return -1;
    int64_t cpu = b->value - a->value;
    return cpu < len ? len - cpu : 0;
}

static void merge_thread(const struct hrun *r, const struct stamp_map *sm, int64_t end, struct trace *tr,
                         uint32_t s, const struct run_sum *sum, struct run_sum *out)
{
    const struct scenario *sc = r->sc;
    int64_t t0 = r->sh->t0;
    bool adding = sum != NULL;
    const struct hslot *sl = &r->slots[s];
    int64_t begun = sl->begun != 0 ? stamp_to_ns(sm, sl->begun) - t0 : -1;
    /* the wait of the running time between no two stamps, spread over it */
    double ready_part = 0;
    if (adding && sl->cpu_ns >= 0 && sum->running > sum->exact_run) {
        int64_t wait = (sum->running - sl->cpu_ns) - (sum->exact_run - sum->exact_cpu);
        if (wait > 0)
            ready_part = (double)wait / (double)(sum->running - sum->exact_run);
        if (ready_part > 1)
            ready_part = 1;
    }
    const struct host_event *ev = slot_events(r, s);
    const struct host_event *opened = NULL;
    struct trace_segment seg = {.task = s, .obj = UINT32_MAX}, ready = {0};
    bool open = false, starting = false;
    for (uint32_t i = 0; i <= sl->nevents; i++) {
        bool last = i == sl->nevents;
        int64_t t = last ? end - t0 : stamp_to_ns(sm, ev[i].t) - t0;
        if (!last && ev[i].kind == HEV_INSTANT && ev[i].sub == INSTANT_ARRIVE && sl->decl >= 0 &&
            sc->threads[sl->decl].autostart)
            t = sc->processes[sl->process].arrival;
        /* a thread started by another thread (of its process, or the
         * main thread of a process made by an op) arrives at that thread's
         * start op, as in the simulator, and its start-up runs until its
         * first state change (add_start_up) */
        bool arrives = !last && ev[i].kind == HEV_INSTANT && ev[i].sub == INSTANT_ARRIVE;
        if (arrives && begun >= 0 && begun < t) {
            t = begun;
            starting = true;
        }
        if (starting && !last && ev[i].kind != HEV_INSTANT) {
            starting = false;
            if (adding)
                add_start_up(r, sm, tr, s, begun, t, ev[i].kind == HEV_RUN ? ev[i].cpu : -1);
        }
        if (!last && ev[i].kind == HEV_INSTANT && adding) {
            struct trace_instant in = {.time = t, .value = ev[i].value, .task = s, .kind = ev[i].sub,
                                       .obj = ev[i].obj, .flow = ev[i].flow, .text = UINT32_MAX};
            const char *text = ev[i].text != UINT32_MAX ? r->text + ev[i].text : NULL;
            trace_instant_add(tr, &in, text);
        }
        bool ends = last || ev[i].kind != HEV_INSTANT || ev[i].sub == INSTANT_EXIT;
        if (open && ends) {
            seg.end = t;
            bool run = seg.state == TRACE_RUNNING;
            int64_t len = seg.end - seg.start;
            int64_t exact = run ? stamped_wait(opened, last ? NULL : &ev[i], len) : -1;
            if (!adding && run) {
                out->running += len;
                if (exact >= 0) {
                    out->exact_run += len;
                    out->exact_cpu += len - exact;
                }
            }
            int64_t wait = exact >= 0 ? exact : (int64_t)((double)len * ready_part);
            if (adding && run && wait > 0) {
                ready = seg;
                ready.state = TRACE_READY;
                ready.cpu = -1;
                ready.start = seg.end - wait;
                seg.end = ready.start;
            }
            if (adding) {
                add_segment(tr, &seg);
                add_segment(tr, &ready);
            }
            ready.end = ready.start = 0;
            open = false;
        }
        if (last || ev[i].kind == HEV_INSTANT)
            continue;
        open = true;
        opened = &ev[i];
        seg.start = t;
        /* CPUs are numbered within the run's set, as the simulator's */
        seg.cpu = ev[i].kind == HEV_RUN ? run_cpu(r, ev[i].cpu) : -1;
        seg.state = ev[i].kind == HEV_RUN ? TRACE_RUNNING : TRACE_BLOCKED;
        seg.reason = ev[i].kind == HEV_RUN ? REASON_NONE : ev[i].sub;
        seg.obj = ev[i].kind == HEV_RUN ? UINT32_MAX : ev[i].obj;
    }
    if (adding) {
        struct trace_task *task = &tr->tasks[s];
        drop_report(sm, t0, &sl->dropped, &task->recorded_until, &task->unrecorded_events);
        drop_report(sm, t0, &sl->details_dropped, &task->instants_until, &task->unrecorded_instants);
        task->unrecorded_writes = sl->writes_dropped;
    }
}

static struct trace *merge_trace(struct hrun *r, const struct stamp_map *sm, int64_t end)
{
    const struct scenario *sc = r->sc;
    struct trace *tr = trace_create(sc->name, sc->description, "real", "os", r->ncpus ? r->ncpus : 1, sc->seed);
    uint32_t np = atomic_load(&r->sh->nprocs);
    for (uint32_t p = 0; p < np && p < r->max_procs; p++)
        trace_add_process(tr, r->procs[p].name);
    uint32_t n = atomic_load(&r->sh->nslots);
    if (n > r->max_slots)
        n = r->max_slots;
    for (uint32_t s = 0; s < n; s++)
        trace_add_task(tr, r->slots[s].name, r->slots[s].process);
    for (uint32_t o = 0; o < sc->nobjects; o++)
        trace_add_object(tr, sc->objects[o].name, scenario_object_type_name(sc->objects[o].type),
                         sc->objects[o].process);
    for (uint32_t v = 0; v < sc->nvars; v++)
        trace_add_object(tr, sc->vars[v].name, "var", sc->vars[v].process);
    for (uint32_t s = 0; s < n && r->opt->record; s++) {
        /* the first pass measures the running time, the second adds the
         * segments with what of it the thread had no CPU spread over them */
        struct run_sum sum = {0};
        merge_thread(r, sm, end, tr, s, NULL, &sum);
        merge_thread(r, sm, end, tr, s, &sum, NULL);
    }
    struct task_metrics *m = xcalloc(tr->ntasks ? tr->ntasks : 1, sizeof *m);
    tr->makespan = trace_metrics_compute(tr, m);
    free(m);
    return tr;
}

/* Whether some start of sc is a spawn (a process op or a process pool). */
static bool uses_spawn(const struct scenario *sc)
{
    for (uint32_t i = 0; i < sc->nops; i++) {
        const struct op *op = &sc->ops[i];
        if ((op->kind == OP_PROCESS && op->u.process.method == START_SPAWN) ||
            (op->kind == OP_MAP && op->u.map.process_pool && op->u.map.method == START_SPAWN))
            return true;
    }
    return false;
}

/* The first `want` of the CPUs the runner may use: a 1-CPU scenario's
 * threads must share one CPU for real, or the lessons that depend on it (the
 * old GIL on one CPU, a racy counter that only loses updates on two) would
 * show the host's parallelism instead. */
static void cpus_choose(struct hrun *r, uint32_t want)
{
    cpu_set_t allowed;
    CPU_ZERO(&r->pin);
    r->ncpus = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        r->cpu_index[c] = -1;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        CPU_ZERO(&allowed);
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (long c = 0; c < (n > 0 ? n : 1) && c < CPU_SETSIZE; c++)
            CPU_SET((int)c, &allowed);
    }
    r->cpus_allowed = (uint32_t)CPU_COUNT(&allowed);
    for (int c = 0; c < CPU_SETSIZE && r->ncpus < want; c++)
        if (CPU_ISSET(c, &allowed)) {
            CPU_SET(c, &r->pin);
            r->cpu_index[c] = (int16_t)r->ncpus++;
        }
}

enum status host_run_result(const struct scenario *sc, const struct host_options *opt, struct host_result *res,
                            struct error *err)
{
    memset(res, 0, sizeof *res);
    error_clear(err);
    enum status st = host_check(sc, opt, err);
    if (st != STATUS_OK)
        return st;
    struct hrun r;
    st = run_setup(&r, sc, opt, err);
    if (st != STATUS_OK) {
        run_teardown(&r);
        return st;
    }
    cpus_choose(&r, sc->machine.cpus ? sc->machine.cpus : 1);
    if (r.ncpus < sc->machine.cpus)
        snprintf(res->note, sizeof res->note,
                 "the scenario asks for %" PRIu32 " CPUs, this machine lets the run use %" PRIu32
                 ": it ran on all of them",
                 sc->machine.cpus, r.ncpus);
    if (!opt->source_file && !opt->source_text && uses_spawn(sc))
        snprintf(res->note, sizeof res->note,
                 "the runner was not told where the scenario came from: its spawn starts forked instead");
    pid_t parent = getpid();
    r.sh->runner_pid = (int32_t)parent;
    /* processes whose parent the clean-up kills (a made process's creator,
     * the forkserver) come to the runner, which reaps them: no zombie is
     * left to an init that may not reap */
    int subreaper = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &subreaper);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t *kids_before = xcalloc(HOST_MAX_CHILDREN, sizeof *kids_before);
    size_t nkids_before = own_children(kids_before, HOST_MAX_CHILDREN);
    pid_t *pids = xcalloc(sc->nprocesses + 1, sizeof *pids);
    fflush(NULL);
    for (uint32_t p = 0; p < sc->nprocesses; p++) {
        pid_t pid = fork();
        if (pid < 0) {
            st = error_set(err, STATUS_WATCHDOG, NULL, "cannot fork process '%s': %s", sc->processes[p].name,
                           strerror(errno));
            break;
        }
        if (pid == 0) {
            /* the children die with the runner, whatever kills it, and do
             * not inherit the caller's handlers of fatal signals */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            /* sleeps end when they are due, not up to 50 us later as the
             * kernel may make them to batch timers: what the simulator and
             * calibrate's timer_latency_ns assume (its threads, the processes
             * it forks and the programs they exec inherit it) */
            prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
            static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGINT, SIGTERM, SIGPIPE, SIGHUP};
            for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
                signal(fatal[i], SIG_DFL);
            if (getppid() != parent)
                _exit(STATUS_WATCHDOG);
            /* its threads and the processes it makes inherit the set */
            sched_setaffinity(0, sizeof r.pin, &r.pin);
            if (opt->max_memory) {
                struct rlimit rl = {.rlim_cur = opt->max_memory, .rlim_max = opt->max_memory};
                setrlimit(RLIMIT_AS, &rl);
            }
            child_main(&r, p);
        }
        pids[p] = pid;
    }
    int64_t start = now_ns();
    while (st == STATUS_OK && atomic_load(&r.sh->ready) < (int)sc->nprocesses && now_ns() - start < 5000000000LL) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    struct stamp_map sm;
    sm.stamp0 = stamp();
    sm.clock0 = now_ns();
    r.sh->t0 = sm.clock0 + 1000000;
    atomic_store(&r.sh->go, 1);
    int64_t deadline = r.sh->t0 + opt->timeout_ns;
    uint32_t alive = st == STATUS_OK ? sc->nprocesses : 0;
    uint64_t last_progress = UINT64_MAX;
    int stable = 0;
    char msg[ERROR_MSG_MAX];
    while (alive > 0 && st == STATUS_OK) {
        struct timespec ts = {0, HOST_POLL_NS};
        nanosleep(&ts, NULL);
        for (uint32_t p = 0; p < sc->nprocesses; p++) {
            int ws;
            if (pids[p] <= 0 || waitpid(pids[p], &ws, WNOHANG) != pids[p])
                continue;
            pids[p] = 0;
            alive--;
            if (atomic_load(&r.sh->failed))
                continue;
            if (WIFEXITED(ws) && atomic_load(&r.procs[p].ended_by) && WEXITSTATUS(ws) > 128)
                continue;
            if (WIFSIGNALED(ws))
                st = error_set(err, STATUS_RUNTIME, NULL, "process '%s' crashed: killed by signal %d (%s)",
                               sc->processes[p].name, WTERMSIG(ws), strsignal(WTERMSIG(ws)));
            else if (WEXITSTATUS(ws) != 0)
                st = error_set(err, STATUS_RUNTIME, NULL, "process '%s' exited with status %d",
                               sc->processes[p].name, WEXITSTATUS(ws));
        }
        if (atomic_load(&r.sh->failed)) {
            /* the failing thread writes the report before setting 2 */
            while (atomic_load(&r.sh->failed) != 2 && alive > 0 && now_ns() < deadline)
                ;
            st = error_set(err, r.sh->fail_status ? r.sh->fail_status : STATUS_RUNTIME,
                           r.sh->fail_path[0] ? r.sh->fail_path : NULL, "%s", r.sh->fail_msg);
            break;
        }
        if (st != STATUS_OK || alive == 0)
            break;
        if (opt->stop && *opt->stop) {
            st = error_set(err, STATUS_WATCHDOG, NULL, "the real run was interrupted; every process was killed");
            break;
        }
        if (now_ns() > deadline) {
            st = error_set(err, STATUS_WATCHDOG, NULL,
                           "the real run did not finish within %.3g s (its watchdog); every process was killed",
                           (double)opt->timeout_ns / 1e9);
            break;
        }
        if (now_ns() > r.sh->t0 + 0 && deadlocked(&r, &last_progress, &stable, msg, sizeof msg)) {
            st = error_set(err, STATUS_DEADLOCK, NULL, "deadlock: %s", msg);
            break;
        }
    }
    int64_t end = now_ns();
    int64_t stamp1 = stamp();
    /* processes made at run time are not this one's children: kill them
     * through the table, after forbidding new ones */
    atomic_store(&r.sh->abort, 1);
    uint32_t nprocs = atomic_load(&r.sh->nprocs);
    if (nprocs > r.max_procs)
        nprocs = r.max_procs;
    for (uint32_t p = sc->nprocesses; p < nprocs; p++) {
        int pid = atomic_load(&r.procs[p].pid);
        if (pid > 0)
            kill(pid, SIGKILL);
    }
    /* the forkserver: a child of whichever process started it, so also
     * killed through the mapping (it also ends by itself on abort) */
    while (atomic_load(&r.sh->fs_state) == 1 && now_ns() - end < 1000000000LL)
        ;
    if (atomic_load(&r.sh->fs_pid) > 0)
        kill(atomic_load(&r.sh->fs_pid), SIGKILL);
    sm.ns_per_stamp = stamp1 > sm.stamp0 ? (double)(end - sm.clock0) / (double)(stamp1 - sm.stamp0) : 1.0;
    kill_all(pids, sc->nprocesses);
    reap_all(pids, sc->nprocesses);
    free(pids);
    reap_made(&r, kids_before, nkids_before);
    free(kids_before);
    if (!subreaper)
        prctl(PR_SET_CHILD_SUBREAPER, 0);

    res->trace = merge_trace(&r, &sm, end);
    res->cpus = r.ncpus;
    res->nvars = sc->nvars;
    res->var_off = xmalloc((sc->nvars + 1) * sizeof *res->var_off);
    memcpy(res->var_off, r.var_off, (sc->nvars + 1) * sizeof *res->var_off);
    size_t ncells = r.ncells + (size_t)(nprocs - sc->nprocesses) * r.priv_cells;
    res->memory = xmalloc((ncells ? ncells : 1) * sizeof *res->memory);
    memcpy(res->memory, r.cells, ncells * sizeof *res->memory);
    res->cell_base = xcalloc(nprocs + 1, sizeof *res->cell_base);
    res->template_proc = xcalloc(nprocs + 1, sizeof *res->template_proc);
    res->tcell = xcalloc(sc->nprocesses + 1, sizeof *res->tcell);
    memcpy(res->tcell, r.tcell, sc->nprocesses * sizeof *res->tcell);
    for (uint32_t p = 0; p < nprocs; p++) {
        res->template_proc[p] = r.procs[p].template_proc;
        res->cell_base[p] = p < sc->nprocesses ? r.tcell[p] : r.procs[p].cell_base;
    }
    res->lost_updates = atomic_load(&r.sh->lost_updates);
    res->finish_ns = atomic_load(&r.sh->last_exit) ? atomic_load(&r.sh->last_exit) - r.sh->t0 : -1;
    res->nprocesses = nprocs;
    res->gil_mode = xcalloc(nprocs + 1, sizeof *res->gil_mode);
    res->gil = xcalloc(nprocs + 1, sizeof *res->gil);
    res->pid = xcalloc(nprocs + 1, sizeof *res->pid);
    res->ppid = xcalloc(nprocs + 1, sizeof *res->ppid);
    res->execd = xcalloc(nprocs + 1, sizeof *res->execd);
    res->forkserver_pid = abs(atomic_load(&r.sh->fs_pid));
    for (uint32_t p = 0; p < nprocs; p++) {
        res->pid[p] = atomic_load(&r.procs[p].pid);
        res->ppid[p] = atomic_load(&r.procs[p].ppid);
        res->execd[p] = atomic_load(&r.procs[p].execd) != 0;
        res->gil_mode[p] = r.procs[p].gil_cfg.mode;
        res->gil[p] = r.procs[p].gil.stats;
    }
    run_teardown(&r);
    return st;
}

const int64_t *host_result_var(const struct host_result *res, const struct scenario *sc, uint32_t process,
                               uint32_t var)
{
    const struct var_decl *v = &sc->vars[var];
    if (process == UINT32_MAX)
        return v->process < 0 ? &res->memory[res->var_off[var]] : NULL;
    if (process >= res->nprocesses || v->process != (int32_t)res->template_proc[process])
        return NULL;
    return &res->memory[res->cell_base[process] + res->var_off[var] - res->tcell[v->process]];
}

void host_result_deinit(struct host_result *res)
{
    trace_destroy(res->trace);
    free(res->var_off);
    free(res->memory);
    free(res->gil_mode);
    free(res->gil);
    free(res->pid);
    free(res->ppid);
    free(res->execd);
    free(res->cell_base);
    free(res->template_proc);
    free(res->tcell);
    memset(res, 0, sizeof *res);
}

enum status host_run(const struct scenario *sc, const struct host_options *opt, struct trace **out,
                     struct error *err)
{
    struct host_result res;
    enum status st = host_run_result(sc, opt, &res, err);
    *out = res.trace;
    res.trace = NULL;
    host_result_deinit(&res);
    return st;
}

int host_worker_main(int fd, uint32_t p)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(struct hshared))
        return STATUS_INTERNAL;
    unsigned char *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (m == MAP_FAILED)
        return STATUS_INTERNAL;
    struct hshared *sh = (struct hshared *)m;
    if (sh->magic != HOST_MAGIC || sh->layout.size != (uint64_t)st.st_size)
        return STATUS_INTERNAL;
    /* the processes this one spawns get the descriptor again in spawn_exec */
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    const struct hsource *src = &sh->source;
    const char *text = (const char *)m + sh->layout.source;
    struct error err;
    error_clear(&err);
    struct scenario *sc = src->kind == SOURCE_FILE ? scenario_load_file(text, &err)
                                                   : scenario_load_buffer(text, src->len, src->origin, &err);
    if (!sc)
        return worker_fail(sh, STATUS_INTERNAL, "a spawned process could not load the scenario again: %s", err.msg);
    /* what the runner's caller changed after loading */
    sc->seed = src->seed;
    char *profile_path = sc->machine.profile_path;
    sc->machine = src->machine;
    sc->machine.profile_path = profile_path;
    uint32_t nlevels = sc->sched.nlevels;
    struct mlfq_level *levels = sc->sched.levels;
    sc->sched = src->sched;
    sc->sched.nlevels = nlevels;
    sc->sched.levels = levels;
    sc->profile = src->profile;
    struct host_options *opt = xmalloc(sizeof *opt);
    host_options_init(opt);
    opt->timeout_ns = src->timeout_ns;
    opt->max_threads = src->max_threads;
    opt->max_processes = src->max_processes;
    opt->max_memory = src->max_memory;
    opt->record = src->record;
    opt->trace_events = src->trace_events;
    struct hrun *r = xmalloc(sizeof *r);
    run_tables(r, sc, opt);
    struct hlayout l;
    run_layout(r, src->len, &l);
    if (scenario_fingerprint(sc) != src->fingerprint || memcmp(&l, &sh->layout, sizeof l) != 0)
        return worker_fail(sh, STATUS_INTERNAL,
                           "a spawned process loaded a different scenario than the run's (was the file changed?)");
    run_attach(r, m, &sh->layout);
    r->memfd = fd;
    if (p < sc->nprocesses || p >= atomic_load(&sh->nprocs) || p >= r->max_procs)
        return worker_fail(sh, STATUS_INTERNAL, "a spawned process was given process %" PRIu32 ", not one made", p);
    /* a fresh image: nothing of the creator's memory, as a spawned Python */
    atomic_store(&r->procs[p].execd, 1);
    process_local_init(r, p);
    const struct child_start *cs = &r->procs[p].start;
    thread_start(r, r->procs[p].main_slot, cs->fn, cs->args, cs->nargs, false, NULL, NULL, pool_at(r, cs->pool));
    process_end(r);
}
