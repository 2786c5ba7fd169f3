/* Shared by the host runner's tests: run a scenario given as JSON text for
 * real, and look at what a user would: final memory, metrics, the trace, the
 * processes left behind. */
#ifndef THREADSIM_TESTS_HOST_RUN_H
#define THREADSIM_TESTS_HOST_RUN_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/runner.h"
#include "sim/scenario.h"
#include "sim/trace_metrics.h"

struct hrun_result {
    struct scenario *sc;
    struct host_result res;
    enum status status;
    struct error err;
    struct task_metrics *m; /* per task of res.trace */
    int64_t makespan;
};

static inline struct hrun_result *hrun_json_opt(const char *json, const struct host_options *opt)
{
    struct hrun_result *r = calloc(1, sizeof *r);
    struct error err;
    r->sc = scenario_load_buffer(json, strlen(json), "test.json", &err);
    if (!r->sc)
        fail_msg("scenario did not load: %s: %s", err.path, err.msg);
    /* spawned processes are new images of threadsim that load it again */
    struct host_options o = *opt;
    o.source_text = json;
    o.source_len = strlen(json);
    o.source_origin = "test.json";
#ifdef THREADSIM_BINARY
    if (!o.self_exe)
        o.self_exe = THREADSIM_BINARY;
#endif
    r->status = host_run_result(r->sc, &o, &r->res, &r->err);
    if (r->res.trace) {
        r->m = calloc(r->res.trace->ntasks + 1, sizeof *r->m);
        r->makespan = trace_metrics_compute(r->res.trace, r->m);
    }
    return r;
}

static inline struct hrun_result *hrun_json(const char *json)
{
    struct host_options opt;
    host_options_init(&opt);
    opt.timeout_ns = 20LL * 1000000000;
    return hrun_json_opt(json, &opt);
}

static inline void hrun_free(struct hrun_result *r)
{
    host_result_deinit(&r->res);
    scenario_destroy(r->sc);
    free(r->m);
    free(r);
}

/* Final value of element index of the variable named name. */
static inline int64_t hrun_var(const struct hrun_result *r, const char *name, uint32_t index)
{
    for (uint32_t v = 0; v < r->sc->nvars; v++)
        if (strcmp(r->sc->vars[v].name, name) == 0) {
            const int64_t *x = host_result_var(&r->res, r->sc, UINT32_MAX, v);
            if (!x)
                x = host_result_var(&r->res, r->sc, (uint32_t)r->sc->vars[v].process, v);
            return x[index];
        }
    fail_msg("no variable %s", name);
    return 0;
}

/* The task named name in the trace. */
static inline uint32_t hrun_task(const struct hrun_result *r, const char *name)
{
    for (uint32_t t = 0; t < r->res.trace->ntasks; t++)
        if (strcmp(r->res.trace->tasks[t].name, name) == 0)
            return t;
    fail_msg("no task %s", name);
    return 0;
}

/* Processes whose parent is this one (from /proc), to check nothing is left. */
static inline int hrun_children(void)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    long self = (long)getpid();
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        /* pid (comm) state ppid: comm may hold spaces, so parse after ')' */
        char *p = strrchr(buf, ')');
        char state;
        long ppid;
        if (p && sscanf(p + 1, " %c %ld", &state, &ppid) == 2 && ppid == self)
            n++;
    }
    closedir(d);
    return n;
}

/* Processes running this program (same command name) in this session, this
 * one included: catches grandchildren too, which are not this process's
 * children, but not another run of the same test elsewhere on the machine
 * (processes of a run keep the session of the test). */
static inline int hrun_same_program(void)
{
    char self[64] = "", path[300], buf[512];
    FILE *f = fopen("/proc/self/comm", "r");
    if (!f)
        return -1;
    if (!fgets(self, sizeof self, f))
        self[0] = '\0';
    fclose(f);
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
        FILE *c = fopen(path, "r");
        if (!c)
            continue;
        if (fgets(buf, sizeof buf, c) && strcmp(buf, self) == 0) {
            /* a zombie waiting for init to reap it does not count */
            char st[300], sb[512];
            snprintf(st, sizeof st, "/proc/%s/stat", e->d_name);
            FILE *s2 = fopen(st, "r");
            size_t len = s2 ? fread(sb, 1, sizeof sb - 1, s2) : 0;
            if (s2)
                fclose(s2);
            sb[len] = '\0';
            char *q = strrchr(sb, ')');
            char state = 0;
            long ppid = 0, pgrp = 0, session = -1;
            if (q && sscanf(q + 1, " %c %ld %ld %ld", &state, &ppid, &pgrp, &session) == 4 && state != 'Z' &&
                session == (long)getsid(0))
                n++;
        }
        fclose(c);
    }
    if (d)
        closedir(d);
    return n;
}

#endif
