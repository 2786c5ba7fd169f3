/* The scenario loader: JSON text to struct scenario, validated against the
 * contract (docs/scenario-format.md). The only file that includes cJSON.
 * Every error names the JSON path of the offending element. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scenario.h"
#include "xalloc.h"

#define LOAD_MAX_FILE (64u * 1024 * 1024)
#define NONE UINT32_MAX

/* The locals of one code unit (a thread's program or a function body). */
struct unit {
    char **names;
    uint32_t n;
    size_t cap;
    int32_t process;         /* the process of a thread program, -1 for functions */
    uint64_t threads_local;  /* thread ops weighted by enclosing repeats (saturating) */
    uint32_t *calls;         /* functions called ... */
    uint64_t *call_mult;     /* ... and how often (saturating) */
    uint32_t ncalls;
    size_t calls_cap;
};

/* A join or start whose thread name is resolved after all code is read. */
struct pending_name {
    uint32_t op;
    int32_t process;         /* -1 in a function */
    char path[ERROR_PATH_MAX];
};

struct loader {
    struct scenario *sc;
    struct error *err;
    const char *dir;         /* directory of the scenario file, for machine.profile */
    size_t ops_cap;
    size_t threads_cap;
    struct unit *fn_units;   /* one per function */
    uint64_t *fn_threads;    /* threads created by one call of each function */
    struct pending_name *pending;
    size_t npending;
    size_t pending_cap;
    uint32_t current_op;     /* index of the op being parsed (set by parse_block) */
    char **thread_op_names;  /* names given by `thread` ops */
    size_t nthread_op_names;
    size_t thread_op_names_cap;
};

static enum status profile_from_json(struct profile *p, const cJSON *obj, const char *origin,
                                     struct error *err);

/* ---- errors and small helpers ---- */

__attribute__((format(printf, 3, 4)))
static bool ld_fail(struct loader *ld, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_setv(ld->err, STATUS_BAD_INPUT, path, fmt, ap);
    va_end(ap);
    return false;
}

/* Appends `text` to out (capacity ERROR_PATH_MAX), truncating: a path too
 * long to show in full is still useful cut short. */
static void path_append(char *out, const char *text)
{
    size_t len = strlen(out), n = strlen(text);
    if (len + n >= ERROR_PATH_MAX)
        n = ERROR_PATH_MAX - 1 - len;
    memcpy(out + len, text, n);
    out[len + n] = '\0';
}

static void path_key(char *out, const char *base, const char *key)
{
    if (out != base) {
        out[0] = '\0';
        path_append(out, base);
    }
    if (out[0])
        path_append(out, ".");
    path_append(out, key);
}

static void path_index(char *out, const char *base, size_t i)
{
    char num[32];
    if (out != base) {
        out[0] = '\0';
        path_append(out, base);
    }
    sprintf(num, "[%zu]", i);
    path_append(out, num);
}

static const char *json_type_name(const cJSON *item)
{
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsArray(item))
        return "an array";
    if (cJSON_IsObject(item))
        return "an object";
    return "an invalid value";
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

static int cmp_strptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks that obj is an object whose keys are all in `allowed` (NULL-ended) or
 * start with "x-", with no key twice. */
static bool check_keys(struct loader *ld, const cJSON *obj, const char *path, const char *const *allowed)
{
    if (!cJSON_IsObject(obj))
        return ld_fail(ld, path, "expected an object, got %s", json_type_name(obj));
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    char **names = xmalloc((n ? n : 1) * sizeof *names);
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        names[i++] = c->string;
    qsort(names, n, sizeof *names, cmp_strptr);
    for (i = 1; i < n; i++) {
        if (strcmp(names[i], names[i - 1]) == 0) {
            char p[ERROR_PATH_MAX];
            path_key(p, path, names[i]);
            free(names);
            return ld_fail(ld, p, "this key appears twice in one object (JSON keys must be unique)");
        }
    }
    free(names);
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (strncmp(c->string, "x-", 2) == 0)
            continue;
        bool known = false;
        const char *close = NULL;
        for (const char *const *k = allowed; *k; k++) {
            if (strcmp(*k, c->string) == 0) {
                known = true;
                break;
            }
            if (!close && edit_distance(*k, c->string) <= 2)
                close = *k;
        }
        if (known)
            continue;
        char p[ERROR_PATH_MAX], list[512] = "";
        path_key(p, path, c->string);
        for (const char *const *k = allowed; *k; k++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", *k);
        }
        if (close)
            return ld_fail(ld, p, "unknown key '%s': did you mean '%s'? (known keys: %s)", c->string, close, list);
        return ld_fail(ld, p, "unknown key '%s' (known keys: %s; keys starting with 'x-' are ignored)",
                       c->string, list);
    }
    return true;
}

static bool valid_name(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (const char *p = s + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
            return false;
    return strlen(s) <= 128;
}

static bool get_name(struct loader *ld, const cJSON *item, const char *path, char **out)
{
    if (!cJSON_IsString(item))
        return ld_fail(ld, path, "expected a name (a string), got %s", json_type_name(item));
    if (!valid_name(item->valuestring))
        return ld_fail(ld, path,
                       "'%.64s' is not a valid name: use letters, digits, '_', '.' and '-', starting with a "
                       "letter or '_' (at most 128 characters)",
                       item->valuestring);
    *out = xstrdup(item->valuestring);
    return true;
}

static bool get_bool(struct loader *ld, const cJSON *item, const char *path, bool *out)
{
    if (!cJSON_IsBool(item))
        return ld_fail(ld, path, "expected true or false, got %s", json_type_name(item));
    *out = cJSON_IsTrue(item);
    return true;
}

static bool get_int(struct loader *ld, const cJSON *item, const char *path, int64_t min, int64_t max,
                    int64_t *out)
{
    if (!cJSON_IsNumber(item))
        return ld_fail(ld, path, "expected an integer, got %s", json_type_name(item));
    double v = item->valuedouble;
    if (!isfinite(v) || v != floor(v))
        return ld_fail(ld, path, "expected an integer, got %g", v);
    if (v < (double)min || v > (double)max)
        return ld_fail(ld, path, "%.17g is out of range: expected %lld to %lld", v, (long long)min,
                       (long long)max);
    *out = (int64_t)v;
    return true;
}

/* Parses "<number><unit>" exactly (no floating point), rounding to the
 * nearest nanosecond on the first ten decimals (a unit is at most 10^9 ns,
 * so later ones only matter for exact ties). Returns an error message or
 * NULL. */
static const char *parse_duration_text(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '-')
        return "a duration cannot be negative";
    if (*p == '+')
        p++;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return "expected a duration such as \"250ns\", \"40us\", \"5ms\" or \"1.5s\"";
    uint64_t whole = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (whole > (UINT64_MAX - 9) / 10)
            return "the duration is too large";
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    uint64_t frac = 0, frac_den = 1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return "expected digits after the decimal point";
        for (; isdigit((unsigned char)*p); p++) {
            if (frac_den < 10000000000ULL) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_den *= 10;
            }
        }
    }
    while (*p == ' ')
        p++;
    uint64_t unit;
    if (strcmp(p, "ns") == 0)
        unit = 1;
    else if (strcmp(p, "us") == 0 || strcmp(p, "\xc2\xb5s") == 0)
        unit = 1000;
    else if (strcmp(p, "ms") == 0)
        unit = 1000000;
    else if (strcmp(p, "s") == 0)
        unit = 1000000000;
    else if (*p == '\0')
        return "the duration has no unit: write it as \"5ms\", \"40us\", \"1.5s\" or \"250ns\"";
    else
        return "unknown unit: use ns, us, ms or s";
    if (whole > (uint64_t)SCENARIO_MAX_DURATION / unit)
        return "the duration is too large (at most 1000 days)";
    uint64_t ns = whole * unit + (frac * unit + frac_den / 2) / frac_den;
    if (ns > (uint64_t)SCENARIO_MAX_DURATION)
        return "the duration is too large (at most 1000 days)";
    *out = (int64_t)ns;
    return NULL;
}

enum status scenario_parse_duration(const char *text, sim_time *out, struct error *err)
{
    const char *msg = parse_duration_text(text, out);
    if (msg)
        return error_set(err, STATUS_BAD_INPUT, NULL, "'%s': %s", text, msg);
    return STATUS_OK;
}

static bool get_duration(struct loader *ld, const cJSON *item, const char *path, int64_t *out)
{
    if (cJSON_IsNumber(item)) {
        if (item->valuedouble == 0) {
            *out = 0;
            return true;
        }
        if (item->valuedouble < 0)
            return ld_fail(ld, path, "a duration cannot be negative");
        return ld_fail(ld, path, "a bare number has no unit: write \"%gms\" or \"%gs\" (only 0 may be bare)",
                       item->valuedouble, item->valuedouble);
    }
    if (!cJSON_IsString(item))
        return ld_fail(ld, path, "expected a duration string like \"5ms\", got %s", json_type_name(item));
    const char *msg = parse_duration_text(item->valuestring, out);
    if (msg)
        return ld_fail(ld, path, "'%.64s': %s", item->valuestring, msg);
    return true;
}

/* A size: an integer number of bytes, or a string like "64KiB", "1MiB". */
static bool get_size(struct loader *ld, const cJSON *item, const char *path, int64_t min, int64_t max, int64_t *out)
{
    if (cJSON_IsNumber(item))
        return get_int(ld, item, path, min, max, out);
    if (!cJSON_IsString(item))
        return ld_fail(ld, path, "expected a size such as 4096 or \"64KiB\", got %s", json_type_name(item));
    char *end;
    errno = 0;
    long long v = strtoll(item->valuestring, &end, 10);
    int64_t mult = 0;
    if (end == item->valuestring || errno || v < 0)
        mult = 0;
    else if (strcmp(end, "B") == 0 || *end == '\0')
        mult = 1;
    else if (strcmp(end, "KiB") == 0)
        mult = 1024;
    else if (strcmp(end, "MiB") == 0)
        mult = 1024 * 1024;
    else if (strcmp(end, "GiB") == 0)
        mult = 1024LL * 1024 * 1024;
    if (!mult)
        return ld_fail(ld, path, "'%.64s' is not a size: write bytes as 4096 or \"4KiB\", \"1MiB\"", item->valuestring);
    if (v > max / mult || v * mult < min)
        return ld_fail(ld, path, "'%.64s' is out of range: expected %lld to %lld bytes", item->valuestring,
                       (long long)min, (long long)max);
    *out = v * mult;
    return true;
}

/* ---- code units and operands ---- */

static int32_t unit_find(const struct unit *u, const char *name)
{
    for (uint32_t i = 0; i < u->n; i++)
        if (strcmp(u->names[i], name) == 0)
            return (int32_t)i;
    return -1;
}

static bool unit_add(struct loader *ld, struct unit *u, const char *name, const char *path)
{
    if (unit_find(u, name) >= 0)
        return ld_fail(ld, path, "'%s' is declared twice", name);
    if (u->n >= SCENARIO_MAX_LOCALS)
        return ld_fail(ld, path, "too many local variables (at most %d)", SCENARIO_MAX_LOCALS);
    u->names = xgrow(u->names, &u->cap, u->n + 1, sizeof *u->names);
    u->names[u->n++] = xstrdup(name);
    return true;
}

static void unit_free(struct unit *u)
{
    free(u->calls);
    free(u->call_mult);
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    if (a && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* An integer operand: a literal in [min, max] or "$local". */
static bool get_operand(struct loader *ld, const cJSON *item, const char *path, const struct unit *u,
                        int64_t min, int64_t max, struct operand *out)
{
    if (cJSON_IsString(item) && item->valuestring[0] == '$') {
        int32_t slot = unit_find(u, item->valuestring + 1);
        if (slot < 0) {
            char known[256] = "";
            for (uint32_t i = 0; i < u->n; i++) {
                size_t len = strlen(known);
                snprintf(known + len, sizeof known - len, "%s$%s", len ? ", " : "", u->names[i]);
            }
            return ld_fail(ld, path, "'%.64s' is not a local variable here (known: %s)", item->valuestring,
                           u->n ? known : "none: only function parameters are locals");
        }
        out->kind = OPERAND_LOCAL;
        out->slot = (uint32_t)slot;
        out->value = 0;
        return true;
    }
    if (!cJSON_IsNumber(item))
        return ld_fail(ld, path, "expected an integer or a \"$local\", got %s", json_type_name(item));
    out->kind = OPERAND_CONST;
    out->slot = 0;
    return get_int(ld, item, path, min, max, &out->value);
}

static bool get_operand_list(struct loader *ld, const cJSON *arr, const char *path, const struct unit *u,
                             uint32_t *n, struct operand **out)
{
    *n = 0;
    *out = NULL;
    if (!arr)
        return true;
    if (!cJSON_IsArray(arr))
        return ld_fail(ld, path, "expected an array of arguments, got %s", json_type_name(arr));
    uint32_t count = (uint32_t)cJSON_GetArraySize(arr);
    if (count > SCENARIO_MAX_LOCALS)
        return ld_fail(ld, path, "too many arguments (at most %d)", SCENARIO_MAX_LOCALS);
    *out = xcalloc(count ? count : 1, sizeof **out);
    *n = count;
    uint32_t i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        char p[ERROR_PATH_MAX];
        path_index(p, path, i);
        if (!get_operand(ld, c, p, u, INT64_MIN / 2, INT64_MAX / 2, &(*out)[i]))
            return false;
    }
    return true;
}

static int32_t function_index(const struct scenario *sc, const char *name)
{
    for (uint32_t i = 0; i < sc->nfunctions; i++)
        if (strcmp(sc->functions[i].name, name) == 0)
            return (int32_t)i;
    return -1;
}

static bool get_function(struct loader *ld, const cJSON *item, const char *path, uint32_t *fn)
{
    if (!cJSON_IsString(item))
        return ld_fail(ld, path, "expected a function name, got %s", json_type_name(item));
    int32_t i = function_index(ld->sc, item->valuestring);
    if (i < 0) {
        char known[256] = "";
        for (uint32_t k = 0; k < ld->sc->nfunctions; k++) {
            size_t len = strlen(known);
            snprintf(known + len, sizeof known - len, "%s%s", len ? ", " : "", ld->sc->functions[k].name);
        }
        return ld_fail(ld, path, "no function named '%.64s' (functions: %s)", item->valuestring,
                       ld->sc->nfunctions ? known : "none declared in \"functions\"");
    }
    *fn = (uint32_t)i;
    return true;
}

static void unit_note_call(struct unit *u, uint32_t fn, uint64_t mult)
{
    if (u->ncalls == u->calls_cap) {
        size_t cap = u->calls_cap;
        u->calls = xgrow(u->calls, &cap, u->ncalls + 1, sizeof *u->calls);
        u->call_mult = xgrow(u->call_mult, &u->calls_cap, u->ncalls + 1, sizeof *u->call_mult);
    }
    u->calls[u->ncalls] = fn;
    u->call_mult[u->ncalls] = mult;
    u->ncalls++;
}

/* ---- ops ---- */

struct op_ctx {
    struct unit *unit;
    uint32_t depth;     /* nesting of bodies */
    uint64_t mult;      /* product of enclosing repeat counts (saturating) */
};

static bool parse_block(struct loader *ld, const cJSON *arr, const char *path, struct op_ctx *ctx,
                        struct op_block *out);

typedef bool (*op_parse_fn)(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                            struct op *op);

static const cJSON *req(struct loader *ld, const cJSON *obj, const char *path, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!item) {
        char p[ERROR_PATH_MAX];
        path_key(p, path, key);
        ld_fail(ld, p, "missing required key '%s'", key);
    }
    return item;
}

#define CHILD(p, key) (path_key(p, path, key), p)

static bool parse_compute(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                          struct op *op)
{
    static const char *const keys[] = {"op", "for", "work", "n", "from", "to", "gil", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct op_compute *c = &op->u.compute;
    const cJSON *for_ = cJSON_GetObjectItemCaseSensitive(obj, "for");
    const cJSON *work = cJSON_GetObjectItemCaseSensitive(obj, "work");
    const cJSON *gil = cJSON_GetObjectItemCaseSensitive(obj, "gil");
    if (gil) {
        if (!cJSON_IsString(gil) || (strcmp(gil->valuestring, "hold") && strcmp(gil->valuestring, "release")))
            return ld_fail(ld, CHILD(p, "gil"), "expected \"hold\" or \"release\"");
        c->release_gil = strcmp(gil->valuestring, "release") == 0;
    }
    const char *extra[] = {"n", "from", "to"};
    if (!work) {
        if (!for_)
            return ld_fail(ld, path, "compute needs \"for\" (a CPU time such as \"5ms\") or \"work\" "
                                     "(\"count\", \"primes\" or \"spin\")");
        for (int i = 0; i < 3; i++)
            if (cJSON_GetObjectItemCaseSensitive(obj, extra[i]))
                return ld_fail(ld, CHILD(p, extra[i]), "'%s' goes with \"work\", not with \"for\"", extra[i]);
        c->kind = COMPUTE_FOR;
        return get_duration(ld, for_, CHILD(p, "for"), &c->dur);
    }
    if (!cJSON_IsString(work))
        return ld_fail(ld, CHILD(p, "work"), "expected \"count\", \"primes\" or \"spin\", got %s",
                       json_type_name(work));
    if (strcmp(work->valuestring, "count") == 0) {
        c->kind = COMPUTE_COUNT;
        const cJSON *n = req(ld, obj, path, "n");
        if (!n)
            return false;
        if (for_ || cJSON_GetObjectItemCaseSensitive(obj, "from") || cJSON_GetObjectItemCaseSensitive(obj, "to"))
            return ld_fail(ld, path, "work \"count\" takes only \"n\"");
        return get_operand(ld, n, CHILD(p, "n"), ctx->unit, 0, SCENARIO_MAX_WORK_N, &c->n);
    }
    if (strcmp(work->valuestring, "primes") == 0) {
        c->kind = COMPUTE_PRIMES;
        const cJSON *from = req(ld, obj, path, "from");
        if (!from)
            return false;
        const cJSON *to = req(ld, obj, path, "to");
        if (!to)
            return false;
        if (for_ || cJSON_GetObjectItemCaseSensitive(obj, "n"))
            return ld_fail(ld, path, "work \"primes\" takes only \"from\" and \"to\"");
        if (!get_operand(ld, from, CHILD(p, "from"), ctx->unit, 0, SCENARIO_MAX_WORK_N, &c->from) ||
            !get_operand(ld, to, CHILD(p, "to"), ctx->unit, 0, SCENARIO_MAX_WORK_N, &c->to))
            return false;
        if (c->from.kind == OPERAND_CONST && c->to.kind == OPERAND_CONST &&
            c->to.value - c->from.value > SCENARIO_MAX_PRIMES_RANGE)
            return ld_fail(ld, CHILD(p, "to"), "the range of primes is too wide (at most %lld numbers)",
                           (long long)SCENARIO_MAX_PRIMES_RANGE);
        return true;
    }
    if (strcmp(work->valuestring, "spin") == 0) {
        c->kind = COMPUTE_SPIN;
        if (!for_)
            return ld_fail(ld, path, "work \"spin\" needs \"for\" (the CPU time to burn)");
        for (int i = 0; i < 3; i++)
            if (cJSON_GetObjectItemCaseSensitive(obj, extra[i]))
                return ld_fail(ld, CHILD(p, extra[i]), "work \"spin\" takes only \"for\"");
        return get_duration(ld, for_, CHILD(p, "for"), &c->dur);
    }
    return ld_fail(ld, CHILD(p, "work"), "unknown work '%.64s': expected \"count\", \"primes\" or \"spin\"",
                   work->valuestring);
}

static bool parse_sleep(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                        struct op *op)
{
    static const char *const sleep_keys[] = {"op", "for", "random", "key", NULL};
    static const char *const io_keys[] = {"op", "for", NULL};
    bool is_io = op->kind == OP_IO;
    if (!check_keys(ld, obj, path, is_io ? io_keys : sleep_keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct op_sleep *s = &op->u.sleep;
    const cJSON *for_ = cJSON_GetObjectItemCaseSensitive(obj, "for");
    const cJSON *random = cJSON_GetObjectItemCaseSensitive(obj, "random");
    if (for_ && random)
        return ld_fail(ld, path, "give either \"for\" or \"random\", not both");
    if (random) {
        if (!cJSON_IsArray(random) || cJSON_GetArraySize(random) != 2)
            return ld_fail(ld, CHILD(p, "random"), "expected [low, high], two durations such as [\"1s\", \"5s\"]");
        char q[ERROR_PATH_MAX];
        path_key(p, path, "random");
        path_index(q, p, 0);
        if (!get_duration(ld, cJSON_GetArrayItem(random, 0), q, &s->dur))
            return false;
        path_index(q, p, 1);
        if (!get_duration(ld, cJSON_GetArrayItem(random, 1), q, &s->dur_hi))
            return false;
        if (s->dur_hi < s->dur)
            return ld_fail(ld, p, "the high bound is below the low bound");
        s->random = true;
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(obj, "key");
        if (key) {
            s->keyed = true;
            return get_operand(ld, key, CHILD(p, "key"), ctx->unit, INT64_MIN / 2, INT64_MAX / 2, &s->key);
        }
        return true;
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, "key"))
        return ld_fail(ld, CHILD(p, "key"), "\"key\" goes with \"random\": it picks the random draw");
    if (!for_)
        return ld_fail(ld, path, "%s needs \"for\" (a duration such as \"5ms\")%s", is_io ? "io" : "sleep",
                       is_io ? "" : " or \"random\"");
    if (!get_duration(ld, for_, CHILD(p, "for"), &s->dur))
        return false;
    s->dur_hi = s->dur;
    return true;
}

static bool parse_repeat(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                         struct op *op)
{
    static const char *const keys[] = {"op", "times", "body", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    const cJSON *times = req(ld, obj, path, "times");
    const cJSON *body = times ? req(ld, obj, path, "body") : NULL;
    if (!times || !body)
        return false;
    if (!get_operand(ld, times, CHILD(p, "times"), ctx->unit, 0, SCENARIO_MAX_REPEAT, &op->u.repeat.times))
        return false;
    struct op_ctx inner = *ctx;
    inner.depth++;
    /* a $local count is unknown here: count it as one for the thread bound */
    inner.mult = sat_mul(ctx->mult, op->u.repeat.times.kind == OPERAND_CONST ? (uint64_t)op->u.repeat.times.value : 1);
    return parse_block(ld, body, CHILD(p, "body"), &inner, &op->u.repeat.body);
}

/* Threads created by one call of fn, once the functions are all read (0
 * while they are read: their totals are checked where they are called). */
static uint64_t fn_threads_of(const struct loader *ld, uint32_t fn)
{
    return ld->fn_threads ? ld->fn_threads[fn] : 0;
}

/* An op that alone creates too many threads is named by its own path; the
 * total of a program is checked again once it is read. */
static bool check_threads_created(struct loader *ld, const char *path, uint64_t created)
{
    if (created <= SCENARIO_MAX_THREADS)
        return true;
    return ld_fail(ld, path,
                   "this op would create about %llu threads (one per run, times its enclosing repeats); the limit "
                   "is %d", (unsigned long long)created, SCENARIO_MAX_THREADS);
}

static bool parse_into(struct loader *ld, const cJSON *item, const char *path, struct op_ctx *ctx, uint32_t *slot);

static bool parse_call(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    static const char *const keys[] = {"op", "fn", "args", "into", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    const cJSON *fn = req(ld, obj, path, "fn");
    if (!fn || !get_function(ld, fn, CHILD(p, "fn"), &op->u.call.fn))
        return false;
    if (!get_operand_list(ld, cJSON_GetObjectItemCaseSensitive(obj, "args"), CHILD(p, "args"), ctx->unit,
                          &op->u.call.nargs, &op->u.call.args))
        return false;
    const struct function *f = &ld->sc->functions[op->u.call.fn];
    if (op->u.call.nargs != f->nparams)
        return ld_fail(ld, CHILD(p, "args"), "function '%s' takes %u argument%s, not %u", f->name, f->nparams,
                       f->nparams == 1 ? "" : "s", op->u.call.nargs);
    if (!check_threads_created(ld, path, sat_mul(ctx->mult, fn_threads_of(ld, op->u.call.fn))))
        return false;
    unit_note_call(ctx->unit, op->u.call.fn, ctx->mult);
    const cJSON *into = cJSON_GetObjectItemCaseSensitive(obj, "into");
    if (into) {
        if (!parse_into(ld, into, CHILD(p, "into"), ctx, &op->u.call.into))
            return false;
        op->u.call.has_into = true;
    }
    return true;
}

static const char *const print_builtins[] = {"thread", "process", "time", NULL};

static int32_t intern(char ***names, uint32_t *n, const char *name);

static void print_piece_add(struct op_print *pr, enum print_piece_kind kind, uint32_t slot, const char *text,
                            size_t len)
{
    pr->pieces = xrealloc(pr->pieces, (pr->npieces + 1) * sizeof *pr->pieces);
    struct print_piece *pc = &pr->pieces[pr->npieces++];
    pc->kind = kind;
    pc->slot = slot;
    pc->text = xmalloc(len + 1);
    memcpy(pc->text, text, len);
    pc->text[len] = '\0';
}

static bool parse_print(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                        struct op *op)
{
    static const char *const keys[] = {"op", "text", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    const cJSON *text = req(ld, obj, path, "text");
    if (!text)
        return false;
    if (!cJSON_IsString(text))
        return ld_fail(ld, CHILD(p, "text"), "expected a string, got %s", json_type_name(text));
    size_t len = strlen(text->valuestring);
    if (len > SCENARIO_MAX_TEXT)
        return ld_fail(ld, CHILD(p, "text"), "the text is longer than %d bytes", SCENARIO_MAX_TEXT);
    struct op_print *pr = &op->u.print;
    pr->text = xstrdup(text->valuestring);
    const char *s = pr->text;
    char *lit = xmalloc(len + 1);
    size_t nlit = 0;
    for (size_t i = 0; i < len;) {
        if ((s[i] == '{' && s[i + 1] == '{') || (s[i] == '}' && s[i + 1] == '}')) {
            lit[nlit++] = s[i];
            i += 2;
            continue;
        }
        if (s[i] == '}') {
            free(lit);
            return ld_fail(ld, CHILD(p, "text"), "a lone '}' in the text: write '}}' for a brace");
        }
        if (s[i] != '{') {
            lit[nlit++] = s[i++];
            continue;
        }
        const char *end = strchr(s + i + 1, '}');
        if (!end) {
            free(lit);
            return ld_fail(ld, CHILD(p, "text"), "an unclosed '{' in the text: write '{{' for a brace");
        }
        size_t nlen = (size_t)(end - (s + i + 1));
        char name[130];
        if (nlen == 0 || nlen > 128) {
            free(lit);
            return ld_fail(ld, CHILD(p, "text"), "a placeholder must name a variable, like {n}");
        }
        memcpy(name, s + i + 1, nlen);
        name[nlen] = '\0';
        if (!valid_name(name)) {
            free(lit);
            return ld_fail(ld, CHILD(p, "text"), "'{%s}' is not a valid placeholder name", name);
        }
        if (nlit) {
            print_piece_add(pr, PRINT_TEXT, 0, lit, nlit);
            nlit = 0;
        }
        int32_t slot = unit_find(ctx->unit, name);
        bool builtin = false;
        for (const char *const *b = print_builtins; *b; b++)
            builtin |= strcmp(*b, name) == 0;
        if (slot >= 0)
            print_piece_add(pr, PRINT_LOCAL, (uint32_t)slot, name, nlen);
        else if (builtin)
            print_piece_add(pr, PRINT_BUILTIN, 0, name, nlen);
        else {
            /* a memory variable: its name must be declared somewhere */
            int32_t id = intern(&ld->sc->var_names, &ld->sc->nvar_names, name);
            bool declared = false;
            for (uint32_t v = 0; v < ld->sc->nvars; v++)
                declared |= strcmp(ld->sc->vars[v].name, name) == 0;
            if (!declared) {
                free(lit);
                return ld_fail(ld, CHILD(p, "text"), "'{%s}' names no local variable here and no memory variable "
                                                     "(write '{{' for a brace)", name);
            }
            print_piece_add(pr, PRINT_VAR, (uint32_t)(id >= 0 ? id : 0), name, nlen);
        }
        i += nlen + 2;
    }
    if (nlit)
        print_piece_add(pr, PRINT_TEXT, 0, lit, nlit);
    free(lit);
    return true;
}

static void pending_add(struct loader *ld, uint32_t op, int32_t process, const char *path)
{
    ld->pending = xgrow(ld->pending, &ld->pending_cap, ld->npending + 1, sizeof *ld->pending);
    struct pending_name *pn = &ld->pending[ld->npending++];
    pn->op = op;
    pn->process = process;
    snprintf(pn->path, sizeof pn->path, "%s", path);
}

static bool parse_start(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                        struct op *op)
{
    static const char *const keys[] = {"op", "thread", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    const cJSON *th = req(ld, obj, path, "thread");
    if (!th)
        return false;
    if (!cJSON_IsString(th))
        return ld_fail(ld, CHILD(p, "thread"), "expected a thread name, got %s", json_type_name(th));
    op->u.start.thread = NONE;
    op->u.start.name = xstrdup(th->valuestring);
    pending_add(ld, ld->current_op, ctx->unit->process, CHILD(p, "thread"));
    return true;
}

static bool parse_thread(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                         struct op *op)
{
    static const char *const keys[] = {"op", "name", "call", "args", "daemon", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct op_thread *t = &op->u.thread;
    const cJSON *name = req(ld, obj, path, "name");
    if (!name || !get_name(ld, name, CHILD(p, "name"), &t->name))
        return false;
    const cJSON *call = req(ld, obj, path, "call");
    if (!call || !get_function(ld, call, CHILD(p, "call"), &t->fn))
        return false;
    if (!get_operand_list(ld, cJSON_GetObjectItemCaseSensitive(obj, "args"), CHILD(p, "args"), ctx->unit,
                          &t->nargs, &t->args))
        return false;
    const struct function *f = &ld->sc->functions[t->fn];
    if (t->nargs != f->nparams)
        return ld_fail(ld, CHILD(p, "args"), "function '%s' takes %u argument%s, not %u", f->name, f->nparams,
                       f->nparams == 1 ? "" : "s", t->nargs);
    const cJSON *daemon = cJSON_GetObjectItemCaseSensitive(obj, "daemon");
    if (daemon && !get_bool(ld, daemon, CHILD(p, "daemon"), &t->daemon))
        return false;
    if (!check_threads_created(ld, path, sat_mul(ctx->mult, sat_add(1, fn_threads_of(ld, t->fn)))))
        return false;
    ctx->unit->threads_local = sat_add(ctx->unit->threads_local, ctx->mult);
    unit_note_call(ctx->unit, t->fn, ctx->mult);
    ld->thread_op_names = xgrow(ld->thread_op_names, &ld->thread_op_names_cap, ld->nthread_op_names + 1,
                                sizeof *ld->thread_op_names);
    ld->thread_op_names[ld->nthread_op_names++] = t->name;
    return true;
}

static bool parse_data_op(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                          struct op *op);
static bool parse_proc_ref(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                           struct op *op);

static bool parse_join(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                       struct op *op)
{
    if (!cJSON_GetObjectItemCaseSensitive(obj, "thread") && cJSON_GetObjectItemCaseSensitive(obj, "obj")) {
        op->kind = OP_QUEUE_JOIN;
        return parse_data_op(ld, obj, path, ctx, op);
    }
    if (!cJSON_GetObjectItemCaseSensitive(obj, "thread") && cJSON_GetObjectItemCaseSensitive(obj, "process")) {
        op->kind = OP_PROCESS_JOIN;
        return parse_proc_ref(ld, obj, path, ctx, op);
    }
    static const char *const keys[] = {"op", "thread", "timeout", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct op_join *j = &op->u.join;
    j->target = JOIN_THREAD;
    j->thread = -1;
    j->timeout = -1;
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(obj, "thread");
    if (!th) {
        if (cJSON_GetObjectItemCaseSensitive(obj, "process"))
            return ld_fail(ld, path, "join of a process is not supported by this version of threadsim yet");
        return ld_fail(ld, path, "join needs \"thread\" (the name of the thread to wait for)");
    }
    if (!cJSON_IsString(th))
        return ld_fail(ld, CHILD(p, "thread"), "expected a thread name, got %s", json_type_name(th));
    j->name = xstrdup(th->valuestring);
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(obj, "timeout");
    if (timeout && !get_duration(ld, timeout, CHILD(p, "timeout"), &j->timeout))
        return false;
    pending_add(ld, ld->current_op, ctx->unit->process, CHILD(p, "thread"));
    return true;
}

static bool parse_exit(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                       struct op *op)
{
    (void)ctx;
    (void)op;
    static const char *const keys[] = {"op", NULL};
    return check_keys(ld, obj, path, keys);
}

/* ---- objects, memory and control ops ---- */

/* Which object types each object op accepts (a bit per enum object_type). */
static uint32_t op_object_types(enum op_kind kind)
{
    const uint32_t locks = 1u << OBJ_LOCK | 1u << OBJ_RLOCK | 1u << OBJ_SEMAPHORE | 1u << OBJ_BOUNDED_SEMAPHORE;
    switch (kind) {
    case OP_ACQUIRE:
    case OP_RELEASE: return locks;
    case OP_WITH: return locks | 1u << OBJ_CONDITION;
    case OP_WAIT: return 1u << OBJ_EVENT | 1u << OBJ_CONDITION | 1u << OBJ_BARRIER;
    case OP_WAIT_FOR:
    case OP_NOTIFY:
    case OP_NOTIFY_ALL: return 1u << OBJ_CONDITION;
    case OP_EVENT_SET:
    case OP_EVENT_CLEAR: return 1u << OBJ_EVENT;
    case OP_PUT:
    case OP_GET: return 1u << OBJ_QUEUE | 1u << OBJ_MP_QUEUE;
    case OP_TASK_DONE:
    case OP_QUEUE_JOIN: return 1u << OBJ_QUEUE;
    case OP_SEND:
    case OP_RECV:
    case OP_CLOSE: return 1u << OBJ_PIPE;
    default: return 0;
    }
}

static int32_t intern(char ***names, uint32_t *n, const char *name)
{
    for (uint32_t i = 0; i < *n; i++)
        if (strcmp((*names)[i], name) == 0)
            return (int32_t)i;
    return -1;
}

static uint32_t intern_add(char ***names, uint32_t *n, const char *name)
{
    int32_t i = intern(names, n, name);
    if (i >= 0)
        return (uint32_t)i;
    *names = xrealloc(*names, (*n + 1) * sizeof **names);
    (*names)[*n] = xstrdup(name);
    return (*n)++;
}

/* Checks that object `name` can be used by op kind from code running in
 * `process` (-1: a function, which may run in any process). */
static bool check_object_use(struct loader *ld, const char *name, int32_t process, enum op_kind kind,
                             const char *opname, const char *path, uint32_t *name_id)
{
    const struct scenario *sc = ld->sc;
    uint32_t allowed = op_object_types(kind);
    bool visible = false, elsewhere = false;
    const char *owner = NULL;
    for (uint32_t i = 0; i < sc->nobjects; i++) {
        const struct object_decl *o = &sc->objects[i];
        if (strcmp(o->name, name) != 0)
            continue;
        bool in_scope = o->process < 0 || process < 0 || o->process == process;
        if (!in_scope) {
            elsewhere = true;
            owner = sc->processes[o->process].name ? sc->processes[o->process].name : "another process";
            continue;
        }
        visible = true;
        if (!(allowed & (1u << o->type))) {
            char types[128] = "";
            for (int t = 0; t < OBJ_TYPE_COUNT; t++) {
                if (!(allowed & (1u << t)))
                    continue;
                size_t len = strlen(types);
                snprintf(types + len, sizeof types - len, "%s%s", len ? ", " : "", scenario_object_type_name(t));
            }
            return ld_fail(ld, path, "'%s' is of type %s: the op '%s' works on %s", name, scenario_object_type_name(o->type),
                           opname, types);
        }
    }
    if (!visible) {
        if (elsewhere)
            return ld_fail(ld, path,
                           "'%s' is private to process '%s': an object declared in a process belongs to it alone; "
                           "declare it in the top-level \"objects\" to share it between processes",
                           name, owner);
        return ld_fail(ld, path, "no object named '%.64s' (declare it in \"objects\", at the top level to share it "
                                 "or in the process)", name);
    }
    *name_id = (uint32_t)intern(&ld->sc->obj_names, &ld->sc->nobj_names, name);
    return true;
}

/* "name", "name[3]" or "name[$i]", declared in scope; `want_array`: -1 any,
 * 0 a scalar or an element, 1 a whole array. */
static bool parse_var_ref(struct loader *ld, const cJSON *item, const char *path, const struct op_ctx *ctx,
                          struct var_ref *out)
{
    if (!cJSON_IsString(item))
        return ld_fail(ld, path, "expected a variable name such as \"balance\" or \"arr[2]\", got %s",
                       json_type_name(item));
    const char *s = item->valuestring;
    char name[130];
    const char *br = strchr(s, '[');
    size_t nlen = br ? (size_t)(br - s) : strlen(s);
    if (nlen == 0 || nlen > 128)
        return ld_fail(ld, path, "'%.64s' is not a variable name", s);
    memcpy(name, s, nlen);
    name[nlen] = '\0';
    if (!valid_name(name))
        return ld_fail(ld, path, "'%.64s' is not a variable name", s);
    out->indexed = br != NULL;
    out->index.kind = OPERAND_CONST;
    out->index.value = 0;
    out->index.slot = 0;
    if (br) {
        size_t len = strlen(br);
        if (len < 3 || br[len - 1] != ']')
            return ld_fail(ld, path, "'%.64s': an element is written name[INDEX] with a number or a $local", s);
        char idx[130];
        if (len - 2 >= sizeof idx)
            return ld_fail(ld, path, "'%.64s': the index is too long", s);
        memcpy(idx, br + 1, len - 2);
        idx[len - 2] = '\0';
        if (idx[0] == '$') {
            int32_t slot = unit_find(ctx->unit, idx + 1);
            if (slot < 0)
                return ld_fail(ld, path, "'%s' is not a local variable here", idx);
            out->index.kind = OPERAND_LOCAL;
            out->index.slot = (uint32_t)slot;
        } else {
            char *end;
            errno = 0;
            long long v = strtoll(idx, &end, 10);
            if (*end || errno || v < 0)
                return ld_fail(ld, path, "'%.64s': the index must be a non-negative integer or a $local", s);
            out->index.value = v;
        }
    }
    const struct scenario *sc = ld->sc;
    int32_t process = ctx->unit->process;
    bool visible = false;
    const char *owner = NULL;
    for (uint32_t i = 0; i < sc->nvars; i++) {
        const struct var_decl *v = &sc->vars[i];
        if (strcmp(v->name, name) != 0)
            continue;
        if (v->process >= 0 && process >= 0 && v->process != process) {
            owner = sc->processes[v->process].name ? sc->processes[v->process].name : "another process";
            continue;
        }
        visible = true;
        if (out->indexed && v->length == 0)
            return ld_fail(ld, path, "'%s' is an integer, not an array: write \"%s\"", name, name);
        if (!out->indexed && v->length > 0)
            return ld_fail(ld, path, "'%s' is an array: name one element, like \"%s[0]\"", name, name);
        if (out->indexed && out->index.kind == OPERAND_CONST && out->index.value >= (int64_t)v->length)
            return ld_fail(ld, path, "index %lld is past the end of '%s' (length %u)", (long long)out->index.value,
                           name, v->length);
    }
    if (!visible) {
        if (owner)
            return ld_fail(ld, path,
                           "'%s' is in the private memory of process '%s': processes do not share memory; put it "
                           "in the top-level \"shared\" (a multiprocessing Value or Array) to share it", name, owner);
        return ld_fail(ld, path, "no variable named '%s' (declare it in a process's \"memory\" or in \"shared\")",
                       name);
    }
    out->name = (uint32_t)intern(&ld->sc->var_names, &ld->sc->nvar_names, name);
    return true;
}

static const char *const expr_names[EXPR_OP_COUNT] = {"add", "sub", "mul", "div", "mod", "min", "max"};

/* An integer, "$local", {"var": "name"} or {"mul": [a, b, ...]} (add, sub,
 * mul, div, mod, min, max of values). */
static bool parse_value(struct loader *ld, const cJSON *item, const char *path, const struct op_ctx *ctx,
                        struct value *out)
{
    memset(out, 0, sizeof *out);
    if (cJSON_IsObject(item)) {
        char p[ERROR_PATH_MAX];
        /* the one meaningful key; "x-" keys are ignored as everywhere */
        const cJSON *first = NULL;
        int keys = 0;
        for (const cJSON *c = item->child; c; c = c->next) {
            if (strncmp(c->string, "x-", 2) == 0)
                continue;
            first = first ? first : c;
            keys++;
        }
        if (keys != 1)
            return ld_fail(ld, path, "expected {\"var\": NAME} or one arithmetic key such as {\"mul\": [\"$x\", 2]}");
        if (strcmp(first->string, "var") == 0) {
            out->kind = VALUE_VAR;
            return parse_var_ref(ld, first, CHILD(p, "var"), ctx, &out->var);
        }
        int op = -1;
        for (int i = 0; i < EXPR_OP_COUNT; i++)
            if (strcmp(expr_names[i], first->string) == 0)
                op = i;
        path_key(p, path, first->string);
        if (op < 0)
            return ld_fail(ld, p, "unknown key '%.64s': a value is an integer, \"$local\", {\"var\": NAME} or one of "
                                  "add, sub, mul, div, mod, min, max", first->string);
        int n = cJSON_IsArray(first) ? cJSON_GetArraySize(first) : 0;
        bool two = op == EXPR_SUB || op == EXPR_DIV || op == EXPR_MOD;
        if (n < 2 || (two && n != 2) || n > 64)
            return ld_fail(ld, p, "expected an array of %s values", two ? "2" : "2 or more");
        if (ctx->depth > SCENARIO_MAX_NEST)
            return ld_fail(ld, p, "the expression nests too deep");
        out->kind = VALUE_EXPR;
        out->expr = xcalloc(1, sizeof *out->expr);
        out->expr->op = (enum expr_op)op;
        out->expr->args = xcalloc((size_t)n, sizeof *out->expr->args);
        out->expr->n = (uint32_t)n;
        struct op_ctx inner = *ctx;
        inner.depth++;
        int i = 0;
        for (const cJSON *a = first->child; a; a = a->next, i++) {
            char q[ERROR_PATH_MAX];
            path_index(q, p, (size_t)i);
            if (!parse_value(ld, a, q, &inner, &out->expr->args[i]))
                return false;
        }
        return true;
    }
    struct operand o;
    if (!get_operand(ld, item, path, ctx->unit, INT64_MIN / 4, INT64_MAX / 4, &o))
        return false;
    out->kind = o.kind == OPERAND_LOCAL ? VALUE_LOCAL : VALUE_CONST;
    out->slot = o.slot;
    out->value = o.value;
    return true;
}

static const char *const cmp_names[] = {"eq", "ne", "lt", "le", "gt", "ge"};

/* {"var": "balance", "ge": 5}: var is a memory variable or "$local". */
static bool parse_condition(struct loader *ld, const cJSON *obj, const char *path, const struct op_ctx *ctx,
                            struct condition *out)
{
    static const char *const keys[] = {"var", "eq", "ne", "lt", "le", "gt", "ge", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    const cJSON *var = req(ld, obj, path, "var");
    if (!var)
        return false;
    memset(out, 0, sizeof *out);
    if (cJSON_IsString(var) && var->valuestring[0] == '$') {
        struct operand o;
        if (!get_operand(ld, var, CHILD(p, "var"), ctx->unit, 0, 0, &o))
            return false;
        out->left.kind = VALUE_LOCAL;
        out->left.slot = o.slot;
    } else {
        out->left.kind = VALUE_VAR;
        if (!parse_var_ref(ld, var, CHILD(p, "var"), ctx, &out->left.var))
            return false;
    }
    int found = -1;
    for (int i = 0; i < 6; i++) {
        if (!cJSON_GetObjectItemCaseSensitive(obj, cmp_names[i]))
            continue;
        if (found >= 0)
            return ld_fail(ld, path, "a condition has one comparison, not both '%s' and '%s'", cmp_names[found],
                           cmp_names[i]);
        found = i;
    }
    if (found < 0)
        return ld_fail(ld, path, "a condition needs a comparison: one of eq, ne, lt, le, gt, ge (like "
                                 "{\"var\": \"balance\", \"ge\": 5})");
    out->cmp = (enum cmp_op)found;
    return parse_value(ld, cJSON_GetObjectItemCaseSensitive(obj, cmp_names[found]), CHILD(p, cmp_names[found]), ctx,
                       &out->right);
}

/* Adds `into` as a local of the current unit (or finds it). */
static bool parse_into(struct loader *ld, const cJSON *item, const char *path, struct op_ctx *ctx, uint32_t *slot)
{
    char *name;
    if (!get_name(ld, item, path, &name))
        return false;
    int32_t s = unit_find(ctx->unit, name);
    bool ok = true;
    if (s < 0) {
        ok = unit_add(ld, ctx->unit, name, path);
        s = (int32_t)ctx->unit->n - 1;
    }
    free(name);
    *slot = (uint32_t)s;
    return ok;
}

/* The "obj" of an object op: a name visible from the op's code unit whose
 * type takes the op. */
static bool parse_obj_ref(struct loader *ld, const cJSON *obj, const char *path, const struct op_ctx *ctx,
                          enum op_kind kind, struct obj_ref *out)
{
    char p[ERROR_PATH_MAX];
    const cJSON *name = req(ld, obj, path, "obj");
    if (!name)
        return false;
    if (!cJSON_IsString(name))
        return ld_fail(ld, CHILD(p, "obj"), "expected an object name, got %s", json_type_name(name));
    const char *opname = cJSON_GetObjectItemCaseSensitive(obj, "op")->valuestring;
    return check_object_use(ld, name->valuestring, ctx->unit->process, kind, opname, CHILD(p, "obj"), &out->name);
}

/* The optional "timeout" and "into" of a waiting op (the op's key list
 * decides which are allowed). */
static bool parse_timeout_into(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                               sim_time *timeout, bool *has_into, uint32_t *into)
{
    char p[ERROR_PATH_MAX];
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "timeout")) && !get_duration(ld, it, CHILD(p, "timeout"), timeout))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "into"))) {
        if (!parse_into(ld, it, CHILD(p, "into"), ctx, into))
            return false;
        *has_into = true;
    }
    return true;
}

static bool parse_obj_op(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    static const char *const plain[] = {"op", "obj", NULL};
    static const char *const timed[] = {"op", "obj", "timeout", "into", NULL};
    static const char *const with_keys[] = {"op", "obj", "body", NULL};
    static const char *const notify_keys[] = {"op", "obj", "n", NULL};
    static const char *const wait_for_keys[] = {"op", "obj", "until", "timeout", "into", NULL};
    const char *const *keys = plain;
    switch (op->kind) {
    case OP_ACQUIRE:
    case OP_WAIT: keys = timed; break;
    case OP_WITH: keys = with_keys; break;
    case OP_NOTIFY: keys = notify_keys; break;
    case OP_WAIT_FOR: keys = wait_for_keys; break;
    default: break;
    }
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct op_sync *s = &op->u.sync;
    s->timeout = -1;
    s->n = 1;
    if (!parse_obj_ref(ld, obj, path, ctx, op->kind, &s->obj) ||
        !parse_timeout_into(ld, obj, path, ctx, &s->timeout, &s->has_into, &s->into))
        return false;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "n"))) {
        if (!get_int(ld, it, CHILD(p, "n"), 1, 1000000000, &s->n))
            return false;
    }
    if (op->kind == OP_WAIT_FOR) {
        const cJSON *until = req(ld, obj, path, "until");
        if (!until || !parse_condition(ld, until, CHILD(p, "until"), ctx, &s->until))
            return false;
    }
    if (op->kind == OP_WITH) {
        const cJSON *body = req(ld, obj, path, "body");
        if (!body)
            return false;
        struct op_ctx inner = *ctx;
        inner.depth++;
        return parse_block(ld, body, CHILD(p, "body"), &inner, &s->body);
    }
    return true;
}

/* "set" is an event op with "obj" and a memory op with "var". */
static bool parse_set(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, "obj")) {
        op->kind = OP_EVENT_SET;
        return parse_obj_op(ld, obj, path, ctx, op);
    }
    static const char *const keys[] = {"op", "var", "value", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    op->kind = OP_VAR_SET;
    const cJSON *var = cJSON_GetObjectItemCaseSensitive(obj, "var");
    if (!var)
        return ld_fail(ld, path, "set needs \"obj\" (an event to set) or \"var\" and \"value\" (a variable to write)");
    const cJSON *value = req(ld, obj, path, "value");
    return value && parse_var_ref(ld, var, CHILD(p, "var"), ctx, &op->u.var.var) &&
           parse_value(ld, value, CHILD(p, "value"), ctx, &op->u.var.value);
}

static bool parse_add(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    static const char *const keys[] = {"op", "var", "value", "atomic", "cost", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct op_var *v = &op->u.var;
    v->cost = -1;
    v->value.kind = VALUE_CONST;
    v->value.value = 1;
    const cJSON *var = req(ld, obj, path, "var");
    if (!var || !parse_var_ref(ld, var, CHILD(p, "var"), ctx, &v->var))
        return false;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "value")) && !parse_value(ld, it, CHILD(p, "value"), ctx, &v->value))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "atomic")) && !get_bool(ld, it, CHILD(p, "atomic"), &v->atomic))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "cost")) && !get_duration(ld, it, CHILD(p, "cost"), &v->cost))
        return false;
    return true;
}

static bool parse_load(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    static const char *const keys[] = {"op", "var", "into", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    const cJSON *var = req(ld, obj, path, "var");
    if (!var || !parse_var_ref(ld, var, CHILD(p, "var"), ctx, &op->u.var.var))
        return false;
    const cJSON *into = req(ld, obj, path, "into");
    return into && parse_into(ld, into, CHILD(p, "into"), ctx, &op->u.var.into);
}

static bool parse_if(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    static const char *const keys[] = {"op", "cond", "then", "else", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct op_branch *b = &op->u.branch;
    const cJSON *cond = req(ld, obj, path, "cond");
    if (!cond || !parse_condition(ld, cond, CHILD(p, "cond"), ctx, &b->cond))
        return false;
    const cJSON *then = req(ld, obj, path, "then");
    if (!then)
        return false;
    struct op_ctx inner = *ctx;
    inner.depth++;
    if (!parse_block(ld, then, CHILD(p, "then"), &inner, &b->then))
        return false;
    const cJSON *otherwise = cJSON_GetObjectItemCaseSensitive(obj, "else");
    if (otherwise)
        return parse_block(ld, otherwise, CHILD(p, "else"), &inner, &b->otherwise);
    b->otherwise.first = b->then.first;
    b->otherwise.count = 0;
    return true;
}

static bool parse_while(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    static const char *const keys[] = {"op", "cond", "body", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct op_branch *b = &op->u.branch;
    const cJSON *cond = req(ld, obj, path, "cond");
    if (!cond || !parse_condition(ld, cond, CHILD(p, "cond"), ctx, &b->cond))
        return false;
    const cJSON *body = req(ld, obj, path, "body");
    if (!body)
        return false;
    struct op_ctx inner = *ctx;
    inner.depth++;
    return parse_block(ld, body, CHILD(p, "body"), &inner, &b->then);
}

/* put, get, task_done, join (with obj), send, recv and close. */
static bool parse_data_op(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    static const char *const put_keys[] = {"op", "obj", "value", "bytes", "timeout", NULL};
    static const char *const get_keys[] = {"op", "obj", "into", "timeout", NULL};
    static const char *const plain_keys[] = {"op", "obj", NULL};
    static const char *const send_keys[] = {"op", "obj", "value", "bytes", "end", "timeout", NULL};
    static const char *const recv_keys[] = {"op", "obj", "into", "end", "eof", "timeout", NULL};
    static const char *const close_keys[] = {"op", "obj", "end", NULL};
    const char *const *keys = plain_keys;
    switch (op->kind) {
    case OP_PUT: keys = put_keys; break;
    case OP_GET: keys = get_keys; break;
    case OP_SEND: keys = send_keys; break;
    case OP_RECV: keys = recv_keys; break;
    case OP_CLOSE: keys = close_keys; break;
    default: break;
    }
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct op_data *d = &op->u.data;
    d->timeout = -1;
    d->bytes = 32;
    d->eof = -1;
    d->value.kind = VALUE_CONST;
    if (!parse_obj_ref(ld, obj, path, ctx, op->kind, &d->obj) ||
        !parse_timeout_into(ld, obj, path, ctx, &d->timeout, &d->has_into, &d->into))
        return false;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "value")) && !parse_value(ld, it, CHILD(p, "value"), ctx, &d->value))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "bytes")) &&
        !get_size(ld, it, CHILD(p, "bytes"), 0, 1LL << 30, &d->bytes))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "end"))) {
        int64_t end;
        if (!get_int(ld, it, CHILD(p, "end"), 0, 1, &end))
            return false;
        d->end = (uint32_t)end;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "eof")) &&
        !get_int(ld, it, CHILD(p, "eof"), INT64_MIN / 4, INT64_MAX / 4, &d->eof))
        return false;
    return true;
}

/* "gil": "none", {"mode": "new", "switch_interval": "5ms"} or {"mode":
 * "old", "check_interval": 100}, with "wakeup", and "checkpoints" (new) or
 * "jitter" (old). */
static bool parse_gil(struct loader *ld, const cJSON *item, const char *path, struct gil_config *out)
{
    memset(out, 0, sizeof *out);
    out->switch_interval = 5000000;
    out->check_interval = 100;
    if (cJSON_IsString(item) && strcmp(item->valuestring, "none") == 0)
        return true;
    static const char *const keys[] = {"mode", "switch_interval", "check_interval", "wakeup", "checkpoints", "jitter", NULL};
    if (!cJSON_IsObject(item))
        return ld_fail(ld, path, "expected \"none\" or an object like {\"mode\": \"new\", \"switch_interval\": \"5ms\"}");
    if (!check_keys(ld, item, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    const cJSON *mode = req(ld, item, path, "mode");
    if (!mode)
        return false;
    if (!cJSON_IsString(mode) || (strcmp(mode->valuestring, "new") && strcmp(mode->valuestring, "old") &&
                                  strcmp(mode->valuestring, "none")))
        return ld_fail(ld, CHILD(p, "mode"), "expected \"new\" (CPython 3.2+), \"old\" (CPython 2) or \"none\"");
    out->mode = strcmp(mode->valuestring, "new") == 0 ? GIL_NEW : strcmp(mode->valuestring, "old") == 0 ? GIL_OLD
                                                                                                       : GIL_NONE;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(item, "switch_interval"))) {
        if (out->mode != GIL_NEW)
            return ld_fail(ld, CHILD(p, "switch_interval"), "switch_interval belongs to the new GIL (mode \"new\")");
        if (!get_duration(ld, it, CHILD(p, "switch_interval"), &out->switch_interval))
            return false;
        if (out->switch_interval <= 0)
            return ld_fail(ld, CHILD(p, "switch_interval"), "the switch interval must be positive");
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(item, "check_interval"))) {
        int64_t v;
        if (out->mode != GIL_OLD)
            return ld_fail(ld, CHILD(p, "check_interval"), "check_interval belongs to the old GIL (mode \"old\")");
        if (!get_int(ld, it, CHILD(p, "check_interval"), INT64_MIN / 4, INT64_MAX / 4, &v))
            return false;
        if (v < 1 || v > 1000000)
            return ld_fail(ld, CHILD(p, "check_interval"),
                           "%lld is out of range: the check interval counts ticks (bytecodes), 1 to 1000000 "
                           "(CPython 2's sys.setcheckinterval default is 100)",
                           (long long)v);
        out->check_interval = (uint32_t)v;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(item, "wakeup"))) {
        if (!cJSON_IsString(it) || (strcmp(it->valuestring, "fifo") && strcmp(it->valuestring, "random")))
            return ld_fail(ld, CHILD(p, "wakeup"), "expected \"fifo\" or \"random\"");
        out->random_wakeup = strcmp(it->valuestring, "random") == 0;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(item, "checkpoints"))) {
        if (out->mode != GIL_NEW)
            return ld_fail(ld, CHILD(p, "checkpoints"),
                           "checkpoints belongs to the new GIL (mode \"new\"): the old GIL counts every bytecode");
        if (!cJSON_IsString(it) || (strcmp(it->valuestring, "bytecode") && strcmp(it->valuestring, "backedge")))
            return ld_fail(ld, CHILD(p, "checkpoints"),
                           "expected \"bytecode\" (every bytecode, CPython 3.9 and before) or \"backedge\" (loop back "
                           "edges and calls, CPython 3.10+)");
        out->backedge_checks = strcmp(it->valuestring, "backedge") == 0;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(item, "jitter"))) {
        if (out->mode != GIL_OLD)
            return ld_fail(ld, CHILD(p, "jitter"), "jitter belongs to the old GIL (mode \"old\")");
        if (!cJSON_IsBool(it))
            return ld_fail(ld, CHILD(p, "jitter"), "expected true or false, got %s", json_type_name(it));
        out->no_jitter = cJSON_IsFalse(it);
    }
    return true;
}

static bool parse_process_op(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx,
                             struct op *op)
{
    static const char *const keys[] = {"op", "name", "call", "args", "start_method", "gil", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct op_process *pr = &op->u.process;
    const cJSON *name = req(ld, obj, path, "name");
    if (!name || !get_name(ld, name, CHILD(p, "name"), &pr->name))
        return false;
    const cJSON *call = req(ld, obj, path, "call");
    if (!call || !get_function(ld, call, CHILD(p, "call"), &pr->fn))
        return false;
    if (!get_operand_list(ld, cJSON_GetObjectItemCaseSensitive(obj, "args"), CHILD(p, "args"), ctx->unit, &pr->nargs,
                          &pr->args))
        return false;
    const struct function *f = &ld->sc->functions[pr->fn];
    if (pr->nargs != f->nparams)
        return ld_fail(ld, CHILD(p, "args"), "function '%s' takes %u argument%s, not %u", f->name, f->nparams,
                       f->nparams == 1 ? "" : "s", pr->nargs);
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "start_method"))) {
        static const char *const methods[] = {"fork", "spawn", "forkserver"};
        int m = -1;
        for (int i = 0; i < 3; i++)
            if (cJSON_IsString(it) && strcmp(it->valuestring, methods[i]) == 0)
                m = i;
        if (m < 0)
            return ld_fail(ld, CHILD(p, "start_method"), "expected \"fork\", \"spawn\" or \"forkserver\"");
        pr->method = (enum start_method)m;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "gil"))) {
        if (!parse_gil(ld, it, CHILD(p, "gil"), &pr->gil))
            return false;
        pr->has_gil = true;
    }
    unit_note_call(ctx->unit, pr->fn, ctx->mult);
    ctx->unit->threads_local = sat_add(ctx->unit->threads_local, ctx->mult);
    return true;
}

/* join (with "process") and terminate: the process is found by name when the op runs. */
static bool parse_proc_ref(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    (void)ctx;
    static const char *const join_keys[] = {"op", "process", "timeout", NULL};
    static const char *const term_keys[] = {"op", "process", NULL};
    if (!check_keys(ld, obj, path, op->kind == OP_TERMINATE ? term_keys : join_keys))
        return false;
    char p[ERROR_PATH_MAX];
    op->u.proc.timeout = -1;
    const cJSON *name = req(ld, obj, path, "process");
    if (!name || !get_name(ld, name, CHILD(p, "process"), &op->u.proc.name))
        return false;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "timeout")) &&
        !get_duration(ld, it, CHILD(p, "timeout"), &op->u.proc.timeout))
        return false;
    return true;
}

static bool parse_let(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    static const char *const let_keys[] = {"op", "into", "value", NULL};
    static const char *const ret_keys[] = {"op", "value", NULL};
    bool let = op->kind == OP_LET;
    if (!check_keys(ld, obj, path, let ? let_keys : ret_keys))
        return false;
    char p[ERROR_PATH_MAX];
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(obj, "value");
    if (let && !value)
        return ld_fail(ld, path, "let needs \"into\" (a local) and \"value\"");
    if (value && !parse_value(ld, value, CHILD(p, "value"), ctx, &op->u.let.value))
        return false;
    if (!let)
        return true;
    const cJSON *into = req(ld, obj, path, "into");
    return into && parse_into(ld, into, CHILD(p, "into"), ctx, &op->u.let.into);
}

/* map: a pool of threads or processes calls a function once per item. */
static bool parse_map(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    static const char *const keys[] = {"op", "pool", "call", "over", "chunksize", "ordered", "into", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX], q[ERROR_PATH_MAX];
    struct op_map *m = &op->u.map;
    m->workers = 4;
    m->chunksize = 1;
    m->ordered = true;
    const cJSON *pool = req(ld, obj, path, "pool");
    if (!pool)
        return false;
    path_key(p, path, "pool");
    static const char *const pool_keys[] = {"kind", "workers", "start_method", NULL};
    if (!check_keys(ld, pool, p, pool_keys))
        return false;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(pool, "kind"))) {
        path_key(q, p, "kind");
        if (!cJSON_IsString(it) || (strcmp(it->valuestring, "thread") && strcmp(it->valuestring, "process")))
            return ld_fail(ld, q, "expected \"thread\" (ThreadPool) or \"process\" (multiprocessing.Pool)");
        m->process_pool = strcmp(it->valuestring, "process") == 0;
    }
    int64_t v;
    if ((it = cJSON_GetObjectItemCaseSensitive(pool, "workers"))) {
        path_key(q, p, "workers");
        if (!get_int(ld, it, q, 1, SCENARIO_MAX_POOL_WORKERS, &v))
            return false;
        m->workers = (uint32_t)v;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(pool, "start_method"))) {
        static const char *const methods[] = {"fork", "spawn", "forkserver"};
        int k = -1;
        for (int i = 0; i < 3; i++)
            if (cJSON_IsString(it) && strcmp(it->valuestring, methods[i]) == 0)
                k = i;
        path_key(q, p, "start_method");
        if (k < 0)
            return ld_fail(ld, q, "expected \"fork\", \"spawn\" or \"forkserver\"");
        m->method = (enum start_method)k;
    }
    const cJSON *call = req(ld, obj, path, "call");
    if (!call || !get_function(ld, call, CHILD(p, "call"), &m->fn))
        return false;
    if (ld->sc->functions[m->fn].nparams != 1)
        return ld_fail(ld, CHILD(p, "call"), "map calls its function with one item: '%s' must take one parameter",
                       ld->sc->functions[m->fn].name);
    unit_note_call(ctx->unit, m->fn, ctx->mult);
    ctx->unit->threads_local = sat_add(ctx->unit->threads_local, sat_mul(ctx->mult, m->workers));
    const cJSON *over = req(ld, obj, path, "over");
    if (!over)
        return false;
    path_key(p, path, "over");
    if (cJSON_IsObject(over)) {
        static const char *const over_keys[] = {"range", NULL};
        if (!check_keys(ld, over, p, over_keys))
            return false;
        const cJSON *range = req(ld, over, p, "range");
        if (!range)
            return false;
        path_key(q, p, "range");
        int64_t a, b;
        if (!cJSON_IsArray(range) || cJSON_GetArraySize(range) != 2)
            return ld_fail(ld, q, "expected [start, stop], like Python's range(start, stop)");
        if (!get_int(ld, cJSON_GetArrayItem(range, 0), q, INT64_MIN / 4, INT64_MAX / 4, &a) ||
            !get_int(ld, cJSON_GetArrayItem(range, 1), q, INT64_MIN / 4, INT64_MAX / 4, &b))
            return false;
        if (b - a > SCENARIO_MAX_MAP_ITEMS)
            return ld_fail(ld, q, "too many items (at most %d)", SCENARIO_MAX_MAP_ITEMS);
        m->nitems = b > a ? (uint32_t)(b - a) : 0;
        m->items = xcalloc(m->nitems ? m->nitems : 1, sizeof *m->items);
        for (uint32_t i = 0; i < m->nitems; i++)
            m->items[i] = a + i;
    } else if (cJSON_IsArray(over)) {
        int n = cJSON_GetArraySize(over);
        if (n > SCENARIO_MAX_MAP_ITEMS)
            return ld_fail(ld, p, "too many items (at most %d)", SCENARIO_MAX_MAP_ITEMS);
        m->nitems = (uint32_t)n;
        m->items = xcalloc(n ? (size_t)n : 1, sizeof *m->items);
        int i = 0;
        for (const cJSON *c = over->child; c; c = c->next, i++) {
            path_index(q, p, (size_t)i);
            if (!get_int(ld, c, q, INT64_MIN / 4, INT64_MAX / 4, &m->items[i]))
                return false;
        }
    } else {
        return ld_fail(ld, p, "expected a list of integers or {\"range\": [start, stop]}");
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "chunksize"))) {
        if (!get_int(ld, it, CHILD(p, "chunksize"), 1, SCENARIO_MAX_MAP_ITEMS, &v))
            return false;
        m->chunksize = (uint32_t)v;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "ordered")) && !get_bool(ld, it, CHILD(p, "ordered"), &m->ordered))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "into"))) {
        /* the results array: the whole array is named, its length must hold them */
        path_key(p, path, "into");
        if (!cJSON_IsString(it))
            return ld_fail(ld, p, "expected the name of an array variable");
        const struct scenario *sc = ld->sc;
        bool found = false;
        for (uint32_t i = 0; i < sc->nvars; i++) {
            const struct var_decl *vd = &sc->vars[i];
            if (strcmp(vd->name, it->valuestring) != 0)
                continue;
            if (vd->process >= 0 && ctx->unit->process >= 0 && vd->process != ctx->unit->process)
                continue;
            found = true;
            if (vd->length < m->nitems)
                return ld_fail(ld, p, "'%s' must be an array of at least %u elements to hold the results", vd->name,
                               m->nitems);
        }
        if (!found)
            return ld_fail(ld, p, "no array variable named '%.64s' here (declare it in memory or shared)",
                           it->valuestring);
        m->into.name = (uint32_t)intern(&ld->sc->var_names, &ld->sc->nvar_names, it->valuestring);
        m->has_into = true;
    }
    return true;
}

static const struct {
    const char *name;
    int signo;
} signal_names[] = {
    {"SIGHUP", SIG_HUP}, {"SIGINT", SIG_INT}, {"SIGUSR1", SIG_USR1},
    {"SIGUSR2", SIG_USR2}, {"SIGALRM", SIG_ALRM}, {"SIGTERM", SIG_TERM},
};

static int signal_number(const char *name)
{
    for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
        if (strcmp(signal_names[i].name, name) == 0)
            return signal_names[i].signo;
    return -1;
}

static bool parse_kill(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    (void)ctx;
    static const char *const kill_keys[] = {"op", "process", "signal", NULL};
    static const char *const alarm_keys[] = {"op", "after", NULL};
    char p[ERROR_PATH_MAX];
    if (op->kind == OP_ALARM) {
        if (!check_keys(ld, obj, path, alarm_keys))
            return false;
        const cJSON *after = req(ld, obj, path, "after");
        return after && get_duration(ld, after, CHILD(p, "after"), &op->u.signal.after);
    }
    if (!check_keys(ld, obj, path, kill_keys))
        return false;
    const cJSON *proc = req(ld, obj, path, "process");
    if (!proc || !get_name(ld, proc, CHILD(p, "process"), &op->u.signal.process))
        return false;
    const cJSON *sigv = req(ld, obj, path, "signal");
    if (!sigv)
        return false;
    if (!cJSON_IsString(sigv) || (op->u.signal.signo = signal_number(sigv->valuestring)) < 0)
        return ld_fail(ld, CHILD(p, "signal"), "expected a signal: SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGALRM or SIGTERM");
    return true;
}

struct op_spec {
    const char *name;
    enum op_kind kind;
    op_parse_fn parse;
};

static const struct op_spec op_specs[] = {
    {"compute", OP_COMPUTE, parse_compute},
    {"sleep", OP_SLEEP, parse_sleep},
    {"io", OP_IO, parse_sleep},
    {"repeat", OP_REPEAT, parse_repeat},
    {"call", OP_CALL, parse_call},
    {"print", OP_PRINT, parse_print},
    {"start", OP_START, parse_start},
    {"thread", OP_THREAD, parse_thread},
    {"join", OP_JOIN, parse_join},
    {"exit", OP_EXIT, parse_exit},
    {"acquire", OP_ACQUIRE, parse_obj_op},
    {"release", OP_RELEASE, parse_obj_op},
    {"with", OP_WITH, parse_obj_op},
    {"wait", OP_WAIT, parse_obj_op},
    {"wait_for", OP_WAIT_FOR, parse_obj_op},
    {"set", OP_VAR_SET, parse_set},
    {"clear", OP_EVENT_CLEAR, parse_obj_op},
    {"notify", OP_NOTIFY, parse_obj_op},
    {"notify_all", OP_NOTIFY_ALL, parse_obj_op},
    {"add", OP_ADD, parse_add},
    {"load", OP_LOAD, parse_load},
    {"if", OP_IF, parse_if},
    {"while", OP_WHILE, parse_while},
    {"put", OP_PUT, parse_data_op},
    {"get", OP_GET, parse_data_op},
    {"task_done", OP_TASK_DONE, parse_data_op},
    {"send", OP_SEND, parse_data_op},
    {"recv", OP_RECV, parse_data_op},
    {"close", OP_CLOSE, parse_data_op},
    {"process", OP_PROCESS, parse_process_op},
    {"terminate", OP_TERMINATE, parse_proc_ref},
    {"let", OP_LET, parse_let},
    {"return", OP_RETURN, parse_let},
    {"map", OP_MAP, parse_map},
    {"kill", OP_KILL, parse_kill},
    {"alarm", OP_ALARM, parse_kill},
};

/* Ops of the contract that later versions implement. */
static const char *const ops_not_yet[] = {NULL};

static bool parse_op(struct loader *ld, const cJSON *obj, const char *path, struct op_ctx *ctx, struct op *op)
{
    char p[ERROR_PATH_MAX];
    if (!cJSON_IsObject(obj))
        return ld_fail(ld, path, "expected an op (an object with \"op\"), got %s", json_type_name(obj));
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "op");
    if (!name)
        return ld_fail(ld, path, "missing required key 'op' (what the op does, such as \"compute\")");
    if (!cJSON_IsString(name))
        return ld_fail(ld, CHILD(p, "op"), "expected an op name (a string), got %s", json_type_name(name));
    op->path = xstrdup(path);
    for (size_t i = 0; i < sizeof op_specs / sizeof op_specs[0]; i++) {
        if (strcmp(op_specs[i].name, name->valuestring) == 0) {
            op->kind = op_specs[i].kind;
            return op_specs[i].parse(ld, obj, path, ctx, op);
        }
    }
    for (const char *const *n = ops_not_yet; *n; n++)
        if (strcmp(*n, name->valuestring) == 0)
            return ld_fail(ld, CHILD(p, "op"), "the op '%s' is not supported by this version of threadsim yet",
                           *n);
    char list[256] = "";
    for (size_t i = 0; i < sizeof op_specs / sizeof op_specs[0]; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", op_specs[i].name);
    }
    return ld_fail(ld, CHILD(p, "op"), "unknown op '%.64s' (known ops: %s)", name->valuestring, list);
}

static bool parse_block(struct loader *ld, const cJSON *arr, const char *path, struct op_ctx *ctx,
                        struct op_block *out)
{
    if (!cJSON_IsArray(arr))
        return ld_fail(ld, path, "expected an array of ops, got %s", json_type_name(arr));
    if (ctx->depth > SCENARIO_MAX_NEST)
        return ld_fail(ld, path, "ops nest deeper than %d levels", SCENARIO_MAX_NEST);
    struct scenario *sc = ld->sc;
    size_t count = (size_t)cJSON_GetArraySize(arr);
    if (sc->nops + count > SCENARIO_MAX_OPS)
        return ld_fail(ld, path, "the scenario has more than %d ops", SCENARIO_MAX_OPS);
    out->first = sc->nops;
    out->count = (uint32_t)count;
    if (count == 0)
        return true; /* sc->ops may still be NULL: no pointer arithmetic on it */
    sc->ops = xgrow(sc->ops, &ld->ops_cap, sc->nops + count, sizeof *sc->ops);
    if (count)
        memset(sc->ops + sc->nops, 0, count * sizeof *sc->ops);
    sc->nops += (uint32_t)count;
    size_t i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        char p[ERROR_PATH_MAX];
        path_index(p, path, i);
        struct op op;
        memset(&op, 0, sizeof op);
        ld->current_op = out->first + (uint32_t)i;
        bool ok = parse_op(ld, c, p, ctx, &op);
        if (ok && op.kind == OP_MAP) {
            /* the loop its pool workers run: one internal op after everything so far */
            sc->ops = xgrow(sc->ops, &ld->ops_cap, sc->nops + 1, sizeof *sc->ops);
            op.u.map.step_op = sc->nops;
            memset(&sc->ops[sc->nops], 0, sizeof sc->ops[0]);
            sc->ops[sc->nops].kind = OP_POOL_STEP;
            sc->ops[sc->nops].path = xstrdup(p);
            sc->nops++;
        }
        /* nested blocks may have moved the array: store through the index */
        sc->ops[out->first + i] = op;
        if (!ok)
            return false;
    }
    return true;
}

/* ---- top level ---- */

static bool parse_machine(struct loader *ld, const cJSON *obj, const char *path)
{
    static const char *const keys[] = {"cpus", "context_switch", "process_switch", "wakeup_latency", "profile",
                                       NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct machine *m = &ld->sc->machine;
    const cJSON *it;
    int64_t v;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "cpus"))) {
        if (!get_int(ld, it, CHILD(p, "cpus"), 1, SCENARIO_MAX_CPUS, &v))
            return false;
        m->cpus = (uint32_t)v;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "context_switch")) &&
        !get_duration(ld, it, CHILD(p, "context_switch"), &m->context_switch))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "process_switch")) &&
        !get_duration(ld, it, CHILD(p, "process_switch"), &m->process_switch))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "wakeup_latency")) &&
        !get_duration(ld, it, CHILD(p, "wakeup_latency"), &m->wakeup_latency))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "profile"))) {
        path_key(p, path, "profile");
        if (cJSON_IsObject(it)) {
            struct error perr;
            if (profile_from_json(&ld->sc->profile, it, p, &perr) != STATUS_OK)
                return ld_fail(ld, p, "%s", perr.msg);
            return true;
        }
        if (!cJSON_IsString(it) || !it->valuestring[0])
            return ld_fail(ld, p, "expected the path of a profile JSON file, or an object of profile values");
        const char *f = it->valuestring;
        char full[4096];
        if (f[0] != '/' && ld->dir && ld->dir[0])
            snprintf(full, sizeof full, "%s/%s", ld->dir, f);
        else
            snprintf(full, sizeof full, "%s", f);
        m->profile_path = xstrdup(full);
        struct error perr;
        if (profile_load_file(&ld->sc->profile, full, &perr) != STATUS_OK)
            return ld_fail(ld, p, "%s", perr.msg);
    }
    return true;
}

static bool parse_scheduler(struct loader *ld, const cJSON *obj, const char *path)
{
    static const char *const keys[] = {"policy", "quantum", "preemptive", "levels", "boost", "latency",
                                       "min_granularity", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct sched_config *s = &ld->sc->sched;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "policy"))) {
        if (!cJSON_IsString(it))
            return ld_fail(ld, CHILD(p, "policy"), "expected a policy name such as \"rr\", got %s",
                           json_type_name(it));
        if (strlen(it->valuestring) >= sizeof s->policy)
            return ld_fail(ld, CHILD(p, "policy"), "unknown policy '%.32s...'", it->valuestring);
        snprintf(s->policy, sizeof s->policy, "%s", it->valuestring);
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "quantum")) &&
        !get_duration(ld, it, CHILD(p, "quantum"), &s->quantum))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "preemptive")) &&
        !get_bool(ld, it, CHILD(p, "preemptive"), &s->preemptive))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "boost")) && !get_duration(ld, it, CHILD(p, "boost"), &s->boost))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "latency")) &&
        !get_duration(ld, it, CHILD(p, "latency"), &s->latency))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "min_granularity")) &&
        !get_duration(ld, it, CHILD(p, "min_granularity"), &s->min_granularity))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "levels"))) {
        path_key(p, path, "levels");
        if (!cJSON_IsArray(it))
            return ld_fail(ld, p, "expected an array of levels like [{\"quantum\": \"10ms\", \"allotment\": 1}]");
        int n = cJSON_GetArraySize(it);
        if (n < 1 || n > SCENARIO_MAX_MLFQ_LEVELS)
            return ld_fail(ld, p, "expected 1 to %d levels", SCENARIO_MAX_MLFQ_LEVELS);
        s->levels = xcalloc((size_t)n, sizeof *s->levels);
        s->nlevels = (uint32_t)n;
        int i = 0;
        for (const cJSON *lv = it->child; lv; lv = lv->next, i++) {
            static const char *const lkeys[] = {"quantum", "allotment", NULL};
            char lp[ERROR_PATH_MAX], q[ERROR_PATH_MAX];
            path_index(lp, p, (size_t)i);
            if (!check_keys(ld, lv, lp, lkeys))
                return false;
            const cJSON *qu = cJSON_GetObjectItemCaseSensitive(lv, "quantum");
            path_key(q, lp, "quantum");
            if (!qu)
                return ld_fail(ld, q, "each level needs a quantum such as \"10ms\"");
            if (!get_duration(ld, qu, q, &s->levels[i].quantum))
                return false;
            if (s->levels[i].quantum <= 0)
                return ld_fail(ld, q, "the quantum must be positive");
            s->levels[i].allotment = 1;
            const cJSON *al = cJSON_GetObjectItemCaseSensitive(lv, "allotment");
            int64_t a;
            path_key(q, lp, "allotment");
            if (al) {
                if (!get_int(ld, al, q, 1, 1000000, &a))
                    return false;
                s->levels[i].allotment = (uint32_t)a;
            }
        }
    }
    return true;
}

/* Fills ld->fn_threads: the threads created by one call of each function,
 * its thread ops and those of the functions it calls, weighted by repeats.
 * Recursion is cut at the nesting limit, where the run stops anyway. The
 * table is built level by level up from that limit, so a function calling
 * itself twice costs no more than one calling itself once (followed call by
 * call, that is 2^64 visits). */
static void fn_threads_compute(struct loader *ld)
{
    uint32_t n = ld->sc->nfunctions;
    uint64_t *below = xcalloc(n ? n : 1, sizeof *below); /* calls made one level deeper */
    uint64_t *here = xcalloc(n ? n : 1, sizeof *here);
    for (int depth = SCENARIO_MAX_NEST; depth >= 0; depth--) {
        for (uint32_t f = 0; f < n; f++) {
            const struct unit *u = &ld->fn_units[f];
            uint64_t total = u->threads_local;
            for (uint32_t i = 0; i < u->ncalls; i++)
                total = sat_add(total, sat_mul(u->call_mult[i], below[u->calls[i]]));
            here[f] = total;
        }
        uint64_t *t = below;
        below = here;
        here = t;
        if (n && memcmp(below, here, n * sizeof *here) == 0)
            break; /* no deeper level changes anything any more */
    }
    free(here);
    ld->fn_threads = below;
}

struct named {
    const char *name;
    uint32_t index;
};

static int cmp_named(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The index of the first name that repeats an earlier one, or -1: sorting
 * keeps this O(n log n) for scenarios with many threads or processes. */
static int64_t later_duplicate(const char *const *names, uint32_t n)
{
    struct named *v = xmalloc((n ? n : 1) * sizeof *v);
    for (uint32_t i = 0; i < n; i++) {
        v[i].name = names[i];
        v[i].index = i;
    }
    qsort(v, n, sizeof *v, cmp_named);
    int64_t found = -1;
    for (uint32_t i = 1; i < n; i++)
        if (strcmp(v[i].name, v[i - 1].name) == 0 && (found < 0 || v[i].index < found))
            found = v[i].index;
    free(v);
    return found;
}

static bool parse_thread_decl(struct loader *ld, const cJSON *obj, const char *path, uint32_t process)
{
    static const char *const keys[] = {"name", "autostart", "daemon", "priority", "program", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct scenario *sc = ld->sc;
    if (sc->nthreads >= SCENARIO_MAX_THREADS)
        return ld_fail(ld, path, "more than %d threads", SCENARIO_MAX_THREADS);
    sc->threads = xgrow(sc->threads, &ld->threads_cap, sc->nthreads + 1, sizeof *sc->threads);
    uint32_t idx = sc->nthreads++;
    struct thread_decl *td = &sc->threads[idx];
    memset(td, 0, sizeof *td);
    td->process = process;
    td->autostart = true;
    const cJSON *it = req(ld, obj, path, "name");
    if (!it || !get_name(ld, it, CHILD(p, "name"), &td->name))
        return false;

    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "autostart")) &&
        !get_bool(ld, it, CHILD(p, "autostart"), &td->autostart))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "daemon")) && !get_bool(ld, it, CHILD(p, "daemon"), &td->daemon))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "priority"))) {
        int64_t v;
        if (!get_int(ld, it, CHILD(p, "priority"), -1000000, 1000000, &v))
            return false;
        td->priority = (int32_t)v;
        td->has_priority = true;
    }
    const cJSON *prog = req(ld, obj, path, "program");
    if (!prog)
        return false;
    struct unit u;
    memset(&u, 0, sizeof u);
    u.process = (int32_t)process;
    struct op_ctx ctx = {.unit = &u, .depth = 0, .mult = 1};
    struct op_block b;
    bool ok = parse_block(ld, prog, CHILD(p, "program"), &ctx, &b);
    /* the program may have grown the threads array: re-fetch */
    td = &sc->threads[idx];
    td->program = b;
    td->nlocals = u.n;
    td->local_names = u.names;
    if (ok) {
        /* threads this program creates: its own thread ops plus those of the functions it calls */
        uint64_t total = u.threads_local;
        for (uint32_t i = 0; i < u.ncalls; i++)
            total = sat_add(total, sat_mul(u.call_mult[i], ld->fn_threads[u.calls[i]]));
        if (total > SCENARIO_MAX_THREADS)
            ok = ld_fail(ld, CHILD(p, "program"),
                         "this program would create about %llu threads; the limit is %d",
                         (unsigned long long)total, SCENARIO_MAX_THREADS);
    }
    unit_free(&u);
    return ok;
}

/* "handlers": {"SIGUSR1": [ops], ...}: each runs in the process's main thread. */
static bool parse_handlers(struct loader *ld, const cJSON *obj, const char *path, uint32_t idx)
{
    if (!cJSON_IsObject(obj))
        return ld_fail(ld, path, "expected an object of signal handlers like {\"SIGUSR1\": [ops]}, got %s",
                       json_type_name(obj));
    struct scenario *sc = ld->sc;
    char p[ERROR_PATH_MAX];
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (strncmp(c->string, "x-", 2) == 0)
            continue;
        path_key(p, path, c->string);
        int signo = signal_number(c->string);
        if (signo < 0)
            return ld_fail(ld, p, "unknown signal '%.32s' (SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM)", c->string);
        struct process_decl *pd = &sc->processes[idx];
        for (uint32_t h = 0; h < pd->nhandlers; h++)
            if (pd->handlers[h].signo == signo)
                return ld_fail(ld, p, "a second handler for %s", c->string);
        struct unit u;
        memset(&u, 0, sizeof u);
        u.process = (int32_t)idx;
        struct op_ctx ctx = {.unit = &u, .depth = 0, .mult = 1};
        struct op_block b;
        bool ok = parse_block(ld, c, p, &ctx, &b);
        pd = &sc->processes[idx];
        pd->handlers = xrealloc(pd->handlers, (pd->nhandlers + 1) * sizeof *pd->handlers);
        struct handler *h = &pd->handlers[pd->nhandlers++];
        h->signo = signo;
        h->body = b;
        h->nlocals = u.n;
        h->local_names = u.names;
        unit_free(&u);
        if (!ok)
            return false;
    }
    return true;
}

static bool parse_process(struct loader *ld, const cJSON *obj, const char *path, uint32_t idx)
{
    static const char *const keys[] = {"name", "arrival", "priority", "nice", "gil", "memory", "objects",
                                       "handlers", "threads", NULL};
    if (!check_keys(ld, obj, path, keys))
        return false;
    char p[ERROR_PATH_MAX];
    struct scenario *sc = ld->sc;
    struct process_decl *pd = &sc->processes[idx];
    const cJSON *it = req(ld, obj, path, "name");
    if (!it || !get_name(ld, it, CHILD(p, "name"), &pd->name))
        return false;

    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "arrival")) && !get_duration(ld, it, CHILD(p, "arrival"), &pd->arrival))
        return false;
    int64_t v;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "priority"))) {
        if (!get_int(ld, it, CHILD(p, "priority"), -1000000, 1000000, &v))
            return false;
        pd->priority = (int32_t)v;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "nice"))) {
        if (!get_int(ld, it, CHILD(p, "nice"), -20, 19, &v))
            return false;
        pd->nice = (int32_t)v;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "gil")) && !parse_gil(ld, it, CHILD(p, "gil"), &pd->gil))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(obj, "handlers")) && !parse_handlers(ld, it, CHILD(p, "handlers"), idx))
        return false;
    const cJSON *threads = req(ld, obj, path, "threads");
    if (!threads)
        return false;
    path_key(p, path, "threads");
    if (!cJSON_IsArray(threads) || cJSON_GetArraySize(threads) < 1)
        return ld_fail(ld, p, "expected an array of at least one thread");
    pd->first_thread = sc->nthreads;
    size_t i = 0;
    for (const cJSON *t = threads->child; t; t = t->next, i++) {
        char q[ERROR_PATH_MAX];
        path_index(q, p, i);
        pd = &sc->processes[idx];
        pd->nthreads = sc->nthreads - pd->first_thread;
        if (!parse_thread_decl(ld, t, q, idx))
            return false;
    }
    struct process_decl *done = &sc->processes[idx];
    done->nthreads = sc->nthreads - done->first_thread;
    const char **names = xmalloc((done->nthreads ? done->nthreads : 1) * sizeof *names);
    for (uint32_t k = 0; k < done->nthreads; k++)
        names[k] = sc->threads[done->first_thread + k].name;
    int64_t dup = later_duplicate(names, done->nthreads);
    free(names);
    if (dup >= 0) {
        char q[ERROR_PATH_MAX], r[ERROR_PATH_MAX];
        path_index(q, p, (size_t)dup);
        path_key(r, q, "name");
        return ld_fail(ld, r, "process '%s' already has a thread named '%s'", done->name,
                       sc->threads[done->first_thread + dup].name);
    }
    return true;
}

static bool parse_functions(struct loader *ld, const cJSON *obj)
{
    const char *path = "functions";
    if (!cJSON_IsObject(obj))
        return ld_fail(ld, path, "expected an object of functions, got %s", json_type_name(obj));
    static const char *const none[] = {NULL};
    /* check_keys with an empty list would reject every name: check duplicates only */
    (void)none;
    struct scenario *sc = ld->sc;
    uint32_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    if (n > 100000)
        return ld_fail(ld, path, "too many functions (at most 100000)");
    sc->functions = xcalloc(n ? n : 1, sizeof *sc->functions);
    ld->fn_units = xcalloc(n ? n : 1, sizeof *ld->fn_units);
    char p[ERROR_PATH_MAX];
    /* names first, so calls can refer to functions declared later */
    for (const cJSON *c = obj->child; c; c = c->next) {
        path_key(p, path, c->string);
        if (!valid_name(c->string))
            return ld_fail(ld, p, "'%.64s' is not a valid function name", c->string);
        if (function_index(sc, c->string) >= 0)
            return ld_fail(ld, p, "the function '%s' is declared twice", c->string);
        sc->functions[sc->nfunctions++].name = xstrdup(c->string);
    }
    uint32_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next, i++) {
        static const char *const keys[] = {"params", "body", NULL};
        path_key(p, path, c->string);
        if (!check_keys(ld, c, p, keys))
            return false;
        struct unit *u = &ld->fn_units[i];
        u->process = -1;
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(c, "params");
        char q[ERROR_PATH_MAX];
        if (params) {
            path_key(q, p, "params");
            if (!cJSON_IsArray(params))
                return ld_fail(ld, q, "expected an array of parameter names, got %s", json_type_name(params));
            size_t k = 0;
            for (const cJSON *pa = params->child; pa; pa = pa->next, k++) {
                char r[ERROR_PATH_MAX];
                char *name;
                path_index(r, q, k);
                if (!get_name(ld, pa, r, &name))
                    return false;
                bool ok = unit_add(ld, u, name, r);
                free(name);
                if (!ok)
                    return false;
            }
        }
        sc->functions[i].nparams = u->n;
        const cJSON *body = req(ld, c, p, "body");
        if (!body)
            return false;
        struct op_ctx ctx = {.unit = u, .depth = 0, .mult = 1};
        struct op_block b;
        path_key(q, p, "body");
        bool ok = parse_block(ld, body, q, &ctx, &b);
        sc->functions[i].body = b;
        sc->functions[i].nlocals = u->n;
        sc->functions[i].local_names = u->names;
        u->names = NULL;
        if (!ok)
            return false;
    }
    return true;
}

/* Resolves the thread names of start and join ops once every thread and
 * thread op is known. */
static bool resolve_names(struct loader *ld)
{
    struct scenario *sc = ld->sc;
    for (size_t i = 0; i < ld->npending; i++) {
        const struct pending_name *pn = &ld->pending[i];
        struct op *op = &sc->ops[pn->op];
        const char *name = op->kind == OP_START ? op->u.start.name : op->u.join.name;
        int32_t found = -1;
        bool ambiguous = false;
        if (pn->process >= 0) {
            found = scenario_find_thread(sc, (uint32_t)pn->process, name);
        } else {
            for (uint32_t t = 0; t < sc->nthreads; t++) {
                if (strcmp(sc->threads[t].name, name) != 0)
                    continue;
                ambiguous |= found >= 0;
                found = (int32_t)t;
            }
        }
        bool created = false;
        for (size_t k = 0; k < ld->nthread_op_names; k++)
            created |= strcmp(ld->thread_op_names[k], name) == 0;
        if (op->kind == OP_START) {
            if (found < 0)
                return ld_fail(ld, pn->path,
                               created ? "'%s' is created by a thread op, which starts it already: start is "
                                         "for declared threads with \"autostart\": false"
                                       : "no declared thread named '%s' to start in this process",
                               name);
            if (ambiguous)
                return ld_fail(ld, pn->path, "several processes declare a thread named '%s': start it from "
                                             "that process's own program", name);
            if (sc->threads[found].autostart)
                return ld_fail(ld, pn->path, "thread '%s' starts by itself (\"autostart\" is true): set "
                                             "\"autostart\": false to start it with this op", name);
            op->u.start.thread = (uint32_t)found;
            continue;
        }
        if (found >= 0 && !ambiguous) {
            op->u.join.thread = found;
            continue;
        }
        if (created || ambiguous)
            continue;
        char known[256] = "";
        if (pn->process >= 0) {
            const struct process_decl *pd = &sc->processes[pn->process];
            for (uint32_t t = pd->first_thread; t < pd->first_thread + pd->nthreads; t++) {
                size_t len = strlen(known);
                snprintf(known + len, sizeof known - len, "%s%s", len ? ", " : "", sc->threads[t].name);
            }
        }
        for (size_t k = 0; k < ld->nthread_op_names; k++) {
            size_t len = strlen(known);
            snprintf(known + len, sizeof known - len, "%s%s", len ? ", " : "", ld->thread_op_names[k]);
        }
        return ld_fail(ld, pn->path, "join of a thread that does not exist: no thread is named '%s' (threads: %s)",
                       name, known[0] ? known : "none");
    }
    return true;
}

/* ---- object and memory declarations ---- */

/* One entry of an "objects" or "memory" block: a valid name, not declared
 * twice in the block, within the limit of declarations. */
static bool check_declared_name(struct loader *ld, const char *name, const char *path, const char *what, bool taken,
                                uint32_t count)
{
    if (!valid_name(name))
        return ld_fail(ld, path, "'%.64s' is not a valid %s name", name, what);
    if (taken)
        return ld_fail(ld, path, "the %s '%s' is declared twice", what, name);
    if (count >= 100000)
        return ld_fail(ld, path, "too many %ss (at most 100000)", what);
    return true;
}

static bool parse_objects(struct loader *ld, const cJSON *obj, const char *path, int32_t process)
{
    if (!cJSON_IsObject(obj))
        return ld_fail(ld, path, "expected an object of named objects, got %s", json_type_name(obj));
    struct scenario *sc = ld->sc;
    char p[ERROR_PATH_MAX], q[ERROR_PATH_MAX];
    uint32_t first = sc->nobjects;
    for (const cJSON *c = obj->child; c; c = c->next) {
        path_key(p, path, c->string);
        if (strncmp(c->string, "x-", 2) == 0)
            continue;
        bool taken = false;
        for (uint32_t i = first; i < sc->nobjects; i++)
            taken |= strcmp(sc->objects[i].name, c->string) == 0;
        if (!check_declared_name(ld, c->string, p, "object", taken, sc->nobjects))
            return false;
        if (!cJSON_IsObject(c))
            return ld_fail(ld, p, "expected an object like {\"type\": \"lock\"}, got %s", json_type_name(c));
        const cJSON *type = req(ld, c, p, "type");
        if (!type)
            return false;
        path_key(q, p, "type");
        if (!cJSON_IsString(type))
            return ld_fail(ld, q, "expected an object type (a string), got %s", json_type_name(type));
        int t = -1;
        for (int i = 0; i < OBJ_TYPE_COUNT; i++)
            if (strcmp(scenario_object_type_name(i), type->valuestring) == 0)
                t = i;
        if (t < 0)
            return ld_fail(ld, q, "unknown object type '%.64s' (known: lock, rlock, semaphore, bounded_semaphore, "
                                  "event, condition, barrier, queue, mp_queue, pipe)", type->valuestring);
        static const char *const lock_keys[] = {"type", NULL};
        static const char *const sem_keys[] = {"type", "value", NULL};
        static const char *const cond_keys[] = {"type", "lock", NULL};
        static const char *const barrier_keys[] = {"type", "parties", "timeout", NULL};
        static const char *const queue_keys[] = {"type", "maxsize", "kind", NULL};
        static const char *const mpq_keys[] = {"type", "maxsize", NULL};
        static const char *const pipe_keys[] = {"type", "capacity", "duplex", NULL};
        const char *const *keys = lock_keys;
        if (t == OBJ_QUEUE)
            keys = queue_keys;
        else if (t == OBJ_MP_QUEUE)
            keys = mpq_keys;
        else if (t == OBJ_PIPE)
            keys = pipe_keys;
        else if (t == OBJ_SEMAPHORE || t == OBJ_BOUNDED_SEMAPHORE)
            keys = sem_keys;
        else if (t == OBJ_CONDITION)
            keys = cond_keys;
        else if (t == OBJ_BARRIER)
            keys = barrier_keys;
        if (!check_keys(ld, c, p, keys))
            return false;
        sc->objects = xrealloc(sc->objects, (sc->nobjects + 1) * sizeof *sc->objects);
        struct object_decl *o = &sc->objects[sc->nobjects++];
        memset(o, 0, sizeof *o);
        o->name = xstrdup(c->string);
        o->path = xstrdup(p);
        o->type = (enum object_type)t;
        o->process = process;
        o->value = 1;
        o->timeout = -1;
        o->lock = NONE;
        o->capacity = 65536;
        o->duplex = true;
        intern_add(&sc->obj_names, &sc->nobj_names, o->name);
        const cJSON *it;
        if ((it = cJSON_GetObjectItemCaseSensitive(c, "maxsize")) &&
            !get_int(ld, it, (path_key(q, p, "maxsize"), q), 0, SCENARIO_MAX_QUEUE_ITEMS, &o->maxsize))
            return false;
        if ((it = cJSON_GetObjectItemCaseSensitive(c, "kind"))) {
            static const char *const kinds[] = {"fifo", "lifo", "priority"};
            path_key(q, p, "kind");
            int k = -1;
            for (int i = 0; i < 3; i++)
                if (cJSON_IsString(it) && strcmp(it->valuestring, kinds[i]) == 0)
                    k = i;
            if (k < 0)
                return ld_fail(ld, q, "expected \"fifo\", \"lifo\" or \"priority\"");
            o->order = (enum queue_order)k;
        }
        if ((it = cJSON_GetObjectItemCaseSensitive(c, "capacity")) &&
            !get_size(ld, it, (path_key(q, p, "capacity"), q), 1, 1LL << 30, &o->capacity))
            return false;
        if ((it = cJSON_GetObjectItemCaseSensitive(c, "duplex")) &&
            !get_bool(ld, it, (path_key(q, p, "duplex"), q), &o->duplex))
            return false;
        if ((it = cJSON_GetObjectItemCaseSensitive(c, "value")) &&
            !get_int(ld, it, (path_key(q, p, "value"), q), 0, 1000000000, &o->value))
            return false;
        if (t == OBJ_BARRIER) {
            it = req(ld, c, p, "parties");
            if (!it || !get_int(ld, it, (path_key(q, p, "parties"), q), 1, 1000000, &o->parties))
                return false;
            if ((it = cJSON_GetObjectItemCaseSensitive(c, "timeout")) &&
                !get_duration(ld, it, (path_key(q, p, "timeout"), q), &o->timeout))
                return false;
        }
    }
    /* a condition's lock: an object of this same declaration block */
    uint32_t i = first;
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (strncmp(c->string, "x-", 2) == 0)
            continue;
        struct object_decl *o = &sc->objects[i++];
        if (o->type != OBJ_CONDITION)
            continue;
        path_key(p, path, c->string);
        const cJSON *lock = cJSON_GetObjectItemCaseSensitive(c, "lock");
        if (!lock)
            return ld_fail(ld, p, "a condition needs its lock: add \"lock\": \"NAME\" naming a lock or rlock declared "
                                  "next to it");
        path_key(q, p, "lock");
        if (!cJSON_IsString(lock))
            return ld_fail(ld, q, "expected the name of a lock, got %s", json_type_name(lock));
        for (uint32_t k = first; k < sc->nobjects; k++)
            if (strcmp(sc->objects[k].name, lock->valuestring) == 0)
                o->lock = k;
        if (o->lock == NONE)
            return ld_fail(ld, q, "no lock named '%.64s' is declared in the same \"objects\"", lock->valuestring);
        enum object_type lt = sc->objects[o->lock].type;
        if (lt != OBJ_LOCK && lt != OBJ_RLOCK)
            return ld_fail(ld, q, "'%s' is of type %s: a condition's lock must be a lock or an rlock", lock->valuestring,
                           scenario_object_type_name(lt));
    }
    return true;
}

static bool parse_memory(struct loader *ld, const cJSON *obj, const char *path, int32_t process)
{
    if (!cJSON_IsObject(obj))
        return ld_fail(ld, path, "expected an object of variables like {\"balance\": 10, \"items\": [0, 0]}, got %s",
                       json_type_name(obj));
    struct scenario *sc = ld->sc;
    char p[ERROR_PATH_MAX], q[ERROR_PATH_MAX];
    uint32_t first = sc->nvars;
    for (const cJSON *c = obj->child; c; c = c->next) {
        path_key(p, path, c->string);
        if (strncmp(c->string, "x-", 2) == 0)
            continue;
        bool taken = false;
        for (uint32_t i = first; i < sc->nvars; i++)
            taken |= strcmp(sc->vars[i].name, c->string) == 0;
        if (!check_declared_name(ld, c->string, p, "variable", taken, sc->nvars))
            return false;
        int64_t *init;
        uint32_t length = 0;
        if (cJSON_IsArray(c)) {
            int n = cJSON_GetArraySize(c);
            if (n < 1 || n > 1000000)
                return ld_fail(ld, p, "an array has 1 to 1000000 elements");
            length = (uint32_t)n;
            init = xcalloc((size_t)n, sizeof *init);
            int k = 0;
            for (const cJSON *e = c->child; e; e = e->next, k++) {
                path_index(q, p, (size_t)k);
                if (!get_int(ld, e, q, INT64_MIN / 4, INT64_MAX / 4, &init[k])) {
                    free(init);
                    return false;
                }
            }
        } else {
            init = xcalloc(1, sizeof *init);
            if (!get_int(ld, c, p, INT64_MIN / 4, INT64_MAX / 4, &init[0])) {
                free(init);
                return false;
            }
        }
        sc->vars = xrealloc(sc->vars, (sc->nvars + 1) * sizeof *sc->vars);
        struct var_decl *v = &sc->vars[sc->nvars++];
        v->name = xstrdup(c->string);
        v->process = process;
        v->length = length;
        v->init = init;
        intern_add(&sc->var_names, &sc->nvar_names, v->name);
    }
    return true;
}

/* Declarations come before code: every process's objects and memory are
 * read first so ops can be checked against them. */
static bool parse_declarations(struct loader *ld, const cJSON *root)
{
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "objects")) && !parse_objects(ld, it, "objects", -1))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "shared")) && !parse_memory(ld, it, "shared", -1))
        return false;
    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(root, "processes");
    if (!cJSON_IsArray(procs))
        return true;
    size_t i = 0;
    for (const cJSON *pr = procs->child; pr; pr = pr->next, i++) {
        char p[ERROR_PATH_MAX], q[ERROR_PATH_MAX];
        path_index(p, "processes", i);
        if (!cJSON_IsObject(pr))
            continue;
        if ((it = cJSON_GetObjectItemCaseSensitive(pr, "objects")) &&
            !parse_objects(ld, it, (path_key(q, p, "objects"), q), (int32_t)i))
            return false;
        if ((it = cJSON_GetObjectItemCaseSensitive(pr, "memory")) &&
            !parse_memory(ld, it, (path_key(q, p, "memory"), q), (int32_t)i))
            return false;
    }
    return true;
}

static bool parse_top(struct loader *ld, const cJSON *root, const char *origin)
{
    static const char *const keys[] = {"name", "description", "seed", "machine", "scheduler", "objects",
                                       "shared", "functions", "processes", NULL};
    if (!cJSON_IsObject(root))
        return ld_fail(ld, "", "a scenario is a JSON object, got %s", json_type_name(root));
    if (!check_keys(ld, root, "", keys))
        return false;
    struct scenario *sc = ld->sc;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "name"))) {
        if (!cJSON_IsString(it))
            return ld_fail(ld, "name", "expected a string, got %s", json_type_name(it));
        if (strlen(it->valuestring) > 256)
            return ld_fail(ld, "name", "the name is longer than 256 bytes");
        sc->name = xstrdup(it->valuestring);
    } else {
        const char *base = strrchr(origin, '/');
        base = base ? base + 1 : origin;
        sc->name = xstrdup(base);
        size_t n = strlen(sc->name);
        if (n > 5 && strcmp(sc->name + n - 5, ".json") == 0)
            sc->name[n - 5] = '\0';
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "description"))) {
        if (!cJSON_IsString(it))
            return ld_fail(ld, "description", "expected a string, got %s", json_type_name(it));
        if (strlen(it->valuestring) > 16384)
            return ld_fail(ld, "description", "the description is longer than 16384 bytes");
        sc->description = xstrdup(it->valuestring);
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "seed"))) {
        int64_t v;
        if (!get_int(ld, it, "seed", 0, INT64_MAX / 2, &v))
            return false;
        sc->seed = (uint64_t)v;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "machine")) && !parse_machine(ld, it, "machine"))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "scheduler")) && !parse_scheduler(ld, it, "scheduler"))
        return false;
    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(root, "processes");
    if (!procs)
        return ld_fail(ld, "processes", "missing required key 'processes' (the list of processes to run)");
    if (!cJSON_IsArray(procs) || cJSON_GetArraySize(procs) < 1)
        return ld_fail(ld, "processes", "expected an array of at least one process");
    int n = cJSON_GetArraySize(procs);
    if (n > SCENARIO_MAX_PROCESSES)
        return ld_fail(ld, "processes", "more than %d processes", SCENARIO_MAX_PROCESSES);
    sc->processes = xcalloc((size_t)n, sizeof *sc->processes);
    if (!parse_declarations(ld, root))
        return false;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "functions")) && !parse_functions(ld, it))
        return false;
    fn_threads_compute(ld);
    size_t i = 0;
    for (const cJSON *p = procs->child; p; p = p->next, i++) {
        char q[ERROR_PATH_MAX];
        path_index(q, "processes", i);
        sc->nprocesses = (uint32_t)i + 1;
        if (!parse_process(ld, p, q, (uint32_t)i))
            return false;
    }
    const char **pnames = xmalloc((size_t)n * sizeof *pnames);
    for (uint32_t k = 0; k < sc->nprocesses; k++)
        pnames[k] = sc->processes[k].name;
    int64_t dup = later_duplicate(pnames, sc->nprocesses);
    free(pnames);
    if (dup >= 0) {
        char q[ERROR_PATH_MAX], r[ERROR_PATH_MAX];
        path_index(q, "processes", (size_t)dup);
        path_key(r, q, "name");
        return ld_fail(ld, r, "there is already a process named '%s'", sc->processes[dup].name);
    }
    return resolve_names(ld);
}

/* Line and column (1-based) of byte offset off in buf. */
static void line_col(const char *buf, size_t len, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* cJSON reports an error past the end of the text at its last byte, so a
 * text cut short and one whose last byte is wrong look alike: parse it again
 * with one more byte, and if the error moves onto that byte, the text ended
 * too early. */
static bool json_truncated(const char *buf, size_t len, size_t off)
{
    if (off + 1 < len)
        return false;
    char *longer = xmalloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = ' ';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(longer, len + 1, &end, false);
    bool moved = !root && end && (size_t)(end - longer) >= len;
    cJSON_Delete(root);
    free(longer);
    return moved;
}

/* Length of the excerpt of buf shown from off in a syntax error: at most 16
 * bytes, within the buffer (which need not be NUL-terminated) and within
 * its line, so the message stays on one line. */
static int excerpt_len(const char *buf, size_t len, size_t off)
{
    int n = 0;
    while (off + (size_t)n < len && n < 16 && buf[off + (size_t)n] != '\n' && buf[off + (size_t)n] != '\r' &&
           buf[off + (size_t)n] != '\0')
        n++;
    return n;
}

static void loader_deinit(struct loader *ld)
{
    if (ld->fn_units) {
        for (uint32_t i = 0; i < ld->sc->nfunctions; i++) {
            struct unit *u = &ld->fn_units[i];
            for (uint32_t k = 0; u->names && k < u->n; k++)
                free(u->names[k]);
            free(u->names);
            unit_free(u);
        }
        free(ld->fn_units);
    }
    free(ld->fn_threads);
    free(ld->pending);
    free(ld->thread_op_names);
}

static struct scenario *load(const char *buf, size_t len, const char *origin, const char *dir, struct error *err)
{
    error_clear(err);
    struct scenario *sc = xcalloc(1, sizeof *sc);
    sc->machine.cpus = 1;
    sc->sched.preemptive = true;
    sc->sched.latency = 6000000;
    sc->sched.min_granularity = 750000;
    snprintf(sc->sched.policy, sizeof sc->sched.policy, "fifo");
    profile_builtin(&sc->profile);
    struct loader ld = {.sc = sc, .err = err, .dir = dir};
    size_t skip = 0;
    while (skip < len && isspace((unsigned char)buf[skip]))
        skip++;
    if (skip == len) {
        error_set(err, STATUS_BAD_INPUT, "", "the file is empty: a scenario is a JSON object");
        scenario_destroy(sc);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
    if (!root) {
        size_t off = end && end >= buf ? (size_t)(end - buf) : len;
        const char *e = cJSON_GetErrorPtr();
        if (e && e >= buf && e <= buf + len)
            off = (size_t)(e - buf);
        int line, col;
        bool truncated = json_truncated(buf, len, off);
        line_col(buf, len, truncated ? len : off, &line, &col);
        int n = excerpt_len(buf, len, off);
        if (truncated)
            error_set(err, STATUS_BAD_INPUT, "", "JSON syntax error: the file ends too early (truncated?)");
        else if (n == 0) {
            /* cJSON points past the offending token, at the end of the line:
             * show what the line ends with */
            size_t start = off;
            while (start > 0 && off - start < 16 && buf[start - 1] != '\n')
                start--;
            while (start < off && isspace((unsigned char)buf[start]))
                start++;
            error_set(err, STATUS_BAD_INPUT, "", "JSON syntax error at the end of the line, after '%.*s'",
                      (int)(off - start), buf + start);
        }
        else
            error_set(err, STATUS_BAD_INPUT, "", "JSON syntax error near '%.*s'", n, buf + off);
        err->line = line;
        err->column = col;
        scenario_destroy(sc);
        return NULL;
    }
    size_t off = end ? (size_t)(end - buf) : len;
    while (off < len && isspace((unsigned char)buf[off]))
        off++;
    bool ok;
    if (off < len && buf[off] != '\0') {
        int line, col;
        line_col(buf, len, off, &line, &col);
        ok = ld_fail(&ld, "", "JSON syntax error: unexpected text after the scenario object");
        err->line = line;
        err->column = col;
    } else {
        ok = parse_top(&ld, root, origin);
    }
    cJSON_Delete(root);
    loader_deinit(&ld);
    if (!ok) {
        scenario_destroy(sc);
        return NULL;
    }
    return sc;
}

struct scenario *scenario_load_buffer(const char *buf, size_t len, const char *origin, struct error *err)
{
    struct error scratch;
    if (!err)
        err = &scratch;
    return load(buf, len, origin ? origin : "scenario", NULL, err);
}

/* Reads a whole file (at most LOAD_MAX_FILE bytes) into a new buffer. */
static char *read_file(const char *path, size_t *len, struct error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_set(err, STATUS_BAD_INPUT, NULL, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        error_set(err, STATUS_BAD_INPUT, NULL, "%s is a directory, not a scenario file", path);
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= LOAD_MAX_FILE) {
                free(buf);
                fclose(f);
                error_set(err, STATUS_BAD_INPUT, NULL, "%s is larger than %u MiB", path, LOAD_MAX_FILE >> 20);
                return NULL;
            }
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        error_set(err, STATUS_BAD_INPUT, NULL, "cannot read %s", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

struct scenario *scenario_load_file(const char *path, struct error *err)
{
    struct error scratch;
    if (!err)
        err = &scratch;
    size_t len;
    error_clear(err);
    char *buf = read_file(path, &len, err);
    if (!buf)
        return NULL;
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        dir[0] = '\0';
    struct scenario *sc = load(buf, len, path, dir, err);
    free(dir);
    free(buf);
    return sc;
}

/* Reads profile keys from a JSON object over the values already in p; errors
 * name `origin` (a file or a JSON path). */
static enum status profile_from_json(struct profile *p, const cJSON *obj, const char *origin, struct error *err)
{
    if (!cJSON_IsObject(obj))
        return error_set(err, STATUS_BAD_INPUT, NULL, "%s: a profile is a JSON object, got %s", origin,
                         json_type_name(obj));
    /* each key, where it goes, and what it takes: REAL a positive number,
     * REAL0 a non-negative one, NS a non-negative number of ns */
#define REAL(k) {#k, &p->k, NULL, false}
#define REAL0(k) {#k, &p->k, NULL, true}
#define NS(k) {#k, NULL, &p->k, true}
    struct {
        const char *key;
        double *real;
        int64_t *ns;
        bool zero_ok;
    } fields[] = {
        REAL(count_ns_per_iter),
        REAL(count_bytecodes_per_iter),
        REAL(primes_ns_per_division),
        REAL0(primes_ns_per_number),
        REAL(primes_bytecodes_per_division),
        REAL(spin_ns_per_ns),
        NS(thread_start_ns),
        NS(add_ns),
        NS(acquire_ns),
        NS(release_ns),
        NS(queue_op_ns),
        NS(pipe_op_ns),
        REAL(pipe_ns_per_byte),
        REAL(pickle_ns_per_byte),
        NS(mp_queue_latency_ns),
        NS(fork_parent_ns),
        NS(fork_child_ns),
        NS(spawn_parent_ns),
        NS(spawn_child_ns),
        NS(forkserver_parent_ns),
        NS(forkserver_child_ns),
        NS(forkserver_start_ns),
        NS(gil_signal_ns),
        NS(gil_wake_ns),
        NS(gil_check_ns),
        NS(context_switch_ns),
        NS(process_switch_ns),
        NS(wakeup_latency_ns),
        NS(process_start_ns),
        NS(timer_latency_ns),
        NS(compute_op_ns),
        NS(add_contended_ns),
        NS(thread_start_latency_ns),
        NS(thread_exit_ns),
        NS(thread_boot_ns),
        NS(process_exit_ns),
        NS(wake_ns),
        NS(wake_early_ns),
        NS(wake_settle_ns),
        NS(futex_race_ns),
        NS(idle_wake_ns),
        NS(idle_poll_ns),
        NS(idle_kick_ns),
    };
#undef REAL
#undef REAL0
#undef NS
    /* keys whose value is one of a few names */
    static const char *const handoff_names[] = {[LOCK_HANDOFF_FIFO] = "fifo", [LOCK_HANDOFF_BARGING] = "barging"};
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (strncmp(c->string, "x-", 2) == 0)
            continue;
        if (strcmp(c->string, "name") == 0) {
            if (!cJSON_IsString(c))
                return error_set(err, STATUS_BAD_INPUT, NULL, "%s: 'name' must be a string", origin);
            snprintf(p->name, sizeof p->name, "%s", c->valuestring);
            continue;
        }
        if (strcmp(c->string, "lock_handoff") == 0) {
            size_t n = sizeof handoff_names / sizeof handoff_names[0];
            size_t k = 0;
            while (k < n && !(cJSON_IsString(c) && strcmp(c->valuestring, handoff_names[k]) == 0))
                k++;
            if (k == n)
                return error_set(err, STATUS_BAD_INPUT, NULL, "%s: 'lock_handoff' must be \"fifo\" or \"barging\"",
                                 origin);
            p->lock_handoff = (enum lock_handoff)k;
            continue;
        }
        if (strcmp(c->string, "thread_start_wait") == 0) {
            if (!cJSON_IsBool(c))
                return error_set(err, STATUS_BAD_INPUT, NULL, "%s: 'thread_start_wait' must be true or false", origin);
            p->thread_start_wait = cJSON_IsTrue(c);
            continue;
        }
        size_t i = 0;
        while (i < sizeof fields / sizeof fields[0] && strcmp(fields[i].key, c->string) != 0)
            i++;
        if (i == sizeof fields / sizeof fields[0]) {
            char known[2048] = "name, lock_handoff, thread_start_wait";
            for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
                size_t len = strlen(known);
                snprintf(known + len, sizeof known - len, ", %s", fields[k].key);
            }
            return error_set(err, STATUS_BAD_INPUT, NULL, "%s: unknown profile key '%.64s' (known: %s)", origin,
                             c->string, known);
        }
        double v = c->valuedouble;
        if (!cJSON_IsNumber(c) || !isfinite(v) || v < 0 || v > 1e12 || (!fields[i].zero_ok && v <= 0))
            return error_set(err, STATUS_BAD_INPUT, NULL, "%s: '%s' must be a %s number", origin, c->string,
                             fields[i].zero_ok ? "non-negative" : "positive");
        if (fields[i].real)
            *fields[i].real = v;
        else
            *fields[i].ns = (int64_t)llround(v);
    }
    return STATUS_OK;
}

enum status profile_load_file(struct profile *p, const char *path, struct error *err)
{
    size_t len;
    char *buf = read_file(path, &len, err);
    if (!buf)
        return STATUS_BAD_INPUT;
    cJSON *root = cJSON_ParseWithLength(buf, len);
    free(buf);
    if (!root)
        return error_set(err, STATUS_BAD_INPUT, NULL, "%s is not valid JSON", path);
    enum status st = profile_from_json(p, root, path, err);
    cJSON_Delete(root);
    return st;
}
