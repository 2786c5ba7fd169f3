/* Scenario helpers that need no JSON: freeing, look-ups and the static
 * compute estimate used by sjf and srtf. */
#include "scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static const char *const object_type_names[OBJ_TYPE_COUNT] = {
    [OBJ_LOCK] = "lock",
    [OBJ_RLOCK] = "rlock",
    [OBJ_SEMAPHORE] = "semaphore",
    [OBJ_BOUNDED_SEMAPHORE] = "bounded_semaphore",
    [OBJ_EVENT] = "event",
    [OBJ_CONDITION] = "condition",
    [OBJ_BARRIER] = "barrier",
    [OBJ_QUEUE] = "queue",
    [OBJ_MP_QUEUE] = "mp_queue",
    [OBJ_PIPE] = "pipe",
};

const char *scenario_object_type_name(enum object_type type)
{
    return (unsigned)type < OBJ_TYPE_COUNT ? object_type_names[type] : "?";
}

static void value_free(struct value *v)
{
    if (v->kind != VALUE_EXPR || !v->expr)
        return;
    for (uint32_t i = 0; i < v->expr->n; i++)
        value_free(&v->expr->args[i]);
    free(v->expr->args);
    free(v->expr);
    v->expr = NULL;
}

static void condition_free(struct condition *c)
{
    value_free(&c->left);
    value_free(&c->right);
}

static void op_free(struct op *op)
{
    free(op->path);
    switch (op->kind) {
    case OP_VAR_SET:
    case OP_ADD:
        value_free(&op->u.var.value);
        break;
    case OP_PUT:
    case OP_SEND:
        value_free(&op->u.data.value);
        break;
    case OP_IF:
    case OP_WHILE:
        condition_free(&op->u.branch.cond);
        break;
    case OP_WAIT_FOR:
        condition_free(&op->u.sync.until);
        break;
    case OP_LET:
    case OP_RETURN:
        value_free(&op->u.let.value);
        break;
    case OP_MAP:
        free(op->u.map.items);
        break;
    case OP_CALL:
        free(op->u.call.args);
        break;
    case OP_PRINT:
        for (uint32_t i = 0; i < op->u.print.npieces; i++)
            free(op->u.print.pieces[i].text);
        free(op->u.print.pieces);
        free(op->u.print.text);
        break;
    case OP_START:
        free(op->u.start.name);
        break;
    case OP_THREAD:
        free(op->u.thread.name);
        free(op->u.thread.args);
        break;
    case OP_JOIN:
        free(op->u.join.name);
        break;
    case OP_PROCESS:
        free(op->u.process.name);
        free(op->u.process.args);
        break;
    case OP_PROCESS_JOIN:
    case OP_TERMINATE:
        free(op->u.proc.name);
        break;
    case OP_KILL:
        free(op->u.signal.process);
        break;
    default:
        break;
    }
}

static void names_free(char **names, uint32_t n)
{
    for (uint32_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

void scenario_destroy(struct scenario *sc)
{
    if (!sc)
        return;
    free(sc->name);
    free(sc->description);
    free(sc->machine.profile_path);
    free(sc->sched.levels);
    for (uint32_t i = 0; i < sc->nprocesses; i++) {
        free(sc->processes[i].name);
        for (uint32_t h = 0; h < sc->processes[i].nhandlers; h++)
            names_free(sc->processes[i].handlers[h].local_names, sc->processes[i].handlers[h].nlocals);
        free(sc->processes[i].handlers);
    }
    free(sc->processes);
    for (uint32_t i = 0; i < sc->nthreads; i++) {
        free(sc->threads[i].name);
        names_free(sc->threads[i].local_names, sc->threads[i].nlocals);
    }
    free(sc->threads);
    for (uint32_t i = 0; i < sc->nfunctions; i++) {
        free(sc->functions[i].name);
        names_free(sc->functions[i].local_names, sc->functions[i].nlocals);
    }
    free(sc->functions);
    for (uint32_t i = 0; i < sc->nops; i++)
        op_free(&sc->ops[i]);
    free(sc->ops);
    for (uint32_t i = 0; i < sc->nobjects; i++) {
        free(sc->objects[i].name);
        free(sc->objects[i].path);
    }
    free(sc->objects);
    for (uint32_t i = 0; i < sc->nvars; i++) {
        free(sc->vars[i].name);
        free(sc->vars[i].init);
    }
    free(sc->vars);
    names_free(sc->obj_names, sc->nobj_names);
    names_free(sc->var_names, sc->nvar_names);
    free(sc);
}

int32_t scenario_find_thread(const struct scenario *sc, uint32_t process, const char *name)
{
    const struct process_decl *pd = &sc->processes[process];
    for (uint32_t i = pd->first_thread; i < pd->first_thread + pd->nthreads; i++)
        if (strcmp(sc->threads[i].name, name) == 0)
            return (int32_t)i;
    return -1;
}

static uint64_t isqrt_u64(uint64_t x)
{
    uint64_t r = (uint64_t)sqrt((double)x);
    while (r > 0 && r * r > x)
        r--;
    while ((r + 1) * (r + 1) <= x)
        r++;
    return r;
}

/* Ops one estimate may visit. Calls are followed afresh at each call site,
 * so a function calling itself twice would take 2^64 steps before the
 * nesting limit; past this budget the rest of the program counts as 0. A
 * primes op counts as one visit per PRIMES_STEPS_PER_VISIT steps of work. */
#define COMPUTE_VISIT_BUDGET (1u << 20)
#define PRIMES_STEPS_PER_VISIT 64

/* Below this many trial divisions, work_primes_divisions itself is cheap. */
#define PRIMES_DIRECT_MAX (1u << 22)

/* The same count as work_primes_divisions(from, to), 2 <= from <= to, by a
 * sieve: trial division of k stops at its smallest prime factor p (p - 1
 * divisions) or, for a prime, after isqrt(k) - 1 divisions. Counting them
 * one by one takes hours for a range of 10^7 numbers near 10^15; this takes
 * O(sqrt(to) + (to - from) log log to) steps and a bit per number. */
static uint64_t primes_divisions_sieve(uint64_t from, uint64_t to)
{
    uint64_t root = isqrt_u64(to);
    uint8_t *odd_composite = xcalloc(root / 16 + 1, 1); /* bit j/2 stands for the odd number j */
    uint8_t *counted = xcalloc((to - from) / 8 + 1, 1); /* composites of [from, to] already counted */
    uint64_t total = 0;
    for (uint64_t p = 2; p <= root; p = p == 2 ? 3 : p + 2) {
        if (p > 2 && (odd_composite[p / 16] >> (p / 2 % 8) & 1))
            continue;
        for (uint64_t j = p * p; p > 2 && j <= root; j += 2 * p)
            odd_composite[j / 16] |= (uint8_t)(1u << (j / 2 % 8));
        /* primes come in increasing order: the first to reach k is its smallest factor */
        uint64_t m = (from + p - 1) / p * p;
        if (m < p * p)
            m = p * p;
        for (; m <= to; m += p) {
            uint64_t i = m - from;
            if (!(counted[i / 8] >> (i % 8) & 1)) {
                counted[i / 8] |= (uint8_t)(1u << (i % 8));
                total += p - 1;
            }
        }
    }
    uint64_t r = isqrt_u64(from);
    for (uint64_t k = from; k <= to; k++) {
        while ((r + 1) * (r + 1) <= k)
            r++;
        uint64_t i = k - from;
        if (!(counted[i / 8] >> (i % 8) & 1))
            total += r - 1;
    }
    free(counted);
    free(odd_composite);
    return total;
}

/* Clamps [from, to] to what the loader accepts for constants (a range of
 * SCENARIO_MAX_PRIMES_RANGE numbers up to SCENARIO_MAX_WORK_N), which
 * run-time arguments may exceed, and returns about how many steps counting
 * its divisions takes; 0 when the range holds no number from 2 up. */
static uint64_t primes_clamp(int64_t *from, int64_t *to)
{
    if (*to > SCENARIO_MAX_WORK_N)
        *to = SCENARIO_MAX_WORK_N;
    if (*from < 2)
        *from = 2;
    if (*to < *from)
        return 0;
    if (*to - *from > SCENARIO_MAX_PRIMES_RANGE)
        *to = *from + SCENARIO_MAX_PRIMES_RANGE;
    uint64_t numbers = (uint64_t)(*to - *from) + 1, root = isqrt_u64((uint64_t)*to);
    return numbers * root <= PRIMES_DIRECT_MAX ? numbers * root : numbers + root;
}

/* work_primes_divisions(from, to) within primes_clamp's limits, in
 * O(sqrt(to) + (to - from)) steps. */
static uint64_t primes_divisions(int64_t from, int64_t to)
{
    uint64_t steps = primes_clamp(&from, &to);
    if (steps == 0)
        return 0;
    if ((uint64_t)(to - from + 1) * isqrt_u64((uint64_t)to) <= PRIMES_DIRECT_MAX)
        return work_primes_divisions(from, to);
    return primes_divisions_sieve((uint64_t)from, (uint64_t)to);
}

sim_time scenario_compute_cost(const struct scenario *sc, const struct op_compute *c, int64_t n, int64_t from,
                               int64_t to)
{
    const struct profile *p = &sc->profile;
    double ns = 0;
    switch (c->kind) {
    case COMPUTE_FOR:
        ns = (double)c->dur + (double)p->compute_op_ns;
        break;
    case COMPUTE_SPIN:
        ns = (double)c->dur * p->spin_ns_per_ns + (double)p->compute_op_ns;
        break;
    case COMPUTE_COUNT:
        ns = n > 0 ? (double)n * p->count_ns_per_iter : 0;
        break;
    case COMPUTE_PRIMES:
        ns = (double)primes_divisions(from, to) * p->primes_ns_per_division;
        /* and the loop around each number's divisions */
        if (p->primes_ns_per_number > 0 && primes_clamp(&from, &to) > 0)
            ns += (double)(to - from + 1) * p->primes_ns_per_number;
        break;
    }
    if (!(ns < (double)SCENARIO_MAX_DURATION))
        return SCENARIO_MAX_DURATION;
    return (sim_time)llround(ns);
}

static int64_t sat_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
    if (a <= 0 || b <= 0)
        return 0;
    return a > INT64_MAX / b ? INT64_MAX : a * b;
}

/* A value known statically: a constant, or a local bound to a known argument. */
static bool static_value(const struct operand *o, const int64_t *locals, uint32_t nknown, int64_t *out)
{
    if (o->kind == OPERAND_CONST) {
        *out = o->value;
        return true;
    }
    if (locals && o->slot < nknown) {
        *out = locals[o->slot];
        return true;
    }
    return false;
}

static int64_t block_compute(const struct scenario *sc, struct op_block b, const int64_t *locals,
                             uint32_t nknown, uint32_t depth, uint64_t *budget);

static int64_t call_compute(const struct scenario *sc, uint32_t fn, uint32_t nargs, const struct operand *args,
                            const int64_t *locals, uint32_t nknown, uint32_t depth, uint64_t *budget)
{
    const struct function *f = &sc->functions[fn];
    int64_t vals[SCENARIO_MAX_LOCALS];
    uint32_t known = 0;
    for (uint32_t i = 0; i < nargs && i < SCENARIO_MAX_LOCALS; i++) {
        if (!static_value(&args[i], locals, nknown, &vals[i]))
            break;
        known++;
    }
    return block_compute(sc, f->body, vals, known, depth + 1, budget);
}

static int64_t block_compute(const struct scenario *sc, struct op_block b, const int64_t *locals,
                             uint32_t nknown, uint32_t depth, uint64_t *budget)
{
    if (depth > SCENARIO_MAX_NEST)
        return 0;
    int64_t total = 0;
    for (uint32_t i = 0; i < b.count && *budget > 0; i++) {
        --*budget;
        const struct op *op = &sc->ops[b.first + i];
        switch (op->kind) {
        case OP_COMPUTE: {
            const struct op_compute *c = &op->u.compute;
            int64_t n = 0, from = 0, to = 0;
            bool ok = true;
            if (c->kind == COMPUTE_COUNT)
                ok = static_value(&c->n, locals, nknown, &n);
            if (c->kind == COMPUTE_PRIMES) {
                ok = static_value(&c->from, locals, nknown, &from) && static_value(&c->to, locals, nknown, &to);
                if (ok) {
                    /* a wide primes range costs up to a fraction of a second:
                     * charge the budget for it, so many of them cannot hang */
                    int64_t lo = from, hi = to;
                    uint64_t charge = primes_clamp(&lo, &hi) / PRIMES_STEPS_PER_VISIT;
                    ok = charge <= *budget;
                    *budget -= ok ? charge : *budget;
                }
            }
            if (ok)
                total = sat_add(total, scenario_compute_cost(sc, c, n, from, to));
            break;
        }
        case OP_REPEAT: {
            int64_t times;
            if (static_value(&op->u.repeat.times, locals, nknown, &times))
                total = sat_add(total, sat_mul(times, block_compute(sc, op->u.repeat.body, locals, nknown,
                                                                    depth + 1, budget)));
            break;
        }
        case OP_CALL:
            total = sat_add(total, call_compute(sc, op->u.call.fn, op->u.call.nargs, op->u.call.args, locals, nknown,
                                                depth, budget));
            break;
        case OP_WITH:
            total = sat_add(total, block_compute(sc, op->u.sync.body, locals, nknown, depth + 1, budget));
            break;
        case OP_IF: {
            /* the longer branch: an upper bound, as a scheduler estimate would be */
            int64_t then = block_compute(sc, op->u.branch.then, locals, nknown, depth + 1, budget);
            int64_t other = block_compute(sc, op->u.branch.otherwise, locals, nknown, depth + 1, budget);
            total = sat_add(total, then > other ? then : other);
            break;
        }
        case OP_MAP:
            /* the caller waits for the pool: its own CPU is not the items' */
            break;
        case OP_WHILE:
            /* the iterations are unknown: count the body once */
            total = sat_add(total, block_compute(sc, op->u.branch.then, locals, nknown, depth + 1, budget));
            break;
        case OP_ADD:
            total = sat_add(total, op->u.var.cost >= 0 ? op->u.var.cost : sc->profile.add_ns);
            break;
        default:
            break;
        }
    }
    return total;
}

sim_time scenario_thread_compute(const struct scenario *sc, uint32_t thread)
{
    uint64_t budget = COMPUTE_VISIT_BUDGET;
    return block_compute(sc, sc->threads[thread].program, NULL, 0, 0, &budget);
}

sim_time scenario_function_compute(const struct scenario *sc, uint32_t fn, const int64_t *args, uint32_t nargs)
{
    uint64_t budget = COMPUTE_VISIT_BUDGET;
    return block_compute(sc, sc->functions[fn].body, args, nargs, 0, &budget);
}

const char *expr_step(enum expr_op op, int64_t *acc, int64_t v)
{
    static const char overflow[] = "integer overflow in arithmetic (threadsim integers are 64-bit)";
    int64_t a = *acc, r = a;
    switch (op) {
    case EXPR_ADD:
        if (__builtin_add_overflow(a, v, &r))
            return overflow;
        break;
    case EXPR_SUB:
        if (__builtin_sub_overflow(a, v, &r))
            return overflow;
        break;
    case EXPR_MUL:
        if (__builtin_mul_overflow(a, v, &r))
            return overflow;
        break;
    case EXPR_DIV:
    case EXPR_MOD:
        if (v == 0)
            return "division by zero (Python: ZeroDivisionError)";
        if (a == INT64_MIN && v == -1)
            return overflow;
        /* Python's floor division and modulo */
        if (op == EXPR_DIV) {
            int64_t q = a / v;
            r = (a % v != 0 && ((a < 0) != (v < 0))) ? q - 1 : q;
        } else {
            int64_t m = a % v;
            r = (m != 0 && ((m < 0) != (v < 0))) ? m + v : m;
        }
        break;
    case EXPR_MIN: r = v < a ? v : a; break;
    case EXPR_MAX: r = v > a ? v : a; break;
    case EXPR_OP_COUNT: break;
    }
    *acc = r;
    return NULL;
}
