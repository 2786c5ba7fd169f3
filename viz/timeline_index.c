/* The timeline index. See timeline_index.h.
 *
 * Level 0 holds the trace's segments sorted by lane and start. Each coarser
 * level doubles a bucket width B (from 1 us) and keeps the segments at least
 * B long as they are, while the runs of shorter ones within one bucket
 * become one summary segment (built from level 0, O(segments) a level); a level is kept only when it has at most 3/4
 * of the segments of the previous one kept, so the levels' total size stays
 * within a few times the trace's. A window at c ns per column uses the
 * coarsest level with B <= c / 2: per lane it holds at most about two
 * segments per bucket. A summary is placed at the start of its bucket's
 * first segment, so part of its time may land in the next column: half
 * columns keep that error small (96-97% of the columns as the whole trace's
 * in the tests, 98-99% with quarter columns at twice the segments, 88% with
 * whole columns). */
#include "timeline_index.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xalloc.h"

#define INDEX_FIRST_BUCKET 1024

struct index_level {
    int64_t bucket;                /* 0: the original segments */
    size_t n;
    struct trace_segment *segs;    /* lane after lane, each sorted by start */
    int64_t *maxend;               /* largest end up to here within the lane */
    size_t *first;                 /* nlanes + 1 offsets into segs */
};

struct timeline_index {
    const struct trace *tr;
    enum layout_view view;
    uint32_t nlanes;
    size_t nlevels;
    struct index_level *levels;
    struct trace win;              /* the window: a shallow copy of tr */
    struct trace_segment *scratch;
    size_t scratch_cap;
    struct trace_segment *reduced;   /* the window cut to a segment a column */
    size_t reduced_cap;

    /* The instants' history (see instants_index): NULL arrow_to when the
     * instants are not in time order or too many; then a window has all the
     * instants up to its end. */
    uint32_t *arrow_to;            /* per instant: the arrow end it starts, or UINT32_MAX */
    uint32_t *arrow_reach;         /* per instant i: 1 + the largest arrow end started before i */
    size_t *cp_first;              /* per checkpoint (every INDEX_CHECKPOINT instants) + 1 */
    uint32_t *cp_hist;             /* the takes of the GILs and locks held there, and the
                                    * arrow starts before it whose end is not */
    struct trace_instant *inst;    /* the window's instants, when copied */
    size_t inst_cap;
    uint32_t *inst_origin;         /* their indices in the trace */
    size_t origin_cap;
    bool inst_copied;              /* the window's instants are inst, else borrowed */
    size_t inst_base;              /* borrowed: the trace's index of the first */
    uint32_t *hist;                /* scratch: indices of the instants a window copies */
    size_t hist_cap;
    struct trace_instant *witness; /* a take of each GIL and lock, without a task */
    uint32_t *witness_origin;      /* the trace's first take of each */
    size_t nwitness;
    size_t last_first_take;        /* the largest index of those first takes */

    /* The instants' level of detail (threads view; see lod_build): the
     * times each GIL and lock was held, at coarser levels, the prints and
     * the deadlock, and the arrows by thread pair. */
    size_t nkeys;                  /* owners: a GIL per process, then a lock per object */
    size_t nolevels;
    struct owner_level *olevels;
    uint32_t *marks;               /* the prints and deadlocks, in time order */
    size_t nmarks;
    int64_t *mark_col;             /* scratch per task + 1: the last column given a print */
    size_t npairs;
    uint32_t *pair_first;          /* npairs + 1 offsets into pair_arrow */
    uint32_t *pair_arrow;          /* the arrows' starts, pair after pair, in time order */
    int64_t *pair_time;            /* their times */
    uint8_t *pair_kind;            /* enum layout_arrow_kind of each pair */
    uint32_t *arrow_pair;          /* per instant starting an arrow: its pair */
    uint32_t max_flow;
    int plot_x0, plot_w;           /* of the window being made */
    bool cut;                      /* its plot's columns are known (timeline_index_window_px) */
    bool cut_next;                 /* the window being asked for is one of those */
    struct lod_item *items;        /* scratch: a coarse window's instants */
    size_t items_cap;
    struct lod_item *merged;       /* scratch: the same, merged */
    size_t merged_cap;
    size_t *runs;                  /* scratch: the items' sorted runs' starts */
    size_t runs_cap;
    uint32_t *pair_mark;           /* scratch per pair: 1 drawn, 2 left out */
    size_t left_out[LAYOUT_ARROW_KIND_COUNT];
    bool summarised;               /* the last window's owner lanes are from a coarser level */
};

/* Mirrors the layout's pixel arithmetic (viz/layout.c: time_x, span_columns). */
#define INDEX_EDGE_SLACK 1e-6
/* Below 4 ns a column, rounding a summary's start to whole nanoseconds could
 * move it into the next column: such windows are not cut. */
#define INDEX_MIN_COLUMN_NS 4.0

/* A time a GIL or lock was held: by task, from the instant take. At a
 * coarser level, the runs held shorter than its bucket within one bucket
 * are one, of the task that held it most, as long as the time it was held. */
struct holder {
    int64_t start, end;            /* end INT64_MAX: held at the end of the run */
    uint32_t task;
    uint32_t take;
};

struct owner_level {
    int64_t bucket;                /* 0: every time held */
    size_t n;
    struct holder *h;              /* owner after owner, each in time order */
    int64_t *maxend;               /* largest end up to here within the owner */
    size_t *first;                 /* nkeys + 1 offsets into h */
};

/* An instant of a coarse window, with its order: a drop before a take at
 * the same time (so that a holder taking again right after its drop keeps
 * the time), the trace's instants in trace order. */
struct lod_item {
    int64_t time;
    int rank;
    uint32_t origin;
    struct trace_instant ev;
};

/* Instants between checkpoints: a window walks at most this many instants
 * before its start. */
#define INDEX_CHECKPOINT 1024

/* The running sum of a bucket being summarised. */
struct summary {
    bool active;
    int64_t bucket;
    int64_t first_start;
    int64_t total;
    size_t n;
    uint32_t used;
    int64_t dur[LAYOUT_KEY_COUNT];
    int64_t best_len[LAYOUT_KEY_COUNT];
    struct trace_segment best[LAYOUT_KEY_COUNT];
};

static uint32_t lane_of(const struct timeline_index *ix, const struct trace_segment *s)
{
    if (ix->view == LAYOUT_VIEW_CPUS)
        return s->cpu >= 0 ? (uint32_t)s->cpu : UINT32_MAX;
    return s->task < ix->tr->ntasks ? s->task : UINT32_MAX;
}

static int cmp_start(const void *pa, const void *pb)
{
    const struct trace_segment *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->end < b->end ? -1 : a->end > b->end;
}

static void level_finish(struct index_level *lv, uint32_t nlanes)
{
    lv->maxend = xmalloc((lv->n ? lv->n : 1) * sizeof *lv->maxend);
    for (uint32_t l = 0; l < nlanes; l++) {
        int64_t m = INT64_MIN;
        for (size_t i = lv->first[l]; i < lv->first[l + 1]; i++) {
            m = lv->segs[i].end > m ? lv->segs[i].end : m;
            lv->maxend[i] = m;
        }
    }
}

static void level0_build(struct timeline_index *ix, struct index_level *lv)
{
    const struct trace *tr = ix->tr;
    lv->first = xcalloc((size_t)ix->nlanes + 1, sizeof *lv->first);
    for (size_t i = 0; i < tr->nsegments; i++) {
        uint32_t l = lane_of(ix, &tr->segments[i]);
        if (l != UINT32_MAX)
            lv->first[l + 1]++;
    }
    for (uint32_t l = 0; l < ix->nlanes; l++)
        lv->first[l + 1] += lv->first[l];
    lv->n = lv->first[ix->nlanes];
    lv->segs = xmalloc((lv->n ? lv->n : 1) * sizeof *lv->segs);
    size_t *fill = xmalloc(((size_t)ix->nlanes + 1) * sizeof *fill);
    memcpy(fill, lv->first, ((size_t)ix->nlanes + 1) * sizeof *fill);
    for (size_t i = 0; i < tr->nsegments; i++) {
        uint32_t l = lane_of(ix, &tr->segments[i]);
        if (l != UINT32_MAX)
            lv->segs[fill[l]++] = tr->segments[i];
    }
    free(fill);
    for (uint32_t l = 0; l < ix->nlanes; l++) {
        struct trace_segment *s = lv->segs + lv->first[l];
        size_t n = lv->first[l + 1] - lv->first[l];
        for (size_t i = 1; i < n; i++)
            if (s[i].start < s[i - 1].start) {
                qsort(s, n, sizeof *s, cmp_start);
                break;
            }
    }
    level_finish(lv, ix->nlanes);
}

/* Appends s; with cap NULL only counts it (a level is counted before it is
 * built, and most candidate levels are not kept). */
static void emit(struct index_level *lv, size_t *cap, const struct trace_segment *s)
{
    if (cap) {
        lv->segs = xgrow(lv->segs, cap, lv->n + 1, sizeof *lv->segs);
        lv->segs[lv->n] = *s;
    }
    lv->n++;
}

static void summary_flush(struct summary *sm, struct index_level *lv, size_t *cap)
{
    if (!sm->active)
        return;
    int best = -1;
    for (int k = 0; k < LAYOUT_KEY_COUNT; k++)
        if (sm->used >> k & 1u && (best < 0 || sm->dur[k] > sm->dur[best]))
            best = k;
    struct trace_segment out = sm->best[best];
    if (sm->n > 1) {
        /* As long as the time covered: a mostly idle bucket stays mostly idle. */
        out.start = sm->first_start;
        out.end = sm->first_start + sm->total;
    }
    emit(lv, cap, &out);
    for (int k = 0; k < LAYOUT_KEY_COUNT; k++)
        if (sm->used >> k & 1u)
            sm->dur[k] = sm->best_len[k] = 0;
    sm->used = 0;
    sm->n = 0;
    sm->total = 0;
    sm->active = false;
}

static void level_build(const struct timeline_index *ix, const struct index_level *src,
                        int64_t bucket, bool store, struct index_level *lv)
{
    size_t capacity = 0, *cap = store ? &capacity : NULL;
    struct summary sm;
    memset(&sm, 0, sizeof sm);
    memset(lv, 0, sizeof *lv);
    lv->bucket = bucket;
    if (store)
        lv->first = xcalloc((size_t)ix->nlanes + 1, sizeof *lv->first);
    for (uint32_t l = 0; l < ix->nlanes; l++) {
        if (store)
            lv->first[l] = lv->n;
        for (size_t i = src->first[l]; i < src->first[l + 1]; i++) {
            const struct trace_segment *s = &src->segs[i];
            int64_t len = s->end - s->start;
            if (len >= bucket) {
                summary_flush(&sm, lv, cap);
                emit(lv, cap, s);
                continue;
            }
            int64_t b = s->start / bucket;
            if (sm.active && b != sm.bucket)
                summary_flush(&sm, lv, cap);
            enum layout_key k = layout_key_of((enum trace_state)s->state,
                                              (enum trace_reason)s->reason);
            if (!sm.active) {
                sm.active = true;
                sm.bucket = b;
                sm.first_start = s->start;
            }
            sm.n++;
            sm.total += len;
            sm.used |= 1u << k;
            sm.dur[k] += len;
            if (len > sm.best_len[k]) {
                sm.best_len[k] = len;
                sm.best[k] = *s;
            }
        }
        summary_flush(&sm, lv, cap);
    }
    if (store)
        lv->first[ix->nlanes] = lv->n;
}

static void level_free(struct index_level *lv)
{
    free(lv->segs);
    free(lv->maxend);
    free(lv->first);
}

/* The process whose GIL a gil_take or gil_drop is about, as the layout
 * finds it (viz/layout.c: gil_process). */
static uint32_t gil_process(const struct trace *tr, const struct trace_instant *ev)
{
    if (ev->value >= 0 && ev->value < (int64_t)tr->nprocesses)
        return (uint32_t)ev->value;
    return ev->task < tr->ntasks ? tr->tasks[ev->task].process : UINT32_MAX;
}

/* Which starts of a flow an end pairs with, as the layout pairs them
 * (viz/layout.c: flow_class): -1 for no flow event. */
static int flow_class(uint16_t kind, bool *start)
{
    *start = kind == INSTANT_RELEASE || kind == INSTANT_PUT || kind == INSTANT_SEND;
    if (kind == INSTANT_RELEASE || kind == INSTANT_ACQUIRE)
        return 0;
    if (kind == INSTANT_PUT || kind == INSTANT_GET)
        return 1;
    if (kind == INSTANT_SEND || kind == INSTANT_RECV)
        return 2;
    return -1;
}

/* A time held, with its owner, as the instants walk finds it. */
struct keyed_holder {
    size_t key;
    struct holder h;
};

static void held_add(struct keyed_holder **raw, size_t *cap, size_t *n, size_t key,
                     const struct trace_instant *take, uint32_t take_index, int64_t end)
{
    if (end <= take->time && end != INT64_MAX)
        return; /* held for no time: the layout draws nothing of it */
    *raw = xgrow(*raw, cap, *n + 1, sizeof **raw);
    (*raw)[(*n)++] = (struct keyed_holder){
        .key = key, .h = { .start = take->time, .end = end, .task = take->task, .take = take_index }
    };
}

/* Owner levels are made while a level keeps at most this share of the
 * previous one (as the segments' levels), and windows use one when they
 * hold more than LOD_MIN_INSTANTS instants a column. */
#define LOD_MIN_INSTANTS 8
#define LOD_HOLDER_SLOTS 8
/* Up to this many sorted runs of a window's instants are merged in one pass. */
#define LOD_FEW_RUNS 12
/* A window gives every print and deadlock when it holds at most this many
 * a column; else one print a thread and column. */
#define LOD_MARKS 4
/* The layout folds the arrows of a pair closer than LAYOUT_ARROW_GAP (6 at
 * 12-pixel text) pixels, up to 24 at the largest text: a pair's drawn arrows
 * lie between these bounds. */
#define LOD_GAP_MIN 5
#define LOD_GAP_MAX 25
/* An object no owner lane shows: the acquire and release ends of a coarse
 * window's arrows carry it, so that only its holder times make owner lanes. */
#define LOD_NO_OBJ (UINT32_MAX - 1)

/* The runs held shorter than bucket within one bucket, summed. */
struct holder_sum {
    bool active;
    int64_t bucket, first_start, total;
    size_t n;
    int nslots;
    uint32_t task[LOD_HOLDER_SLOTS];
    int64_t dur[LOD_HOLDER_SLOTS];
    int64_t best_len[LOD_HOLDER_SLOTS];
    uint32_t best_take[LOD_HOLDER_SLOTS];
};

static void olevel_emit(struct owner_level *lv, size_t *cap, const struct holder *h)
{
    if (cap) {
        lv->h = xgrow(lv->h, cap, lv->n + 1, sizeof *lv->h);
        lv->h[lv->n] = *h;
    }
    lv->n++;
}

static void holder_flush(struct holder_sum *sm, struct owner_level *lv, size_t *cap,
                         const struct holder *only)
{
    if (!sm->active)
        return;
    if (sm->n == 1) {
        olevel_emit(lv, cap, only);
    } else {
        int best = 0;
        for (int k = 1; k < sm->nslots; k++)
            if (sm->dur[k] > sm->dur[best])
                best = k;
        /* as long as the time held: a mostly free bucket stays mostly free */
        struct holder h = { .start = sm->first_start, .end = sm->first_start + sm->total,
                            .task = sm->task[best], .take = sm->best_take[best] };
        olevel_emit(lv, cap, &h);
    }
    memset(sm, 0, sizeof *sm);
}

static void olevel_build(const struct timeline_index *ix, const struct owner_level *src,
                         int64_t bucket, bool store, struct owner_level *lv)
{
    size_t capacity = 0, *cap = store ? &capacity : NULL;
    struct holder_sum sm;
    struct holder last = { 0 };
    memset(&sm, 0, sizeof sm);
    memset(lv, 0, sizeof *lv);
    lv->bucket = bucket;
    if (store)
        lv->first = xcalloc(ix->nkeys + 1, sizeof *lv->first);
    for (size_t key = 0; key < ix->nkeys; key++) {
        if (store)
            lv->first[key] = lv->n;
        for (size_t i = src->first[key]; i < src->first[key + 1]; i++) {
            const struct holder *h = &src->h[i];
            int64_t len = h->end == INT64_MAX ? INT64_MAX : h->end - h->start;
            if (len >= bucket) {
                holder_flush(&sm, lv, cap, &last);
                olevel_emit(lv, cap, h);
                continue;
            }
            int64_t b = h->start / bucket;
            if (sm.active && b != sm.bucket)
                holder_flush(&sm, lv, cap, &last);
            if (!sm.active) {
                sm.active = true;
                sm.bucket = b;
                sm.first_start = h->start;
            }
            int k = 0;
            while (k < sm.nslots && sm.task[k] != h->task)
                k++;
            if (k == sm.nslots && k < LOD_HOLDER_SLOTS)
                sm.task[sm.nslots++] = h->task;
            last = *h;
            sm.n++;
            sm.total += len;
            if (k == LOD_HOLDER_SLOTS)
                continue; /* a ninth holder in one bucket: counted as held, not as a holder */
            sm.dur[k] += len;
            if (len > sm.best_len[k]) {
                sm.best_len[k] = len;
                sm.best_take[k] = h->take;
            }
        }
        holder_flush(&sm, lv, cap, &last);
    }
    if (store)
        lv->first[ix->nkeys] = lv->n;
}

static void olevel_finish(struct owner_level *lv, size_t nkeys)
{
    lv->maxend = xmalloc((lv->n ? lv->n : 1) * sizeof *lv->maxend);
    for (size_t k = 0; k < nkeys; k++) {
        int64_t m = INT64_MIN;
        for (size_t i = lv->first[k]; i < lv->first[k + 1]; i++) {
            m = lv->h[i].end > m ? lv->h[i].end : m;
            lv->maxend[i] = m;
        }
    }
}

static void olevel_free(struct owner_level *lv)
{
    free(lv->h);
    free(lv->maxend);
    free(lv->first);
}

struct pair_item {
    uint64_t key;
    uint32_t start;
};

static int cmp_pair_item(const void *pa, const void *pb)
{
    const struct pair_item *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* The instants' level of detail, made once: the times each GIL and lock
 * was held (raw, in time order) at level 0 and at coarser levels as the
 * segments' levels are made, the prints and deadlocks, and the arrows the
 * layout would draw by thread pair and kind (as make_arrows pairs them). A
 * window over many instants a column is then made of these: O(columns and
 * owners), whatever the number of instants in it. */
static void lod_build(struct timeline_index *ix, const struct keyed_holder *raw, size_t nraw)
{
    const struct trace *tr = ix->tr;
    ix->nkeys = (size_t)tr->nprocesses + tr->nobjects;
    size_t cap = 0;
    ix->olevels = xgrow(NULL, &cap, 1, sizeof *ix->olevels);
    struct owner_level *l0 = &ix->olevels[0];
    memset(l0, 0, sizeof *l0);
    l0->first = xcalloc(ix->nkeys + 1, sizeof *l0->first);
    for (size_t i = 0; i < nraw; i++)
        l0->first[raw[i].key + 1]++;
    for (size_t k = 0; k < ix->nkeys; k++)
        l0->first[k + 1] += l0->first[k];
    l0->n = nraw;
    l0->h = xmalloc((nraw ? nraw : 1) * sizeof *l0->h);
    size_t *fill = xmalloc((ix->nkeys + 1) * sizeof *fill);
    memcpy(fill, l0->first, (ix->nkeys + 1) * sizeof *fill);
    for (size_t i = 0; i < nraw; i++)
        l0->h[fill[raw[i].key]++] = raw[i].h;
    free(fill);
    /* a key's times come in the order they end: by start, for the bisection */
    for (size_t k = 0; k < ix->nkeys; k++)
        for (size_t i = l0->first[k] + 1; i < l0->first[k + 1]; i++)
            for (size_t j = i; j > l0->first[k] && l0->h[j].start < l0->h[j - 1].start; j--) {
                struct holder t = l0->h[j];
                l0->h[j] = l0->h[j - 1];
                l0->h[j - 1] = t;
            }
    olevel_finish(l0, ix->nkeys);
    ix->nolevels = 1;
    int64_t end = tr->makespan;
    for (int64_t b = INDEX_FIRST_BUCKET; b > 0 && b / 2 <= end; b *= 2) {
        const struct owner_level *prev = &ix->olevels[ix->nolevels - 1];
        if (prev->n <= 2 * ix->nkeys)
            break;
        struct owner_level lv;
        olevel_build(ix, &ix->olevels[0], b, false, &lv);
        if (lv.n * 4 > prev->n * 3)
            continue;
        olevel_build(ix, &ix->olevels[0], b, true, &lv);
        olevel_finish(&lv, ix->nkeys);
        ix->olevels = xgrow(ix->olevels, &cap, ix->nolevels + 1, sizeof *ix->olevels);
        ix->olevels[ix->nolevels++] = lv;
        if (b > INT64_MAX / 2)
            break;
    }

    size_t n = tr->ninstants, marks_cap = 0, narrows = 0;
    for (size_t i = 0; i < n; i++) {
        const struct trace_instant *ev = &tr->instants[i];
        if (ev->kind == INSTANT_PRINT || ev->kind == INSTANT_DEADLOCK) {
            ix->marks = xgrow(ix->marks, &marks_cap, ix->nmarks + 1, sizeof *ix->marks);
            ix->marks[ix->nmarks++] = (uint32_t)i;
        }
        if (ix->arrow_to[i] != UINT32_MAX)
            narrows++;
    }
    ix->mark_col = xmalloc(((size_t)tr->ntasks + 1) * sizeof *ix->mark_col);
    struct pair_item *items = xmalloc((narrows ? narrows : 1) * sizeof *items);
    size_t m = 0;
    ix->arrow_pair = xmalloc(n * sizeof *ix->arrow_pair);
    for (size_t i = 0; i < n; i++) {
        ix->arrow_pair[i] = UINT32_MAX;
        if (ix->arrow_to[i] == UINT32_MAX)
            continue;
        const struct trace_instant *a = &tr->instants[i], *z = &tr->instants[ix->arrow_to[i]];
        if (a->task >= tr->ntasks || z->task >= tr->ntasks || a->task == z->task)
            continue; /* the layout draws no arrow of these */
        uint64_t kind = a->kind == INSTANT_RELEASE || a->kind == INSTANT_GIL_DROP
                            ? LAYOUT_ARROW_HANDOVER
                            : LAYOUT_ARROW_MESSAGE;
        items[m++] = (struct pair_item){
            .key = (kind << 62) | ((uint64_t)a->task << 31) | z->task, .start = (uint32_t)i
        };
    }
    qsort(items, m, sizeof *items, cmp_pair_item);
    ix->pair_arrow = xmalloc((m ? m : 1) * sizeof *ix->pair_arrow);
    ix->pair_time = xmalloc((m ? m : 1) * sizeof *ix->pair_time);
    size_t pairs_cap = 0, kind_cap = 0;
    for (size_t i = 0; i < m; i++) {
        if (i == 0 || items[i].key != items[i - 1].key) {
            ix->pair_first = xgrow(ix->pair_first, &pairs_cap, ix->npairs + 2,
                                   sizeof *ix->pair_first);
            ix->pair_kind = xgrow(ix->pair_kind, &kind_cap, ix->npairs + 1, sizeof *ix->pair_kind);
            ix->pair_first[ix->npairs] = (uint32_t)i;
            ix->pair_kind[ix->npairs++] = (uint8_t)(items[i].key >> 62);
        }
        ix->pair_arrow[i] = items[i].start;
        ix->pair_time[i] = tr->instants[items[i].start].time;
        ix->arrow_pair[items[i].start] = (uint32_t)(ix->npairs - 1);
    }
    ix->pair_first = xgrow(ix->pair_first, &pairs_cap, ix->npairs + 1, sizeof *ix->pair_first);
    ix->pair_first[ix->npairs] = (uint32_t)m;
    ix->pair_mark = xcalloc(ix->npairs + 1, sizeof *ix->pair_mark);
    free(items);
}

/* What the layout needs of the instants outside a window: the takes of the
 * GILs and locks held at its start (their owner lanes show them held), and
 * both ends of every arrow that crosses its edges (drawn to the edge).
 * Walks the instants as the layout does: an owner per GIL (key p) and
 * object (key nprocesses + o), and the arrows paired as make_arrows pairs
 * them (a flow id's last start to its end, a GIL's drop on request to the
 * next take by another thread), with a checkpoint every INDEX_CHECKPOINT
 * instants of the takes held and the arrows in flight. A window then lays
 * out those of the checkpoint before it, the instants from the checkpoint to
 * its end, and the ends after it of the arrows started: O(visible +
 * INDEX_CHECKPOINT + arrows in flight), not O(history). */
static void instants_index(struct timeline_index *ix)
{
    const struct trace *tr = ix->tr;
    size_t n = tr->ninstants;
    if (n == 0 || n >= UINT32_MAX)
        return;
    uint32_t max_flow = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && tr->instants[i].time < tr->instants[i - 1].time)
            return; /* the layout sorts them: the whole history is needed */
        max_flow = tr->instants[i].flow > max_flow ? tr->instants[i].flow : max_flow;
    }
    if ((size_t)max_flow > 4 * n + 1024)
        return; /* not a counter (the layout then pairs no flows) */
    size_t nkeys = (size_t)tr->nprocesses + tr->nobjects;
    uint32_t *flow_start = xmalloc(((size_t)max_flow + 1) * sizeof *flow_start);
    for (size_t f = 0; f <= max_flow; f++)
        flow_start[f] = UINT32_MAX;
    uint32_t *owner = xmalloc((nkeys ? nkeys : 1) * sizeof *owner);
    uint32_t *take = xmalloc((nkeys ? nkeys : 1) * sizeof *take);
    uint32_t *drop = xmalloc((nkeys ? nkeys : 1) * sizeof *drop);
    bool *seen = xcalloc(nkeys + 1, sizeof *seen);
    for (size_t k = 0; k < nkeys; k++)
        owner[k] = take[k] = drop[k] = UINT32_MAX;
    ix->arrow_to = xmalloc(n * sizeof *ix->arrow_to);
    size_t ncp = (n + INDEX_CHECKPOINT - 1) / INDEX_CHECKPOINT;
    /* the takes held at each checkpoint, then (below) the arrows in flight */
    size_t *held_first = xcalloc(ncp + 1, sizeof *held_first);
    uint32_t *held = NULL;
    size_t held_cap = 0, nheld = 0, witness_cap = 0, origin_cap = 0;
    struct keyed_holder *raw = NULL;
    size_t raw_cap = 0, nraw = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % INDEX_CHECKPOINT == 0) {
            held_first[i / INDEX_CHECKPOINT] = nheld;
            for (size_t k = 0; k < nkeys; k++)
                if (owner[k] != UINT32_MAX) {
                    held = xgrow(held, &held_cap, nheld + 1, sizeof *held);
                    held[nheld++] = take[k];
                }
        }
        const struct trace_instant *ev = &tr->instants[i];
        ix->arrow_to[i] = UINT32_MAX;
        size_t key = SIZE_MAX;
        bool is_take = ev->kind == INSTANT_GIL_TAKE || ev->kind == INSTANT_ACQUIRE;
        if (ev->kind == INSTANT_GIL_TAKE || ev->kind == INSTANT_GIL_DROP) {
            uint32_t p = gil_process(tr, ev);
            if (p < tr->nprocesses) {
                key = p;
                if (ev->kind == INSTANT_GIL_DROP) {
                    drop[key] = ev->flow ? (uint32_t)i : UINT32_MAX;
                } else {
                    if (drop[key] != UINT32_MAX && tr->instants[drop[key]].task != ev->task)
                        ix->arrow_to[drop[key]] = (uint32_t)i;
                    drop[key] = UINT32_MAX;
                }
            }
        } else {
            bool start;
            int cls = flow_class(ev->kind, &start);
            if (cls >= 0 && ev->flow) {
                uint32_t s = flow_start[ev->flow];
                bool s_start;
                if (start)
                    flow_start[ev->flow] = (uint32_t)i;
                else if (s != UINT32_MAX && tr->instants[s].obj == ev->obj &&
                         flow_class(tr->instants[s].kind, &s_start) == cls) {
                    ix->arrow_to[s] = (uint32_t)i;
                    flow_start[ev->flow] = UINT32_MAX;
                }
            }
            if (ev->kind == INSTANT_ACQUIRE || ev->kind == INSTANT_RELEASE)
                key = ev->obj < tr->nobjects ? tr->nprocesses + (size_t)ev->obj : SIZE_MAX;
        }
        if (key != SIZE_MAX && is_take && !seen[key]) {
            /* The layout gives a GIL or lock an owner lane when the trace
             * has a take of it: a window has one of each, without a task
             * (which the layout's owner lanes and arrows skip), so its owner
             * lanes are the whole run's. */
            seen[key] = true;
            ix->witness = xgrow(ix->witness, &witness_cap, ix->nwitness + 1, sizeof *ix->witness);
            ix->witness_origin = xgrow(ix->witness_origin, &origin_cap, ix->nwitness + 1,
                                       sizeof *ix->witness_origin);
            ix->witness[ix->nwitness] = *ev;
            ix->witness[ix->nwitness].time = tr->instants[0].time;
            ix->witness[ix->nwitness].task = UINT32_MAX;
            ix->witness[ix->nwitness].flow = 0;
            ix->witness[ix->nwitness].text = UINT32_MAX;
            ix->witness_origin[ix->nwitness++] = (uint32_t)i;
            ix->last_first_take = i;
        }
        if (key == SIZE_MAX || ev->task >= tr->ntasks)
            continue;
        if (is_take && owner[key] != ev->task) {
            if (owner[key] != UINT32_MAX)
                held_add(&raw, &raw_cap, &nraw, key, &tr->instants[take[key]], take[key],
                         ev->time);
            owner[key] = ev->task;
            take[key] = (uint32_t)i;
        } else if (!is_take && owner[key] == ev->task) {
            held_add(&raw, &raw_cap, &nraw, key, &tr->instants[take[key]], take[key], ev->time);
            owner[key] = UINT32_MAX;
        }
    }
    for (size_t k = 0; k < nkeys; k++)
        if (owner[k] != UINT32_MAX)
            held_add(&raw, &raw_cap, &nraw, k, &tr->instants[take[k]], take[k], INT64_MAX);
    held_first[ncp] = nheld;
    ix->max_flow = max_flow;
    if (ix->view == LAYOUT_VIEW_THREADS)
        lod_build(ix, raw, nraw);
    free(raw);

    /* Per checkpoint: its takes held, then the arrows in flight across it
     * (started before it, ended at or after it). */
    ix->cp_first = xcalloc(ncp + 1, sizeof *ix->cp_first);
    ix->arrow_reach = xmalloc((n + 1) * sizeof *ix->arrow_reach);
    uint32_t reach = 0;
    for (size_t i = 0; i < n; i++) {
        ix->arrow_reach[i] = reach;
        uint32_t e = ix->arrow_to[i];
        if (e == UINT32_MAX)
            continue;
        reach = e + 1 > reach ? e + 1 : reach;
        for (size_t cp = i / INDEX_CHECKPOINT + 1; cp <= e / INDEX_CHECKPOINT; cp++)
            ix->cp_first[cp]++;
    }
    ix->arrow_reach[n] = reach;
    size_t total = 0;
    for (size_t cp = 0; cp < ncp; cp++) {
        size_t k = ix->cp_first[cp] + held_first[cp + 1] - held_first[cp];
        ix->cp_first[cp] = total;
        total += k;
    }
    ix->cp_first[ncp] = total;
    ix->cp_hist = xmalloc((total ? total : 1) * sizeof *ix->cp_hist);
    size_t *fill = xmalloc(ncp * sizeof *fill);
    for (size_t cp = 0; cp < ncp; cp++) {
        fill[cp] = ix->cp_first[cp];
        for (size_t k = held_first[cp]; k < held_first[cp + 1]; k++)
            ix->cp_hist[fill[cp]++] = held[k];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t cp = i / INDEX_CHECKPOINT + 1;
             ix->arrow_to[i] != UINT32_MAX && cp <= ix->arrow_to[i] / INDEX_CHECKPOINT; cp++)
            ix->cp_hist[fill[cp]++] = (uint32_t)i;
    free(fill);
    free(held);
    free(held_first);
    free(seen);
    free(flow_start);
    free(owner);
    free(take);
    free(drop);
}

struct timeline_index *timeline_index_create(const struct trace *tr, enum layout_view view)
{
    struct timeline_index *ix = xcalloc(1, sizeof *ix);
    ix->tr = tr;
    ix->view = view;
    if (view == LAYOUT_VIEW_CPUS) {
        ix->nlanes = tr->cpus;
        for (size_t i = 0; i < tr->nsegments; i++)
            if (tr->segments[i].cpu >= 0 && (uint32_t)tr->segments[i].cpu >= ix->nlanes)
                ix->nlanes = (uint32_t)tr->segments[i].cpu + 1;
    } else {
        ix->nlanes = tr->ntasks;
    }
    size_t cap = 0;
    ix->levels = xgrow(NULL, &cap, 1, sizeof *ix->levels);
    memset(&ix->levels[0], 0, sizeof ix->levels[0]);
    level0_build(ix, &ix->levels[0]);
    ix->nlevels = 1;

    int64_t end = tr->makespan;
    for (size_t i = 0; i < tr->nsegments; i++)
        end = tr->segments[i].end > end ? tr->segments[i].end : end;
    for (int64_t b = INDEX_FIRST_BUCKET; b > 0 && b / 2 <= end; b *= 2) {
        const struct index_level *prev = &ix->levels[ix->nlevels - 1];
        if (prev->n <= 2 * (size_t)ix->nlanes)
            break;
        /* From the original segments every time: summaries of summaries
         * would credit a bucket's winner with all its time, level after
         * level, and a slight majority would grow into a wrong picture. */
        struct index_level lv;
        level_build(ix, &ix->levels[0], b, false, &lv);
        if (lv.n * 4 > prev->n * 3)
            continue;
        level_build(ix, &ix->levels[0], b, true, &lv);
        level_finish(&lv, ix->nlanes);
        ix->levels = xgrow(ix->levels, &cap, ix->nlevels + 1, sizeof *ix->levels);
        ix->levels[ix->nlevels++] = lv;
        if (b > INT64_MAX / 2)
            break;
    }
    instants_index(ix);
    return ix;
}

void timeline_index_destroy(struct timeline_index *ix)
{
    if (!ix)
        return;
    free(ix->arrow_to);
    free(ix->arrow_reach);
    free(ix->cp_first);
    free(ix->cp_hist);
    free(ix->inst);
    free(ix->inst_origin);
    free(ix->hist);
    free(ix->witness);
    free(ix->witness_origin);
    for (size_t i = 0; i < ix->nolevels; i++)
        olevel_free(&ix->olevels[i]);
    free(ix->olevels);
    free(ix->marks);
    free(ix->mark_col);
    free(ix->pair_first);
    free(ix->pair_arrow);
    free(ix->pair_time);
    free(ix->pair_kind);
    free(ix->arrow_pair);
    free(ix->items);
    free(ix->merged);
    free(ix->runs);
    free(ix->pair_mark);
    for (size_t i = 0; i < ix->nlevels; i++)
        level_free(&ix->levels[i]);
    free(ix->levels);
    free(ix->scratch);
    free(ix->reduced);
    free(ix);
}

static void window_instants(struct timeline_index *ix, int64_t from, int64_t to);

/* The first index in [lo, hi) whose maxend is above t (hi if none). */
static size_t first_ending_after(const int64_t *maxend, size_t lo, size_t hi, int64_t t)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (maxend[mid] > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The window, for a plot whose columns start at plot_x0 (0: unknown). */
static const struct trace *window_make(struct timeline_index *ix, int64_t from, int64_t to,
                                       int plot_x0, int plot_w);

const struct trace *timeline_index_window(struct timeline_index *ix, int64_t from, int64_t to,
                                          int plot_w)
{
    return window_make(ix, from, to, 0, plot_w);
}

static const struct trace *window_make(struct timeline_index *ix, int64_t from, int64_t to,
                                       int plot_x0, int plot_w)
{
    const struct trace *tr = ix->tr;
    int64_t column = plot_w > 0 ? (to - from) / plot_w : 0;
    const struct index_level *lv = &ix->levels[0];
    for (size_t i = 1; i < ix->nlevels && 2 * ix->levels[i].bucket <= column; i++)
        lv = &ix->levels[i];

    size_t n = 0;
    for (uint32_t l = 0; l < ix->nlanes; l++) {
        size_t i = first_ending_after(lv->maxend, lv->first[l], lv->first[l + 1], from);
        /* the lane's segments starting before the window's end, by bisection */
        size_t lo = i, hi = lv->first[l + 1];
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (lv->segs[mid].start < to)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo <= i)
            continue;
        if (n + (lo - i) > ix->scratch_cap)
            ix->scratch = xgrow(ix->scratch, &ix->scratch_cap, n + (lo - i), sizeof *ix->scratch);
        memcpy(ix->scratch + n, lv->segs + i, (lo - i) * sizeof *ix->scratch);
        n += lo - i;
    }

    ix->win = *tr;
    ix->win.segments = ix->scratch;
    ix->win.nsegments = n;
    ix->win.segments_cap = n;
    ix->plot_w = plot_w;
    ix->plot_x0 = plot_x0;
    ix->cut = ix->cut_next && (double)(to - from) / plot_w >= INDEX_MIN_COLUMN_NS;
    ix->summarised = false;
    memset(ix->left_out, 0, sizeof ix->left_out);
    window_instants(ix, from, to);
    return &ix->win;
}

/* The first instant after t (before it, with after false). */
static size_t instant_after(const struct trace *tr, int64_t t, bool after)
{
    size_t lo = 0, hi = tr->ninstants;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (after ? tr->instants[mid].time <= t : tr->instants[mid].time < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

/* The window's instants are the trace's [lo, end). */
static void borrow_instants(struct timeline_index *ix, size_t lo, size_t end)
{
    ix->inst_copied = false;
    ix->inst_base = lo;
    ix->win.instants = ix->tr->instants + lo;
    ix->win.ninstants = end > lo ? end - lo : 0;
    ix->win.instants_cap = ix->win.ninstants;
}

static void hist_add(struct timeline_index *ix, size_t *nh, uint32_t i)
{
    if (*nh == ix->hist_cap)
        ix->hist = xgrow(ix->hist, &ix->hist_cap, *nh + 1, sizeof *ix->hist);
    ix->hist[(*nh)++] = i;
}

static void item_add(struct timeline_index *ix, size_t *n, const struct trace_instant *ev,
                     int rank, uint32_t origin)
{
    if (*n == ix->items_cap)
        ix->items = xgrow(ix->items, &ix->items_cap, *n + 1, sizeof *ix->items);
    ix->items[(*n)++] = (struct lod_item){ .time = ev->time, .rank = rank, .origin = origin,
                                           .ev = *ev };
}

static int cmp_item(const void *pa, const void *pb)
{
    const struct lod_item *a = pa, *b = pb;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return a->origin < b->origin ? -1 : a->origin > b->origin;
}

static void run_add(struct timeline_index *ix, size_t *nruns, size_t at)
{
    if (*nruns && ix->runs[*nruns - 1] == at)
        return;
    ix->runs = xgrow(ix->runs, &ix->runs_cap, *nruns + 1, sizeof *ix->runs);
    ix->runs[(*nruns)++] = at;
}

/* Sorts the n items, made of nruns sorted runs, by merging the runs two by
 * two: O(n log runs), where a sort of the whole would cost O(n log n).
 * Returns the sorted items (ix->items or ix->merged). */
static struct lod_item *merge_runs(struct timeline_index *ix, size_t n, size_t nruns)
{
    ix->merged = xgrow(ix->merged, &ix->merged_cap, n ? n : 1, sizeof *ix->merged);
    struct lod_item *src = ix->items, *dst = ix->merged;
    run_add(ix, &nruns, n);
    nruns--; /* runs[nruns] == n closes the last run */
    while (nruns > 1) {
        size_t out = 0, r = 0, k = 0;
        for (; r < nruns; r += 2) {
            size_t a = ix->runs[r], am = ix->runs[r + 1];
            size_t bm = r + 2 <= nruns ? ix->runs[r + 2] : am;
            size_t b = am;
            ix->runs[k++] = out;
            while (a < am && b < bm)
                dst[out++] = cmp_item(&src[b], &src[a]) < 0 ? src[b++] : src[a++];
            while (a < am)
                dst[out++] = src[a++];
            while (b < bm)
                dst[out++] = src[b++];
        }
        ix->runs[k] = n;
        nruns = k;
        struct lod_item *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

/* The first of times[lo, hi) at or after t. */
static size_t time_at_or_after(const int64_t *times, size_t lo, size_t hi, int64_t t)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (times[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* An arrow of a coarse window, both ends: the acquire and release ends (a
 * GIL's drop and take become a release and an acquire of a flow of its
 * own, paired the same) carry an object no owner lane shows, so that only
 * the holder times make the owner lanes. */
static void arrow_add(struct timeline_index *ix, size_t *n, uint32_t a, uint32_t *fake_flow)
{
    const struct trace *tr = ix->tr;
    struct trace_instant s = tr->instants[a], e = tr->instants[ix->arrow_to[a]];
    if (s.kind == INSTANT_GIL_DROP) {
        s.kind = INSTANT_RELEASE;
        e.kind = INSTANT_ACQUIRE;
        s.flow = e.flow = ++*fake_flow;
    }
    if (s.kind == INSTANT_RELEASE)
        s.obj = e.obj = LOD_NO_OBJ;
    item_add(ix, n, &s, 1, a);
    item_add(ix, n, &e, 1, ix->arrow_to[a]);
}

/* Whether the layout surely drops a pair's arrows as too dense (see
 * viz/layout.c: drop_dense_arrows): at least LAYOUT_ARROW_DENSE drawn at
 * the widest fold, and more than twice as many as it can draw at the
 * narrowest. ninflight arrows start before the window (drawn at its edge). */
static bool pair_too_dense(const struct timeline_index *ix, size_t lo, size_t hi,
                           size_t ninflight, int64_t from, int64_t to)
{
    size_t total = hi - lo + ninflight;
    int w = ix->plot_w;
    if (total <= 2 * (size_t)(w / LOD_GAP_MIN + 2))
        return false;
    /* the arrows folded greedily at the widest gap, as thin_arrows folds */
    double ns_per_px = (double)(to - from) / w;
    int64_t step = (int64_t)ceil(LOD_GAP_MAX * ns_per_px) + 1;
    int64_t t = ninflight ? from : ix->pair_time[lo];
    size_t groups = 1;
    size_t i = lo;
    while (groups < 8) {
        i = time_at_or_after(ix->pair_time, i, hi, t + step);
        if (i >= hi)
            return false;
        t = ix->pair_time[i];
        groups++;
    }
    return true;
}

/* The held times of one owner in one pixel column, each too short for a
 * rectangle of its own, summed as the layout sums them (viz/layout.c:
 * feed_owner, flush_owner). */
struct owner_column {
    bool active;
    int col;
    uint32_t n;
    int nslots;
    int64_t covered;
    uint32_t task[LOD_HOLDER_SLOTS];
    int64_t dur[LOD_HOLDER_SLOTS];
    int64_t best_len[LOD_HOLDER_SLOTS];
    uint32_t best_take[LOD_HOLDER_SLOTS];
    struct holder only;            /* the time held, when only one */
};

/* A take and a drop of owner key (a GIL per process, then a lock per
 * object) for a time held. They are made from the key, not read from the
 * take in the trace: a window's times held are far apart there, and
 * reading them would cost a cache miss each. */
static void holder_add(struct timeline_index *ix, size_t *n, size_t key, const struct holder *h)
{
    const struct trace *tr = ix->tr;
    bool gil = key < tr->nprocesses;
    struct trace_instant ev = { .time = h->start, .task = h->task,
                                .kind = gil ? INSTANT_GIL_TAKE : INSTANT_ACQUIRE,
                                .value = gil ? (int64_t)key : 0,
                                .obj = gil ? UINT32_MAX : (uint32_t)(key - tr->nprocesses),
                                .text = UINT32_MAX };
    item_add(ix, n, &ev, 2, h->take);
    if (h->end == INT64_MAX)
        return; /* held to the end of the run */
    ev.time = h->end;
    ev.kind = gil ? INSTANT_GIL_DROP : INSTANT_RELEASE;
    ev.value = gil ? (int64_t)key : -1;
    item_add(ix, n, &ev, 0, h->take);
}

/* One held time inside the column, of the holder of most of it, as long as
 * the time held: the layout then draws the column as it would from all. */
static void owner_column_flush(struct timeline_index *ix, struct owner_column *oc, size_t *n,
                               size_t key, int64_t from, double scale, int64_t *last_end)
{
    if (!oc->active)
        return;
    if (oc->n == 1) {
        holder_add(ix, n, key, &oc->only);
        *last_end = oc->only.end;
    } else {
        int best = 0;
        for (int k = 1; k < oc->nslots; k++)
            if (oc->dur[k] > oc->dur[best])
                best = k;
        int64_t t0 = from + (int64_t)ceil((oc->col - ix->plot_x0) / scale);
        int64_t lim = from + (int64_t)floor((oc->col + 1 - ix->plot_x0) / scale);
        /* after the time held before it (one ending in this column), so
         * the owner's times stay in order and apart */
        t0 = t0 > *last_end ? t0 : *last_end;
        int64_t t1 = t0 + oc->covered < lim ? t0 + oc->covered : lim;
        struct holder h = { .start = t0, .end = t1 > t0 ? t1 : t0 + 1, .task = oc->task[best],
                            .take = oc->best_take[best] };
        holder_add(ix, n, key, &h);
        *last_end = h.end;
        ix->summarised = true;
    }
    memset(oc, 0, sizeof *oc);
}

/* The held times of an owner over [from, to): as they are, or (the plot's
 * columns known) those too short for a rectangle of their own summed into
 * one a column. */
static void owner_times(struct timeline_index *ix, const struct owner_level *lv, size_t key,
                        int64_t from, int64_t to, size_t *n)
{
    size_t i = first_ending_after(lv->maxend, lv->first[key], lv->first[key + 1], from);
    struct owner_column oc;
    memset(&oc, 0, sizeof oc);
    int64_t last_end = INT64_MIN;
    double scale = (double)ix->plot_w / (double)(to - from);
    int plot_x1 = ix->plot_x0 + ix->plot_w;
    for (; i < lv->first[key + 1] && lv->h[i].start < to; i++) {
        const struct holder *h = &lv->h[i];
        if (!ix->cut) {
            holder_add(ix, n, key, h);
            continue;
        }
        int64_t t0 = h->start > from ? h->start : from;
        int64_t t1 = h->end < to ? h->end : to;
        if (t1 <= t0)
            continue; /* held before the window only: the layout draws nothing of it */
        double fx0 = ix->plot_x0 + (double)(t0 - from) * scale;
        double fx1 = ix->plot_x0 + (double)(t1 - from) * scale;
        int c0 = (int)floor(fx0 + INDEX_EDGE_SLACK);
        int c1 = (int)ceil(fx1 - INDEX_EDGE_SLACK);
        if (c1 - c0 > 1) {
            owner_column_flush(ix, &oc, n, key, from, scale, &last_end);
            holder_add(ix, n, key, h);
            last_end = h->end;
            continue;
        }
        int col = c0 < plot_x1 ? c0 : plot_x1 - 1;
        if (oc.active && oc.col != col)
            owner_column_flush(ix, &oc, n, key, from, scale, &last_end);
        int k = 0;
        while (k < oc.nslots && oc.task[k] != h->task)
            k++;
        if (k == oc.nslots) {
            if (k == LOD_HOLDER_SLOTS)
                continue; /* the layout counts 8 holders a column */
            oc.task[oc.nslots++] = h->task;
        }
        int64_t d = t1 - t0;
        oc.active = true;
        oc.col = col;
        oc.n++;
        oc.only = *h;
        oc.covered += d;
        oc.dur[k] += d;
        if (d > oc.best_len[k]) {
            oc.best_len[k] = d;
            oc.best_take[k] = h->take;
        }
    }
    owner_column_flush(ix, &oc, n, key, from, scale, &last_end);
}

/* A window over many instants a column, from the level of detail: the
 * holder times of the owner level lv overlapping it as a take and a drop
 * each, the prints and deadlocks in it (at most one print a thread and
 * column when very many), and both ends of the arrows of the thread pairs
 * the layout would draw; a pair it would drop as too dense is left out,
 * counted in timeline_index_arrows_left_out. start: the first instant in
 * the window; c: its checkpoint's first. */
static void lod_window(struct timeline_index *ix, const struct owner_level *lv, int64_t from,
                       int64_t to, size_t start, size_t c)
{
    const struct trace *tr = ix->tr;
    size_t n = 0, nruns = 0;
    run_add(ix, &nruns, 0);
    for (size_t k = 0; k < ix->nwitness; k++)
        item_add(ix, &n, &ix->witness[k], 1, ix->witness_origin[k]);
    /* a run of each owner's times (they do not overlap: a summary ends by
     * the end of the last time it sums) */
    for (size_t key = 0; key < ix->nkeys; key++) {
        run_add(ix, &nruns, n);
        if (key >= tr->nprocesses) {
            const char *type = tr->objects[key - tr->nprocesses].type;
            if (!type || (strcmp(type, "lock") != 0 && strcmp(type, "rlock") != 0))
                continue; /* no owner lane */
        }
        owner_times(ix, lv, key, from, to, &n);
    }

    /* prints and deadlocks */
    run_add(ix, &nruns, n);
    size_t m0 = 0, m1 = ix->nmarks;
    while (m0 < m1) {
        size_t mid = m0 + (m1 - m0) / 2;
        if (tr->instants[ix->marks[mid]].time < from)
            m0 = mid + 1;
        else
            m1 = mid;
    }
    m1 = m0;
    while (m1 < ix->nmarks && tr->instants[ix->marks[m1]].time <= to &&
           m1 - m0 <= (size_t)LOD_MARKS * (size_t)ix->plot_w)
        m1++;
    bool thin = m1 - m0 > (size_t)LOD_MARKS * (size_t)ix->plot_w;
    if (thin)
        for (uint32_t t = 0; t <= tr->ntasks; t++)
            ix->mark_col[t] = -1;
    /* the marker's x as the layout places it (viz/layout.c: time_x) */
    double scale = (double)ix->plot_w / (double)(to - from);
    for (size_t k = m0; k < ix->nmarks && tr->instants[ix->marks[k]].time <= to; k++) {
        const struct trace_instant *ev = &tr->instants[ix->marks[k]];
        if (thin && ev->kind == INSTANT_PRINT) {
            uint32_t t = ev->task < tr->ntasks ? ev->task : tr->ntasks;
            int64_t col = lround(ix->plot_x0 + (double)(ev->time - from) * scale);
            if (ix->mark_col[t] == col)
                continue;
            ix->mark_col[t] = col;
        }
        item_add(ix, &n, ev, 1, ix->marks[k]);
    }

    /* arrows: those in flight at the window's start (from its checkpoint's
     * history and the instants from the checkpoint to it), then those
     * starting in it, by pair */
    uint32_t fake_flow = ix->max_flow;
    size_t arrows_from = n;
    run_add(ix, &nruns, n);
    size_t ncp = (tr->ninstants + INDEX_CHECKPOINT - 1) / INDEX_CHECKPOINT;
    size_t cp = c / INDEX_CHECKPOINT < ncp ? c / INDEX_CHECKPOINT : ncp - 1;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0 counts each pair's arrows in flight, pass 1 adds them */
        for (size_t k = ix->cp_first[cp]; k < ix->cp_first[cp + 1] + (start - c); k++) {
            uint32_t a = k < ix->cp_first[cp + 1] ? ix->cp_hist[k]
                                                  : (uint32_t)(c + (k - ix->cp_first[cp + 1]));
            if (a >= start || ix->arrow_to[a] == UINT32_MAX || ix->arrow_pair[a] == UINT32_MAX ||
                tr->instants[ix->arrow_to[a]].time < from)
                continue;
            uint32_t p = ix->arrow_pair[a];
            if (pass == 0)
                ix->pair_mark[p]++;
            else if (ix->pair_mark[p] != UINT32_MAX)
                arrow_add(ix, &n, a, &fake_flow);
        }
        if (pass == 1)
            break;
        for (uint32_t p = 0; p < ix->npairs; p++) {
            size_t lo = time_at_or_after(ix->pair_time, ix->pair_first[p], ix->pair_first[p + 1],
                                         from);
            size_t hi = time_at_or_after(ix->pair_time, lo, ix->pair_first[p + 1], to + 1);
            size_t inflight = ix->pair_mark[p];
            if ((lo < hi || inflight) && pair_too_dense(ix, lo, hi, inflight, from, to)) {
                ix->left_out[ix->pair_kind[p]] += hi - lo + inflight;
                ix->pair_mark[p] = UINT32_MAX;
                continue;
            }
            ix->pair_mark[p] = 0;
            for (size_t i = lo; i < hi; i++)
                arrow_add(ix, &n, ix->pair_arrow[i], &fake_flow);
        }
    }
    for (uint32_t p = 0; p < ix->npairs; p++)
        ix->pair_mark[p] = 0;

    /* the arrows (few: those of pairs drawn) are sorted, then all merged */
    qsort(ix->items + arrows_from, n - arrows_from, sizeof *ix->items, cmp_item);
    ix->inst_copied = true;
    ix->inst = xgrow(ix->inst, &ix->inst_cap, n ? n : 1, sizeof *ix->inst);
    ix->inst_origin = xgrow(ix->inst_origin, &ix->origin_cap, n ? n : 1, sizeof *ix->inst_origin);
    if (nruns <= LOD_FEW_RUNS) {
        /* a few runs (owners): one pass picks the least head each time */
        size_t head[LOD_FEW_RUNS], stop[LOD_FEW_RUNS];
        for (size_t r = 0; r < nruns; r++) {
            head[r] = ix->runs[r];
            stop[r] = r + 1 < nruns ? ix->runs[r + 1] : n;
        }
        for (size_t k = 0; k < n; k++) {
            size_t best = SIZE_MAX;
            for (size_t r = 0; r < nruns; r++)
                if (head[r] < stop[r] &&
                    (best == SIZE_MAX || cmp_item(&ix->items[head[r]], &ix->items[head[best]]) < 0))
                    best = r;
            const struct lod_item *it = &ix->items[head[best]++];
            ix->inst[k] = it->ev;
            ix->inst_origin[k] = it->origin;
        }
    } else {
        const struct lod_item *items = merge_runs(ix, n, nruns);
        for (size_t k = 0; k < n; k++) {
            ix->inst[k] = items[k].ev;
            ix->inst_origin[k] = items[k].origin;
        }
    }
    ix->win.instants = ix->inst;
    ix->win.ninstants = n;
    ix->win.instants_cap = n;
}

bool timeline_index_instants_summarised(const struct timeline_index *ix)
{
    return ix->summarised;
}

size_t timeline_index_arrows_left_out(const struct timeline_index *ix,
                                      enum layout_arrow_kind kind)
{
    return kind < LAYOUT_ARROW_KIND_COUNT ? ix->left_out[kind] : 0;
}

/* The window's instants: those up to its end, or with the history index
 * (instants_index): a take of each GIL and lock (for the owner lanes), the
 * checkpoint's held takes and arrows in flight, every instant from the
 * checkpoint to the window's end, and the ends after it of the arrows
 * started, in trace order. A window near the start whose arrows all end in
 * it borrows the trace's instants instead. */
static void window_instants(struct timeline_index *ix, int64_t from, int64_t to)
{
    const struct trace *tr = ix->tr;
    size_t end = instant_after(tr, to, true);
    if (!ix->arrow_to) {
        /* Every instant up to the window's end: the owner lanes need the
         * takes and releases before it to know who holds a lock at its
         * start. */
        borrow_instants(ix, 0, end);
        return;
    }
    size_t start = instant_after(tr, from, false);
    size_t ncp = (tr->ninstants + INDEX_CHECKPOINT - 1) / INDEX_CHECKPOINT;
    size_t cp = start / INDEX_CHECKPOINT < ncp ? start / INDEX_CHECKPOINT : ncp - 1;
    size_t c = cp * INDEX_CHECKPOINT;
    if (ix->view == LAYOUT_VIEW_CPUS) {
        /* no owner lanes nor arrows there: the visible instants suffice */
        borrow_instants(ix, start, end);
        return;
    }
    if (ix->olevels && ix->plot_w > 0 && end - start > (size_t)LOD_MIN_INSTANTS * (size_t)ix->plot_w) {
        int64_t column = (to - from) / ix->plot_w;
        size_t lv = 0;
        while (lv + 1 < ix->nolevels && 2 * ix->olevels[lv + 1].bucket <= column)
            lv++;
        /* at level 0 the owner lanes are exact: the layout's own times */
        lod_window(ix, &ix->olevels[lv], from, to, start, c);
        ix->summarised = ix->summarised || lv > 0;
        return;
    }
    size_t nh = 0;
    for (size_t k = ix->cp_first[cp]; k < ix->cp_first[cp + 1]; k++)
        hist_add(ix, &nh, ix->cp_hist[k]);
    size_t nbefore = nh;
    /* When the history and a take of each GIL and lock lie not much before
     * the checkpoint (or the window is wider than the walk back to them),
     * and no arrow started before the window's end ends after it, the
     * trace's instants from there are borrowed rather than copied. */
    size_t lo = c;
    for (size_t k = 0; k < nbefore; k++)
        lo = ix->hist[k] < lo ? ix->hist[k] : lo;
    if (ix->nwitness && ix->witness_origin[0] < lo)
        lo = ix->witness_origin[0];
    size_t walk = end - c > 4 * INDEX_CHECKPOINT ? end - c : 4 * INDEX_CHECKPOINT;
    if (ix->arrow_reach[end] <= end && (ix->nwitness == 0 || ix->last_first_take < end) &&
        c - lo <= walk) {
        borrow_instants(ix, lo, end);
        return;
    }
    /* the ends after the window of the arrows started before its end */
    for (size_t k = 0; k < nbefore; k++)
        if (ix->arrow_to[ix->hist[k]] != UINT32_MAX && ix->arrow_to[ix->hist[k]] >= end)
            hist_add(ix, &nh, ix->arrow_to[ix->hist[k]]);
    if (ix->arrow_reach[end] > end)
        for (size_t i = c; i < end; i++)
            if (ix->arrow_to[i] != UINT32_MAX && ix->arrow_to[i] >= end)
                hist_add(ix, &nh, ix->arrow_to[i]);
    qsort(ix->hist, nh, sizeof *ix->hist, cmp_u32);
    ix->inst_copied = true;
    size_t m = 0, total = ix->nwitness + nh + (end > c ? end - c : 0);
    ix->inst = xgrow(ix->inst, &ix->inst_cap, total ? total : 1, sizeof *ix->inst);
    ix->inst_origin = xgrow(ix->inst_origin, &ix->origin_cap, total ? total : 1,
                            sizeof *ix->inst_origin);
    for (size_t k = 0; k < ix->nwitness; k++) {
        ix->inst_origin[m] = ix->witness_origin[k];
        ix->inst[m++] = ix->witness[k];
    }
    size_t k = 0;
    for (; k < nh && ix->hist[k] < c; k++)
        if (k == 0 || ix->hist[k] != ix->hist[k - 1]) {
            ix->inst_origin[m] = ix->hist[k];
            ix->inst[m++] = tr->instants[ix->hist[k]];
        }
    for (size_t i = c; i < end; i++) {
        ix->inst_origin[m] = (uint32_t)i;
        ix->inst[m++] = tr->instants[i];
    }
    for (; k < nh; k++)
        if (ix->hist[k] >= end && (k == 0 || ix->hist[k] != ix->hist[k - 1])) {
            ix->inst = xgrow(ix->inst, &ix->inst_cap, m + 1, sizeof *ix->inst);
            ix->inst_origin = xgrow(ix->inst_origin, &ix->origin_cap, m + 1,
                                    sizeof *ix->inst_origin);
            ix->inst_origin[m] = ix->hist[k];
            ix->inst[m++] = tr->instants[ix->hist[k]];
        }
    ix->win.instants = ix->inst;
    ix->win.ninstants = m;
    ix->win.instants_cap = m;
}

size_t timeline_index_instant_origin(const struct timeline_index *ix, size_t i)
{
    if (!ix->arrow_to)
        return i;
    return ix->inst_copied ? ix->inst_origin[i] : ix->inst_base + i;
}

size_t timeline_index_window_size(const struct timeline_index *ix)
{
    return ix->win.nsegments;
}

const struct trace_segment *timeline_index_find(const struct timeline_index *ix, uint32_t lane,
                                                int64_t t)
{
    if (lane >= ix->nlanes)
        return NULL;
    const struct index_level *lv = &ix->levels[0];
    size_t i = first_ending_after(lv->maxend, lv->first[lane], lv->first[lane + 1], t);
    for (; i < lv->first[lane + 1] && lv->segs[i].start <= t; i++)
        if (lv->segs[i].start <= t && t < lv->segs[i].end)
            return &lv->segs[i];
    return NULL;
}


/* The short segments of one column, summed as the layout sums them. */
struct column {
    bool active;
    int col;
    size_t n;
    int64_t covered;
    uint32_t used;
    int64_t dur[LAYOUT_KEY_COUNT];
    int64_t best_len[LAYOUT_KEY_COUNT];
    struct trace_segment best[LAYOUT_KEY_COUNT];
};

static void column_flush(struct timeline_index *ix, struct column *c, size_t *m, int64_t from,
                         int plot_x0, double scale)
{
    if (!c->active)
        return;
    int best = -1;
    for (int k = 0; k < LAYOUT_KEY_COUNT; k++)
        if (c->used >> k & 1u && (best < 0 || c->dur[k] > c->dur[best]))
            best = k;
    struct trace_segment out = c->best[best];
    if (c->n > 1) {
        /* One segment inside the column, as long as the time covered: the
         * layout then shows the same key, or nothing for a mostly idle column. */
        int64_t t0 = from + (int64_t)ceil((c->col - plot_x0) / scale);
        int64_t lim = from + (int64_t)floor((c->col + 1 - plot_x0) / scale);
        int64_t t1 = t0 + c->covered < lim ? t0 + c->covered : lim;
        out.start = t0;
        out.end = t1 > t0 ? t1 : t0 + 1;
    }
    ix->reduced[(*m)++] = out;
    for (int k = 0; k < LAYOUT_KEY_COUNT; k++)
        if (c->used >> k & 1u)
            c->dur[k] = c->best_len[k] = 0;
    c->used = 0;
    c->n = 0;
    c->covered = 0;
    c->active = false;
}

const struct trace *timeline_index_window_px(struct timeline_index *ix, int64_t from, int64_t to,
                                             int plot_x0, int plot_x1)
{
    ix->cut_next = plot_x1 > plot_x0;
    window_make(ix, from, to, plot_x0, plot_x1 - plot_x0);
    ix->cut_next = false;
    double scale = (double)(plot_x1 - plot_x0) / (double)(to - from);
    if (plot_x1 <= plot_x0 || 1.0 / scale < INDEX_MIN_COLUMN_NS)
        return &ix->win;
    size_t n = ix->win.nsegments, m = 0;
    ix->reduced = xgrow(ix->reduced, &ix->reduced_cap, n ? n : 1, sizeof *ix->reduced);
    struct column c;
    memset(&c, 0, sizeof c);
    uint32_t lane = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        const struct trace_segment *s = &ix->scratch[i];
        uint32_t l = lane_of(ix, s);
        if (l != lane) {
            column_flush(ix, &c, &m, from, plot_x0, scale);
            lane = l;
        }
        int64_t t0 = s->start > from ? s->start : from;
        int64_t t1 = s->end < to ? s->end : to;
        if (t1 <= t0)
            continue;
        double fx0 = plot_x0 + (double)(t0 - from) * scale;
        double fx1 = plot_x0 + (double)(t1 - from) * scale;
        int c0 = (int)floor(fx0 + INDEX_EDGE_SLACK);
        int c1 = (int)ceil(fx1 - INDEX_EDGE_SLACK);
        if (c1 - c0 > 1) {
            column_flush(ix, &c, &m, from, plot_x0, scale);
            ix->reduced[m++] = *s;
            continue;
        }
        int col = c0 < plot_x1 ? c0 : plot_x1 - 1;
        if (c.active && c.col != col)
            column_flush(ix, &c, &m, from, plot_x0, scale);
        enum layout_key k = layout_key_of((enum trace_state)s->state, (enum trace_reason)s->reason);
        int64_t d = t1 - t0;
        c.active = true;
        c.col = col;
        c.n++;
        c.covered += d;
        c.used |= 1u << k;
        c.dur[k] += d;
        if (d > c.best_len[k]) {
            c.best_len[k] = d;
            c.best[k] = *s;
        }
    }
    column_flush(ix, &c, &m, from, plot_x0, scale);
    ix->win.segments = ix->reduced;
    ix->win.nsegments = m;
    ix->win.segments_cap = m;
    return &ix->win;
}
