/* Report writers: text (title, printed lines, metrics table, summary, Gantt),
 * JSON (the contract of `run --format json`) and CSV. */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xalloc.h"

#define GANTT_WIDTH 64
#define GANTT_TICKS 4
#define VALUE_DECIMALS 3   /* in the text report: "0.005 ms" */
#define AVERAGE_DECIMALS 2 /* averages and axis labels: "5.67 ms" */

/* The per-thread columns, in table order. Durations are in ns, -1 = none. */
enum col {
    COL_PROCESS = 0,
    COL_THREAD,
    COL_ARRIVAL,
    COL_RESPONSE,
    COL_TURNAROUND,
    COL_WAIT,
    COL_CPU,
    COL_BLOCKED,
    COL_GIL_WAIT,
    COL_SWITCHES,
    COL_COUNT
};

static const char *const col_titles[COL_COUNT] = {
    "process", "thread", "arrival", "response", "turnaround",
    "wait", "CPU", "blocked", "GIL wait", "switches"
};

struct unit {
    const char *name;
    int64_t ns;
};

static const struct unit units[] = {
    { "s", 1000000000 },
    { "ms", 1000000 },
    { "us", 1000 },
    { "ns", 1 },
};

/* The metrics of one thread as table values. */
static void thread_values(const struct engine *eng, uint32_t task, int64_t v[COL_COUNT])
{
    const struct task_metrics *m = engine_task_metrics(eng, task);
    bool arrived = m->arrival >= 0;
    v[COL_PROCESS] = v[COL_THREAD] = -1;
    v[COL_ARRIVAL] = m->arrival;
    v[COL_RESPONSE] = arrived && m->first_run >= 0 ? m->first_run - m->arrival : -1;
    v[COL_TURNAROUND] = arrived && m->finish >= 0 ? m->finish - m->arrival : -1;
    v[COL_WAIT] = m->wait;
    v[COL_CPU] = m->cpu;
    v[COL_BLOCKED] = m->blocked;
    v[COL_GIL_WAIT] = m->gil_wait;
    v[COL_SWITCHES] = (int64_t)m->context_switches;
}

bool report_format_parse(const char *name, enum report_format *out)
{
    static const char *const names[] = { "text", "json", "csv" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum report_format)i;
            return true;
        }
    }
    return false;
}

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
static size_t utf8_sequence(const unsigned char *p)
{
    size_t len;
    uint32_t cp;
    if (p[0] < 0xc2 || p[0] > 0xf4)
        return 0;
    len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
    cp = p[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Writes s as a JSON string. Bytes that are not valid UTF-8 become U+FFFD so
 * the output always parses. */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', out);
            fputc(*p++, out);
        } else if (*p < 0x20) {
            static const char short_escapes[] = "\b\f\n\r\t";
            static const char short_names[] = "bfnrt";
            const char *e = strchr(short_escapes, *p);
            if (e)
                fprintf(out, "\\%c", short_names[e - short_escapes]);
            else
                fprintf(out, "\\u%04x", *p);
            p++;
        } else if (*p < 0x80) {
            fputc(*p++, out);
        } else {
            size_t len = utf8_sequence(p);
            if (len) {
                fwrite(p, 1, len, out);
                p += len;
            } else {
                fputs("\\ufffd", out);
                p++;
            }
        }
    }
    fputc('"', out);
}

static void json_time(FILE *out, const char *key, int64_t v)
{
    if (v < 0)
        fprintf(out, "\"%s\": null", key);
    else
        fprintf(out, "\"%s\": %" PRId64, key, v);
}

/* One variable's final value in process p (UINT32_MAX: the shared memory):
 * an integer, or an array written as [a, b]. */
static void write_var_value(FILE *out, const struct report_run *run, uint32_t p, uint32_t var)
{
    const struct var_decl *v = &run->sc->vars[var];
    int64_t x = 0;
    uint32_t n = v->length ? v->length : 1;
    if (v->length)
        fputc('[', out);
    for (uint32_t i = 0; i < n; i++) {
        if (p == UINT32_MAX)
            engine_var_value(run->eng, var, i, &x);
        else
            engine_process_var(run->eng, p, var, i, &x);
        fprintf(out, "%s%" PRId64, i ? ", " : "", x);
    }
    if (v->length)
        fputc(']', out);
}

/* Whether variable var lives in process p's private memory (UINT32_MAX: shared). */
static bool var_in(const struct report_run *run, uint32_t p, uint32_t var)
{
    int32_t owner = run->sc->vars[var].process;
    if (p == UINT32_MAX)
        return owner < 0;
    return owner >= 0 && (uint32_t)owner == engine_process_template(run->eng, p);
}

/* The final memory of process p (UINT32_MAX: the shared memory) as a JSON object. */
static void json_memory(FILE *out, const struct report_run *run, uint32_t p)
{
    bool first = true;
    fputc('{', out);
    for (uint32_t i = 0; i < run->sc->nvars; i++) {
        if (!var_in(run, p, i))
            continue;
        fputs(first ? "" : ", ", out);
        first = false;
        json_string(out, run->sc->vars[i].name);
        fputs(": ", out);
        write_var_value(out, run, p, i);
    }
    fputc('}', out);
}

static void write_json(FILE *out, const struct report_run *run)
{
    const struct engine_stats *st = engine_stats(run->eng);
    uint32_t n = engine_task_count(run->eng);

    fputs("{\n  \"scenario\": ", out);
    json_string(out, run->sc->name);
    fputs(",\n  \"policy\": ", out);
    json_string(out, run->policy);
    fprintf(out, ",\n  \"cpus\": %" PRIu32 ",\n  \"seed\": %" PRIu64
            ",\n  \"makespan_ns\": %" PRId64 ",\n  \"threads\": [",
            run->sc->machine.cpus, run->sc->seed, st->makespan);
    for (uint32_t t = 0; t < n; t++) {
        const struct task_metrics *m = engine_task_metrics(run->eng, t);
        int64_t v[COL_COUNT];
        thread_values(run->eng, t, v);
        fputs(t ? ",\n    {\"process\": " : "\n    {\"process\": ", out);
        json_string(out, engine_task_process(run->eng, t));
        fputs(", \"name\": ", out);
        json_string(out, engine_task_name(run->eng, t));
        fputs(", ", out);
        json_time(out, "arrival_ns", m->arrival);
        fputs(", ", out);
        json_time(out, "first_run_ns", m->first_run);
        fputs(", ", out);
        json_time(out, "finish_ns", m->finish);
        fputs(", ", out);
        json_time(out, "response_ns", v[COL_RESPONSE]);
        fputs(", ", out);
        json_time(out, "turnaround_ns", v[COL_TURNAROUND]);
        fprintf(out, ", \"wait_ns\": %" PRId64 ", \"cpu_ns\": %" PRId64
                ", \"blocked_ns\": %" PRId64 ", \"gil_wait_ns\": %" PRId64
                ", \"context_switches\": %" PRIu64 "}",
                m->wait, m->cpu, m->blocked, m->gil_wait, m->context_switches);
    }
    fputs(n ? "\n  ],\n  \"memory\": {" : "],\n  \"memory\": {", out);
    for (uint32_t p = 0; p < engine_process_count(run->eng); p++) {
        fputs(p ? ", " : "", out);
        json_string(out, engine_process_name(run->eng, p));
        fputs(": ", out);
        json_memory(out, run, p);
    }
    fputs("},\n  \"shared\": ", out);
    json_memory(out, run, UINT32_MAX);
    fprintf(out, ",\n  \"stats\": {\"events\": %" PRIu64
            ", \"context_switches\": %" PRIu64 ", \"gil_switches\": %" PRIu64
            ", \"lost_updates\": %" PRIu64 ", \"deadlock\": ",
            st->events, st->context_switches + st->process_switches,
            st->gil_switches, st->lost_updates);
    if (run->deadlock)
        json_string(out, run->deadlock);
    else
        fputs("null", out);
    /* an extension, only when some process has a GIL (so runs without one
     * keep exactly the contracted shape): each GIL's statistics */
    bool any = false;
    for (uint32_t p = 0; p < engine_process_count(run->eng); p++) {
        struct engine_gil_stats g;
        if (engine_process_gil(run->eng, p, &g) == GIL_NONE)
            continue;
        fputs(any ? ", " : ", \"gil\": {", out);
        any = true;
        json_string(out, engine_process_name(run->eng, p));
        fprintf(out, ": {\"switches\": %" PRIu64 ", \"drop_requests\": %" PRIu64 ", \"forced_switches\": %" PRIu64
                     ", \"failed_wakeups\": %" PRIu64,
                g.switches, g.drop_requests, g.forced_switches, g.failed_wakeups);
        if (engine_process_gil(run->eng, p, NULL) == GIL_OLD)
            fprintf(out, ", \"mode\": \"old\", \"check_releases\": %" PRIu64, g.check_releases);
        fputc('}', out);
    }
    if (any)
        fputc('}', out);
    /* an extension, only when the run had any: races for barging locks */
    if (st->lock_races)
        fprintf(out, ", \"lock_races\": {\"total\": %" PRIu64 ", \"close\": %" PRIu64 ", \"window_ns\": %" PRId64 "}",
                st->lock_races, st->lock_close_races, run->sc->profile.futex_race_ns);
    fputs("}\n}\n", out);
}

/* Writes a CSV field, quoted when it holds a separator, quote or newline. */
static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void csv_time(FILE *out, int64_t v)
{
    fputc(',', out);
    if (v >= 0)
        fprintf(out, "%" PRId64, v);
}

static void write_csv(FILE *out, const struct report_run *run)
{
    uint32_t n = engine_task_count(run->eng);
    fputs("process,name,arrival_ns,first_run_ns,finish_ns,response_ns,turnaround_ns,"
          "wait_ns,cpu_ns,blocked_ns,gil_wait_ns,context_switches\n", out);
    for (uint32_t t = 0; t < n; t++) {
        const struct task_metrics *m = engine_task_metrics(run->eng, t);
        int64_t v[COL_COUNT];
        thread_values(run->eng, t, v);
        csv_field(out, engine_task_process(run->eng, t));
        fputc(',', out);
        csv_field(out, engine_task_name(run->eng, t));
        csv_time(out, m->arrival);
        csv_time(out, m->first_run);
        csv_time(out, m->finish);
        csv_time(out, v[COL_RESPONSE]);
        csv_time(out, v[COL_TURNAROUND]);
        fprintf(out, ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRIu64 "\n",
                m->wait, m->cpu, m->blocked, m->gil_wait, m->context_switches);
    }
}

/* The largest unit in which the longest time of the run is at least 1, so
 * the table reads "24 ms" rather than "24000000 ns". */
static const struct unit *pick_unit(const struct engine *eng)
{
    int64_t max = engine_stats(eng)->makespan;
    uint32_t n = engine_task_count(eng);
    for (uint32_t t = 0; t < n; t++) {
        int64_t v[COL_COUNT];
        thread_values(eng, t, v);
        for (int c = COL_ARRIVAL; c < COL_SWITCHES; c++)
            if (v[c] > max)
                max = v[c];
    }
    for (size_t i = 0; i + 1 < sizeof units / sizeof units[0]; i++)
        if (max >= units[i].ns)
            return &units[i];
    return &units[sizeof units / sizeof units[0] - 1];
}

/* Rounded to `decimals` places without trailing zeros: "5.67", "17". */
static void fmt_rounded(char *buf, size_t size, long double value, int decimals)
{
    snprintf(buf, size, "%.*Lf", decimals, value);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf);
        while (end > dot + 1 && end[-1] == '0')
            *--end = '\0';
        if (end == dot + 1)
            *dot = '\0';
    }
}

/* A duration in unit u: "24 ms", "5.67 ms". Values are rounded for reading;
 * the JSON and CSV outputs are exact. */
static void fmt_duration(char *buf, size_t size, long double ns, const struct unit *u,
                         int decimals)
{
    char num[40];
    fmt_rounded(num, sizeof num, ns / (long double)u->ns, decimals);
    snprintf(buf, size, "%s %s", num, u->name);
}

/* Threads are named "process/thread" when there is more than one process. */
static void thread_label(char *buf, size_t size, const struct report_run *run, uint32_t task)
{
    if (engine_process_count(run->eng) > 1)
        snprintf(buf, size, "%s/%s", engine_task_process(run->eng, task),
                 engine_task_name(run->eng, task));
    else
        snprintf(buf, size, "%s", engine_task_name(run->eng, task));
}

struct table {
    const struct report_run *run;
    const struct unit *unit;
    bool show[COL_COUNT];
    int width[COL_COUNT];
    long double sum[COL_COUNT];
    uint32_t count[COL_COUNT];
};

/* The text of cell (task, col); task == UINT32_MAX is the average row. */
static void table_cell(char *buf, size_t size, const struct table *tb, uint32_t task, int col)
{
    const struct engine *eng = tb->run->eng;
    if (task == UINT32_MAX) {
        if (col == COL_PROCESS)
            snprintf(buf, size, "average");
        else if (col == COL_THREAD || col == COL_ARRIVAL || tb->count[col] == 0)
            buf[0] = '\0';
        else if (col == COL_SWITCHES)
            fmt_rounded(buf, size, tb->sum[col] / tb->count[col], AVERAGE_DECIMALS);
        else
            fmt_duration(buf, size, tb->sum[col] / tb->count[col], tb->unit, AVERAGE_DECIMALS);
        return;
    }
    if (col == COL_PROCESS) {
        snprintf(buf, size, "%s", engine_task_process(eng, task));
        return;
    }
    if (col == COL_THREAD) {
        snprintf(buf, size, "%s", engine_task_name(eng, task));
        return;
    }
    int64_t v[COL_COUNT];
    thread_values(eng, task, v);
    if (v[col] < 0)
        snprintf(buf, size, "-");
    else if (col == COL_SWITCHES)
        snprintf(buf, size, "%" PRId64, v[col]);
    else
        fmt_duration(buf, size, (long double)v[col], tb->unit, VALUE_DECIMALS);
}

static void table_row(FILE *out, const struct table *tb, uint32_t task)
{
    char cell[128];
    for (int c = 0; c < COL_COUNT; c++) {
        if (!tb->show[c])
            continue;
        table_cell(cell, sizeof cell, tb, task, c);
        if (c <= COL_THREAD)
            fprintf(out, "%s%-*s", c ? "  " : "", tb->width[c], cell);
        else
            fprintf(out, "  %*s", tb->width[c], cell);
    }
    fputc('\n', out);
}

/* The metrics table: widths are measured in a first pass so that no cell
 * text is kept in memory, whatever the number of threads. */
static void write_table(FILE *out, const struct report_run *run, const struct unit *unit)
{
    struct table tb;
    uint32_t n = engine_task_count(run->eng);
    char cell[128];

    memset(&tb, 0, sizeof tb);
    tb.run = run;
    tb.unit = unit;
    for (int c = 0; c < COL_COUNT; c++) {
        tb.show[c] = c != COL_GIL_WAIT;
        tb.width[c] = (int)strlen(col_titles[c]);
    }
    for (uint32_t t = 0; t < n; t++) {
        int64_t v[COL_COUNT];
        thread_values(run->eng, t, v);
        for (int c = COL_ARRIVAL; c < COL_COUNT; c++) {
            if (v[c] >= 0) {
                tb.sum[c] += (long double)v[c];
                tb.count[c]++;
            }
        }
        if (v[COL_GIL_WAIT] > 0)
            tb.show[COL_GIL_WAIT] = true;
    }
    for (uint32_t t = 0; t <= n; t++) {
        uint32_t row = t == n ? UINT32_MAX : t;
        for (int c = 0; c < COL_COUNT; c++) {
            table_cell(cell, sizeof cell, &tb, row, c);
            if ((int)strlen(cell) > tb.width[c])
                tb.width[c] = (int)strlen(cell);
        }
    }

    for (int c = 0; c < COL_COUNT; c++) {
        if (!tb.show[c])
            continue;
        if (c <= COL_THREAD)
            fprintf(out, "%s%-*s", c ? "  " : "", tb.width[c], col_titles[c]);
        else
            fprintf(out, "  %*s", tb.width[c], col_titles[c]);
    }
    fputc('\n', out);
    for (uint32_t t = 0; t < n; t++)
        table_row(out, &tb, t);
    if (n > 1)
        table_row(out, &tb, UINT32_MAX);
}

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* "memory of main: balance = 10, items = [0, 1]" for each process with
 * memory, then the shared memory. */
static void write_text_memory(FILE *out, const struct report_run *run)
{
    uint32_t nprocs = engine_process_count(run->eng);
    for (uint32_t k = 0; k <= nprocs; k++) {
        uint32_t p = k == 0 ? UINT32_MAX : k - 1;
        bool first = true;
        for (uint32_t i = 0; i < run->sc->nvars; i++) {
            if (!var_in(run, p, i))
                continue;
            if (first) {
                if (p == UINT32_MAX)
                    fputs("shared memory: ", out);
                else
                    fprintf(out, "memory of %s: ", engine_process_name(run->eng, p));
            }
            fprintf(out, "%s%s = ", first ? "" : ", ", run->sc->vars[i].name);
            first = false;
            write_var_value(out, run, p, i);
        }
        if (!first)
            fputc('\n', out);
    }
}

static void write_summary(FILE *out, const struct report_run *run, const struct unit *unit)
{
    const struct engine_stats *st = engine_stats(run->eng);
    char buf[64];

    fmt_duration(buf, sizeof buf, (long double)st->makespan, unit, VALUE_DECIMALS);
    fprintf(out, "makespan %s", buf);
    if (st->makespan > 0) {
        long double capacity = (long double)st->makespan * run->sc->machine.cpus;
        fprintf(out, ", CPU busy %.1Lf%%", 100.0L * (long double)st->busy / capacity);
    }
    uint64_t switches = st->context_switches + st->process_switches;
    fprintf(out, "; %" PRIu64 " event%s, %" PRIu64 " context switch%s (%" PRIu64
            " between processes), %" PRIu64 " preemption%s",
            st->events, plural(st->events), switches, switches == 1 ? "" : "es",
            st->process_switches, st->preemptions, plural(st->preemptions));
    if (st->gil_switches)
        fprintf(out, ", %" PRIu64 " GIL switch%s", st->gil_switches,
                st->gil_switches == 1 ? "" : "es");
    if (st->lost_updates)
        fprintf(out, ", %" PRIu64 " lost update%s", st->lost_updates,
                plural(st->lost_updates));
    if (st->lock_failed_wakeups)
        fprintf(out, ", %" PRIu64 " failed lock wake-up%s", st->lock_failed_wakeups,
                plural(st->lock_failed_wakeups));
    if (st->lock_races)
        fprintf(out, ", %" PRIu64 " lock hand-off race%s (%" PRIu64 " close)", st->lock_races,
                plural(st->lock_races), st->lock_close_races);
    fputc('\n', out);
    for (uint32_t p = 0; p < engine_process_count(run->eng); p++) {
        struct engine_gil_stats g;
        if (engine_process_gil(run->eng, p, &g) == GIL_NONE)
            continue;
        fprintf(out, "GIL of %s: %" PRIu64 " switches, %" PRIu64 " drop requests, %" PRIu64 " forced switches, %" PRIu64
                     " failed wake-ups\n",
                engine_process_name(run->eng, p), g.switches, g.drop_requests, g.forced_switches, g.failed_wakeups);
        if (engine_process_gil(run->eng, p, NULL) == GIL_OLD)
            fprintf(out, "  old GIL: %" PRIu64 " releases at check points while another thread wanted it\n",
                    g.check_releases);
    }
    write_text_memory(out, run);
}

static void write_prints(FILE *out, const struct report_run *run, const struct unit *unit)
{
    uint32_t n = engine_print_count(run->eng);
    char when[64], label[256];
    for (uint32_t i = 0; i < n; i++) {
        const struct engine_print *p = engine_print_at(run->eng, i);
        fmt_duration(when, sizeof when, (long double)p->time, unit, VALUE_DECIMALS);
        thread_label(label, sizeof label, run, p->task);
        fprintf(out, "[%s] %s: %s\n", when, label, p->text);
    }
    if (n)
        fputc('\n', out);
}

/* The Gantt chart's characters, by trace state. */
static const char gantt_chars[TRACE_STATE_COUNT] = {
    [TRACE_RUNNING] = '#',
    [TRACE_READY] = '.',
    [TRACE_BLOCKED] = '_',
    [TRACE_SWITCH] = '~',
};

/* When two states cover a column equally, the first listed wins. */
static const enum trace_state gantt_preference[TRACE_STATE_COUNT] = {
    TRACE_RUNNING, TRACE_SWITCH, TRACE_BLOCKED, TRACE_READY
};

/* Column c covers [edge[c], edge[c + 1]), computed without overflowing. */
static int64_t gantt_edge(int64_t makespan, int width, int c)
{
    return c * (makespan / width) + c * (makespan % width) / width;
}

static void write_axis(FILE *out, int indent, int width, const int64_t *edge,
                       const struct unit *unit)
{
    char line[GANTT_WIDTH + 1];
    char labels[GANTT_WIDTH + 64];
    int end = 0;

    memset(line, '-', (size_t)width);
    line[width] = '\0';
    memset(labels, ' ', sizeof labels);
    for (int i = 0; i <= GANTT_TICKS; i++) {
        int col = i == GANTT_TICKS ? width - 1 : i * width / GANTT_TICKS;
        int64_t t = i == GANTT_TICKS ? edge[width] : edge[col];
        char text[64];
        line[col] = '+';
        fmt_duration(text, sizeof text, (long double)t, unit, AVERAGE_DECIMALS);
        int len = (int)strlen(text);
        int start = i == GANTT_TICKS ? col + 1 - len : col;
        if (start < end + 1 && i > 0)
            continue;
        if (start < 0)
            start = 0;
        memcpy(labels + start, text, (size_t)len);
        end = start + len;
    }
    labels[end] = '\0';
    fprintf(out, "%*s%s\n%*s%s\n", indent, "", line, indent, "", labels);
}

/* One line per thread over [0, makespan]: each column shows the state that
 * covers most of it, blank where the thread had not arrived or had ended. */
static void write_gantt(FILE *out, const struct report_run *run, const struct unit *unit)
{
    const struct trace *tr = engine_trace(run->eng);
    uint32_t n = engine_task_count(run->eng);
    char label[256], row[GANTT_WIDTH + 1], text[64];
    int64_t edge[GANTT_WIDTH + 1];
    int label_width = 0;

    if (!tr || tr->nsegments == 0 || n == 0 || n > REPORT_GANTT_MAX_THREADS)
        return;
    /* The makespan counts finished threads only; a run that deadlocked is
     * drawn up to its last recorded state. */
    int64_t makespan = engine_stats(run->eng)->makespan;
    for (size_t i = 0; i < tr->nsegments; i++)
        if (tr->segments[i].end > makespan)
            makespan = tr->segments[i].end;
    int width = makespan < GANTT_WIDTH ? (int)makespan : GANTT_WIDTH;
    if (width <= 0)
        return;
    for (int c = 0; c <= width; c++)
        edge[c] = gantt_edge(makespan, width, c);

    int64_t (*cover)[GANTT_WIDTH][TRACE_STATE_COUNT] = xcalloc(n, sizeof *cover);
    for (size_t i = 0; i < tr->nsegments; i++) {
        const struct trace_segment *s = &tr->segments[i];
        int64_t start = s->start < 0 ? 0 : s->start;
        int64_t stop = s->end > makespan ? makespan : s->end;
        if (s->task >= n || s->state >= TRACE_STATE_COUNT || stop <= start)
            continue;
        int lo = 0, hi = width - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (edge[mid] <= start)
                lo = mid;
            else
                hi = mid - 1;
        }
        for (int c = lo; c < width && edge[c] < stop; c++) {
            int64_t a = start > edge[c] ? start : edge[c];
            int64_t b = stop < edge[c + 1] ? stop : edge[c + 1];
            if (b > a)
                cover[s->task][c][s->state] += b - a;
        }
    }

    for (uint32_t t = 0; t < n; t++) {
        thread_label(label, sizeof label, run, t);
        if ((int)strlen(label) > label_width)
            label_width = (int)strlen(label);
    }
    fmt_duration(text, sizeof text, (long double)makespan / width, unit, AVERAGE_DECIMALS);
    fprintf(out, "\ntimeline (one column = %s)\n", text);
    for (uint32_t t = 0; t < n; t++) {
        for (int c = 0; c < width; c++) {
            int64_t covered = 0, best_cover = 0;
            char best = ' ';
            for (int k = 0; k < TRACE_STATE_COUNT; k++) {
                enum trace_state st = gantt_preference[k];
                covered += cover[t][c][st];
                if (cover[t][c][st] > best_cover) {
                    best_cover = cover[t][c][st];
                    best = gantt_chars[st];
                }
            }
            if (edge[c + 1] - edge[c] - covered > best_cover)
                best = ' ';
            row[c] = best;
        }
        int len = width;
        while (len > 0 && row[len - 1] == ' ')
            len--;
        row[len] = '\0';
        thread_label(label, sizeof label, run, t);
        if (len)
            fprintf(out, "%-*s  %s\n", label_width, label, row);
        else
            fprintf(out, "%s\n", label);
    }
    write_axis(out, label_width + 2, width, edge, unit);
    fputs("# running  . ready  _ blocked  ~ switching  (blank) not arrived or finished\n", out);
    free(cover);
}

static void write_text(FILE *out, const struct report_run *run)
{
    const struct unit *unit = pick_unit(run->eng);
    uint32_t cpus = run->sc->machine.cpus;

    fputs("scenario ", out);
    json_string(out, run->sc->name);
    fprintf(out, ": policy %s, %" PRIu32 " CPU%s, seed %" PRIu64 "\n\n",
            run->policy, cpus, cpus == 1 ? "" : "s", run->sc->seed);
    write_prints(out, run, unit);
    write_table(out, run, unit);
    fputc('\n', out);
    write_summary(out, run, unit);
    write_gantt(out, run, unit);
}

void report_write(FILE *out, enum report_format format, const struct report_run *run)
{
    switch (format) {
    case REPORT_TEXT:
        write_text(out, run);
        break;
    case REPORT_JSON:
        write_json(out, run);
        break;
    case REPORT_CSV:
        write_csv(out, run);
        break;
    }
}
