/* Host calibration. Each measurement is a trial function run a number of
 * times; a figure is the median (and min, max) of its trials. Kernels are
 * timed on the thread's CPU clock (what the simulator charges as CPU time);
 * everything that involves another thread or process is timed on the
 * monotonic clock. */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET, sched_getcpu */
#include "calibrate.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <pthread.h>
#include <sched.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernels.h"
#include "runner.h"
#include "sim/scenario.h"
#include "sim/trace_metrics.h"
#include "sim/xalloc.h"
#include "sim/order.h"

static const struct calib_figure_info infos[CALIB_FIGURE_COUNT] = {
    [CALIB_COUNT_NS_PER_ITER] = {"count_ns_per_iter", true, "ns/iter", "count kernel: one countdown iteration"},
    [CALIB_PRIMES_NS_PER_DIVISION] = {"primes_ns_per_division", true, "ns/div", "primes kernel: one trial division"},
    [CALIB_PRIMES_NS_PER_NUMBER] = {"primes_ns_per_number", true, "ns/number",
                                    "primes kernel: each number tested, besides its divisions"},
    [CALIB_SPIN_NS_PER_NS] = {"spin_ns_per_ns", true, "ns/ns", "spin kernel: CPU used per ns asked (accuracy)"},
    [CALIB_CHUNK_NS] = {"chunk_overhead_ns", false, "ns", "count run in 100-iteration chunks: cost per chunk"},
    [CALIB_THREAD_START] = {"pthread_create_ns", false, "ns", "pthread_create, in the creating thread"},
    [CALIB_THREAD_CREATE_JOIN] = {"thread_create_join_ns", false, "ns", "pthread_create + pthread_join of an empty thread"},
    [CALIB_FORK_PARENT] = {"bare_fork_parent_ns", false, "ns", "fork(): until it returns in the parent"},
    [CALIB_FORK_CHILD] = {"bare_fork_child_ns", false, "ns", "fork(): from its return in the parent to the child running"},
    [CALIB_SPAWN_PARENT] = {"spawn_parent_ns", true, "ns", "host runner: a `process` op (spawn), in the parent"},
    [CALIB_SPAWN_CHILD] = {"spawn_child_ns", true, "ns", "host runner: spawn `process` op to the child's first op"},
    [CALIB_FORKSERVER_START] = {"forkserver_start_ns", true, "ns", "forkserver: starting the server (a spawn)"},
    [CALIB_FORKSERVER_PARENT] = {"forkserver_parent_ns", true, "ns", "forkserver: sending a request to the server"},
    [CALIB_FORKSERVER_CHILD] = {"forkserver_child_ns", true, "ns", "forkserver: from the request to the child running"},
    [CALIB_CONTEXT_SWITCH] = {"context_switch_ns", true, "ns", "switch between two threads on one CPU (pipe ping-pong)"},
    [CALIB_PROCESS_SWITCH] = {"process_switch_ns", true, "ns", "switch between two processes on one CPU (pipe ping-pong)"},
    [CALIB_MUTEX_HANDOFF] = {"lock_handoff_ns", false, "ns", "mutex unlock to the blocked waiter holding it (2 CPUs)"},
    [CALIB_CONDVAR_WAKEUP] = {"condvar_wakeup_ns", false, "ns", "condvar signal to the waiter running (2 CPUs, pinned)"},
    [CALIB_PIPE_OP] = {"pipe_op_ns", true, "ns", "pipe write or read of 1 byte (system call)"},
    [CALIB_PIPE_NS_PER_BYTE] = {"pipe_ns_per_byte", true, "ns/byte", "pipe: write + read per byte of a 32 KiB message"},
    [CALIB_PIPE_LATENCY] = {"mp_queue_latency_ns", true, "ns", "pipe: one-way latency between two threads"},
    [CALIB_COPY_NS_PER_BYTE] = {"pickle_ns_per_byte", true, "ns/byte", "memcpy per byte (stands for pickling)"},
    [CALIB_QUEUE_OP] = {"queue_op_ns", true, "ns", "mutex+condvar bounded queue: put or get"},
    [CALIB_ACQUIRE] = {"mutex_lock_ns", false, "ns", "pthread_mutex_lock, uncontended"},
    [CALIB_RELEASE] = {"mutex_unlock_ns", false, "ns", "pthread_mutex_unlock, uncontended"},
    [CALIB_RUNNER_THREAD_START] = {"thread_start_ns", true, "ns", "host runner: a `thread` op, in the creating thread (lecture pattern)"},
    [CALIB_RUNNER_ADD] = {"add_ns", true, "ns", "host runner: a racy `add` op, one thread"},
    [CALIB_RUNNER_ACQUIRE] = {"acquire_ns", true, "ns", "host runner: an uncontended `acquire` op"},
    [CALIB_RUNNER_RELEASE] = {"release_ns", true, "ns", "host runner: an uncontended `release` op"},
    [CALIB_RUNNER_START] = {"runner_start_ns", true, "ns", "host runner: time zero to the main thread running (process_start_ns)"},
    [CALIB_RUNNER_FORK_PARENT] = {"fork_parent_ns", true, "ns", "host runner: a `process` op (fork), in the parent"},
    [CALIB_RUNNER_FORK_CHILD] = {"fork_child_ns", true, "ns", "host runner: `process` op's start to the child's end (join)"},
    [CALIB_RUNNER_COMPUTE] = {"compute_op_ns", true, "ns", "host runner: a `compute` op of 5 ns, beyond the 5 ns"},
    [CALIB_ADD_CONTENDED] = {"add_contended_ns", true, "ns", "host runner: a racy `add` while another CPU adds to it"},
    [CALIB_THREAD_LATENCY] = {"thread_start_latency_ns", true, "ns", "host runner: a `thread` op's start to the new thread running (lecture pattern)"},
    [CALIB_THREAD_BOOT] = {"thread_boot_ns", true, "ns", "host runner: a new thread's first run, before its first op blocks (lecture pattern)"},
    [CALIB_TIMER_LATENCY] = {"timer_latency_ns", true, "ns", "a 20 us sleep (1 ns timer slack): how late it ends"},
    [CALIB_WAKE] = {"wake_ns", true, "ns", "sem_post that wakes a thread asleep in sem_wait (the runner's lock)"},
    [CALIB_WAKE_LATENCY] = {"wakeup_latency_ns", true, "ns", "that sem_post's start to the woken thread running"},
    [CALIB_WAKE_EARLY] = {"wake_early_ns", true, "ns", "futex wake system call that wakes no one"},
    [CALIB_WAKE_SETTLE] = {"wake_settle_ns", true, "ns", "futex wait system call that returns at once"},
    [CALIB_FUTEX_RACE] = {"futex_race_ns", true, "ns", "a lock hand-off race: half the 1-99 % range of who is back first (2 CPUs)"},
    [CALIB_IDLE_WAKE] = {"idle_wake_ns", true, "ns", "extra wake-up latency of a CPU idle for long"},
    [CALIB_IDLE_POLL] = {"idle_poll_ns", true, "ns", "idle time after which a CPU wakes that much slower"},
    [CALIB_IDLE_KICK] = {"idle_kick_ns", true, "ns", "extra cost of the sem_post that wakes such a CPU"},
    [CALIB_THREAD_EXIT] = {"thread_exit_ns", true, "ns", "host runner: a thread's end to the next thread running on its CPU"},
    [CALIB_GIL_CHECK] = {"gil_check_ns", true, "ns", "host runner: an old GIL check point no thread waits at (release and re-take)"},
    [CALIB_PROCESS_EXIT] = {"process_exit_ns", true, "ns", "host runner: a process's end to the next process running on its CPU"},
};

const struct calib_figure_info *calibrate_figure_info(enum calib_figure_id id)
{
    return id < CALIB_FIGURE_COUNT ? &infos[id] : NULL;
}

/* State shared by the trials of one calibration run. */
struct calib_ctx {
    const struct calib_options *opts;
    int scale;           /* 1 when quick, 4 for a full run: sizes of trials */
    int cpu_a, cpu_b;    /* two CPUs this process may use (equal when only one) */
    const struct calib_result *res; /* the figures measured so far */
    struct error *err;
};

/* The CPUs of calibrate's runner scenarios: those of the lectures (2), or
 * 1 where calibrate may use only one. A fork or a thread start costs more
 * on two: the new process or thread runs on the other CPU at once, and
 * each change to the shared page tables then interrupts it (a fork in the
 * parent: 0.70-0.76 ms on one CPU of this host, 0.9-1.8 ms on two). */
static int lecture_cpus(const struct calib_ctx *c)
{
    return c->cpu_a != c->cpu_b ? 2 : 1;
}

/* A trial fills v[0 .. nfigures-1] for its figures, in table order. */
typedef enum status (*calib_trial)(struct calib_ctx *c, double *v);

struct calib_measurement {
    calib_trial trial;
    enum calib_figure_id first;
    int nfigures;
};

static enum status sys_fail(struct calib_ctx *c, const char *call)
{
    return error_set(c->err, STATUS_INTERNAL, NULL, "calibrate: %s failed: %s", call, strerror(errno));
}

static void *noop_thread(void *arg)
{
    return arg;
}

/* Pins the calling thread to one CPU; false when that is not allowed. */
static bool pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
}

static enum status trial_count(struct calib_ctx *c, double *v)
{
    v[0] = host_count_ns_per_iter(5000000LL * c->scale);
    return STATUS_OK;
}

/* The least CPU time of three runs of host_primes(from, to) (the
 * difference solved for below is a few per cent of either), and its
 * divisions and numbers. */
static double primes_time(int64_t from, int64_t to, double *divisions, double *numbers)
{
    *divisions = (double)work_primes_divisions(from, to);
    *numbers = (double)(to - from + 1);
    int64_t best = INT64_MAX;
    for (int i = 0; i < 3; i++) {
        int64_t t0 = host_thread_cpu_ns();
        host_primes(from, to);
        int64_t t = host_thread_cpu_ns() - t0;
        if (t < best)
            best = t;
    }
    return (double)best;
}

/* The primes kernel costs a per division plus b per number tested. Large
 * numbers take hundreds of divisions each, small ones a few dozen: one range
 * of each gives two equations, solved for a (v[0]) and b (v[1]). A range
 * like the lectures' (3 to 30,000) costs 5-10 % more per division than one
 * near a million, which a per-division cost alone would miss. */
static enum status trial_primes(struct calib_ctx *c, double *v)
{
    double dh, nh, dl, nl;
    double th = primes_time(1000000, 1000000 + 5000 * c->scale, &dh, &nh);
    double tl = primes_time(3, 2 + 10000 * c->scale, &dl, &nl);
    double det = dh * nl - nh * dl;
    double b = (tl * dh - th * dl) / det;
    if (!(b > 0))
        b = 0;
    v[0] = (th - b * nh) / dh;
    v[1] = b;
    return STATUS_OK;
}

static enum status trial_spin(struct calib_ctx *c, double *v)
{
    int64_t ask = 1000000LL * c->scale;
    int64_t t0 = host_thread_cpu_ns();
    host_spin(ask);
    int64_t t1 = host_thread_cpu_ns();
    v[0] = (double)(t1 - t0) / (double)ask;
    return STATUS_OK;
}

/* The cost of stopping and resuming the count kernel every 100 iterations,
 * as the host runner does under a GIL to check the eval breaker. */
static enum status trial_chunk(struct calib_ctx *c, double *v)
{
    const int64_t chunk = 100;
    int64_t n = 1000000LL * c->scale;
    atomic_int breaker = 0;
    int64_t t0 = host_thread_cpu_ns();
    host_count(n);
    int64_t t1 = host_thread_cpu_ns();
    int64_t left = n;
    while (!host_count_step(&left, chunk))
        if (atomic_load_explicit(&breaker, memory_order_relaxed))
            break;
    int64_t t2 = host_thread_cpu_ns();
    double per = ((double)(t2 - t1) - (double)(t1 - t0)) / (double)(n / chunk);
    v[0] = per > 0 ? per : 0;
    return STATUS_OK;
}

static enum status trial_thread(struct calib_ctx *c, double *v)
{
    int k = 10 * c->scale;
    double create = 0, total = 0;
    for (int i = 0; i < k; i++) {
        pthread_t th;
        int64_t t0 = host_now_ns();
        if (pthread_create(&th, NULL, noop_thread, NULL) != 0)
            return sys_fail(c, "pthread_create");
        int64_t t1 = host_now_ns();
        pthread_join(th, NULL);
        int64_t t2 = host_now_ns();
        create += (double)(t1 - t0);
        total += (double)(t2 - t0);
    }
    v[0] = create / k;
    v[1] = total / k;
    return STATUS_OK;
}

/* Waits for a child; false if it did not exit with status 0. */
static bool reap(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static bool write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* fork(): the parent's cost is until fork returns; the child's is from then
 * until the child runs (it writes the time it first ran into a pipe). */
static enum status trial_fork(struct calib_ctx *c, double *v)
{
    int fd[2];
    if (pipe(fd) != 0)
        return sys_fail(c, "pipe");
    int64_t t0 = host_now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        int64_t now = host_now_ns();
        _exit(write_full(fd[1], &now, sizeof now) ? 0 : 1);
    }
    int64_t t1 = host_now_ns();
    close(fd[1]);
    if (pid < 0) {
        close(fd[0]);
        return sys_fail(c, "fork");
    }
    int64_t child = 0;
    bool ok = read_full(fd[0], &child, sizeof child);
    close(fd[0]);
    if (!reap(pid) || !ok)
        return error_set(c->err, STATUS_INTERNAL, NULL, "calibrate: a forked child failed");
    v[0] = (double)(t1 - t0);
    v[1] = child > t1 ? (double)(child - t1) : 0;
    return STATUS_OK;
}

/* spawn as the host runner does it: a `process` op with "start_method":
 * "spawn" (fork, exec of `threadsim __worker`, which maps the run, loads the
 * scenario again and starts the child's main thread), then a join. The
 * parent's figure is its CPU time in the two ops, as fork_parent_ns; the
 * child's runs from the op (the trace's start instant) to the child's main
 * thread running its first op: the start-up the simulator charges to the
 * child before its function. */
/* Runs the micro-scenario json with the host runner (a spawn in it execs
 * threadsim, which loads the same text). On STATUS_OK *out is its trace and
 * *m its metrics (one more entry than tasks, zeroed): the caller frees *m
 * and destroys *out. */
static enum status calib_host_trace(struct calib_ctx *c, const char *json, struct trace **out,
                                    struct task_metrics **m)
{
    *out = NULL;
    *m = NULL;
    struct scenario *sc = scenario_load_buffer(json, strlen(json), "calibrate", c->err);
    if (!sc)
        return c->err->status;
    struct host_options ho;
    host_options_init(&ho);
    ho.self_exe = c->opts->self_exe;
    ho.source_text = json;
    ho.source_len = strlen(json);
    ho.source_origin = "calibrate";
    enum status st = host_run(sc, &ho, out, c->err);
    scenario_destroy(sc);
    if (st != STATUS_OK) {
        trace_destroy(*out);
        *out = NULL;
        return st;
    }
    *m = xcalloc((*out)->ntasks + 1, sizeof **m);
    trace_metrics_compute(*out, *m);
    return STATUS_OK;
}

/* For each start (of a thread or process) by the first thread, from its
 * record to the started task's first run (m: the trace's metrics; for a
 * process, its main thread's first op, after the start-up), into
 * late[] (at most cap). Returns how many; *first_start and *last_run (when
 * not NULL) get the earliest such record and the latest such first run. */
static int calib_start_delays(const struct trace *tr, const struct task_metrics *m, double *late, int cap,
                              int64_t *first_start, int64_t *last_run)
{
    int found = 0;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (size_t i = 0; i < tr->ninstants && found < cap; i++) {
        const struct trace_instant *in = &tr->instants[i];
        if (in->kind != INSTANT_START || in->task != 0 || in->value <= 0 || (uint64_t)in->value >= tr->ntasks)
            continue;
        int64_t ran = tr->tasks[in->value].first_op >= 0 ? tr->tasks[in->value].first_op : m[in->value].first_run;
        if (ran < in->time)
            continue;
        late[found++] = (double)(ran - in->time);
        first = in->time < first ? in->time : first;
        last = ran > last ? ran : last;
    }
    if (first_start)
        *first_start = first;
    if (last_run)
        *last_run = last;
    return found;
}

static enum status trial_spawn(struct calib_ctx *c, double *v)
{
    int n = c->scale > 1 ? 4 : 2;
    char json[1024];
    snprintf(json, sizeof json,
             "{\"machine\": {\"cpus\": %d}, \"functions\": {\"noop\": {\"body\": []}}, \"processes\": [{\"name\": \"main\", \"threads\": "
             "[{\"name\": \"MainThread\", \"program\": [{\"op\": \"repeat\", \"times\": %d, \"body\": [{\"op\": "
             "\"process\", \"name\": \"p\", \"call\": \"noop\", \"start_method\": \"spawn\"}, {\"op\": \"join\", "
             "\"process\": \"p\"}]}]}]}]}",
             lecture_cpus(c), n);
    struct trace *tr;
    struct task_metrics *m;
    enum status st = calib_host_trace(c, json, &tr, &m);
    if (st != STATUS_OK)
        return st;
    v[0] = (double)m[0].cpu / n;
    double late[8];
    int children = calib_start_delays(tr, m, late, 8, NULL, NULL);
    free(m);
    trace_destroy(tr);
    if (children != n)
        return error_set(c->err, STATUS_INTERNAL, NULL, "calibrate: %d of %d spawned processes ran", children, n);
    double child = 0;
    for (int i = 0; i < children; i++)
        child += late[i];
    v[1] = child / children;
    /* the server of a forkserver is itself spawned */
    v[2] = v[0] + v[1];
    return STATUS_OK;
}

/* forkserver: a server process (forked once per trial) reads a request byte
 * and forks a child; the parent pays the request, the child's cost runs from
 * the request to the child running. */
static enum status trial_forkserver(struct calib_ctx *c, double *v)
{
    int req[2], res[2];
    if (pipe(req) != 0)
        return sys_fail(c, "pipe");
    if (pipe(res) != 0) {
        close(req[0]);
        close(req[1]);
        return sys_fail(c, "pipe");
    }
    pid_t server = fork();
    if (server == 0) {
        close(req[1]);
        close(res[0]);
        char b;
        int rc = 0;
        while (read_full(req[0], &b, 1)) {
            pid_t w = fork();
            if (w == 0) {
                int64_t now = host_now_ns();
                _exit(write_full(res[1], &now, sizeof now) ? 0 : 1);
            }
            if (w < 0 || !reap(w))
                rc = 1;
        }
        _exit(rc);
    }
    close(req[0]);
    close(res[1]);
    if (server < 0) {
        close(req[1]);
        close(res[0]);
        return sys_fail(c, "fork");
    }
    int rounds = 3;
    double parent = 0, child = 0;
    bool ok = true;
    for (int i = 0; i < rounds && ok; i++) {
        char b = 1;
        int64_t t0 = host_now_ns();
        ok = write_full(req[1], &b, 1);
        int64_t t1 = host_now_ns();
        int64_t started = 0;
        ok = ok && read_full(res[0], &started, sizeof started);
        parent += (double)(t1 - t0);
        child += started > t0 ? (double)(started - t0) : 0;
    }
    close(req[1]);
    close(res[0]);
    if (!reap(server) || !ok)
        return error_set(c->err, STATUS_INTERNAL, NULL, "calibrate: the fork server failed");
    v[0] = parent / rounds;
    v[1] = child / rounds;
    return STATUS_OK;
}

/* One side of a pipe ping-pong: `rounds` times, read a byte then write it
 * back (the starting side writes first). */
struct pingpong {
    int in, out;
    int rounds;
    int cpu;             /* pin to this CPU, -1: do not pin */
    bool starts;
    bool ok;
    int64_t elapsed;
};

static void pingpong_side(struct pingpong *pp)
{
    char b = 0;
    pp->ok = true;
    int64_t t0 = host_now_ns();
    for (int i = 0; i < pp->rounds && pp->ok; i++) {
        if (pp->starts)
            pp->ok = write_full(pp->out, &b, 1) && read_full(pp->in, &b, 1);
        else
            pp->ok = read_full(pp->in, &b, 1) && write_full(pp->out, &b, 1);
    }
    pp->elapsed = host_now_ns() - t0;
}

static void *pingpong_thread(void *arg)
{
    struct pingpong *pp = arg;
    if (pp->cpu >= 0)
        pin_to(pp->cpu);
    pingpong_side(pp);
    return NULL;
}

/* Two threads (or a thread and a forked process) pass a byte back and
 * forth through two pipes: one round trip is two switches when both are on
 * one CPU. Returns the time of one one-way trip in ns, or -1. */
static double pingpong(struct calib_ctx *c, int rounds, int cpu_a, int cpu_b, bool processes)
{
    int ab[2], ba[2];
    if (pipe(ab) != 0)
        return -1;
    if (pipe(ba) != 0) {
        close(ab[0]);
        close(ab[1]);
        return -1;
    }
    struct pingpong a = {.in = ba[0], .out = ab[1], .rounds = rounds, .cpu = cpu_a, .starts = true};
    struct pingpong b = {.in = ab[0], .out = ba[1], .rounds = rounds, .cpu = cpu_b, .starts = false};
    pthread_t ta, tb;
    pid_t pid = -1;
    bool ok = true;
    if (processes) {
        /* the forking thread is a fresh one, so pinning it pins the child too
         * and leaves the caller's affinity alone */
        pid = fork();
        if (pid == 0) {
            if (cpu_b >= 0)
                pin_to(cpu_b);
            pingpong_side(&b);
            _exit(b.ok ? 0 : 1);
        }
        ok = pid > 0 && pthread_create(&ta, NULL, pingpong_thread, &a) == 0;
        if (ok)
            pthread_join(ta, NULL);
        else if (pid > 0)
            kill(pid, SIGKILL);
    } else {
        ok = pthread_create(&tb, NULL, pingpong_thread, &b) == 0;
        if (ok && pthread_create(&ta, NULL, pingpong_thread, &a) != 0) {
            ok = false;
            close(ba[1]); /* b sees EOF and ends */
            ba[1] = -1;
        } else if (ok) {
            pthread_join(ta, NULL);
        }
        if (ok || ba[1] < 0)
            pthread_join(tb, NULL);
    }
    for (int i = 0; i < 2; i++) {
        close(ab[i]);
        if (ba[i] >= 0)
            close(ba[i]);
    }
    if (pid > 0 && !reap(pid))
        ok = false;
    (void)c;
    if (!ok || !a.ok)
        return -1;
    return (double)a.elapsed / (2.0 * rounds);
}

/* A write and a read of one byte on one thread, without any switch: what a
 * ping-pong's one-way trip costs besides the switch. */
static double pipe_pair_ns(int n)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    char b = 0;
    int64_t t0 = host_now_ns();
    for (int i = 0; i < n; i++) {
        if (!write_full(fd[1], &b, 1) || !read_full(fd[0], &b, 1))
            break;
    }
    int64_t t1 = host_now_ns();
    close(fd[0]);
    close(fd[1]);
    return (double)(t1 - t0) / n;
}

/* Context switch between threads, then between processes, on one CPU: a
 * one-way trip of the ping-pong minus a write and a read. */
static enum status trial_switch(struct calib_ctx *c, double *v)
{
    int rounds = 1000 * c->scale;
    double pair = pipe_pair_ns(rounds);
    double threads = pingpong(c, rounds, c->cpu_a, c->cpu_a, false);
    double procs = pingpong(c, rounds, c->cpu_a, c->cpu_a, true);
    if (pair < 0 || threads < 0 || procs < 0)
        return sys_fail(c, "the pipe ping-pong");
    v[0] = threads > pair ? threads - pair : 0;
    v[1] = procs > pair ? procs - pair : 0;
    return STATUS_OK;
}

/* Hand-off and wake-up: thread B blocks (on a held mutex, or in a condvar
 * wait) on CPU b; thread A on CPU a waits until B is surely asleep, stamps
 * the time, and unlocks (or signals); B stamps the time it runs again. */
struct handoff {
    pthread_mutex_t m;
    pthread_cond_t cv;
    bool use_cond;
    bool flag;             /* the condition B waits for */
    atomic_int ready;      /* B is about to block */
    atomic_llong t_wake;   /* when B ran again */
    int cpu;
};

static void *handoff_waiter(void *arg)
{
    struct handoff *h = arg;
    if (h->cpu >= 0)
        pin_to(h->cpu);
    if (h->use_cond) {
        pthread_mutex_lock(&h->m);
        atomic_store(&h->ready, 1);
        while (!h->flag)
            pthread_cond_wait(&h->cv, &h->m);
        atomic_store(&h->t_wake, host_now_ns());
        pthread_mutex_unlock(&h->m);
    } else {
        atomic_store(&h->ready, 1);
        pthread_mutex_lock(&h->m);
        atomic_store(&h->t_wake, host_now_ns());
        pthread_mutex_unlock(&h->m);
    }
    return NULL;
}

struct handoff_run {
    struct calib_ctx *c;
    bool use_cond;
    double result;         /* ns, or -1 */
};

static void *handoff_driver(void *arg)
{
    struct handoff_run *run = arg;
    struct calib_ctx *c = run->c;
    struct handoff h;
    memset(&h, 0, sizeof h);
    pthread_mutex_init(&h.m, NULL);
    pthread_cond_init(&h.cv, NULL);
    h.use_cond = run->use_cond;
    h.cpu = c->cpu_b;
    run->result = -1;
    if (c->cpu_a >= 0)
        pin_to(c->cpu_a);
    if (!h.use_cond)
        pthread_mutex_lock(&h.m);
    pthread_t th;
    if (pthread_create(&th, NULL, handoff_waiter, &h) != 0) {
        if (!h.use_cond)
            pthread_mutex_unlock(&h.m);
        return NULL;
    }
    while (!atomic_load(&h.ready))
        sched_yield();
    /* long enough for B to reach the futex sleep, short for the trial */
    struct timespec nap = {0, 300000};
    nanosleep(&nap, NULL);
    int64_t t0;
    if (h.use_cond) {
        pthread_mutex_lock(&h.m);
        h.flag = true;
        t0 = host_now_ns();
        pthread_cond_signal(&h.cv);
        pthread_mutex_unlock(&h.m);
    } else {
        t0 = host_now_ns();
        pthread_mutex_unlock(&h.m);
    }
    pthread_join(th, NULL);
    int64_t woke = atomic_load(&h.t_wake);
    run->result = woke > t0 ? (double)(woke - t0) : 0;
    pthread_cond_destroy(&h.cv);
    pthread_mutex_destroy(&h.m);
    return NULL;
}

/* The median of k hand-offs of one kind. */
static double handoff_median(struct calib_ctx *c, bool use_cond, int k)
{
    double vals[16];
    int n = 0;
    for (int i = 0; i < k && i < 16; i++) {
        struct handoff_run run = {.c = c, .use_cond = use_cond, .result = -1};
        pthread_t th;
        if (pthread_create(&th, NULL, handoff_driver, &run) != 0)
            return -1;
        pthread_join(th, NULL);
        if (run.result < 0)
            return -1;
        int j = n++;
        while (j > 0 && vals[j - 1] > run.result) {
            vals[j] = vals[j - 1];
            j--;
        }
        vals[j] = run.result;
    }
    return n ? vals[n / 2] : -1;
}

static enum status trial_handoff(struct calib_ctx *c, double *v)
{
    int k = c->scale > 1 ? 9 : 3;
    v[0] = handoff_median(c, false, k);
    v[1] = handoff_median(c, true, k);
    if (v[0] < 0 || v[1] < 0)
        return sys_fail(c, "pthread_create");
    return STATUS_OK;
}

/* Waking a sleeping thread, as a release of the host runner's lock does: a
 * thread (not pinned, as the runner's are not) waits in sem_wait on a
 * process-shared semaphore; the driver lets it fall asleep, then times its
 * sem_post (wake_ns) and the time to the waiter running (wakeup_latency_ns).
 * Then the two futex calls of a contended lock whose waiter has not left its
 * CPU: a wake that finds no sleeper (wake_early_ns), and a wait that returns
 * at once because the word changed (wake_settle_ns). */
struct wake_bench {
    sem_t sem;
    atomic_llong t_woke;
    atomic_int stop;
    pthread_t waiter;
};

static void *wake_waiter(void *arg)
{
    struct wake_bench *w = arg;
    for (;;) {
        while (sem_wait(&w->sem) != 0)
            ;
        if (atomic_load(&w->stop))
            return NULL;
        atomic_store(&w->t_woke, host_now_ns());
    }
}

/* A waiter thread in sem_wait on a fresh process-shared semaphore; NULL
 * with c->err filled when it cannot be made. */
static struct wake_bench *wake_bench_start(struct calib_ctx *c)
{
    struct wake_bench *w = xcalloc(1, sizeof *w);
    if (sem_init(&w->sem, 1, 0) != 0) {
        free(w);
        sys_fail(c, "sem_init");
        return NULL;
    }
    if (pthread_create(&w->waiter, NULL, wake_waiter, w) != 0) {
        sem_destroy(&w->sem);
        free(w);
        sys_fail(c, "pthread_create");
        return NULL;
    }
    return w;
}

static void wake_bench_stop(struct wake_bench *w)
{
    atomic_store(&w->stop, 1);
    sem_post(&w->sem);
    pthread_join(w->waiter, NULL);
    sem_destroy(&w->sem);
    free(w);
}

/* One wake-up: posts the semaphore its waiter sleeps on, then spins (as a
 * releaser goes on computing; yielding after 1 ms in case the waiter can
 * only run on this CPU) until the waiter runs. Returns the time from the
 * post to the waiter running; *post gets the sem_post call's time. */
static double wake_round(struct wake_bench *w, double *post)
{
    atomic_store(&w->t_woke, 0);
    int64_t t0 = host_now_ns();
    sem_post(&w->sem);
    *post = (double)(host_now_ns() - t0);
    int64_t woke;
    while ((woke = atomic_load(&w->t_woke)) == 0)
        if (host_now_ns() - t0 > 1000000)
            sched_yield();
    return (double)(woke - t0);
}

static double futex_call_ns(int op, int value, int n)
{
    static int word = 1;
    int64_t t0 = host_now_ns();
    for (int i = 0; i < n; i++)
        syscall(SYS_futex, &word, op, value, NULL, NULL, 0);
    return (double)(host_now_ns() - t0) / n;
}

static enum status trial_wake(struct calib_ctx *c, double *v)
{
    enum { MAXR = 200, WARMUP = 20 };
    int rounds = 50 * c->scale < MAXR ? 50 * c->scale : MAXR;
    struct wake_bench *w = wake_bench_start(c);
    if (!w)
        return c->err->status;
    double post[MAXR], lat[MAXR];
    for (int i = -WARMUP; i < rounds; i++) {
        /* long enough for the waiter to be asleep and its CPU idle, as a
         * lock's waiter is while the holder computes */
        struct timespec nap = {0, 50000};
        nanosleep(&nap, NULL);
        double call, took = wake_round(w, &call);
        if (i < 0)
            continue;
        post[i] = call;
        lat[i] = took;
    }
    wake_bench_stop(w);
    qsort(post, (size_t)rounds, sizeof post[0], order_double);
    qsort(lat, (size_t)rounds, sizeof lat[0], order_double);
    v[0] = post[rounds / 2];
    v[1] = lat[rounds / 2];
    /* shared (not private) futexes, as a process-shared semaphore's */
    int n = 20000 * c->scale;
    v[2] = futex_call_ns(FUTEX_WAKE, 1, n);
    v[3] = futex_call_ns(FUTEX_WAIT, 0, n); /* the word is 1: EAGAIN at once */
    return STATUS_OK;
}

/* How far a futex race moves on this host. A thread pinned to one CPU
 * blocks in sem_wait on a process-shared semaphore (the runner's lock); a
 * thread pinned to the other posts it 100 ns after the wait began, as a
 * lock's holder releases while its waiter is still in its futex wait call.
 * The simulation has the waiter back wake_settle_ns after it blocked and
 * the poster back wake_early_ns after its post: a fixed difference between
 * the two. Here it moves from round to round, and the figure is half the
 * range from its 1st to its 99th percentile (141-928 ns on this host in one
 * morning, 2026-12-06): a simulated hand-off decided by less is a race that
 * real runs decide the other way now and then, which is enough to break a
 * lockstep of millions (docs/calibrate.md). */
struct race_bench {
    sem_t sem;
    _Alignas(64) atomic_int phase; /* RACE_* */
    _Alignas(64) atomic_llong back;
    int rounds;
    double *diff;
};

enum { RACE_IDLE, RACE_WANT, RACE_WAITING, RACE_BACK, RACE_STOP };

/* Spins until b->phase is one of two values (yielding after 1 ms, should
 * the other thread be kept off its CPU); returns the one seen. */
static int race_await(struct race_bench *b, int x, int y)
{
    int64_t t0 = host_now_ns();
    for (;;) {
        int ph = atomic_load(&b->phase);
        if (ph == x || ph == y)
            return ph;
        if (host_now_ns() - t0 > 1000000)
            sched_yield();
    }
}

static void *race_waiter(void *arg)
{
    struct race_bench *b = arg;
    while (race_await(b, RACE_WANT, RACE_STOP) == RACE_WANT) {
        atomic_store(&b->phase, RACE_WAITING);
        while (sem_wait(&b->sem) != 0)
            ;
        atomic_store(&b->back, host_now_ns());
        atomic_store(&b->phase, RACE_BACK);
    }
    return NULL;
}

static void *race_poster(void *arg)
{
    enum { WARMUP = 50, DELAY_NS = 100 };
    struct race_bench *b = arg;
    for (int i = -WARMUP; i < b->rounds; i++) {
        if (i % 8 == 0) {
            /* now and then, as a lock's users do other work */
            struct timespec nap = {0, 20000};
            nanosleep(&nap, NULL);
        }
        atomic_store(&b->phase, RACE_WANT);
        race_await(b, RACE_WAITING, RACE_WAITING);
        int64_t until = host_now_ns() + DELAY_NS;
        while (host_now_ns() < until)
            ;
        sem_post(&b->sem);
        int64_t mine = host_now_ns();
        race_await(b, RACE_BACK, RACE_BACK);
        if (i >= 0)
            b->diff[i] = (double)(atomic_load(&b->back) - mine);
    }
    atomic_store(&b->phase, RACE_STOP);
    return NULL;
}

/* Starts fn(b) on a thread pinned to cpu; returns pthread_create's code. */
static int start_pinned(pthread_t *t, int cpu, void *(*fn)(void *), void *b)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setaffinity_np(&attr, sizeof set, &set);
    int rc = pthread_create(t, &attr, fn, b);
    pthread_attr_destroy(&attr);
    return rc;
}

static enum status trial_futex_race(struct calib_ctx *c, double *v)
{
    enum { MAXR = 4000 };
    v[0] = 0;
    if (c->cpu_a == c->cpu_b)
        return STATUS_OK; /* one CPU: no race between two running threads */
    struct race_bench b = {.rounds = 1000 * c->scale < MAXR ? 1000 * c->scale : MAXR};
    if (sem_init(&b.sem, 1, 0) != 0)
        return sys_fail(c, "sem_init");
    double *diff = xcalloc((size_t)b.rounds, sizeof *diff);
    b.diff = diff;
    pthread_t waiter, poster;
    int rc = start_pinned(&waiter, c->cpu_b, race_waiter, &b);
    if (rc == 0) {
        rc = start_pinned(&poster, c->cpu_a, race_poster, &b);
        if (rc != 0)
            atomic_store(&b.phase, RACE_STOP);
        else
            pthread_join(poster, NULL);
        pthread_join(waiter, NULL);
    }
    sem_destroy(&b.sem);
    if (rc == 0) {
        /* a lockstep of millions of hand-offs breaks at its rare races: the
         * range of 98 % of them, not of the middle 80 % (on a quiet host the
         * middle is 140-170 ns wide and the 1-99 % range 400-450 ns) */
        qsort(diff, (size_t)b.rounds, sizeof diff[0], order_double);
        v[0] = (diff[b.rounds * 99 / 100] - diff[b.rounds / 100]) / 2;
    }
    free(diff);
    if (rc == 0 || rc == EINVAL || rc == EPERM)
        return STATUS_OK; /* EINVAL, EPERM: not allowed to pin, not measured here */
    errno = rc;
    return sys_fail(c, "pthread_create");
}

/* The median time from a sem_post to its waiter running, when the waiter's
 * CPU has been idle for `gap` ns: the driver spins meanwhile, so that only
 * the waiter's CPU idles. *post gets the median time of the sem_post call. */
static double idle_wake_median(struct wake_bench *w, int64_t gap, int rounds, double *post)
{
    enum { MAXR = 32 };
    double lat[MAXR], call[MAXR];
    int n = rounds < MAXR ? rounds : MAXR;
    for (int i = 0; i < n; i++) {
        int64_t until = host_now_ns() + gap;
        while (host_now_ns() < until)
            ;
        lat[i] = wake_round(w, &call[i]);
    }
    qsort(lat, (size_t)n, sizeof lat[0], order_double);
    qsort(call, (size_t)n, sizeof call[0], order_double);
    *post = call[n / 2];
    return lat[n / 2];
}

/* A CPU idle for a while stops polling for work and sleeps deeper: on a
 * virtual machine the hypervisor halts the virtual CPU (KVM polls for 200 us
 * by default), on hardware it enters a deeper C-state. The wake-up latency
 * after 20 us of idle, and after each idle time of a ladder up to 3 ms: the
 * first rung past half the way to the 3 ms latency is where the step is
 * (idle_poll_ns), and the latency at twice that, less the 20 us one, is
 * the step (idle_wake_ns; it grows slowly past it: 38 us at 300 us of idle,
 * 42 us at 3 ms here). The sem_post call itself takes longer there too
 * (idle_kick_ns: 6.4 us then 18.2 us here). No step of 2 us or more: all
 * 0. */
static enum status trial_idle_wake(struct calib_ctx *c, double *v)
{
    static const int64_t ladder_us[] = {50, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000};
    enum { RUNGS = sizeof ladder_us / sizeof ladder_us[0] };
    int rounds = 9 * c->scale < 15 ? 9 * c->scale : 15;
    struct wake_bench *w = wake_bench_start(c);
    if (!w)
        return c->err->status;
    double post_base, post[RUNGS];
    idle_wake_median(w, 20000, 5, &post_base); /* unrecorded: the waiter's first runs */
    double base = idle_wake_median(w, 20000, rounds, &post_base);
    double lat[RUNGS];
    for (int i = 0; i < RUNGS; i++)
        lat[i] = idle_wake_median(w, ladder_us[i] * 1000, rounds, &post[i]);
    v[0] = v[1] = v[2] = 0;
    int at = 0;
    while (at < RUNGS - 1 && lat[at] < base + (lat[RUNGS - 1] - base) / 2)
        at++;
    int twice = at;
    while (twice < RUNGS - 1 && ladder_us[twice] < 2 * ladder_us[at])
        twice++;
    if (lat[RUNGS - 1] - base >= 2000 && lat[twice] > base) {
        v[0] = lat[twice] - base;
        v[1] = (double)ladder_us[at] * 1000;
        v[2] = post[twice] > post_base ? post[twice] - post_base : 0;
    }
    wake_bench_stop(w);
    return STATUS_OK;
}

/* How late a short sleep ends: the median over a few sleeps of 20 us (an
 * absolute deadline) of the time past it when the thread runs again. The
 * thread's timer slack is 1 ns, as the host runner's are, so this is the
 * timer's and the wake-up's latency, not the 50 us the kernel may otherwise
 * add to a sleep to batch timers. */
static enum status trial_timer(struct calib_ctx *c, double *v)
{
    enum { SLEEPS = 31 };
    int old = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    double late[SLEEPS];
    for (int i = 0; i < SLEEPS; i++) {
        int64_t due = host_now_ns() + 20000;
        struct timespec ts = {.tv_sec = (time_t)(due / 1000000000), .tv_nsec = (long)(due % 1000000000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        late[i] = (double)(host_now_ns() - due);
    }
    if (old > 0)
        prctl(PR_SET_TIMERSLACK, (unsigned long)old, 0, 0, 0);
    (void)c;
    qsort(late, SLEEPS, sizeof late[0], order_double);
    v[0] = late[SLEEPS / 2];
    return STATUS_OK;
}

/* Pipe costs: a 1-byte write or read; the per-byte cost of moving 32 KiB
 * through (write and read, beyond the 1-byte cost); and the one-way latency
 * between two unpinned threads. */
static enum status trial_pipe(struct calib_ctx *c, double *v)
{
    enum { BIG = 32768 };
    int n = 500 * c->scale;
    double pair = pipe_pair_ns(n);
    int fd[2];
    if (pair < 0 || pipe(fd) != 0)
        return sys_fail(c, "pipe");
    char *buf = xcalloc(1, BIG);
    int big_rounds = 20 * c->scale;
    bool ok = true;
    int64_t t0 = host_now_ns();
    for (int i = 0; i < big_rounds && ok; i++)
        ok = write_full(fd[1], buf, BIG) && read_full(fd[0], buf, BIG);
    int64_t t1 = host_now_ns();
    close(fd[0]);
    close(fd[1]);
    free(buf);
    double latency = pingpong(c, 200 * c->scale, c->cpu_a, c->cpu_b, false);
    if (!ok || latency < 0)
        return sys_fail(c, "pipe write/read");
    v[0] = pair / 2;
    double per = ((double)(t1 - t0) / big_rounds - pair) / BIG;
    v[1] = per > 0.001 ? per : 0.001;
    v[2] = latency;
    return STATUS_OK;
}

static enum status trial_copy(struct calib_ctx *c, double *v)
{
    enum { SIZE = 1 << 20 };
    char *a = xcalloc(1, SIZE), *b = xcalloc(1, SIZE);
    int rounds = 4 * c->scale;
    int64_t t0 = host_now_ns();
    for (int i = 0; i < rounds; i++) {
        memcpy(b, a, SIZE);
        a[i] = b[SIZE - 1 - i]; /* keeps the copies from being dropped */
    }
    int64_t t1 = host_now_ns();
    free(a);
    free(b);
    v[0] = (double)(t1 - t0) / ((double)rounds * SIZE);
    if (v[0] <= 0.0001)
        v[0] = 0.0001;
    return STATUS_OK;
}

/* A bounded queue as the host runner builds one: a ring under a mutex with
 * not-empty and not-full condition variables. */
struct calib_queue {
    pthread_mutex_t m;
    pthread_cond_t not_empty, not_full;
    int64_t items[64];
    int head, count;
};

static void queue_put(struct calib_queue *q, int64_t x)
{
    pthread_mutex_lock(&q->m);
    while (q->count == 64)
        pthread_cond_wait(&q->not_full, &q->m);
    q->items[(q->head + q->count++) % 64] = x;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->m);
}

static int64_t queue_get(struct calib_queue *q)
{
    pthread_mutex_lock(&q->m);
    while (q->count == 0)
        pthread_cond_wait(&q->not_empty, &q->m);
    int64_t x = q->items[q->head];
    q->head = (q->head + 1) % 64;
    q->count--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->m);
    return x;
}

static enum status trial_queue(struct calib_ctx *c, double *v)
{
    struct calib_queue q;
    memset(&q, 0, sizeof q);
    pthread_mutex_init(&q.m, NULL);
    pthread_cond_init(&q.not_empty, NULL);
    pthread_cond_init(&q.not_full, NULL);
    int n = 2000 * c->scale;
    int64_t sum = 0;
    int64_t t0 = host_now_ns();
    for (int i = 0; i < n; i++) {
        queue_put(&q, i);
        sum += queue_get(&q);
    }
    int64_t t1 = host_now_ns();
    pthread_cond_destroy(&q.not_full);
    pthread_cond_destroy(&q.not_empty);
    pthread_mutex_destroy(&q.m);
    if (sum != (int64_t)n * (n - 1) / 2)
        return error_set(c->err, STATUS_INTERNAL, NULL, "calibrate: the queue lost items");
    v[0] = (double)(t1 - t0) / (2.0 * n);
    return STATUS_OK;
}

/* Uncontended lock and unlock, timed apart: lock many mutexes, then unlock
 * them all. */
static enum status trial_mutex(struct calib_ctx *c, double *v)
{
    enum { N = 256 };
    pthread_mutex_t *m = xcalloc(N, sizeof *m);
    for (int i = 0; i < N; i++)
        pthread_mutex_init(&m[i], NULL);
    int rounds = 10 * c->scale;
    int64_t lock = 0, unlock = 0;
    for (int r = 0; r < rounds; r++) {
        int64_t t0 = host_now_ns();
        for (int i = 0; i < N; i++)
            pthread_mutex_lock(&m[i]);
        int64_t t1 = host_now_ns();
        for (int i = 0; i < N; i++)
            pthread_mutex_unlock(&m[i]);
        int64_t t2 = host_now_ns();
        lock += t1 - t0;
        unlock += t2 - t1;
    }
    for (int i = 0; i < N; i++)
        pthread_mutex_destroy(&m[i]);
    free(m);
    v[0] = (double)lock / ((double)rounds * N);
    v[1] = (double)unlock / ((double)rounds * N);
    return STATUS_OK;
}

/* The host runner's own cost of an op: the CPU time (RUNNING in its trace)
 * of a main thread that runs `ops` n times, divided by n. This is what the
 * simulator should charge for the op when it predicts a real run: the
 * runner's bookkeeping and recording included, not just the bare pthread
 * call. Returns -1 with c->err filled when the run fails. */
static double runner_json_ns(struct calib_ctx *c, const char *json, int n, double *start, double *blocked);

static double runner_op_ns(struct calib_ctx *c, const char *functions, const char *ops, int n, double *start,
                           double *blocked)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"machine\": {\"cpus\": %d}, \"functions\": {%s}, \"processes\": [{\"name\": \"main\", \"memory\": {\"x\": 0},"
             " \"objects\": {\"L\": {\"type\": \"lock\"}}, \"threads\": [{\"name\": \"MainThread\","
             " \"program\": [{\"op\": \"repeat\", \"times\": %d, \"body\": [%s]}]}]}]}",
             lecture_cpus(c), functions, n, ops);
    return runner_json_ns(c, json, n, start, blocked);
}

static double runner_json_ns(struct calib_ctx *c, const char *json, int n, double *start, double *blocked)
{
    struct trace *tr;
    struct task_metrics *m;
    enum status st = calib_host_trace(c, json, &tr, &m);
    double ns = -1;
    if (st == STATUS_OK) {
        for (uint32_t i = 0; i < tr->ntasks; i++)
            if (strcmp(tr->tasks[i].name, "MainThread") == 0 && tr->tasks[i].process == 0) {
                ns = (double)m[i].cpu / n;
                if (blocked)
                    *blocked = (double)m[i].blocked / n;
                /* the delay a simulation does not have: its first thread runs at 0 */
                if (start)
                    *start = m[i].first_run >= 0 ? (double)m[i].first_run : 0;
            }
        free(m);
    }
    if (ns < 0 && st == STATUS_OK)
        error_set(c->err, STATUS_INTERNAL, NULL, "calibrate: the host runner's trace has no MainThread");
    trace_destroy(tr);
    return ns;
}

/* The MainThread's CPU time in the host runner for one count of n, in a
 * process with the GIL given ("" for none); -1 with c->err filled. */
static double runner_count_ns(struct calib_ctx *c, const char *gil, int64_t n)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"machine\": {\"cpus\": %d}, \"processes\": [{\"name\": \"main\"%s, \"threads\": [{\"name\": "
             "\"MainThread\", \"program\": [{\"op\": \"compute\", \"work\": \"count\", \"n\": %" PRId64 "}]}]}]}",
             lecture_cpus(c), gil, n);
    return runner_json_ns(c, json, 1, NULL, NULL);
}

/* The old GIL's check point with no thread waiting: the host runner's count
 * under an old GIL (check_interval 100) against the same count without a
 * GIL, the difference over the check points (one every 11 iterations at the
 * built-in profile's 9 bytecodes an iteration). The least of three of each. */
static enum status trial_gil_check(struct calib_ctx *c, double *v)
{
    struct profile builtin;
    profile_builtin(&builtin);
    int64_t n = 2000000LL * c->scale;
    int64_t chunk = (int64_t)(100 / (builtin.count_bytecodes_per_iter > 0 ? builtin.count_bytecodes_per_iter : 1));
    if (chunk < 1)
        chunk = 1;
    double with = -1, without = -1;
    for (int i = 0; i < 3; i++) {
        double a = runner_count_ns(c, ", \"gil\": {\"mode\": \"old\", \"check_interval\": 100}", n);
        double b = a < 0 ? -1 : runner_count_ns(c, "", n);
        if (b < 0)
            return c->err->status != STATUS_OK ? c->err->status : STATUS_INTERNAL;
        if (with < 0 || a < with)
            with = a;
        if (without < 0 || b < without)
            without = b;
    }
    double per = (with - without) / (double)(n / chunk);
    v[0] = per > 0 ? per : 0;
    return STATUS_OK;
}

/* The cost of one more op in a long loop: the slope of the runner's CPU
 * time between two loop lengths, both past the writes its event buffer
 * keeps, so neither the thread's start nor the recording of the first
 * thousands of events is in it. That is what an op costs in the loops where
 * op costs add up to something (a short run is set by its start-up and its
 * wake-ups instead). Returns -1 with c->err filled when a run fails. */
static double runner_op_slope(struct calib_ctx *c, const char *ops)
{
    int n1 = 20000, n2 = 20000 + 10000 * c->scale;
    double a = runner_op_ns(c, "", ops, n1, NULL, NULL);
    double b = a < 0 ? -1 : runner_op_ns(c, "", ops, n2, NULL, NULL);
    if (b < 0)
        return -1;
    double slope = (b * n2 - a * n1) / (n2 - n1);
    return slope > 0 ? slope : 0;
}

/* One thread of the contended-add measurement: the memory accesses of the
 * host runner's racy add (run_add): load the cell, spin the built-in
 * profile's add_ns, swap the sum in, count a lost update in a shared
 * counter. */
struct contender {
    int64_t *cell;
    _Atomic uint64_t *lost;
    _Atomic int *ready; /* the threads begin once all of them run */
    int want;           /* how many threads begin together */
    int cpu;
    int n;
    int64_t delta;
    int64_t spin; /* ns between the load and the swap */
    double ns;    /* CPU time per add */
};

static void *contend(void *arg)
{
    struct contender *k = arg;
    atomic_fetch_add(k->ready, 1);
    while (atomic_load(k->ready) < k->want)
        ;
    int64_t t0 = host_thread_cpu_ns();
    for (int i = 0; i < k->n; i++) {
        int64_t old = __atomic_load_n(k->cell, __ATOMIC_RELAXED);
        int64_t until = host_now_ns() + k->spin;
        while (host_now_ns() < until)
            ;
        if (__atomic_exchange_n(k->cell, old + k->delta, __ATOMIC_RELAXED) != old)
            atomic_fetch_add(k->lost, 1);
    }
    k->ns = (double)(host_thread_cpu_ns() - t0) / k->n;
    return NULL;
}

/* Runs k[0 .. n) (n <= 2) together, each thread created on its CPU (a
 * thread starts on its creator's, where the first one would keep it
 * waiting). Returns 0, or pthread_create's error (the threads made are let
 * go and joined). */
static int run_contenders(struct contender *k, int n)
{
    pthread_t t[2];
    int made = 0, rc = 0;
    while (made < n && rc == 0) {
        rc = start_pinned(&t[made], k[made].cpu, contend, &k[made]);
        made += rc == 0;
    }
    if (made < n)
        atomic_fetch_add(k[0].ready, n - made);
    for (int i = 0; i < made; i++)
        pthread_join(t[i], NULL);
    return rc;
}

/* What an add costs more while a thread on the other CPU adds to the same
 * variable (+1 and -1, as the lectures' counters): its cache line moves
 * between the CPUs at every read and write. Measured on two pinned threads
 * outside the runner: a run's threads cannot be pinned one by one, and this
 * host keeps two adders started together on one CPU for tens of
 * milliseconds, where they do not contend (the runner's pair measured 104-120
 * ns an add where two CPUs take 390). 0 where threads may not be pinned; -1
 * with errno set when one cannot be made. */
static double contended_extra(struct calib_ctx *c)
{
    struct {
        _Alignas(64) int64_t cell;
        _Alignas(64) _Atomic uint64_t lost;
        _Alignas(64) _Atomic int ready[2];
    } shared = {0};
    int n = 40000 * c->scale;
    /* the runner's add spins the scenario's add_ns: calibrate's own
     * scenarios have the built-in profile */
    struct profile builtin;
    profile_builtin(&builtin);
    struct contender alone = {&shared.cell, &shared.lost, &shared.ready[0], 1, c->cpu_a, n, 1, builtin.add_ns, 0};
    struct contender pair[2] = {
        {&shared.cell, &shared.lost, &shared.ready[1], 2, c->cpu_a, n, 1, builtin.add_ns, 0},
        {&shared.cell, &shared.lost, &shared.ready[1], 2, c->cpu_b, n, -1, builtin.add_ns, 0}};
    int rc = run_contenders(&alone, 1);
    if (rc == 0)
        rc = run_contenders(pair, 2);
    if (rc == EINVAL || rc == EPERM)
        return 0; /* not allowed to pin */
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    double extra = (pair[0].ns + pair[1].ns) / 2 - alone.ns;
    return extra > 0 ? extra : 0;
}

/* A racy add while a thread on the other CPU adds to the same variable: the
 * runner's own add (add_ns, which trial_runner measures before this trial in
 * measurements[]) plus what contention adds. On one CPU there is no such
 * cost: the uncontended figure. Measuring the runner's add again here made
 * the two figures disagree on a busy machine (the contended one once came
 * out under half the other, 2026-12-05, beside the sanitizer builds'
 * tests), where by definition it is no less. */
static enum status trial_contended(struct calib_ctx *c, double *v)
{
    double one = c->res->figures[CALIB_RUNNER_ADD].median;
    double extra = c->cpu_a != c->cpu_b ? contended_extra(c) : 0;
    if (extra < 0)
        return sys_fail(c, "pthread_create");
    v[0] = one + extra;
    return STATUS_OK;
}

/* Starting threads as the lectures do: a main thread makes 8 threads one
 * after the other, each waiting on an event until all are made, on as many
 * CPUs as calibrate uses (2 where it may); the runner runs this 3 times (6
 * in a full calibration) and the figures pool the starts of all runs (one
 * run's medians of 8 gave 111-231 us over seven quick calibrations, the
 * pooled 24 169-202 us over five). The new threads live side by
 * side and usually start on the other CPU, idle meanwhile (the runner has
 * warmed their stacks before time zero, as in any run): a start costs
 * several times what one-CPU loops of starts measured (15 us of the
 * creator's CPU and 68 us until the new thread ran, against 52-77 us and
 * 160-250 us here). v[0] is the creating thread's CPU time per start, from
 * the first op's start record to the last new thread's first run (it
 * blocks in each op until the new thread runs, so its later ops are not in
 * it; the first op's work before its record and the last one's after its
 * wake-up are left out, a few microseconds); v[1] the median time from an
 * op's start (the creator records it before pthread_create) to the new
 * thread running; v[2] the median length of a new thread's first running
 * stretch, which ends as its first op, the wait, blocks: its start-up in
 * the runner (the first touches of its stack's pages: 10-15 us here, where
 * a declared thread, whose stack is touched before time zero, takes 2-3 us
 * from its first run to its first op). The event is the process's own, as
 * the lectures' objects are: with a run-wide one (until 2026-12-05) the
 * first start of a run took 163 us against 324 us (medians of 12 runs;
 * the first new thread ran on its creator's CPU 12 times of 12, against 2
 * of 12), and the runs' medians 197 against 224 us (9 runs each). */
static enum status trial_thread_start(struct calib_ctx *c, double *v)
{
    enum { N = 8, MAX_RUNS = 6, MAX = N * MAX_RUNS };
    int runs = c->scale > 1 ? MAX_RUNS : 3;
    char json[4096];
    int len = snprintf(json, sizeof json,
                       "{\"machine\": {\"cpus\": %d},"
                       " \"functions\": {\"waiter\": {\"body\": [{\"op\": \"wait\", \"obj\": \"E\"}]}},"
                       " \"processes\": [{\"name\": \"main\", \"objects\": {\"E\": {\"type\": \"event\"}},"
                       " \"threads\": [{\"name\": \"MainThread\", \"program\": [",
                       lecture_cpus(c));
    for (int i = 0; i < N; i++)
        len += snprintf(json + len, sizeof json - (size_t)len,
                        "{\"op\": \"thread\", \"name\": \"w%d\", \"call\": \"waiter\"}, ", i);
    len += snprintf(json + len, sizeof json - (size_t)len, "{\"op\": \"set\", \"obj\": \"E\"}");
    for (int i = 0; i < N; i++)
        len += snprintf(json + len, sizeof json - (size_t)len, ", {\"op\": \"join\", \"thread\": \"w%d\"}", i);
    len += snprintf(json + len, sizeof json - (size_t)len, "]}]}]}");
    if (len >= (int)sizeof json)
        return error_set(c->err, STATUS_INTERNAL, NULL, "calibrate: the thread start scenario does not fit");
    double late[MAX], boot[MAX];
    int found = 0, booted = 0;
    int64_t making = 0;
    for (int run = 0; run < runs; run++) {
        struct trace *tr;
        struct task_metrics *m;
        enum status st = calib_host_trace(c, json, &tr, &m);
        if (st != STATUS_OK)
            return st;
        int64_t first, last;
        int got = calib_start_delays(tr, m, late + found, N, &first, &last);
        /* the creator's CPU while it makes threads: its running stretches
         * from the first start to the last new thread's first run; and each
         * new thread's first running stretch (the trace's segments are in
         * time order for each task) */
        for (size_t i = 0; i < tr->nsegments; i++) {
            const struct trace_segment *g = &tr->segments[i];
            if (g->task > 0 && g->task <= (uint32_t)N && g->state == TRACE_RUNNING &&
                g->start == m[g->task].first_run && booted < MAX)
                boot[booted++] = (double)(g->end - g->start);
            if (g->task != 0 || g->state != TRACE_RUNNING || g->end <= first || g->start >= last)
                continue;
            making += (g->end < last ? g->end : last) - (g->start > first ? g->start : first);
        }
        free(m);
        trace_destroy(tr);
        if (got != N)
            return error_set(c->err, STATUS_INTERNAL, NULL,
                             "calibrate: %d of %d new threads ran in the host runner's trace", got, N);
        found += got;
    }
    qsort(late, (size_t)found, sizeof *late, order_double);
    v[0] = (double)making / found;
    v[1] = late[found / 2];
    if (booted == 0)
        return error_set(c->err, STATUS_INTERNAL, NULL, "calibrate: no new thread's first run in the host runner's trace");
    qsort(boot, (size_t)booted, sizeof *boot, order_double);
    v[2] = boot[booted / 2];
    return STATUS_OK;
}

/* What the end of a thread costs its CPU after its last op (the C library
 * gives the stack's pages back, the kernel tears the thread down): on one
 * CPU, eight declared threads of one process each compute 100 us, so the
 * CPU goes from one to the next, and the time from a thread's exit record
 * to the next running stretch of any of them is that exit and a switch
 * (60-95 us here, 20-50 us of it glibc's madvise of the stack). On a loaded
 * machine other programs preempt them and they interleave, so each end is
 * paired with the next start of a running stretch, whichever thread's
 * (pairing it with the next thread's first run failed there). v[0] is the
 * median of those gaps. */
static enum status trial_thread_exit(struct calib_ctx *c, double *v)
{
    enum { N = 8, TRIES = 6 };
    char json[2048];
    int len = snprintf(json, sizeof json, "{\"machine\": {\"cpus\": 1}, \"processes\": [{\"name\": \"main\", \"threads\": [");
    for (int i = 0; i < N; i++)
        len += snprintf(json + len, sizeof json - (size_t)len,
                        "%s{\"name\": \"t%d\", \"program\": [{\"op\": \"compute\", \"for\": \"100us\"}]}",
                        i ? ", " : "", i);
    len += snprintf(json + len, sizeof json - (size_t)len, "]}]}");
    if (len >= (int)sizeof json)
        return error_set(c->err, STATUS_INTERNAL, NULL, "calibrate: the thread exit scenario does not fit");
    double gap[N * TRIES];
    int found = 0;
    /* the gaps of all runs so far count, and a few are enough when no run
     * gives more: the recorder sees a thread's own state changes, not the
     * host's preemptions, so where the host interleaves all eight (once 3
     * runs in a row, 2026-12-05, beside the sanitizer builds' tests) every
     * thread's first running stretch is before every exit */
    for (int attempt = 0; attempt < TRIES && found < N / 2; attempt++) {
        struct trace *tr;
        struct task_metrics *m;
        enum status st = calib_host_trace(c, json, &tr, &m);
        if (st != STATUS_OK)
            return st;
        int64_t *starts = xcalloc(tr->nsegments + 1, sizeof *starts);
        size_t nstarts = 0;
        for (size_t i = 0; i < tr->nsegments; i++)
            if (tr->segments[i].state == TRACE_RUNNING)
                starts[nstarts++] = tr->segments[i].start;
        qsort(starts, nstarts, sizeof *starts, order_int64);
        for (uint32_t t = 0; t < tr->ntasks && found < N * TRIES; t++) {
            size_t k = 0;
            while (m[t].finish >= 0 && k < nstarts && starts[k] < m[t].finish)
                k++;
            if (m[t].finish >= 0 && k < nstarts)
                gap[found++] = (double)(starts[k] - m[t].finish);
        }
        free(starts);
        free(m);
        trace_destroy(tr);
    }
    if (found == 0)
        return error_set(c->err, STATUS_INTERNAL, NULL,
                         "calibrate: in %d runs, none of %d threads on one CPU had another run after them (is the "
                         "host busy? calibrate again when it is quieter)",
                         TRIES, N);
    qsort(gap, (size_t)found, sizeof *gap, order_double);
    v[0] = gap[found / 2];
    return STATUS_OK;
}

/* What the end of a process costs a process waiting for its CPU: the end
 * of its last thread, of the process in the runner, and the kernel's
 * teardown of its address space (the runner's mappings), which the kernel
 * does not interrupt for a task that was already waiting. As in
 * 20_primes_processes, three declared processes of one thread compute 300,
 * 450 and 500 us (spun CPU time) on as many CPUs as calibrate uses (2 where
 * it may), so one of them waits for the first to end. Per run: the time
 * from the first end to the waiting one's first run, plus how much longer
 * than its CPU time that one then took (the rest of a teardown, or the
 * runner reaping, on its CPU). Here 0.3-0.6 ms, with runs of 1-1.8 ms when
 * the waiting process was queued behind the other busy CPU; v[0] is the
 * median of 11 runs (21 in a full run). */
static enum status trial_process_exit(struct calib_ctx *c, double *v)
{
    enum { MAX_RUNS = 21 };
    static const int work_us[3] = {300, 450, 500};
    int runs = c->scale > 1 ? MAX_RUNS : 11;
    char json[1024];
    int len = snprintf(json, sizeof json, "{\"machine\": {\"cpus\": %d}, \"processes\": [", lecture_cpus(c));
    for (int i = 0; i < 3; i++)
        len += snprintf(json + len, sizeof json - (size_t)len,
                        "%s{\"name\": \"p%d\", \"threads\": [{\"name\": \"MainThread\", \"program\": "
                        "[{\"op\": \"compute\", \"for\": \"%dus\"}]}]}",
                        i ? ", " : "", i, work_us[i]);
    len += snprintf(json + len, sizeof json - (size_t)len, "]}");
    if (len >= (int)sizeof json)
        return error_set(c->err, STATUS_INTERNAL, NULL, "calibrate: the process exit scenario does not fit");
    double cost[MAX_RUNS];
    int found = 0;
    /* where the host time-slices all three from the start (other programs
     * keep it busy), no run has one wait for another's end: up to three
     * times as many runs are made for the first one */
    for (int run = 0; run < runs || (found == 0 && run < 3 * runs); run++) {
        struct trace *tr;
        struct task_metrics *m;
        enum status st = calib_host_trace(c, json, &tr, &m);
        if (st != STATUS_OK)
            return st;
        int64_t first_end = INT64_MAX;
        uint32_t late = UINT32_MAX;
        for (uint32_t t = 0; t < tr->ntasks; t++)
            if (m[t].finish >= 0 && m[t].finish < first_end)
                first_end = m[t].finish;
        for (uint32_t t = 0; t < tr->ntasks && t < 3; t++)
            if (m[t].first_run >= first_end && m[t].finish >= 0 &&
                (late == UINT32_MAX || m[t].first_run < m[late].first_run))
                late = t;
        if (late != UINT32_MAX) {
            int64_t stretch = m[late].finish - m[late].first_run - work_us[late] * (int64_t)1000;
            cost[found++] = (double)(m[late].first_run - first_end + (stretch > 0 ? stretch : 0));
        }
        free(m);
        trace_destroy(tr);
    }
    if (found == 0)
        return error_set(c->err, STATUS_INTERNAL, NULL,
                         "calibrate: in %d runs of three processes, none waited for another's end (is the "
                         "host busy? calibrate again when it is quieter)",
                         3 * runs);
    qsort(cost, (size_t)found, sizeof *cost, order_double);
    v[0] = cost[found / 2];
    return STATUS_OK;
}

static enum status trial_runner(struct calib_ctx *c, double *v)
{
    /* the start-up of a run that only adds */
    double start_run = runner_op_ns(c, "", "{\"op\": \"add\", \"var\": \"x\", \"value\": 1}", 100, &v[3], NULL);
    v[0] = runner_op_slope(c, "{\"op\": \"add\", \"var\": \"x\", \"value\": 1}");
    double pair = runner_op_slope(c, "{\"op\": \"acquire\", \"obj\": \"L\"}, {\"op\": \"release\", \"obj\": \"L\"}");
    double five = runner_op_slope(c, "{\"op\": \"compute\", \"for\": \"5ns\"}");
    v[6] = five > 5 ? five - 5 : 0;
    /* a child process of the runner: the parent's CPU in the `process` op,
     * and its wait in `join` for a child that does nothing, which is the
     * child's start-up (fork, joining the run, its first thread) and exit */
    v[4] = runner_op_ns(c, "\"noop\": {\"body\": []}",
                        "{\"op\": \"process\", \"name\": \"p\", \"call\": \"noop\"}, "
                        "{\"op\": \"join\", \"process\": \"p\"}",
                        c->scale > 1 ? 4 : 2, NULL, &v[5]);
    if (v[4] < 0 || start_run < 0 || v[0] < 0 || pair < 0 || five < 0)
        return c->err->status != STATUS_OK ? c->err->status : STATUS_INTERNAL;
    /* the child's figure runs from the op's start, as the simulator starts
     * the child's start-up there, beside its parent's: the join's wait
     * alone left the parent's fork out of every fork and join (a
     * simulation of this loop was short by fork_parent_ns a round, and the
     * lectures' one-fork scenarios 25-40 %) */
    v[5] += v[4];
    /* the two calls cost about the same (as the pthread figures show) */
    v[1] = pair / 2;
    v[2] = pair / 2;
    return STATUS_OK;
}

static const struct calib_measurement measurements[] = {
    {trial_count, CALIB_COUNT_NS_PER_ITER, 1},
    {trial_primes, CALIB_PRIMES_NS_PER_DIVISION, 2},
    {trial_spin, CALIB_SPIN_NS_PER_NS, 1},
    {trial_chunk, CALIB_CHUNK_NS, 1},
    {trial_thread, CALIB_THREAD_START, 2},
    {trial_fork, CALIB_FORK_PARENT, 2},
    {trial_spawn, CALIB_SPAWN_PARENT, 3},
    {trial_forkserver, CALIB_FORKSERVER_PARENT, 2},
    {trial_switch, CALIB_CONTEXT_SWITCH, 2},
    {trial_handoff, CALIB_MUTEX_HANDOFF, 2},
    {trial_pipe, CALIB_PIPE_OP, 3},
    {trial_copy, CALIB_COPY_NS_PER_BYTE, 1},
    {trial_queue, CALIB_QUEUE_OP, 1},
    {trial_mutex, CALIB_ACQUIRE, 2},
    {trial_runner, CALIB_RUNNER_ADD, 7},
    {trial_timer, CALIB_TIMER_LATENCY, 1},
    {trial_contended, CALIB_ADD_CONTENDED, 1},
    {trial_thread_start, CALIB_RUNNER_THREAD_START, 3},
    {trial_wake, CALIB_WAKE, 4},
    {trial_futex_race, CALIB_FUTEX_RACE, 1},
    {trial_idle_wake, CALIB_IDLE_WAKE, 3},
    {trial_thread_exit, CALIB_THREAD_EXIT, 1},
    {trial_process_exit, CALIB_PROCESS_EXIT, 1},
    {trial_gil_check, CALIB_GIL_CHECK, 1},
};

/* CPU time spun before the first trial */
#define CALIB_WARM_UP_NS 20000000

/* Two CPUs this process may run on (the same one twice when it has one). */
static uint32_t pick_cpus(int *a, int *b)
{
    cpu_set_t set;
    *a = *b = -1;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (!CPU_ISSET(i, &set))
            continue;
        if (*a < 0)
            *a = i;
        else if (*b < 0)
            *b = i;
    }
    if (*b < 0)
        *b = *a;
    return (uint32_t)CPU_COUNT(&set);
}

enum status calibrate_run(const struct calib_options *opts, struct calib_result *res, struct error *err)
{
    memset(res, 0, sizeof *res);
    struct calib_ctx c = {.opts = opts, .scale = opts->quick ? 1 : 4, .res = res, .err = err};
    res->cpus = pick_cpus(&c.cpu_a, &c.cpu_b);
    res->pinned = c.cpu_a >= 0;
    if (gethostname(res->host, sizeof res->host) != 0)
        snprintf(res->host, sizeof res->host, "host");
    res->host[sizeof res->host - 1] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(res->date, sizeof res->date, "%Y-%m-%dT%H:%M:%SZ", &tm);

    uint32_t trials = opts->trials ? opts->trials : opts->quick ? 3 : 11;
    double *vals = xcalloc((size_t)trials * 8, sizeof *vals);
    /* a CPU that was idle runs the first milliseconds of work up to a third
     * slower here (its host wakes it from a sleep state): the kernels' first
     * trials would measure that */
    host_spin(CALIB_WARM_UP_NS);
    for (size_t m = 0; m < sizeof measurements / sizeof measurements[0]; m++) {
        const struct calib_measurement *ms = &measurements[m];
        bool needs_exe = ms->trial == trial_spawn;
        if (needs_exe && !opts->self_exe)
            continue;
        for (uint32_t t = 0; t < trials; t++) {
            double v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            enum status st = ms->trial(&c, v);
            if (st != STATUS_OK) {
                free(vals);
                return st;
            }
            for (int f = 0; f < ms->nfigures; f++)
                vals[(size_t)f * trials + t] = v[f];
        }
        for (int f = 0; f < ms->nfigures; f++) {
            double *fv = &vals[(size_t)f * trials];
            qsort(fv, trials, sizeof *fv, order_double);
            struct calib_figure *fig = &res->figures[ms->first + f];
            fig->measured = true;
            fig->trials = trials;
            fig->min = fv[0];
            fig->max = fv[trials - 1];
            fig->median = trials % 2 ? fv[trials / 2] : (fv[trials / 2 - 1] + fv[trials / 2]) / 2;
        }
    }
    free(vals);
    return STATUS_OK;
}

/* Where each profile figure goes in struct profile: a double or an int64. */
struct profile_slot {
    enum calib_figure_id id;
    size_t offset;
    bool real;
    const char *key; /* its profile key when not the figure's own */
};

#define SLOT_REAL(id, field) {id, offsetof(struct profile, field), true, NULL}
#define SLOT_NS(id, field) {id, offsetof(struct profile, field), false, NULL}

static const struct profile_slot slots[] = {
    SLOT_REAL(CALIB_COUNT_NS_PER_ITER, count_ns_per_iter),
    SLOT_REAL(CALIB_PRIMES_NS_PER_DIVISION, primes_ns_per_division),
    SLOT_REAL(CALIB_PRIMES_NS_PER_NUMBER, primes_ns_per_number),
    SLOT_REAL(CALIB_SPIN_NS_PER_NS, spin_ns_per_ns),
    SLOT_NS(CALIB_RUNNER_THREAD_START, thread_start_ns),
    SLOT_NS(CALIB_RUNNER_ADD, add_ns),
    SLOT_NS(CALIB_RUNNER_FORK_PARENT, fork_parent_ns),
    SLOT_NS(CALIB_RUNNER_FORK_CHILD, fork_child_ns),
    SLOT_NS(CALIB_SPAWN_PARENT, spawn_parent_ns),
    SLOT_NS(CALIB_SPAWN_CHILD, spawn_child_ns),
    SLOT_NS(CALIB_FORKSERVER_START, forkserver_start_ns),
    SLOT_NS(CALIB_FORKSERVER_PARENT, forkserver_parent_ns),
    SLOT_NS(CALIB_FORKSERVER_CHILD, forkserver_child_ns),
    SLOT_NS(CALIB_CONTEXT_SWITCH, context_switch_ns),
    SLOT_NS(CALIB_PROCESS_SWITCH, process_switch_ns),
    SLOT_NS(CALIB_WAKE_LATENCY, wakeup_latency_ns),
    SLOT_NS(CALIB_WAKE, wake_ns),
    SLOT_NS(CALIB_WAKE_EARLY, wake_early_ns),
    SLOT_NS(CALIB_WAKE_SETTLE, wake_settle_ns),
    SLOT_NS(CALIB_FUTEX_RACE, futex_race_ns),
    SLOT_NS(CALIB_IDLE_WAKE, idle_wake_ns),
    SLOT_NS(CALIB_IDLE_POLL, idle_poll_ns),
    SLOT_NS(CALIB_IDLE_KICK, idle_kick_ns),
    SLOT_NS(CALIB_PIPE_OP, pipe_op_ns),
    SLOT_REAL(CALIB_PIPE_NS_PER_BYTE, pipe_ns_per_byte),
    SLOT_NS(CALIB_PIPE_LATENCY, mp_queue_latency_ns),
    SLOT_REAL(CALIB_COPY_NS_PER_BYTE, pickle_ns_per_byte),
    SLOT_NS(CALIB_QUEUE_OP, queue_op_ns),
    SLOT_NS(CALIB_RUNNER_ACQUIRE, acquire_ns),
    SLOT_NS(CALIB_RUNNER_RELEASE, release_ns),
    SLOT_NS(CALIB_TIMER_LATENCY, timer_latency_ns),
    SLOT_NS(CALIB_ADD_CONTENDED, add_contended_ns),
    SLOT_NS(CALIB_THREAD_LATENCY, thread_start_latency_ns),
    SLOT_NS(CALIB_THREAD_BOOT, thread_boot_ns),
    SLOT_NS(CALIB_THREAD_EXIT, thread_exit_ns),
    SLOT_NS(CALIB_PROCESS_EXIT, process_exit_ns),
    SLOT_NS(CALIB_RUNNER_COMPUTE, compute_op_ns),
    SLOT_NS(CALIB_GIL_CHECK, gil_check_ns),
    /* the old GIL's release at a check point that a thread waits at is the
     * same release (a condition variable signal that finds no sleeper costs
     * no more), and waking a thread asleep on the GIL is the runner's wake
     * of a sleeping thread */
    {CALIB_GIL_CHECK, offsetof(struct profile, gil_signal_ns), false, "gil_signal_ns"},
    {CALIB_WAKE, offsetof(struct profile, gil_wake_ns), false, "gil_wake_ns"},
    /* the raw runner_start_ns is when a declared process's first thread runs */
    {CALIB_RUNNER_START, offsetof(struct profile, process_start_ns), false, "process_start_ns"},
};

static const char *slot_key(const struct profile_slot *s)
{
    return s->key ? s->key : infos[s->id].key;
}

/* A value no profile key takes (the loader rejects negative figures), to
 * see which fields a file left alone. */
#define PROFILE_UNSET (-1)

int calibrate_profile_missing(const char *path, const char **missing, int max, struct error *err)
{
    struct profile p;
    profile_builtin(&p);
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        char *field = (char *)&p + slots[i].offset;
        if (slots[i].real)
            *(double *)(void *)field = PROFILE_UNSET;
        else
            *(int64_t *)(void *)field = PROFILE_UNSET;
    }
    if (profile_load_file(&p, path, err) != STATUS_OK)
        return -1;
    int n = 0;
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        const char *field = (const char *)&p + slots[i].offset;
        bool unset = slots[i].real ? *(const double *)(const void *)field == PROFILE_UNSET
                                   : *(const int64_t *)(const void *)field == PROFILE_UNSET;
        if (!unset)
            continue;
        if (n < max)
            missing[n] = slot_key(&slots[i]);
        n++;
    }
    return n;
}

void calibrate_apply(const struct calib_result *res, struct profile *p)
{
    snprintf(p->name, sizeof p->name, "%.30s %s", res->host, res->date);
    /* not measured: a pthread mutex on Linux (glibc) is not handed over on
     * unlock; the unlocker only wakes a waiter, and whoever calls lock first
     * takes it, which is what the host runner's locks are */
    p->lock_handoff = LOCK_HANDOFF_BARGING;
    /* the runner's thread and start ops wait for the new thread to run, as
     * Python's Thread.start() does */
    p->thread_start_wait = true;
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        const struct calib_figure *f = &res->figures[slots[i].id];
        if (!f->measured)
            continue;
        char *field = (char *)p + slots[i].offset;
        if (slots[i].real) {
            double v = f->median > 0 ? f->median : 1e-6; /* the loader wants these positive */
            memcpy(field, &v, sizeof v);
        } else {
            int64_t v = (int64_t)(f->median + 0.5);
            memcpy(field, &v, sizeof v);
        }
    }
    /* fork_child_ns is measured as a whole round of `process` and `join`,
     * the child's teardown in it; the simulator puts process_exit_ns at the
     * child's end, so the start-up is the rest */
    if (res->figures[CALIB_RUNNER_FORK_CHILD].measured && res->figures[CALIB_PROCESS_EXIT].measured)
        p->fork_child_ns = p->fork_child_ns > p->process_exit_ns ? p->fork_child_ns - p->process_exit_ns : 0;
}

enum status calibrate_write_profile(const struct calib_result *res, FILE *out, struct error *err)
{
    struct profile p;
    profile_builtin(&p);
    calibrate_apply(res, &p);
    /* host names are letters, digits, dots and dashes: no JSON escaping needed */
    fprintf(out, "{\n  \"name\": \"%s\"", p.name);
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        if (!res->figures[slots[i].id].measured)
            continue;
        const char *field = (const char *)&p + slots[i].offset;
        fprintf(out, ",\n  \"%s\": ", slot_key(&slots[i]));
        if (slots[i].real) {
            double v;
            memcpy(&v, field, sizeof v);
            fprintf(out, "%.6g", v);
        } else {
            int64_t v;
            memcpy(&v, field, sizeof v);
            fprintf(out, "%" PRId64, v);
        }
    }
    fprintf(out, ",\n  \"lock_handoff\": \"%s\"", p.lock_handoff == LOCK_HANDOFF_BARGING ? "barging" : "fifo");
    fprintf(out, ",\n  \"thread_start_wait\": %s", p.thread_start_wait ? "true" : "false");
    fprintf(out, ",\n  \"x-calibration\": {\n    \"host\": \"%s\", \"date\": \"%s\", \"cpus\": %" PRIu32
                 ",\n    \"figures\": {",
            res->host, res->date, res->cpus);
    bool first = true;
    for (int i = 0; i < CALIB_FIGURE_COUNT; i++) {
        const struct calib_figure *f = &res->figures[i];
        if (!f->measured)
            continue;
        fprintf(out, "%s\n      \"%s\": {\"median\": %.6g, \"min\": %.6g, \"max\": %.6g, \"unit\": \"%s\", "
                     "\"trials\": %" PRIu32 "}",
                first ? "" : ",", infos[i].key, f->median, f->min, f->max, infos[i].unit, f->trials);
        first = false;
    }
    fputs("\n    }\n  }\n}\n", out);
    if (ferror(out))
        return error_set(err, STATUS_INTERNAL, NULL, "cannot write the profile");
    return STATUS_OK;
}
