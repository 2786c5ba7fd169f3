/* Memory and control ops of the simulated kernel: private and shared
 * variables, `set`, `load`, the racy `add` (read at the start of its CPU
 * time, written at the end, so a preemption or another CPU in between loses
 * updates, as `x += 1` does), conditions, `if` and `while`. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "xalloc.h"

/* Words of private memory of a process made from template `decl`. */
static size_t private_size(const struct engine *e, uint32_t decl)
{
    size_t n = 0;
    for (uint32_t i = 0; i < e->sc->nvars; i++)
        if (e->sc->vars[i].process == (int32_t)decl)
            n += e->sc->vars[i].length ? e->sc->vars[i].length : 1;
    return n;
}

void engine_memory_for_process(struct engine *e, uint32_t p, uint32_t from)
{
    const struct scenario *sc = e->sc;
    struct proc *pr = &e->procs[p];
    size_t n = private_size(e, pr->decl);
    pr->mem = xcalloc(n ? n : 1, sizeof *pr->mem);
    if (from != NONE) {
        memcpy(pr->mem, e->procs[from].mem, n * sizeof *pr->mem);
        return;
    }
    for (uint32_t i = 0; i < sc->nvars; i++) {
        const struct var_decl *v = &sc->vars[i];
        if (v->process == (int32_t)pr->decl)
            memcpy(pr->mem + e->var_off[i], v->init, (v->length ? v->length : 1) * sizeof *pr->mem);
    }
}

void engine_memory_init(struct engine *e)
{
    const struct scenario *sc = e->sc;
    e->var_off = xcalloc(sc->nvars ? sc->nvars : 1, sizeof *e->var_off);
    size_t *size = xcalloc((size_t)sc->nprocesses + 1, sizeof *size);
    for (uint32_t i = 0; i < sc->nvars; i++) {
        const struct var_decl *v = &sc->vars[i];
        size_t *sz = v->process < 0 ? &size[sc->nprocesses] : &size[v->process];
        e->var_off[i] = (uint32_t)*sz;
        *sz += v->length ? v->length : 1;
    }
    e->shared_mem = xcalloc(size[sc->nprocesses] ? size[sc->nprocesses] : 1, sizeof *e->shared_mem);
    free(size);
    for (uint32_t i = 0; i < sc->nvars; i++) {
        const struct var_decl *v = &sc->vars[i];
        if (v->process < 0)
            memcpy(e->shared_mem + e->var_off[i], v->init, (v->length ? v->length : 1) * sizeof *e->shared_mem);
        trace_add_object(e->trace, v->name, "var", v->process);
    }
    for (uint32_t p = 0; p < sc->nprocesses; p++)
        engine_memory_for_process(e, p, NONE);
    size_t n = (size_t)sc->nprocesses * sc->nvar_names;
    e->var_map = xmalloc((n ? n : 1) * sizeof *e->var_map);
    for (uint32_t p = 0; p < sc->nprocesses; p++) {
        for (uint32_t k = 0; k < sc->nvar_names; k++) {
            int32_t found = -1;
            for (uint32_t i = 0; i < sc->nvars; i++) {
                const struct var_decl *v = &sc->vars[i];
                if (strcmp(v->name, sc->var_names[k]) != 0)
                    continue;
                if (v->process == (int32_t)p)
                    found = (int32_t)i;
                else if (v->process < 0 && found < 0)
                    found = (int32_t)i;
            }
            e->var_map[(size_t)p * sc->nvar_names + k] = found;
        }
    }
}

void engine_memory_deinit(struct engine *e)
{
    for (uint32_t p = 0; p < e->nprocs; p++)
        free(e->procs[p].mem);
    free(e->shared_mem);
    free(e->var_off);
    free(e->var_map);
    free(e->adds);
}

/* The address of a variable reference in t's process; NULL with the error
 * raised when the name is not visible there or the index is out of range. */
static int64_t *var_addr(struct engine *e, struct task *t, const struct op *op, const struct var_ref *r,
                         uint32_t *decl_out)
{
    const struct scenario *sc = e->sc;
    int32_t d = e->var_map[(size_t)e->procs[t->process].decl * sc->nvar_names + r->name];
    if (d < 0) {
        engine_fail(e, STATUS_RUNTIME, t, op,
                    "'%s' is not in the memory of process '%s': processes do not share memory unless it is declared "
                    "in the top-level \"shared\"", sc->var_names[r->name], e->procs[t->process].name);
        return NULL;
    }
    const struct var_decl *v = &sc->vars[d];
    int64_t idx = 0;
    if (r->indexed) {
        idx = engine_operand(t, &r->index);
        if (idx < 0 || idx >= (int64_t)v->length) {
            engine_fail(e, STATUS_RUNTIME, t, op, "index %" PRId64 " is outside '%s' (length %u)", idx, v->name,
                        v->length);
            return NULL;
        }
    }
    if (decl_out)
        *decl_out = (uint32_t)d;
    int64_t *base = v->process < 0 ? e->shared_mem : e->procs[t->process].mem;
    return base + e->var_off[d] + idx;
}

/* Trace ids of variables come right after the declared objects'. */
static uint32_t var_trace_id(const struct engine *e, uint32_t decl)
{
    return e->sc->nobjects + decl;
}

static void var_instant(struct engine *e, const struct task *t, enum trace_instant_kind kind, uint32_t decl,
                        int64_t value)
{
    if (!e->opts.record_trace)
        return;
    struct trace_instant ev = {
        .time = e->now, .value = value, .task = t->se.id, .kind = (uint16_t)kind,
        .obj = var_trace_id(e, decl), .flow = 0,
    };
    trace_instant_add(e->trace, &ev, NULL);
}

int64_t *engine_var_addr(struct engine *e, struct task *t, const struct op *op, const struct var_ref *r)
{
    return var_addr(e, t, op, r, NULL);
}

static bool expr_value(struct engine *e, struct task *t, const struct op *op, const struct expr *x, int64_t *out)
{
    int64_t acc = 0;
    for (uint32_t i = 0; i < x->n; i++) {
        int64_t v;
        if (!engine_value(e, t, op, &x->args[i], &v))
            return false;
        if (i == 0) {
            acc = v;
            continue;
        }
        const char *why = expr_step(x->op, &acc, v);
        if (why) {
            engine_fail(e, STATUS_RUNTIME, t, op, "%s", why);
            return false;
        }
    }
    *out = acc;
    return true;
}

bool engine_value(struct engine *e, struct task *t, const struct op *op, const struct value *v, int64_t *out)
{
    switch (v->kind) {
    case VALUE_EXPR: return expr_value(e, t, op, v->expr, out);
    case VALUE_CONST: *out = v->value; return true;
    case VALUE_LOCAL: *out = t->locals ? t->locals->v[v->slot] : 0; return true;
    case VALUE_VAR: {
        int64_t *a = var_addr(e, t, op, &v->var, NULL);
        if (!a)
            return false;
        *out = *a;
        return true;
    }
    }
    return false;
}

bool engine_condition(struct engine *e, struct task *t, const struct op *op, const struct condition *c, bool *out)
{
    int64_t a, b;
    if (!engine_value(e, t, op, &c->left, &a) || !engine_value(e, t, op, &c->right, &b))
        return false;
    switch (c->cmp) {
    case CMP_EQ: *out = a == b; break;
    case CMP_NE: *out = a != b; break;
    case CMP_LT: *out = a < b; break;
    case CMP_LE: *out = a <= b; break;
    case CMP_GT: *out = a > b; break;
    case CMP_GE: *out = a >= b; break;
    }
    return true;
}

enum step op_var_set(struct engine *e, struct task *t, const struct op *op)
{
    uint32_t d;
    int64_t v;
    int64_t *a = var_addr(e, t, op, &op->u.var.var, &d);
    if (!a || !engine_value(e, t, op, &op->u.var.value, &v))
        return STEP_ERROR;
    *a = v;
    var_instant(e, t, INSTANT_WRITE, d, v);
    return STEP_NEXT;
}

enum step op_load(struct engine *e, struct task *t, const struct op *op)
{
    int64_t *a = var_addr(e, t, op, &op->u.var.var, NULL);
    if (!a)
        return STEP_ERROR;
    if (t->locals)
        t->locals->v[op->u.var.into] = *a;
    return STEP_NEXT;
}

/* An add reads now and writes when its CPU time has run; atomic adds do
 * both at the end. The pending write is kept per task until then. */
enum step op_add(struct engine *e, struct task *t, const struct op *op)
{
    uint32_t d;
    int64_t delta;
    int64_t *a = var_addr(e, t, op, &op->u.var.var, &d);
    if (!a || !engine_value(e, t, op, &op->u.var.value, &delta))
        return STEP_ERROR;
    sim_time cost = op->u.var.cost >= 0 ? op->u.var.cost : e->sc->profile.add_ns;
    /* another thread in the middle of an add to the same cell, running on
     * another CPU now: both fight over its cache line. One that is not
     * running (it lost the GIL inside its add, or its CPU) does not touch
     * the line meanwhile. */
    if (op->u.var.cost < 0 && e->sc->profile.add_contended_ns > 0) {
        for (size_t i = 0; i < e->nadds; i++)
            if (e->adds[i].addr == a && e->adds[i].task != t->se.id &&
                engine_task_at(e, e->adds[i].task)->state == TRACE_RUNNING) {
                cost = e->sc->profile.add_contended_ns;
                break;
            }
    }
    if (cost <= 0) {
        *a += delta;
        var_instant(e, t, INSTANT_WRITE, d, *a);
        return STEP_NEXT;
    }
    e->adds = xgrow(e->adds, &e->adds_cap, e->nadds + 1, sizeof *e->adds);
    struct pending_add *pa = &e->adds[e->nadds++];
    pa->task = t->se.id;
    pa->addr = a;
    pa->atomic = op->u.var.atomic;
    pa->depth = t->nframes;
    pa->read = *a;
    pa->delta = delta;
    t->op_left = cost;
    return STEP_TIMED;
}

/* Pending adds of a task nest (a signal handler's add inside the add it
 * interrupted): the newest one is completed, and only when the task is back
 * at the frame depth where that add started. */
void engine_add_complete(struct engine *e, struct task *t)
{
    for (size_t i = e->nadds; i-- > 0;) {
        struct pending_add *pa = &e->adds[i];
        if (pa->task != t->se.id)
            continue;
        if (pa->depth != t->nframes)
            return;
        const struct op *op = engine_current_op(e, t);
        uint32_t d;
        var_addr(e, t, op, &op->u.var.var, &d);
        if (pa->atomic) {
            *pa->addr += pa->delta;
        } else {
            if (*pa->addr != pa->read) {
                /* someone wrote in between: this write overwrites it */
                e->stats.lost_updates++;
                var_instant(e, t, INSTANT_LOST_UPDATE, d, *pa->addr);
            }
            *pa->addr = pa->read + pa->delta;
        }
        var_instant(e, t, INSTANT_WRITE, d, *pa->addr);
        memmove(&e->adds[i], &e->adds[i + 1], (e->nadds - i - 1) * sizeof *e->adds);
        e->nadds--;
        return;
    }
}

enum step op_if(struct engine *e, struct task *t, const struct op *op)
{
    bool c;
    if (!engine_condition(e, t, op, &op->u.branch.cond, &c))
        return STEP_ERROR;
    struct op_block b = c ? op->u.branch.then : op->u.branch.otherwise;
    if (b.count == 0)
        return STEP_NEXT;
    return engine_push_frame(e, t, b, FRAME_BLOCK, op) ? STEP_NEXT : STEP_ERROR;
}

enum step op_while(struct engine *e, struct task *t, const struct op *op)
{
    bool c;
    if (!engine_condition(e, t, op, &op->u.branch.cond, &c))
        return STEP_ERROR;
    if (!c || op->u.branch.then.count == 0)
        return STEP_NEXT;
    if (!engine_push_frame(e, t, op->u.branch.then, FRAME_WHILE, op))
        return STEP_ERROR;
    t->frames[t->nframes - 1].remaining = (uint32_t)(op - e->sc->ops);
    return STEP_NEXT;
}

enum step op_let(struct engine *e, struct task *t, const struct op *op)
{
    int64_t v;
    if (!engine_value(e, t, op, &op->u.let.value, &v))
        return STEP_ERROR;
    if (t->locals)
        t->locals->v[op->u.let.into] = v;
    return STEP_NEXT;
}

bool engine_while_again(struct engine *e, struct task *t, uint32_t while_op, bool *again)
{
    const struct op *op = &e->sc->ops[while_op];
    return engine_condition(e, t, op, &op->u.branch.cond, again);
}
