/* Scenario helpers that need no JSON: freeing, look-ups and the static
 * compute estimate used by sjf and srtf. */
#include "scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void op_free(struct op *op)
{
    free(op->path);
    switch (op->kind) {
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
    for (uint32_t i = 0; i < sc->nprocesses; i++)
        free(sc->processes[i].name);
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

sim_time scenario_compute_cost(const struct scenario *sc, const struct op_compute *c, int64_t n, int64_t from,
                               int64_t to)
{
    const struct profile *p = &sc->profile;
    double ns = 0;
    switch (c->kind) {
    case COMPUTE_FOR:
        return c->dur;
    case COMPUTE_SPIN:
        ns = (double)c->dur * p->spin_ns_per_ns;
        break;
    case COMPUTE_COUNT:
        ns = n > 0 ? (double)n * p->count_ns_per_iter : 0;
        break;
    case COMPUTE_PRIMES:
        if (to - from > SCENARIO_MAX_PRIMES_RANGE)
            to = from + SCENARIO_MAX_PRIMES_RANGE;
        ns = (double)work_primes_divisions(from, to) * p->primes_ns_per_division;
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
            if (c->kind == COMPUTE_PRIMES)
                ok = static_value(&c->from, locals, nknown, &from) && static_value(&c->to, locals, nknown, &to);
            if (ok)
                total = sat_add(total, scenario_compute_cost(sc, c, n, from, to));
            break;
        }
        case OP_REPEAT: {
            int64_t times;
            if (static_value(&op->u.repeat.times, locals, nknown, &times))
                total = sat_add(total, sat_mul(times, block_compute(sc, op->u.repeat.body, locals, nknown, depth + 1, budget)));
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

/* Ops one estimate may visit. Calls are followed afresh at each call site,
 * so a function calling itself twice would take 2^64 steps before the
 * nesting limit; past this budget the rest of the program counts as 0. */
#define COMPUTE_VISIT_BUDGET (1u << 20)

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
