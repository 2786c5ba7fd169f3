/* The scenario model: plain C data describing a machine, a scheduling policy,
 * processes, threads and their programs. Built by the JSON loader
 * (scenario_json.c), read by the simulation engine and the host runner. No
 * cJSON type appears here. All durations are int64 nanoseconds. */
#ifndef THREADSIM_SCENARIO_H
#define THREADSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "profile.h"

/* Resource limits enforced by the loader, so that absurd input fails early
 * with a clear message instead of eating the machine. */
#define SCENARIO_MAX_CPUS 1024
#define SCENARIO_MAX_PROCESSES 100000
#define SCENARIO_MAX_THREADS 2000000     /* declared + created, in all processes */
#define SCENARIO_MAX_OPS 10000000        /* ops in the flat op array */
#define SCENARIO_MAX_REPEAT 1000000000LL /* times of one repeat op */
#define SCENARIO_MAX_DURATION (1000LL * 24 * 3600 * 1000000000LL) /* 1000 days */
#define SCENARIO_MAX_NEST 64             /* nesting of repeat/if/while/call */
#define SCENARIO_MAX_LOCALS 64           /* thread-local variables per code unit */
#define SCENARIO_MAX_TEXT 4096           /* bytes of one print text */
#define SCENARIO_MAX_MLFQ_LEVELS 64
#define SCENARIO_MAX_WORK_N 1000000000000000LL /* count n, primes to */
#define SCENARIO_MAX_PRIMES_RANGE 10000000LL     /* to - from of one primes op */
#define SCENARIO_MAX_QUEUE_ITEMS 1000000          /* items held by one queue or pipe */
#define SCENARIO_MAX_MAP_ITEMS 1000000            /* items of one map */
#define SCENARIO_MAX_POOL_WORKERS 1024

typedef int64_t sim_time; /* nanoseconds */

/* A contiguous run of ops in scenario.ops. */
struct op_block {
    uint32_t first;
    uint32_t count;
};

enum operand_kind {
    OPERAND_CONST = 0, /* value */
    OPERAND_LOCAL      /* thread-local slot `slot` of the current code unit ($name) */
};

/* An integer argument: a literal, or a $local resolved to a slot at load time. */
struct operand {
    enum operand_kind kind;
    uint32_t slot;
    int64_t value;
};

enum op_kind {
    OP_COMPUTE = 0, /* CPU work: compute.kind says what determines its cost */
    OP_SLEEP,       /* block for a duration (or a seeded random one) */
    OP_IO,          /* blocking I/O for a duration */
    OP_REPEAT,      /* run body `times` times */
    OP_CALL,        /* call a function with arguments */
    OP_PRINT,       /* print a text with {placeholders} */
    OP_START,       /* start a declared thread (autostart false) */
    OP_THREAD,      /* create and start a new thread running a function */
    OP_JOIN,        /* wait for a thread to finish */
    OP_EXIT,        /* end the calling thread */
    OP_ACQUIRE,     /* acquire a lock, rlock or semaphore (optional timeout) */
    OP_RELEASE,     /* release a lock, rlock or semaphore */
    OP_WITH,        /* acquire, run body, release (lock, rlock, semaphore, condition) */
    OP_WAIT,        /* wait on an event, a condition or a barrier (optional timeout) */
    OP_WAIT_FOR,    /* wait on a condition until a predicate holds */
    OP_EVENT_SET,   /* "set" with "obj": set an event */
    OP_EVENT_CLEAR, /* "clear": clear an event */
    OP_NOTIFY,      /* notify n waiters of a condition */
    OP_NOTIFY_ALL,  /* notify every waiter of a condition */
    OP_VAR_SET,     /* "set" with "var": write a memory variable */
    OP_ADD,         /* read-modify-write a memory variable (racy unless atomic) */
    OP_LOAD,        /* copy a memory variable into a local */
    OP_IF,          /* run then or else */
    OP_WHILE,       /* run body while a condition holds */
    OP_PUT,         /* put a value into a queue or mp_queue (blocks when full) */
    OP_GET,         /* get a value from a queue or mp_queue (blocks when empty) */
    OP_TASK_DONE,   /* mark one item of a queue done */
    OP_QUEUE_JOIN,  /* "join" with "obj": wait until every item put is done */
    OP_SEND,        /* send a value into a pipe (blocks when full) */
    OP_RECV,        /* receive from a pipe (blocks when empty; EOF when closed) */
    OP_CLOSE,       /* close one end of a pipe */
    OP_PROCESS,     /* create and start a child process running a function */
    OP_PROCESS_JOIN,/* "join" with "process": wait until a process ends */
    OP_TERMINATE,   /* end a process (SIGTERM) */
    OP_LET,         /* set a local to a value (extension) */
    OP_RETURN,      /* end the current function with a value (extension) */
    OP_MAP,         /* run a function over items in a thread or process pool */
    OP_POOL_STEP,   /* internal: a pool worker's loop (never written in JSON) */
    OP_KILL,        /* send a signal to a process */
    OP_ALARM,       /* SIGALRM to this process later (0 cancels) */
    OP_KIND_COUNT
};

enum compute_kind {
    COMPUTE_FOR = 0, /* "for": a fixed CPU time */
    COMPUTE_COUNT,   /* "work": "count", n: the countdown loop */
    COMPUTE_PRIMES,  /* "work": "primes", from, to: trial division */
    COMPUTE_SPIN     /* "work": "spin", for: burn a given CPU time */
};

struct op_compute {
    enum compute_kind kind;
    sim_time dur;          /* COMPUTE_FOR and COMPUTE_SPIN */
    struct operand n;      /* COMPUTE_COUNT */
    struct operand from;   /* COMPUTE_PRIMES */
    struct operand to;     /* COMPUTE_PRIMES */
    bool release_gil;      /* "gil": "release" */
};

struct op_sleep {          /* OP_SLEEP and OP_IO */
    sim_time dur;          /* fixed duration; when random, the low bound */
    sim_time dur_hi;       /* random high bound (inclusive), or equal to dur */
    bool random;           /* "random": [lo, hi] */
    bool keyed;            /* "key" given: the draw depends on the seed and the
                              key's value only, not on the thread */
    struct operand key;
};

struct op_repeat {
    struct operand times;
    struct op_block body;
};

struct op_call {
    uint32_t fn;           /* index in scenario.functions */
    uint32_t nargs;
    struct operand *args;  /* nargs operands, bound to the callee's params */
    bool has_into;
    uint32_t into;         /* local receiving the function's return value */
};

/* A print text is split into pieces: literal text and placeholders. */
enum print_piece_kind {
    PRINT_TEXT = 0,  /* text */
    PRINT_LOCAL,     /* {name} resolved to a local slot */
    PRINT_VAR,       /* {name} naming a memory variable (resolved at run time) */
    PRINT_BUILTIN    /* {thread}, {process}, {time} */
};

struct print_piece {
    enum print_piece_kind kind;
    uint32_t slot;         /* PRINT_LOCAL */
    char *text;            /* PRINT_TEXT: literal; PRINT_VAR/BUILTIN: the name */
};

struct op_print {
    char *text;            /* the original text, for messages */
    uint32_t npieces;
    struct print_piece *pieces;
};

struct op_start {          /* OP_START */
    char *name;            /* the thread's name, as written */
    uint32_t thread;       /* index in scenario.threads (a declared thread) */
};

struct op_thread {         /* OP_THREAD */
    char *name;            /* name of the new thread */
    uint32_t fn;           /* function it runs */
    uint32_t nargs;
    struct operand *args;
    bool daemon;
};

enum join_target {
    JOIN_THREAD = 0        /* `thread`: a declared thread or one created by OP_THREAD */
};

struct op_join {
    enum join_target target;
    char *name;            /* the thread's name, as written */
    int32_t thread;        /* declared thread index, or -1: resolved by name in
                              the joining process at run time (OP_THREAD names) */
    sim_time timeout;      /* -1: none */
};

/* Synchronisation objects. */
enum object_type {
    OBJ_LOCK = 0,
    OBJ_RLOCK,
    OBJ_SEMAPHORE,
    OBJ_BOUNDED_SEMAPHORE,
    OBJ_EVENT,
    OBJ_CONDITION,
    OBJ_BARRIER,
    OBJ_QUEUE,
    OBJ_MP_QUEUE,
    OBJ_PIPE,
    OBJ_TYPE_COUNT
};

enum queue_order { QUEUE_FIFO = 0, QUEUE_LIFO, QUEUE_PRIORITY };

/* A declared object. Objects declared in a process are private to it (and
 * copied into processes it forks); top-level ones are shared by all. */
struct object_decl {
    char *name;
    char *path;            /* "objects.L" or "processes[0].objects.L" */
    enum object_type type;
    int32_t process;       /* owning process, or -1 when shared */
    int64_t value;         /* semaphore: initial value (default 1) */
    int64_t parties;       /* barrier: threads that must arrive */
    sim_time timeout;      /* barrier: default timeout, -1: none */
    uint32_t lock;         /* condition: index of its lock object */
    int64_t maxsize;       /* queue, mp_queue: 0 = unbounded */
    enum queue_order order;/* queue */
    int64_t capacity;      /* pipe: bytes buffered per direction (default 64 KiB) */
    bool duplex;           /* pipe: default true */
};

/* A memory variable: an integer or an array of integers. */
struct var_decl {
    char *name;
    int32_t process;       /* owning process (its private memory), or -1: shared */
    uint32_t length;       /* 0: a scalar; else the array's length */
    int64_t *init;         /* initial values: 1 for a scalar, else length */
};

/* A reference to a memory variable by name ("balance", "arr[2]",
 * "arr[$i]"); the name is resolved in the running thread's process (its
 * private memory first, then shared memory). */
struct var_ref {
    uint32_t name;         /* index in scenario.var_names */
    bool indexed;
    struct operand index;
};

enum value_kind {
    VALUE_CONST = 0,
    VALUE_LOCAL,           /* "$name" */
    VALUE_VAR,             /* {"var": "name"} or, as a condition's left side, "name" */
    VALUE_EXPR             /* {"mul": [a, b, ...]}: arithmetic (extension) */
};

enum expr_op { EXPR_ADD = 0, EXPR_SUB, EXPR_MUL, EXPR_DIV, EXPR_MOD, EXPR_MIN, EXPR_MAX, EXPR_OP_COUNT };

struct value;

struct expr {
    enum expr_op op;
    uint32_t n;            /* 2 or more operands (exactly 2 for sub, div, mod) */
    struct value *args;
};

struct value {
    enum value_kind kind;
    int64_t value;         /* VALUE_CONST */
    uint32_t slot;         /* VALUE_LOCAL */
    struct var_ref var;    /* VALUE_VAR */
    struct expr *expr;     /* VALUE_EXPR (owned) */
};

enum cmp_op { CMP_EQ = 0, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

/* {"var": "balance", "ge": 5} */
struct condition {
    struct value left;
    enum cmp_op cmp;
    struct value right;
};

/* An object named by an op, resolved in the running thread's process. */
struct obj_ref {
    uint32_t name;         /* index in scenario.obj_names */
};

struct op_sync {           /* ACQUIRE RELEASE WITH WAIT WAIT_FOR EVENT_* NOTIFY* */
    struct obj_ref obj;
    sim_time timeout;      /* -1: none */
    int64_t n;             /* notify: how many (default 1) */
    bool has_into;
    uint32_t into;         /* local receiving 1 (success) or 0 (timed out) */
    struct condition until;/* WAIT_FOR */
    struct op_block body;  /* WITH */
};

struct op_data {           /* PUT GET TASK_DONE QUEUE_JOIN SEND RECV CLOSE */
    struct obj_ref obj;
    struct value value;    /* PUT, SEND */
    bool has_into;
    uint32_t into;         /* GET, RECV: local receiving the value */
    int64_t bytes;         /* PUT, SEND: the pickled size (default 32) */
    sim_time timeout;      /* PUT, GET, SEND, RECV: -1 none */
    uint32_t end;          /* SEND, RECV, CLOSE: pipe end (0 or 1) */
    int64_t eof;           /* RECV: the value stored into `into` at EOF (default -1) */
};

enum gil_mode { GIL_NONE = 0, GIL_NEW, GIL_OLD };

/* A process's GIL (docs/gil.md). */
struct gil_config {
    enum gil_mode mode;
    sim_time switch_interval;   /* new GIL: default 5ms */
    uint32_t check_interval;    /* old GIL: ticks (bytecodes), default 100 */
    bool random_wakeup;         /* "wakeup": "random" (else FIFO) */
    bool backedge_checks;       /* "checkpoints": "backedge" (CPython 3.10+), else every bytecode */
    bool no_jitter;             /* old GIL "jitter": false: wake-up latency and GIL call times at their mean */
};

enum start_method { START_FORK = 0, START_SPAWN, START_FORKSERVER };

enum signal_kind { SIG_HUP = 1, SIG_INT = 2, SIG_USR1 = 10, SIG_USR2 = 12, SIG_ALRM = 14, SIG_TERM = 15 };

struct op_signal {         /* KILL ALARM */
    char *process;         /* KILL: the target's name */
    int signo;             /* KILL */
    sim_time after;        /* ALARM */
};

/* A signal handler of a process: it runs in the process's main thread. */
struct handler {
    int signo;
    uint32_t nlocals;
    char **local_names;
    struct op_block body;
};

struct op_let {            /* LET RETURN */
    struct value value;    /* RETURN: kind VALUE_CONST 0 when absent */
    uint32_t into;         /* LET: the local set */
};

struct op_map {            /* MAP */
    bool process_pool;     /* "pool": {"kind": "process"}; else threads */
    uint32_t workers;      /* default 4 */
    enum start_method method; /* process pools */
    uint32_t fn;           /* called with each item (one parameter) */
    uint32_t nitems;
    int64_t *items;        /* "over": a list, or {"range": [a, b]} = a .. b-1 */
    uint32_t chunksize;    /* default 1 */
    bool ordered;          /* default true; false = imap_unordered */
    bool has_into;
    struct var_ref into;   /* an array receiving the results */
    uint32_t step_op;      /* the OP_POOL_STEP op its workers run */
};

struct op_process {        /* PROCESS */
    char *name;            /* the child's name */
    bool has_gil;          /* "gil" given: else the parent's */
    struct gil_config gil;
    uint32_t fn;           /* function its main thread runs */
    uint32_t nargs;
    struct operand *args;
    enum start_method method; /* default fork */
};

struct op_proc_ref {       /* PROCESS_JOIN TERMINATE */
    char *name;            /* a process created by a `process` op, or a declared one */
    sim_time timeout;      /* PROCESS_JOIN: -1 none */
};

struct op_var {            /* VAR_SET ADD LOAD */
    struct var_ref var;
    struct value value;    /* VAR_SET, ADD */
    bool atomic;           /* ADD */
    sim_time cost;         /* ADD: CPU time; -1: the profile's add_ns */
    uint32_t into;         /* LOAD: local slot */
};

struct op_branch {         /* IF WHILE */
    struct condition cond;
    struct op_block then;  /* IF: then; WHILE: body */
    struct op_block otherwise; /* IF: else (may be empty) */
};

/* One op. `path` is its JSON path ("processes[0].threads[1].program[3]") for
 * run-time messages; ops live in one flat array (scenario.ops) and blocks
 * refer to ranges of it. */
struct op {
    enum op_kind kind;
    char *path;
    union {
        struct op_compute compute;
        struct op_sleep sleep; /* OP_SLEEP and OP_IO */
        struct op_repeat repeat;
        struct op_call call;
        struct op_print print;
        struct op_start start;
        struct op_thread thread;
        struct op_join join;
        struct op_sync sync;
        struct op_var var;
        struct op_branch branch;
        struct op_data data;
        struct op_process process;
        struct op_proc_ref proc;
        struct op_let let;
        struct op_map map;
        struct op_signal signal;
    } u;
};

/* A named function: parameters are the first nparams local slots. */
struct function {
    char *name;
    uint32_t nparams;
    uint32_t nlocals;      /* params + `into` targets, <= SCENARIO_MAX_LOCALS */
    char **local_names;    /* nlocals names */
    struct op_block body;
};

struct thread_decl {
    char *name;
    uint32_t process;      /* index in scenario.processes */
    bool autostart;        /* default true */
    bool daemon;           /* default false */
    int32_t priority;      /* thread priority (overrides the process's when set) */
    bool has_priority;
    uint32_t nlocals;      /* locals of the program (into targets) */
    char **local_names;
    struct op_block program;
};

struct process_decl {
    char *name;
    struct gil_config gil;
    sim_time arrival;      /* default 0 */
    int32_t priority;      /* default 0; lower number = higher priority */
    int32_t nice;          /* -20..19, default 0 */
    uint32_t first_thread; /* its threads are threads[first_thread .. +nthreads); the first is its main thread */
    uint32_t nthreads;
    uint32_t nhandlers;
    struct handler *handlers;
};

enum policy_kind_hint { POLICY_NAME_MAX = 32 };

struct mlfq_level {
    sim_time quantum;
    uint32_t allotment;    /* full quanta at this level before moving down, >= 1 */
};

/* Scheduler settings as written; which keys matter depends on the policy. */
struct sched_config {
    char policy[POLICY_NAME_MAX]; /* "fifo" default */
    sim_time quantum;      /* rr, priority (0: none) */
    bool preemptive;       /* priority; default true */
    uint32_t nlevels;      /* mlfq */
    struct mlfq_level *levels;
    sim_time boost;        /* mlfq; 0: never */
    sim_time latency;      /* cfs target latency, default 6ms */
    sim_time min_granularity; /* cfs, default 0.75ms */
};

struct machine {
    uint32_t cpus;         /* 1..SCENARIO_MAX_CPUS, default 1 */
    sim_time context_switch;
    sim_time process_switch;
    sim_time wakeup_latency;
    char *profile_path;    /* NULL: built-in profile */
};

struct scenario {
    char *name;            /* default: the file name without directory */
    char *description;     /* may be NULL */
    uint64_t seed;
    struct machine machine;
    struct sched_config sched;
    struct profile profile;

    uint32_t nprocesses;
    struct process_decl *processes;
    uint32_t nthreads;     /* declared threads, in declaration order */
    struct thread_decl *threads;
    uint32_t nfunctions;
    struct function *functions;
    uint32_t nops;
    struct op *ops;

    uint32_t nobjects;     /* declared objects: shared first, then per process */
    struct object_decl *objects;
    uint32_t nvars;        /* declared variables: shared first, then per process */
    struct var_decl *vars;
    uint32_t nobj_names;   /* distinct object names (obj_ref.name indexes these) */
    char **obj_names;
    uint32_t nvar_names;   /* distinct variable names (var_ref.name indexes these) */
    char **var_names;
};

/* Loads and validates a scenario from a JSON file. On success returns a new
 * scenario (free with scenario_destroy) and STATUS_OK; on failure returns NULL
 * with err filled (STATUS_BAD_INPUT with path, line and column as known). */
struct scenario *scenario_load_file(const char *path, struct error *err);

/* Same, from a buffer of len bytes (need not be NUL-terminated). `origin`
 * names the buffer in messages and supplies the default scenario name. */
struct scenario *scenario_load_buffer(const char *buf, size_t len,
                                      const char *origin, struct error *err);

/* Parses a duration written as in scenarios ("5ms", "1.5s", "40us", "250ns")
 * into *out. Returns STATUS_OK or STATUS_BAD_INPUT with err saying why. */
enum status scenario_parse_duration(const char *text, sim_time *out, struct error *err);

/* The name of an object type as scenarios write it ("lock", "mp_queue", ...). */
const char *scenario_object_type_name(enum object_type type);

/* Frees a scenario. NULL is fine. */
void scenario_destroy(struct scenario *sc);

/* Index of the declared thread `name` in process `process`, or -1. */
int32_t scenario_find_thread(const struct scenario *sc, uint32_t process,
                             const char *name);

/* Total compute time (ns) of a declared thread's program under the scenario's
 * profile, following repeat counts and calls with constant arguments; used by
 * sjf and srtf. Data-dependent parts count as their static bound. */
sim_time scenario_thread_compute(const struct scenario *sc, uint32_t thread);

/* Total compute time (ns) of a call of function `fn` with the given argument
 * values (nargs of them), as scenario_thread_compute counts it; used for
 * threads created at run time. */
sim_time scenario_function_compute(const struct scenario *sc, uint32_t fn,
                                   const int64_t *args, uint32_t nargs);

/* CPU time of one compute op given its resolved arguments. */
/* One step of an arithmetic value, as Python computes it on integers:
 * *acc = *acc OP v, with floor division and modulo. Returns NULL, or the
 * run-time error's message (division by zero, 64-bit overflow) with *acc
 * unchanged. The simulator and the real runner both evaluate with it. */
const char *expr_step(enum expr_op op, int64_t *acc, int64_t v);

sim_time scenario_compute_cost(const struct scenario *sc, const struct op_compute *c,
                               int64_t n, int64_t from, int64_t to);

#endif
