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
            owner[key] = ev->task;
            take[key] = (uint32_t)i;
        } else if (!is_take && owner[key] == ev->task) {
            owner[key] = UINT32_MAX;
        }
    }
    held_first[ncp] = nheld;

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

const struct trace *timeline_index_window(struct timeline_index *ix, int64_t from, int64_t to,
                                          int plot_w)
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

/* Mirrors the layout's pixel arithmetic (viz/layout.c: time_x, span_columns). */
#define INDEX_EDGE_SLACK 1e-6
/* Below 4 ns a column, rounding a summary's start to whole nanoseconds could
 * move it into the next column: such windows are not cut. */
#define INDEX_MIN_COLUMN_NS 4.0

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
    timeline_index_window(ix, from, to, plot_x1 - plot_x0);
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
