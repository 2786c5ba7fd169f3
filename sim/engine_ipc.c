/* Queues, multiprocessing queues and pipes of the simulated kernel.
 *
 * A queue (queue.Queue) holds values in FIFO, LIFO or priority order, with
 * an optional maxsize; put blocks when it is full, get when it is empty, and
 * task_done/join count finished items. An mp_queue (multiprocessing.Queue)
 * also pays pickling per byte on put and get, and a put becomes visible to
 * getters only after the feeder thread has pushed it through its pipe
 * (mp_queue_latency_ns). A pipe (multiprocessing.Pipe) has two ends; each
 * direction buffers up to `capacity` bytes, a sender blocks when its message
 * does not fit, and a receiver gets EOF (its `eof` value) once the sending
 * end is closed and the buffer is empty. A value handed to a thread that is
 * already waiting goes to it directly. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "xalloc.h"

void engine_ipc_deinit(struct engine *e)
{
    for (uint32_t i = 0; i < e->nobjects; i++)
        for (int c = 0; c < 2; c++)
            free(e->objects[i].chan[c].items);
}

/* ---- item containers ---- */

static bool item_before(const struct item *a, const struct item *b)
{
    return a->value != b->value ? a->value < b->value : a->seq < b->seq;
}

static struct item *chan_at(struct chan *c, size_t i)
{
    return &c->items[(c->head + i) % c->cap];
}

static void chan_grow(struct chan *c)
{
    if (c->n < c->cap)
        return;
    size_t cap = c->cap ? c->cap * 2 : 8;
    struct item *items = xmalloc(cap * sizeof *items);
    for (size_t i = 0; i < c->n; i++)
        items[i] = *chan_at(c, i);
    free(c->items);
    c->items = items;
    c->cap = cap;
    c->head = 0;
}

/* Adds an item in `order`; priority order keeps a binary heap (head 0). */
static void chan_push(struct chan *c, enum queue_order order, const struct item *it)
{
    chan_grow(c);
    if (order != QUEUE_PRIORITY) {
        *chan_at(c, c->n++) = *it;
    } else {
        size_t i = c->n++;
        c->items[i] = *it;
        while (i > 0 && item_before(&c->items[i], &c->items[(i - 1) / 2])) {
            struct item tmp = c->items[i];
            c->items[i] = c->items[(i - 1) / 2];
            c->items[(i - 1) / 2] = tmp;
            i = (i - 1) / 2;
        }
    }
    c->bytes += it->bytes;
}

static struct item chan_pop(struct chan *c, enum queue_order order)
{
    struct item out;
    if (order == QUEUE_FIFO) {
        out = *chan_at(c, 0);
        c->head = (c->head + 1) % c->cap;
        c->n--;
    } else if (order == QUEUE_LIFO) {
        out = *chan_at(c, --c->n);
    } else {
        out = c->items[0];
        c->items[0] = c->items[--c->n];
        size_t i = 0;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < c->n && item_before(&c->items[l], &c->items[m]))
                m = l;
            if (r < c->n && item_before(&c->items[r], &c->items[m]))
                m = r;
            if (m == i)
                break;
            struct item tmp = c->items[i];
            c->items[i] = c->items[m];
            c->items[m] = tmp;
            i = m;
        }
    }
    c->bytes -= out.bytes;
    return out;
}

/* ---- helpers ---- */

static enum step cpu_cost(struct task *t, double ns)
{
    if (!(ns >= 1))
        return STEP_NEXT;
    t->op_left = (int64_t)llround(ns);
    return STEP_TIMED;
}

/* The value a put or send carries; 0 with the error raised on a bad variable. */
static int64_t op_value(struct engine *e, struct task *t, const struct op_data *d)
{
    int64_t v = 0;
    engine_value(e, t, engine_current_op(e, t), &d->value, &v);
    return v;
}

static void set_local(struct task *t, const struct op_data *d, int64_t v)
{
    if (d->has_into && t->locals)
        t->locals->v[d->into] = v;
}

/* The data op a blocked task waits in. */
static const struct op_data *waiting_op(const struct engine *e, const struct task *t)
{
    const struct op *op = engine_current_op(e, t);
    return op && op->kind >= OP_PUT && op->kind <= OP_CLOSE ? &op->u.data : NULL;
}

static bool too_many(struct engine *e, struct task *t, const struct op *op, const struct object *o, size_t n)
{
    if (n < SCENARIO_MAX_QUEUE_ITEMS)
        return false;
    engine_fail(e, STATUS_RUNTIME, t, op,
                "'%s' holds %zu items, the limit: something puts far more than it gets (an endless producer?)",
                o->decl->name, n);
    return true;
}

/* ---- queues ---- */

/* CPU time of a get: the queue call, and unpickling for an mp_queue. */
static double get_cost(const struct profile *pr, const struct object *o, int64_t bytes)
{
    return (double)pr->queue_op_ns + (o->decl->type == OBJ_MP_QUEUE ? pr->pickle_ns_per_byte * (double)bytes : 0);
}

/* Gives an item to the first waiting getter, if any. */
static bool give_to_getter(struct engine *e, struct object *o, const struct item *it)
{
    struct task *g = engine_waitq_pop(e, &o->q[Q_GETTERS]);
    if (!g)
        return false;
    const struct op_data *gd = waiting_op(e, g);
    if (gd)
        set_local(g, gd, it->value);
    engine_object_instant(e, g, INSTANT_GET, o, it->value, it->flow);
    /* the get call returns now: the getter still pays for it */
    g->op_left = (int64_t)llround(get_cost(&e->sc->profile, o, it->bytes));
    engine_grant(e, g);
    return true;
}

/* CPU time of a put: the queue call, and pickling for an mp_queue. */
static double put_cost(const struct profile *pr, const struct object *o, int64_t bytes)
{
    return (double)pr->queue_op_ns + (o->decl->type == OBJ_MP_QUEUE ? pr->pickle_ns_per_byte * (double)bytes : 0);
}

/* Puts the value of put op d by task t into queue o: an mp_queue sends it
 * through its feeder (visible after the latency); a queue gives it to a
 * waiting getter or keeps it. */
static void queue_insert(struct engine *e, struct task *t, struct object *o, const struct op_data *d)
{
    struct item it = {
        .value = d ? op_value(e, t, d) : 0, .bytes = d ? d->bytes : 0, .seq = e->next_flow + 1,
        .flow = ++e->next_flow,
    };
    engine_object_instant(e, t, INSTANT_PUT, o, it.value, it.flow);
    o->count++;
    if (o->decl->type == OBJ_MP_QUEUE) {
        it.due = e->now + e->sc->profile.mp_queue_latency_ns;
        chan_push(&o->chan[1], QUEUE_FIFO, &it);
        uint32_t id = (uint32_t)(o - e->objects);
        engine_push(e, it.due, CLASS_READY, UINT32_MAX - 1 - id, EV_DELIVER, id);
    } else if (!give_to_getter(e, o, &it)) {
        chan_push(&o->chan[0], o->decl->order, &it);
    }
}

/* Space freed in a bounded queue: the first blocked putter puts its item
 * (and pays for its put call). */
static void admit_putter(struct engine *e, struct object *o)
{
    struct task *p = engine_waitq_pop(e, &o->q[Q_PUTTERS]);
    if (!p)
        return;
    const struct op_data *pd = waiting_op(e, p);
    queue_insert(e, p, o, pd);
    p->op_left = (int64_t)llround(put_cost(&e->sc->profile, o, pd ? pd->bytes : 0));
    engine_grant(e, p);
}

static size_t queue_len(const struct object *o)
{
    return o->chan[0].n + o->chan[1].n;
}

enum step op_put(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_data *d = &op->u.data;
    struct object *o = engine_object_of(e, t, d->obj.name, op);
    if (!o)
        return STEP_ERROR;
    if (o->decl->maxsize > 0 && (int64_t)queue_len(o) >= o->decl->maxsize) {
        if (d->timeout == 0)
            return engine_fail(e, STATUS_RUNTIME, t, op, "put into '%s', which is full (Python: queue.Full)",
                               o->decl->name);
        return engine_block_on(e, t, o, &o->q[Q_PUTTERS], REASON_QUEUE, d->timeout);
    }
    if (too_many(e, t, op, o, queue_len(o)))
        return STEP_ERROR;
    queue_insert(e, t, o, d);
    return cpu_cost(t, put_cost(&e->sc->profile, o, d->bytes));
}

void engine_ipc_deliver(struct engine *e, uint32_t obj)
{
    struct object *o = &e->objects[obj];
    struct item it = chan_pop(&o->chan[1], QUEUE_FIFO);
    if (!give_to_getter(e, o, &it))
        chan_push(&o->chan[0], QUEUE_FIFO, &it);
}

enum step op_get(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_data *d = &op->u.data;
    struct object *o = engine_object_of(e, t, d->obj.name, op);
    if (!o)
        return STEP_ERROR;
    const struct profile *pr = &e->sc->profile;
    if (o->chan[0].n == 0) {
        if (d->timeout == 0)
            return engine_fail(e, STATUS_RUNTIME, t, op, "get from '%s', which is empty (Python: queue.Empty)",
                               o->decl->name);
        return engine_block_on(e, t, o, &o->q[Q_GETTERS], REASON_QUEUE, d->timeout);
    }
    enum queue_order order = o->decl->type == OBJ_MP_QUEUE ? QUEUE_FIFO : o->decl->order;
    struct item it = chan_pop(&o->chan[0], order);
    set_local(t, d, it.value);
    engine_object_instant(e, t, INSTANT_GET, o, it.value, it.flow);
    admit_putter(e, o);
    return cpu_cost(t, get_cost(pr, o, it.bytes));
}

enum step op_task_done(struct engine *e, struct task *t, const struct op *op)
{
    struct object *o = engine_object_of(e, t, op->u.data.obj.name, op);
    if (!o)
        return STEP_ERROR;
    if (o->count <= 0)
        return engine_fail(e, STATUS_RUNTIME, t, op,
                           "task_done on '%s' more often than items were put (Python: ValueError: task_done() called "
                           "too many times)", o->decl->name);
    if (--o->count == 0) {
        struct task *j;
        while ((j = engine_waitq_pop(e, &o->q[Q_JOINERS])))
            engine_grant(e, j);
    }
    return STEP_NEXT;
}

enum step op_queue_join(struct engine *e, struct task *t, const struct op *op)
{
    struct object *o = engine_object_of(e, t, op->u.data.obj.name, op);
    if (!o)
        return STEP_ERROR;
    if (o->count == 0)
        return STEP_NEXT;
    return engine_block_on(e, t, o, &o->q[Q_JOINERS], REASON_QUEUE, -1);
}

/* ---- pipes ---- */

/* A one-way pipe (duplex false) sends from end 1 to end 0, like the
 * (receive end, send end) pair of Pipe(duplex=False). */
static bool pipe_end_ok(struct engine *e, struct task *t, const struct op *op, const struct object *o, bool send)
{
    uint32_t end = op->u.data.end;
    if (o->decl->duplex || end == (send ? 1u : 0u))
        return true;
    engine_fail(e, STATUS_RUNTIME, t, op, "end %u of the one-way pipe '%s' can only %s (Pipe(duplex=False) returns "
                "(receive end 0, send end 1))", end, o->decl->name, send ? "receive" : "send");
    return false;
}

static double pipe_cost(const struct profile *pr, int64_t bytes)
{
    return (double)pr->pipe_op_ns + (pr->pipe_ns_per_byte + pr->pickle_ns_per_byte) * (double)bytes;
}

/* Gives an item sent into direction dir to a waiting receiver, if any. */
static bool give_to_receiver(struct engine *e, struct object *o, uint32_t dir, const struct item *it)
{
    struct task *r = engine_waitq_pop(e, &o->q[2 * dir]);
    if (!r)
        return false;
    const struct op_data *rd = waiting_op(e, r);
    if (rd)
        set_local(r, rd, it->value);
    engine_object_instant(e, r, INSTANT_RECV, o, it->value, it->flow);
    r->op_left = (int64_t)llround(pipe_cost(&e->sc->profile, it->bytes));
    engine_grant(e, r);
    return true;
}

static bool pipe_fits(const struct object *o, uint32_t dir, int64_t bytes)
{
    const struct chan *c = &o->chan[dir];
    return c->n == 0 || c->bytes + bytes <= o->decl->capacity;
}

/* Room freed in direction dir: blocked senders whose message fits go on. */
static void admit_senders(struct engine *e, struct object *o, uint32_t dir)
{
    struct task *s;
    while (o->q[2 * dir + 1].head != NONE) {
        s = engine_task_at(e, o->q[2 * dir + 1].head);
        const struct op_data *sd = waiting_op(e, s);
        int64_t bytes = sd ? sd->bytes : 0;
        if (!pipe_fits(o, dir, bytes))
            return;
        engine_waitq_pop(e, &o->q[2 * dir + 1]);
        struct item it = {.value = sd ? op_value(e, s, sd) : 0, .bytes = bytes, .flow = ++e->next_flow};
        engine_object_instant(e, s, INSTANT_SEND, o, it.value, it.flow);
        if (!give_to_receiver(e, o, dir, &it))
            chan_push(&o->chan[dir], QUEUE_FIFO, &it);
        engine_grant(e, s);
    }
}

enum step op_send(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_data *d = &op->u.data;
    struct object *o = engine_object_of(e, t, d->obj.name, op);
    if (!o || !pipe_end_ok(e, t, op, o, true))
        return STEP_ERROR;
    uint32_t dir = d->end;
    if (o->closed[dir])
        return engine_fail(e, STATUS_RUNTIME, t, op, "send on end %u of '%s', which is closed (Python: OSError)",
                           dir, o->decl->name);
    if (o->closed[1 - dir])
        return engine_fail(e, STATUS_RUNTIME, t, op,
                           "send on '%s' whose other end is closed: nobody can read it (Python: BrokenPipeError)",
                           o->decl->name);
    if (!pipe_fits(o, dir, d->bytes))
        return engine_block_on(e, t, o, &o->q[2 * dir + 1], REASON_PIPE, d->timeout);
    if (too_many(e, t, op, o, o->chan[dir].n))
        return STEP_ERROR;
    struct item it = {.value = op_value(e, t, d), .bytes = d->bytes, .flow = ++e->next_flow};
    engine_object_instant(e, t, INSTANT_SEND, o, it.value, it.flow);
    if (!give_to_receiver(e, o, dir, &it))
        chan_push(&o->chan[dir], QUEUE_FIFO, &it);
    return cpu_cost(t, pipe_cost(&e->sc->profile, d->bytes));
}

enum step op_recv(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_data *d = &op->u.data;
    struct object *o = engine_object_of(e, t, d->obj.name, op);
    if (!o || !pipe_end_ok(e, t, op, o, false))
        return STEP_ERROR;
    uint32_t dir = 1 - d->end;
    if (o->closed[d->end])
        return engine_fail(e, STATUS_RUNTIME, t, op, "recv on end %u of '%s', which is closed (Python: OSError)",
                           d->end, o->decl->name);
    if (o->chan[dir].n == 0) {
        if (o->closed[dir]) {
            set_local(t, d, d->eof);
            engine_object_instant(e, t, INSTANT_RECV, o, -1, 0);
            return STEP_NEXT;
        }
        return engine_block_on(e, t, o, &o->q[2 * dir], REASON_PIPE, d->timeout);
    }
    struct item it = chan_pop(&o->chan[dir], QUEUE_FIFO);
    set_local(t, d, it.value);
    engine_object_instant(e, t, INSTANT_RECV, o, it.value, it.flow);
    admit_senders(e, o, dir);
    return cpu_cost(t, pipe_cost(&e->sc->profile, it.bytes));
}

enum step op_close(struct engine *e, struct task *t, const struct op *op)
{
    const struct op_data *d = &op->u.data;
    struct object *o = engine_object_of(e, t, d->obj.name, op);
    if (!o)
        return STEP_ERROR;
    uint32_t end = d->end;
    if (o->closed[end])
        return STEP_NEXT;
    o->closed[end] = true;
    engine_object_instant(e, t, INSTANT_CLOSE, o, end, 0);
    /* a writer blocked sending toward this end can never be read: BrokenPipeError */
    uint32_t toward = 1 - end;
    if (o->q[2 * toward + 1].head != NONE) {
        struct task *w = engine_task_at(e, o->q[2 * toward + 1].head);
        return engine_fail(e, STATUS_RUNTIME, w, engine_current_op(e, w),
                           "end %u of '%s' was closed while this thread waited to send to it (Python: "
                           "BrokenPipeError)", end, o->decl->name);
    }
    /* receivers waiting for what this end would have sent get EOF */
    struct task *r;
    while ((r = engine_waitq_pop(e, &o->q[2 * end]))) {
        const struct op_data *rd = waiting_op(e, r);
        if (rd)
            set_local(r, rd, rd->eof);
        engine_object_instant(e, r, INSTANT_RECV, o, -1, 0);
        engine_grant(e, r);
    }
    return STEP_NEXT;
}

/* ---- timeouts, kills, reports ---- */

static struct waitq *queue_of(struct engine *e, struct object *o, const struct task *t)
{
    for (int q = 0; q < 4; q++)
        for (uint32_t id = o->q[q].head; id != NONE; id = engine_task_at(e, id)->wait_next)
            if (id == t->se.id)
                return &o->q[q];
    return NULL;
}

void engine_ipc_timeout(struct engine *e, struct task *t, struct object *o)
{
    struct waitq *q = queue_of(e, o, t);
    const char *what = q == &o->q[Q_PUTTERS] || q == &o->q[1] || q == &o->q[3] ? "full" : "empty";
    if (q)
        engine_waitq_remove(e, q, t);
    t->waiting_for = NONE;
    engine_fail(e, STATUS_RUNTIME, t, engine_current_op(e, t),
                "'%s' stayed %s until the timeout (Python: queue.%s)", o->decl->name, what,
                what[0] == 'f' ? "Full" : "Empty");
}

void engine_ipc_forget(struct engine *e, struct task *t, struct object *o)
{
    struct waitq *q = queue_of(e, o, t);
    if (q)
        engine_waitq_remove(e, q, t);
}

void engine_ipc_describe(const struct engine *e, const struct task *t, const struct object *o, char *buf,
                         size_t cap)
{
    struct waitq *q = queue_of((struct engine *)e, (struct object *)o, t);
    const char *type = o->decl->type == OBJ_PIPE ? "pipe" : o->decl->type == OBJ_MP_QUEUE ? "mp_queue" : "queue";
    if (o->decl->type == OBJ_PIPE) {
        bool send = q == &o->q[1] || q == &o->q[3];
        snprintf(buf, cap, "%s '%s' to %s, which no thread will %s", type, o->decl->name,
                 send ? "have room" : "have data", send ? "read" : "send into or close");
    } else if (q == &o->q[Q_PUTTERS]) {
        snprintf(buf, cap, "%s '%s' (full), which no thread will get from", type, o->decl->name);
    } else if (q == &o->q[Q_JOINERS]) {
        snprintf(buf, cap, "%s '%s' to have every item done, which no thread will mark with task_done", type,
                 o->decl->name);
    } else {
        snprintf(buf, cap, "%s '%s' (empty), which no thread will put into", type, o->decl->name);
    }
}
