/* The interactive timeline viewer. See viewer.h.
 *
 * A frame is composed at layout scale in one surface (the timeline of each
 * shown trace, drawn by draw_layout into a sub-surface, then the highlight,
 * the cursor, the side panel, the tooltip and the help), copied into a
 * streaming texture and stretched to the window: the layout's 12-pixel text
 * becomes 16 pixels at 1080 lines, readable on a projector. Frames are drawn
 * only when something changed. */
#include "viewer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>

#include "sim/xalloc.h"
#include "viz/draw.h"
#include "viz/state_at.h"
#include "viz/timeline_index.h"

#define VIEWER_W 1280
#define VIEWER_H 720
#define VIEWER_MIN_W 640
#define VIEWER_MIN_H 400
#define VIEWER_FONT_PX 13           /* panel, tooltip, help: 17 px at 1080 lines */
#define VIEWER_LAYOUT_FONT_PX 12    /* the layout's text positions are made for it */
#define VIEWER_ZOOM_STEP 1.25       /* per wheel notch or +/- */
#define VIEWER_PAN_STEP 0.1         /* of the visible span per arrow key */
#define VIEWER_MIN_SPAN 100         /* ns: below that the axis has nothing to say */
#define VIEWER_MAX_ROW_H 48        /* layout pixels */
#define VIEWER_DRAG_SLOP 3          /* pixels a press may move and still be a click */
#define VIEWER_PLAY_SECONDS 8.0     /* playing crosses the visible span in this time */
#define VIEWER_SCRIPT_FPS 60.0      /* a scripted frame stands for 1/60 s */

enum viewer_source {
    VIEWER_SIM = 0,
    VIEWER_REAL,
    VIEWER_BOTH
};


/* One trace shown in the window. */
struct pane {
    const struct trace *tr;
    struct timeline_index *index[2];   /* per layout_view, made on first use */
    struct layout *lay;                /* the last frame's, for hit tests */
    struct layout_options lay_opts;    /* what it was made for: reused while */
    int lay_h;                         /* these stay (hover, cursor, highlight) */
    bool lay_both;
    int plot_x0, plot_x1;              /* the last layout's plot columns, for */
    int plot_width;                    /* cutting the next window to them (0: */
    enum layout_view plot_view;        /* none yet) while width, view and */
    bool plot_both;                    /* traces stay */
    int fit_h;                         /* the last layout's height (0: none) */
    int y0, h;                         /* its rows in the frame; h 0: hidden */
    struct state_view state;
};

enum step_kind {
    STEP_WHEEL,
    STEP_DRAG,
    STEP_CLICK,
    STEP_MOVE,
    STEP_KEY,
    STEP_RESIZE,
    STEP_CURSOR,
    STEP_SAVE,
    STEP_FRAMES,
    STEP_QUIT
};

struct script_step {
    enum step_kind kind;
    int a[4];
    int64_t time;
    SDL_Keycode key;
    int line;
    char *text;                        /* the line, for --dump-state */
};

struct viewer {
    struct viewer_options opts;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    SDL_Surface *frame;                /* w x h, layout scale */
    struct draw_fonts *fonts;
    TTF_Font *ui, *ui_bold;            /* the panel's and tooltips' metrics */
    struct draw_fonts *ui_fonts;       /* their text, with the fallback font */
    bool ttf_up, sdl_up;
    int win_w, win_h;
    double scale;
    int w, h;                          /* logical size */
    int panel_x;                       /* the side panel's left edge */

    struct pane panes[2];
    size_t npanes;
    enum viewer_source source;
    enum layout_view view;
    enum layout_theme theme;
    int64_t from, to, end;

    bool has_cursor, playing;
    int64_t cursor;
    double play_carry;                 /* ns of play not yet applied */
    uint32_t highlight;                /* a task, or STATE_NONE */
    int mouse_x, mouse_y;              /* logical; -1: outside */
    bool pressed, dragging;
    int press_x, press_y;
    int64_t press_from;
    bool help, quit, dirty, save_pending;
    bool scripted;                     /* driven by a script: ends with it */
    unsigned saves;

    int64_t *times;                    /* every segment edge and instant, sorted */
    size_t ntimes;

    char tooltip[512];
    struct script_step *steps;
    size_t nsteps;
};

void viewer_options_init(struct viewer_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->view = LAYOUT_VIEW_THREADS;
    opts->theme = LAYOUT_THEME_LIGHT;
}

static void report(const struct viewer *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(const struct viewer *v, const char *fmt, ...)
{
    if (!v->opts.report)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    v->opts.report(v->opts.report_ctx, buf);
}

/* ---- time and geometry ---------------------------------------------- */

static int cmp_time(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return a < b ? -1 : a > b;
}

/* The instants where something happens, for stepping with . and , */
static void collect_times(struct viewer *v)
{
    size_t n = 0, cap = 0;
    for (size_t p = 0; p < v->npanes; p++) {
        const struct trace *tr = v->panes[p].tr;
        v->times = xgrow(v->times, &cap, n + 2 * tr->nsegments + tr->ninstants + 1, sizeof *v->times);
        for (size_t i = 0; i < tr->nsegments; i++) {
            v->times[n++] = tr->segments[i].start;
            v->times[n++] = tr->segments[i].end;
        }
        for (size_t i = 0; i < tr->ninstants; i++)
            v->times[n++] = tr->instants[i].time;
    }
    if (n == 0)
        v->times = xgrow(v->times, &cap, 1, sizeof *v->times);
    qsort(v->times, n, sizeof *v->times, cmp_time);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || v->times[i] != v->times[u - 1])
            v->times[u++] = v->times[i];
    v->ntimes = u;
}

static void clamp_window(struct viewer *v)
{
    int64_t span = v->to - v->from;
    if (span < VIEWER_MIN_SPAN)
        span = VIEWER_MIN_SPAN;
    if (span >= v->end) {
        v->from = 0;
        v->to = v->end;
        return;
    }
    if (v->from < 0)
        v->from = 0;
    if (v->from > v->end - span)
        v->from = v->end - span;
    v->to = v->from + span;
}

static void fit(struct viewer *v)
{
    v->from = 0;
    v->to = v->end;
    v->dirty = true;
}

/* Zooms by factor (< 1: in) keeping time `at` at the same place. */
static void zoom(struct viewer *v, double factor, int64_t at)
{
    double span = (double)(v->to - v->from) * factor;
    if (span < VIEWER_MIN_SPAN)
        span = VIEWER_MIN_SPAN;
    double left = (double)(at - v->from) / (double)(v->to - v->from);
    v->from = at - (int64_t)llround(left * span);
    v->to = v->from + (int64_t)llround(span);
    clamp_window(v);
    v->dirty = true;
}

static void pan_to(struct viewer *v, int64_t from)
{
    int64_t span = v->to - v->from;
    v->from = from;
    v->to = from + span;
    clamp_window(v);
    v->dirty = true;
}

/* The pane at logical row y, or NULL. */
static struct pane *pane_at(struct viewer *v, int y)
{
    for (size_t p = 0; p < v->npanes; p++) {
        struct pane *pn = &v->panes[p];
        if (pn->h > 0 && pn->lay && y >= pn->y0 && y < pn->y0 + pn->h)
            return pn;
    }
    return NULL;
}

static int64_t time_at_x(const struct viewer *v, const struct layout *lay, int x)
{
    double f = (double)(x - lay->plot_x0) / (double)(lay->plot_x1 - lay->plot_x0);
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    return v->from + (int64_t)llround(f * (double)(v->to - v->from));
}

static int x_of_time(const struct layout *lay, int64_t t)
{
    return lay->plot_x0 + (int)lround((double)(t - lay->from) * (lay->plot_x1 - lay->plot_x0) /
                                      (double)(lay->to - lay->from));
}

/* The time under logical column x, from the first shown pane. */
static int64_t time_at_mouse(const struct viewer *v, int x)
{
    for (size_t p = 0; p < v->npanes; p++)
        if (v->panes[p].h > 0 && v->panes[p].lay)
            return time_at_x(v, v->panes[p].lay, x);
    return v->from + (v->to - v->from) / 2;
}

static const struct layout_lane *lane_at(const struct pane *pn, int y)
{
    const struct layout *lay = pn->lay;
    int ly = y - pn->y0;
    for (size_t i = 0; i < lay->nlanes; i++)
        if (ly >= lay->lanes[i].y && ly < lay->lanes[i].y + lay->lanes[i].h)
            return &lay->lanes[i];
    return NULL;
}

static struct timeline_index *pane_index(struct pane *pn, enum layout_view view)
{
    if (!pn->index[view])
        pn->index[view] = timeline_index_create(pn->tr, view);
    return pn->index[view];
}

/* "simulated, rr" or "real run": what a pane shows, for the panel. */
static void pane_label(const struct pane *pn, char *buf, size_t size)
{
    const struct trace *tr = pn->tr;
    if (tr->source && strcmp(tr->source, "real") == 0)
        snprintf(buf, size, "real run");
    else
        snprintf(buf, size, "simulated, %s", tr->policy ? tr->policy : "?");
}

static void source_label(const struct viewer *v, char *buf, size_t size)
{
    if (v->source == VIEWER_BOTH)
        snprintf(buf, size, "both");
    else
        pane_label(&v->panes[v->source == VIEWER_REAL ? 1 : 0], buf, size);
}

/* ---- input ------------------------------------------------------------ */

static void set_cursor(struct viewer *v, int64_t t)
{
    v->has_cursor = true;
    v->cursor = t < 0 ? 0 : t > v->end ? v->end : t;
    /* keep it in sight */
    if (v->cursor < v->from || v->cursor > v->to)
        pan_to(v, v->cursor - (v->to - v->from) / 2);
    v->dirty = true;
}

static void step_cursor(struct viewer *v, int dir)
{
    int64_t c = v->has_cursor ? v->cursor : dir > 0 ? v->from - 1 : v->to + 1;
    size_t lo = 0, hi = v->ntimes;
    while (lo < hi) {   /* first time > c */
        size_t mid = lo + (hi - lo) / 2;
        if (v->times[mid] <= c)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (dir > 0 && lo < v->ntimes)
        set_cursor(v, v->times[lo]);
    else if (dir < 0) {
        size_t i = lo;  /* skip c itself */
        while (i > 0 && v->times[i - 1] >= c)
            i--;
        if (i > 0)
            set_cursor(v, v->times[i - 1]);
    }
}

/* The pane whose trace a lane shows: a compared layout's second section is
 * the second pane's. */
static struct pane *lane_pane(struct viewer *v, struct pane *shown, const struct layout_lane *ln)
{
    return ln->section == 1 && v->npanes > 1 ? &v->panes[1] : shown;
}

/* The rectangle of lane drawn at column x, or NULL. */
static const struct layout_rect *rect_at(const struct layout *lay, const struct layout_lane *ln,
                                         int x)
{
    uint32_t lane = (uint32_t)(ln - lay->lanes);
    for (size_t i = 0; i < lay->nrects; i++)
        if (lay->rects[i].lane == lane && lay->rects[i].x0 <= x && x < lay->rects[i].x1)
            return &lay->rects[i];
    return NULL;
}

/* The thread under (x, y): a thread lane's, the one on a CPU, or an owner
 * lane's holder. STATE_NONE if none. */
static uint32_t task_at(struct viewer *v, struct pane *pn, const struct layout_lane *ln, int x)
{
    const struct layout *lay = pn->lay;
    if (ln->kind == LAYOUT_LANE_THREAD)
        return ln->index;
    if (ln->kind == LAYOUT_LANE_CPU) {
        const struct trace_segment *s = timeline_index_find(
            pane_index(lane_pane(v, pn, ln), v->view), ln->index, time_at_x(v, lay, x));
        return s ? s->task : STATE_NONE;
    }
    const struct layout_rect *r = rect_at(lay, ln, x);
    return r ? r->task : STATE_NONE;
}

static void update_tooltip(struct viewer *v)
{
    v->tooltip[0] = '\0';
    if (v->mouse_x < 0 || v->help || v->dragging)
        return;
    struct pane *shown = pane_at(v, v->mouse_y);
    if (!shown || v->mouse_x < shown->lay->plot_x0 || v->mouse_x >= shown->lay->plot_x1)
        return;
    const struct layout_lane *ln = lane_at(shown, v->mouse_y);
    if (!ln)
        return;
    struct pane *pn = lane_pane(v, shown, ln);
    char task[160], start[32], dur[32], what[200];
    if (ln->kind == LAYOUT_LANE_GIL || ln->kind == LAYOUT_LANE_LOCK) {
        const struct layout_rect *r = rect_at(shown->lay, ln, v->mouse_x);
        if (!r)
            return;
        state_task_label(pn->tr, r->task, task, sizeof task);
        snprintf(v->tooltip, sizeof v->tooltip, "%s\nheld by %s%s", ln->label, task,
                 r->merged > 1 ? "\n(most of this pixel)" : "");
        return;
    }
    int64_t t = time_at_x(v, shown->lay, v->mouse_x);
    const struct trace_segment *s = timeline_index_find(pane_index(pn, v->view), ln->index, t);
    if (!s)
        return;
    state_task_label(pn->tr, s->task, task, sizeof task);
    state_format_time(start, sizeof start, s->start);
    state_format_time(dur, sizeof dur, s->end - s->start);
    if (s->state == TRACE_BLOCKED) {
        const char *obj = s->obj < pn->tr->nobjects ? pn->tr->objects[s->obj].name : NULL;
        snprintf(what, sizeof what, "blocked: %s%s%s%s",
                 trace_reason_name((enum trace_reason)s->reason), obj ? " (" : "", obj ? obj : "",
                 obj ? ")" : "");
    } else if (s->cpu >= 0) {
        snprintf(what, sizeof what, "%s on CPU %d", trace_state_name((enum trace_state)s->state),
                 s->cpu);
    } else {
        snprintf(what, sizeof what, "%s", trace_state_name((enum trace_state)s->state));
    }
    snprintf(v->tooltip, sizeof v->tooltip, "%s\n%s\nstart %s\nduration %s", task, what, start,
             dur);
}

static void click(struct viewer *v, int x, int y)
{
    struct pane *pn = pane_at(v, y);
    if (!pn || x >= v->panel_x)
        return;
    const struct layout *lay = pn->lay;
    int ly = y - pn->y0;
    if (ly >= lay->lanes_y1 && ly < lay->legend_y0 && x >= lay->plot_x0 - 4 &&
        x <= lay->plot_x1 + 4) {
        set_cursor(v, time_at_x(v, lay, x));
        return;
    }
    const struct layout_lane *ln = lane_at(pn, y);
    uint32_t task = ln ? task_at(v, pn, ln, x) : STATE_NONE;
    v->highlight = task == v->highlight ? STATE_NONE : task;
    v->dirty = true;
}

static void save_name(struct viewer *v, char *buf, size_t size)
{
    const char *prefix = v->opts.save_prefix ? v->opts.save_prefix : "threadsim-view";
    do
        snprintf(buf, size, "%s-%u.png", prefix, ++v->saves);
    while (access(buf, F_OK) == 0 && v->saves < 100000);
}

/* The time +, - and c act around: the cursor when it is in view, else the
 * middle of the view. */
static int64_t focus_time(const struct viewer *v)
{
    if (v->has_cursor && v->cursor >= v->from && v->cursor <= v->to)
        return v->cursor;
    return v->from + (v->to - v->from) / 2;
}

static void key_help(struct viewer *v) { v->help = !v->help; }
static void key_quit(struct viewer *v) { v->quit = true; }
static void key_fit(struct viewer *v) { fit(v); }
static void key_zoom_in(struct viewer *v) { zoom(v, 1 / VIEWER_ZOOM_STEP, focus_time(v)); }
static void key_zoom_out(struct viewer *v) { zoom(v, VIEWER_ZOOM_STEP, focus_time(v)); }
static void key_home(struct viewer *v) { set_cursor(v, 0); }
static void key_end(struct viewer *v) { set_cursor(v, v->end); }
static void key_save(struct viewer *v) { v->save_pending = true; }

static void key_escape(struct viewer *v)
{
    if (v->help)
        v->help = false;
    else if (v->highlight != STATE_NONE)
        v->highlight = STATE_NONE;
    else
        v->quit = true;
}

static void key_left(struct viewer *v)
{
    pan_to(v, v->from - (int64_t)((double)(v->to - v->from) * VIEWER_PAN_STEP));
}

static void key_right(struct viewer *v)
{
    pan_to(v, v->from + (int64_t)((double)(v->to - v->from) * VIEWER_PAN_STEP));
}

static void key_play(struct viewer *v)
{
    if (!v->has_cursor || v->cursor >= v->end)
        set_cursor(v, v->has_cursor ? 0 : v->from);
    v->playing = !v->playing;
    v->play_carry = 0;
}

static void key_next(struct viewer *v)
{
    v->playing = false;
    step_cursor(v, 1);
}

static void key_prev(struct viewer *v)
{
    v->playing = false;
    step_cursor(v, -1);
}

static void key_cursor(struct viewer *v)
{
    bool in_plot = v->mouse_x >= 0 && v->mouse_x < v->panel_x;
    set_cursor(v, in_plot ? time_at_mouse(v, v->mouse_x) : focus_time(v));
}

static void key_view(struct viewer *v)
{
    v->view = v->view == LAYOUT_VIEW_THREADS ? LAYOUT_VIEW_CPUS : LAYOUT_VIEW_THREADS;
    /* a thread of one view is not a lane of the other */
    v->highlight = STATE_NONE;
}

static void key_source(struct viewer *v)
{
    if (v->npanes > 1)
        v->source = (enum viewer_source)((v->source + 1) % 3);
}

static void key_theme(struct viewer *v)
{
    v->theme = v->theme == LAYOUT_THEME_LIGHT ? LAYOUT_THEME_DARK : LAYOUT_THEME_LIGHT;
}

/* The keys (the help's table says the same for people). */
static const struct {
    SDL_Keycode key;
    bool shift;                /* only with shift held */
    void (*act)(struct viewer *v);
} viewer_keys[] = {
    { SDLK_QUESTION, false, key_help }, { SDLK_SLASH, true, key_help },
    { SDLK_F1, false, key_help },       { SDLK_ESCAPE, false, key_escape },
    { SDLK_q, false, key_quit },        { SDLK_f, false, key_fit },
    { SDLK_0, false, key_fit },         { SDLK_KP_0, false, key_fit },
    { SDLK_PLUS, false, key_zoom_in },  { SDLK_EQUALS, false, key_zoom_in },
    { SDLK_KP_PLUS, false, key_zoom_in }, { SDLK_MINUS, false, key_zoom_out },
    { SDLK_KP_MINUS, false, key_zoom_out }, { SDLK_LEFT, false, key_left },
    { SDLK_RIGHT, false, key_right },   { SDLK_HOME, false, key_home },
    { SDLK_END, false, key_end },       { SDLK_SPACE, false, key_play },
    { SDLK_PERIOD, false, key_next },   { SDLK_COMMA, false, key_prev },
    { SDLK_c, false, key_cursor },      { SDLK_v, false, key_view },
    { SDLK_s, false, key_source },      { SDLK_t, false, key_theme },
    { SDLK_p, false, key_save },
};

static void key(struct viewer *v, SDL_Keycode k, Uint16 mod)
{
    bool shift = (mod & KMOD_SHIFT) != 0;
    for (size_t i = 0; i < sizeof viewer_keys / sizeof viewer_keys[0]; i++)
        if (viewer_keys[i].key == k && (!viewer_keys[i].shift || shift)) {
            viewer_keys[i].act(v);
            v->dirty = true;
            return;
        }
}

static void advance_play(struct viewer *v, double seconds)
{
    if (!v->playing)
        return;
    v->play_carry += (double)(v->to - v->from) * seconds / VIEWER_PLAY_SECONDS;
    int64_t dt = (int64_t)v->play_carry;
    if (dt <= 0)
        return;
    v->play_carry -= (double)dt;
    int64_t c = v->cursor + dt;
    if (c >= v->end) {
        c = v->end;
        v->playing = false;
    }
    v->cursor = c;
    if (c > v->to)  /* turn the page */
        pan_to(v, c - (v->to - v->from) / 10);
    v->dirty = true;
}

static void resize(struct viewer *v, int w, int h);

static void handle(struct viewer *v, const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT:
        v->quit = true;
        break;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
            e->window.event == SDL_WINDOWEVENT_RESIZED)
            resize(v, e->window.data1, e->window.data2);
        else if (e->window.event == SDL_WINDOWEVENT_LEAVE)
            v->mouse_x = v->mouse_y = -1;
        v->dirty = true;
        break;
    case SDL_MOUSEMOTION: {
        v->mouse_x = (int)(e->motion.x / v->scale);
        v->mouse_y = (int)(e->motion.y / v->scale);
        if (v->pressed && !v->dragging && (abs(v->mouse_x - v->press_x) > VIEWER_DRAG_SLOP ||
                                           abs(v->mouse_y - v->press_y) > VIEWER_DRAG_SLOP))
            v->dragging = true;
        if (v->dragging) {
            struct pane *pn = pane_at(v, v->press_y);
            const struct layout *lay = pn ? pn->lay : NULL;
            if (lay) {
                double ns_per_px = (double)(v->to - v->from) / (lay->plot_x1 - lay->plot_x0);
                pan_to(v, v->press_from - (int64_t)llround((v->mouse_x - v->press_x) * ns_per_px));
            }
        }
        v->dirty = true;
        break;
    }
    case SDL_MOUSEBUTTONDOWN:
        if (e->button.button == SDL_BUTTON_LEFT) {
            v->pressed = true;
            v->dragging = false;
            v->press_x = (int)(e->button.x / v->scale);
            v->press_y = (int)(e->button.y / v->scale);
            v->press_from = v->from;
        }
        break;
    case SDL_MOUSEBUTTONUP:
        if (e->button.button == SDL_BUTTON_LEFT && v->pressed) {
            if (!v->dragging)
                click(v, v->press_x, v->press_y);
            v->pressed = v->dragging = false;
            v->dirty = true;
        }
        break;
    case SDL_MOUSEWHEEL: {
        /* some systems report "natural" scrolling flipped */
        int notches = e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -e->wheel.y : e->wheel.y;
        if (notches != 0 && v->mouse_x >= 0 && v->mouse_x < v->panel_x)
            zoom(v, pow(VIEWER_ZOOM_STEP, -notches), time_at_mouse(v, v->mouse_x));
        break;
    }
    case SDL_KEYDOWN:
        key(v, e->key.keysym.sym, e->key.keysym.mod);
        break;
    default:
        break;
    }
}

/* ---- drawing ---------------------------------------------------------- */

static Uint32 map(const SDL_Surface *s, uint32_t rgb)
{
    return SDL_MapRGB(s->format, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb);
}

static void fill(SDL_Surface *s, int x, int y, int w, int h, uint32_t rgb)
{
    if (w <= 0 || h <= 0)
        return;
    SDL_Rect r = { x, y, w, h };
    SDL_FillRect(s, &r, map(s, rgb));
}

/* Mixes rgb into [x, x+w) x [y, y+h) with weight alpha/256 (frame is ARGB8888). */
static void blend(SDL_Surface *s, int x, int y, int w, int h, uint32_t rgb, unsigned alpha)
{
    int x1 = x + w > s->w ? s->w : x + w, y1 = y + h > s->h ? s->h : y + h;
    x = x < 0 ? 0 : x;
    y = y < 0 ? 0 : y;
    unsigned keep = 256 - alpha;
    for (int row = y; row < y1; row++) {
        Uint32 *p = (Uint32 *)((Uint8 *)s->pixels + (size_t)row * (size_t)s->pitch);
        for (int col = x; col < x1; col++) {
            Uint32 c = p[col];
            unsigned r = (((c >> 16) & 0xFF) * keep + ((rgb >> 16) & 0xFF) * alpha) >> 8;
            unsigned g = (((c >> 8) & 0xFF) * keep + ((rgb >> 8) & 0xFF) * alpha) >> 8;
            unsigned b = ((c & 0xFF) * keep + (rgb & 0xFF) * alpha) >> 8;
            p[col] = 0xFF000000u | r << 16 | g << 8 | b;
        }
    }
}

static int text_line(struct viewer *v, bool bold, int x, int y, uint32_t rgb, const char *s,
                     int wrap);

/* Draws text (bold or not) with its top at y, a line per newline; wrap > 0
 * breaks lines at spaces to keep them within that width. Characters DejaVu
 * lacks (Chinese) are set in the fallback font, as in the picture
 * (draw_string). Returns the height drawn. */
static int text(struct viewer *v, bool bold, int x, int y, uint32_t rgb, const char *s, int wrap)
{
    const char *nl = strchr(s, '\n');
    if (!nl)
        return text_line(v, bold, x, y, rgb, s, wrap);
    char *copy = xmalloc(strlen(s) + 1);
    strcpy(copy, s);
    int h = 0;
    TTF_Font *font = bold ? v->ui_bold : v->ui;
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        int lh = text_line(v, bold, x, y + h, rgb, line, wrap);
        h += line[0] ? (lh > TTF_FontLineSkip(font) ? lh : TTF_FontLineSkip(font))
                     : TTF_FontLineSkip(font);
    }
    free(copy);
    return h;
}

/* One line of text: see text. */
static int text_line(struct viewer *v, bool bold, int x, int y, uint32_t rgb, const char *s,
                     int wrap)
{
    if (!s[0])
        return 0;
    struct error err;
    TTF_Font *font = bold ? v->ui_bold : v->ui;
    if (wrap <= 0 || draw_text_width(v->ui_fonts, bold, s) <= wrap) {
        draw_string(v->frame, v->ui_fonts, bold, x, y, rgb, s, &err);
        return TTF_FontHeight(font);
    }
    size_t len = strlen(s);
    char *line = xmalloc(len + 1);
    int h = 0;
    for (size_t i = 0; i < len;) {
        /* the longest run of words from i that fits, or one word */
        size_t end = i, j = i;
        while (j < len) {
            size_t k = j;
            while (k < len && s[k] == ' ')
                k++;
            while (k < len && s[k] != ' ')
                k++;
            memcpy(line, s + i, k - i);
            line[k - i] = '\0';
            if (end > i && draw_text_width(v->ui_fonts, bold, line) > wrap)
                break;
            end = j = k;
        }
        memcpy(line, s + i, end - i);
        line[end - i] = '\0';
        draw_string(v->frame, v->ui_fonts, bold, x, y + h, rgb, line, &err);
        h += TTF_FontLineSkip(font);
        i = end;
        while (i < len && s[i] == ' ')
            i++;
    }
    free(line);
    return h;
}

static int text_width(struct viewer *v, bool bold, const char *s)
{
    return draw_text_width(v->ui_fonts, bold, s);
}

static uint32_t cursor_color(enum layout_theme theme)
{
    return theme == LAYOUT_THEME_DARK ? 0x66B2FF : 0x0050D0;
}

/* Lays out and draws one pane into its rows of the frame. */
/* A line from (x0, y0) to (x1, y1), 3 pixels thick. */
static void line(SDL_Surface *s, int x0, int y0, int x1, int y1, uint32_t rgb)
{
    int n = abs(x1 - x0) > abs(y1 - y0) ? abs(x1 - x0) : abs(y1 - y0);
    for (int i = 0; i <= n; i++) {
        int x = n ? x0 + (x1 - x0) * i / n : x0, y = n ? y0 + (y1 - y0) * i / n : y0;
        fill(s, x - 1, y - 1, 3, 3, rgb);
    }
}

/* Lays out the pane's trace (with second: both runs on one axis) and draws it
 * into the pane's rows of the frame. */
static enum status draw_pane(struct viewer *v, struct pane *pn, struct pane *second,
                             struct error *err)
{
    struct layout_options o;
    layout_options_init(&o);
    o.view = v->view;
    o.theme = v->theme;
    o.from = v->from;
    o.to = v->to;
    o.width = v->panel_x;
    /* Only a new window, size, view or theme needs a new layout: hovering,
     * the cursor and the highlight redraw the same one. */
    if (pn->lay && pn->lay_h == pn->h && pn->lay_both == (second != NULL) &&
        pn->lay_opts.view == o.view && pn->lay_opts.theme == o.theme &&
        pn->lay_opts.from == o.from && pn->lay_opts.to == o.to && pn->lay_opts.width == o.width)
        goto draw;
    /* The last layout's arrays are reused (layout_update): a frame
     * allocates no big array. */
    pn->lay_opts = o;
    pn->lay_h = pn->h;
    pn->lay_both = second != NULL;
    /* A window cut to one segment a pixel column needs the plot's columns,
     * which only the layout knows: those of the last layout serve while the
     * width, view and traces stay; a layout that moved them is made again. */
    for (int attempt = 0; attempt < 2; attempt++) {
        bool cut = pn->plot_width == o.width && pn->plot_view == o.view &&
                   pn->plot_both == (second != NULL);
        const struct trace *win, *win2 = NULL;
        if (cut) {
            win = timeline_index_window_px(pane_index(pn, v->view), v->from, v->to, pn->plot_x0,
                                           pn->plot_x1);
            if (second)
                win2 = timeline_index_window_px(pane_index(second, v->view), v->from, v->to,
                                                pn->plot_x0, pn->plot_x1);
        } else {
            win = timeline_index_window(pane_index(pn, v->view), v->from, v->to, v->panel_x);
            if (second)
                win2 = timeline_index_window(pane_index(second, v->view), v->from, v->to,
                                             v->panel_x);
        }
        /* the arrows too dense to draw that the windows leave out, for the legend */
        for (int k = 0; k < LAYOUT_ARROW_KIND_COUNT; k++)
            o.arrows_left_out[k] =
                timeline_index_arrows_left_out(pane_index(pn, v->view), (enum layout_arrow_kind)k) +
                (second ? timeline_index_arrows_left_out(pane_index(second, v->view),
                                                         (enum layout_arrow_kind)k)
                        : 0);
        /* Rows grow with the pane up to VIEWER_MAX_ROW_H, then the rest
         * stays empty: a few lanes as tall as the screen read badly. The
         * height that does so is the last frame's while the lanes, legend
         * and pane stay: then one layout makes the frame. */
        o.height = pn->fit_h;
        for (int pass = 0; pass < 3; pass++) {
            pn->lay = layout_update(pn->lay, win, win2, &o, err);
            if (!pn->lay)
                return err->status;
            int tall = pn->lay->fixed_h + (int)pn->lay->nlanes * VIEWER_MAX_ROW_H;
            int want = tall < pn->h ? tall : pn->h;
            if (want == o.height || want <= 0)
                break;
            o.height = want;
        }
        pn->fit_h = o.height;
        bool same = pn->lay->plot_x0 == pn->plot_x0 && pn->lay->plot_x1 == pn->plot_x1;
        pn->plot_x0 = pn->lay->plot_x0;
        pn->plot_x1 = pn->lay->plot_x1;
        pn->plot_width = o.width;
        pn->plot_view = o.view;
        pn->plot_both = second != NULL;
        if (!cut || same)
            break;
        pn->plot_width = 0;
    }
draw:
    /* The layout's text grows on wide pictures: the fonts follow it. */
    if (draw_fonts_px(v->fonts) != pn->lay->font_px) {
        struct draw_fonts *f = draw_fonts_create(pn->lay->font_px, err);
        if (!f)
            return err->status;
        draw_fonts_destroy(v->fonts);
        v->fonts = f;
    }
    SDL_Surface *sub = SDL_CreateRGBSurfaceWithFormatFrom(
        (Uint8 *)v->frame->pixels + (size_t)pn->y0 * (size_t)v->frame->pitch, v->panel_x, pn->h,
        32, v->frame->pitch, SDL_PIXELFORMAT_ARGB8888);
    if (!sub)
        return error_set(err, STATUS_INTERNAL, NULL, "cannot draw the timeline: %s", SDL_GetError());
    enum status st = draw_layout(sub, pn->lay, v->fonts, err);
    SDL_FreeSurface(sub);
    if (st != STATUS_OK)
        return st;

    const struct layout *lay = pn->lay;
    const struct layout_palette *pal = layout_palette(v->theme);
    if (v->highlight != STATE_NONE && v->highlight < pn->tr->ntasks) {
        int inset = lay->row_h >= 8 ? 3 : 0;
        for (size_t i = 0; i < lay->nrects; i++) {
            const struct layout_rect *r = &lay->rects[i];
            if (r->task == v->highlight)
                continue;
            const struct layout_lane *ln = &lay->lanes[r->lane];
            blend(v->frame, r->x0, pn->y0 + ln->y + inset, r->x1 - r->x0, ln->h - 2 * inset,
                  pal->background, 190);
        }
        uint32_t c = cursor_color(v->theme);
        for (size_t i = 0; i < lay->nlanes; i++)
            if (lay->lanes[i].kind == LAYOUT_LANE_THREAD && lay->lanes[i].index == v->highlight) {
                const struct layout_lane *ln = &lay->lanes[i];
                fill(v->frame, 0, pn->y0 + ln->y, v->panel_x, 2, c);
                fill(v->frame, 0, pn->y0 + ln->y + ln->h - 2, v->panel_x, 2, c);
            }
        /* Its arrows (messages, hand-overs) drawn over again, thick. */
        for (size_t i = 0; i < lay->narrows; i++) {
            const struct layout_arrow *a = &lay->arrows[i];
            if (a->from_task == v->highlight || a->to_task == v->highlight)
                line(v->frame, a->x0, pn->y0 + a->y0, a->x1, pn->y0 + a->y1, c);
        }
    }
    if (v->has_cursor && v->cursor >= v->from && v->cursor <= v->to) {
        int x = x_of_time(lay, v->cursor);
        uint32_t c = cursor_color(v->theme);
        fill(v->frame, x - 1, pn->y0 + lay->lanes_y0 - 4, 2, lay->axis_y - lay->lanes_y0 + 8, c);
        char label[40];
        state_format_time(label, sizeof label, v->cursor);
        /* The time in a box at the top of the line, on the side with room. */
        int tw = text_width(v, true, label) + 8, th = TTF_FontHeight(v->ui_bold) + 2;
        int tx = x + 3 + tw > lay->plot_x1 ? x - 3 - tw : x + 3;
        int ty = pn->y0 + lay->lanes_y0;
        fill(v->frame, tx, ty, tw, th, c);
        text(v, true, tx + 4, ty + 1, pal->background, label, 0);
    }
    return STATUS_OK;
}

static char *panel_text(struct viewer *v)
{
    size_t cap = 0, len = 0;
    char *out = NULL;
    const char *intro = "Click the time axis, or press c, to place the time cursor: this panel "
                        "then shows the kernel's view at that instant.\n";
    if (!v->has_cursor) {
        out = xstrdup(intro);
        return out;
    }
    for (size_t p = 0; p < v->npanes; p++) {
        struct pane *pn = &v->panes[p];
        if (pn->h == 0 && v->source != VIEWER_BOTH)
            continue;
        state_at(pn->tr, v->cursor, &pn->state);
        char *t = state_view_text(pn->tr, &pn->state);
        char head[160] = "";
        if (v->source == VIEWER_BOTH) {
            pane_label(pn, head, sizeof head - 2);
            strcat(head, ":\n");
        }
        size_t n = strlen(head) + strlen(t);
        out = xgrow(out, &cap, len + n + 2, 1);
        len += (size_t)snprintf(out + len, n + 2, "%s%s", head, t);
        free(t);
    }
    return out ? out : xstrdup("");
}

static void draw_panel(struct viewer *v, const char *ptext)
{
    const struct layout_palette *pal = layout_palette(v->theme);
    int x = v->panel_x, w = v->w - v->panel_x, pad = 10;
    fill(v->frame, x, 0, w, v->h, pal->header);
    fill(v->frame, x, 0, 1, v->h, pal->grid);
    int y = 12;
    y += text(v, true, x + pad, y, pal->text, "Kernel view at the cursor", 0) + 8;
    /* One wrapped block per line, so each starts on a line of its own. */
    char *copy = xstrdup(ptext);
    for (char *line = strtok(copy, "\n"); line && y < v->h - 60; line = strtok(NULL, "\n")) {
        /* "simulated, rr:" heads a run's section when two are shown */
        bool head = line[0] && line[strlen(line) - 1] == ':';
        y += head && y > 40 ? 8 : 0;
        y += text(v, head, x + pad, y, pal->text, line, w - 2 * pad) + 4;
    }
    free(copy);

    char status[512], a[32], b[32], src[160];
    source_label(v, src, sizeof src);
    state_format_time(a, sizeof a, v->from);
    state_format_time(b, sizeof b, v->to);
    snprintf(status, sizeof status, "%s view, %s%s\n%s to %s\n%s? shows the keys",
             v->view == LAYOUT_VIEW_THREADS ? "threads" : "cpus", src,
             v->npanes > 1 ? " (s switches)" : "", a, b, v->playing ? "playing; " : "");
    int lines = 3;
    text(v, false, x + pad, v->h - lines * TTF_FontLineSkip(v->ui) - 8, pal->muted_text,
         status, w - 2 * pad);
}

static void draw_box(struct viewer *v, int x, int y, int w, int h)
{
    const struct layout_palette *pal = layout_palette(v->theme);
    fill(v->frame, x - 1, y - 1, w + 2, h + 2, pal->muted_text);
    fill(v->frame, x, y, w, h, pal->background);
}

static void draw_tooltip(struct viewer *v)
{
    if (!v->tooltip[0])
        return;
    const struct layout_palette *pal = layout_palette(v->theme);
    int lh = TTF_FontLineSkip(v->ui), w = 0, n = 0;
    char copy[sizeof v->tooltip];
    memcpy(copy, v->tooltip, sizeof copy);
    for (char *l = strtok(copy, "\n"); l; l = strtok(NULL, "\n"), n++) {
        int lw = text_width(v, n == 0, l);
        w = lw > w ? lw : w;
    }
    w += 16;
    int h = n * lh + 10;
    int x = v->mouse_x + 16, y = v->mouse_y + 16;
    if (x + w > v->panel_x)
        x = v->mouse_x - 8 - w;
    if (y + h > v->h)
        y = v->mouse_y - 8 - h;
    draw_box(v, x, y, w, h);
    memcpy(copy, v->tooltip, sizeof copy);
    int i = 0;
    for (char *l = strtok(copy, "\n"); l; l = strtok(NULL, "\n"), i++)
        text(v, i == 0, x + 8, y + 5 + i * lh, pal->text, l, 0);
}

static const char *const help_lines[][2] = {
    { "wheel", "zoom around the mouse" },
    { "drag", "pan" },
    { "f or 0", "fit the whole run" },
    { "+  -", "zoom in, out" },
    { "left, right", "pan" },
    { "hover", "the state under the mouse" },
    { "click a lane", "highlight its thread (again: clear)" },
    { "click the axis, c", "place the time cursor" },
    { "space", "play or pause the cursor" },
    { ".  ,", "step to the next, previous event" },
    { "home, end", "cursor to the start, the end" },
    { "v", "threads or cpus view" },
    { "s", "simulated, real, both (with a real run)" },
    { "t", "light or dark theme" },
    { "p", "save a PNG of the window" },
    { "?", "this help" },
    { "q, escape", "quit" },
};

static void draw_help(struct viewer *v)
{
    if (!v->help)
        return;
    const struct layout_palette *pal = layout_palette(v->theme);
    size_t n = sizeof help_lines / sizeof help_lines[0];
    int lh = TTF_FontLineSkip(v->ui) + 2, kw = 0, dw = 0;
    for (size_t i = 0; i < n; i++) {
        int a = text_width(v, true, help_lines[i][0]), b = text_width(v, false, help_lines[i][1]);
        kw = a > kw ? a : kw;
        dw = b > dw ? b : dw;
    }
    int w = kw + dw + 56, h = (int)(n + 1) * lh + 24;
    int x = (v->w - w) / 2, y = (v->h - h) / 2;
    blend(v->frame, 0, 0, v->w, v->h, pal->background, 128);
    draw_box(v, x, y, w, h);
    text(v, true, x + 16, y + 10, pal->text, "Keys", 0);
    for (size_t i = 0; i < n; i++) {
        int ty = y + 10 + (int)(i + 1) * lh;
        text(v, true, x + 16, ty, pal->text, help_lines[i][0], 0);
        text(v, false, x + 40 + kw, ty, pal->text, help_lines[i][1], 0);
    }
}

static void save_png(struct viewer *v)
{
    char name[4096];
    save_name(v, name, sizeof name);
    SDL_Surface *shot = SDL_CreateRGBSurfaceWithFormat(0, v->win_w, v->win_h, 32,
                                                       SDL_PIXELFORMAT_ARGB8888);
    if (!shot) {
        report(v, "cannot save %s: %s\n", name, SDL_GetError());
        return;
    }
    if (SDL_RenderReadPixels(v->ren, NULL, SDL_PIXELFORMAT_ARGB8888, shot->pixels, shot->pitch) != 0)
        report(v, "cannot save %s: %s\n", name, SDL_GetError());
    else if (IMG_SavePNG(shot, name) != 0)
        report(v, "cannot save %s: %s\n", name, IMG_GetError());
    else
        report(v, "saved %s (%d x %d)\n", name, v->win_w, v->win_h);
    SDL_FreeSurface(shot);
}

static enum status render(struct viewer *v, struct error *err)
{
    const struct layout_palette *pal = layout_palette(v->theme);
    fill(v->frame, 0, 0, v->w, v->h, pal->background);
    bool both = v->source == VIEWER_BOTH && v->npanes > 1;
    for (size_t p = 0; p < v->npanes; p++) {
        struct pane *pn = &v->panes[p];
        /* Both runs: one layout in the first pane, on one time axis. */
        pn->y0 = 0;
        pn->h = (both ? p == 0 : p == (v->source == VIEWER_REAL ? 1u : 0u)) ? v->h : 0;
        if (pn->h == 0) {
            layout_destroy(pn->lay);
            pn->lay = NULL;
            continue;
        }
        enum status st = draw_pane(v, pn, both ? &v->panes[1] : NULL, err);
        if (st != STATUS_OK)
            return st;
    }
    char *ptext = panel_text(v);
    draw_panel(v, ptext);
    free(ptext);
    update_tooltip(v);
    draw_tooltip(v);
    draw_help(v);

    if (SDL_UpdateTexture(v->tex, NULL, v->frame->pixels, v->frame->pitch) != 0 ||
        SDL_RenderClear(v->ren) != 0 || SDL_RenderCopy(v->ren, v->tex, NULL, NULL) != 0)
        return error_set(err, STATUS_INTERNAL, NULL, "cannot show the frame: %s", SDL_GetError());
    if (v->save_pending) {
        v->save_pending = false;
        save_png(v);
    }
    SDL_RenderPresent(v->ren);
    v->dirty = false;
    return STATUS_OK;
}

/* ---- window ----------------------------------------------------------- */

static void resize(struct viewer *v, int w, int h)
{
    w = w < VIEWER_MIN_W ? VIEWER_MIN_W : w;
    h = h < VIEWER_MIN_H ? VIEWER_MIN_H : h;
    if (v->frame && w == v->win_w && h == v->win_h)
        return;
    v->win_w = w;
    v->win_h = h;
    if (v->opts.scale > 0) {
        v->scale = v->opts.scale;
    } else {
        /* 1440 x 810 layout pixels fill a 1920 x 1080 screen: 12 px text
         * becomes 16 px; smaller windows keep 1:1. */
        double sx = w / 1440.0, sy = h / 810.0;
        v->scale = sx < sy ? sx : sy;
        v->scale = v->scale < 1 ? 1 : v->scale;
    }
    v->w = (int)lround(w / v->scale);
    v->h = (int)lround(h / v->scale);
    v->w = v->w < VIEWER_MIN_W ? VIEWER_MIN_W : v->w;
    v->h = v->h < VIEWER_MIN_H / 2 ? VIEWER_MIN_H / 2 : v->h;
    int panel = v->w * 28 / 100;
    panel = panel < 240 ? 240 : panel > 440 ? 440 : panel;
    v->panel_x = v->w - panel;
    SDL_FreeSurface(v->frame);
    v->frame = SDL_CreateRGBSurfaceWithFormat(0, v->w, v->h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (v->tex)
        SDL_DestroyTexture(v->tex);
    v->tex = SDL_CreateTexture(v->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING,
                               v->w, v->h);
    v->dirty = true;
}

/* ---- script ----------------------------------------------------------- */

/* Parses "5ms", "1.5s", "250us", "100ns" or "100" (ns). */
static bool parse_time(const char *s, int64_t *out)
{
    char *end;
    double x = strtod(s, &end);
    static const struct {
        const char *unit;
        double ns;
    } units[] = { { "", 1 }, { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (end != s && strcmp(end, units[i].unit) == 0 && x >= 0 && x * units[i].ns < 9e18) {
            *out = (int64_t)llround(x * units[i].ns);
            return true;
        }
    return false;
}

static const struct {
    const char *name;
    enum step_kind kind;
    int nints;             /* integer arguments; -1: one word */
} step_names[] = {
    { "wheel", STEP_WHEEL, 3 },   { "drag", STEP_DRAG, 4 },     { "click", STEP_CLICK, 2 },
    { "move", STEP_MOVE, 2 },     { "key", STEP_KEY, -1 },      { "resize", STEP_RESIZE, 2 },
    { "cursor", STEP_CURSOR, -1 }, { "save", STEP_SAVE, 0 },    { "frames", STEP_FRAMES, 1 },
    { "quit", STEP_QUIT, 0 },
};

static enum status parse_script(struct viewer *v, const char *script, struct error *err)
{
    const char *name = v->opts.script_name ? v->opts.script_name : "script";
    size_t cap = 0;
    int lineno = 0;
    for (const char *p = script; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[256];
        lineno++;
        if (len >= sizeof line)
            return error_set(err, STATUS_BAD_INPUT, NULL, "%s:%d: line too long", name, lineno);
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (nl ? 1 : 0);
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *words[6];
        int nw = 0;
        for (char *w = strtok(line, " \t\r"); w && nw < 6; w = strtok(NULL, " \t\r"))
            words[nw++] = w;
        if (nw == 0)
            continue;
        size_t k = 0, nk = sizeof step_names / sizeof step_names[0];
        while (k < nk && strcmp(step_names[k].name, words[0]) != 0)
            k++;
        if (k == nk)
            return error_set(err, STATUS_BAD_INPUT, NULL,
                             "%s:%d: unknown step '%s' (wheel, drag, click, move, key, resize, "
                             "cursor, save, frames, quit)", name, lineno, words[0]);
        struct script_step st = { .kind = step_names[k].kind, .line = lineno };
        int want = step_names[k].nints < 0 ? 1 : step_names[k].nints;
        if (nw - 1 != want)
            return error_set(err, STATUS_BAD_INPUT, NULL, "%s:%d: '%s' wants %d argument%s", name,
                             lineno, words[0], want, want == 1 ? "" : "s");
        if (st.kind == STEP_KEY) {
            st.key = SDL_GetKeyFromName(words[1]);
            if (st.key == SDLK_UNKNOWN)
                return error_set(err, STATUS_BAD_INPUT, NULL, "%s:%d: unknown key '%s'", name,
                                 lineno, words[1]);
        } else if (st.kind == STEP_CURSOR) {
            if (!parse_time(words[1], &st.time))
                return error_set(err, STATUS_BAD_INPUT, NULL,
                                 "%s:%d: cursor wants a time such as 5ms, got '%s'", name, lineno,
                                 words[1]);
        } else {
            for (int i = 0; i < want; i++) {
                char *end;
                long x = strtol(words[i + 1], &end, 10);
                if (*end || x < -100000 || x > 100000)
                    return error_set(err, STATUS_BAD_INPUT, NULL,
                                     "%s:%d: '%s' is not a whole number", name, lineno, words[i + 1]);
                st.a[i] = (int)x;
            }
        }
        /* the step as written, for the dump */
        char shown[256];
        int n = snprintf(shown, sizeof shown, "%s", words[0]);
        for (int i = 1; i < nw && n < (int)sizeof shown; i++)
            n += snprintf(shown + n, sizeof shown - (size_t)n, " %s", words[i]);
        st.text = xstrdup(shown);
        v->steps = xgrow(v->steps, &cap, v->nsteps + 1, sizeof *v->steps);
        v->steps[v->nsteps++] = st;
    }
    return STATUS_OK;
}

static void push_mouse(struct viewer *v, Uint32 type, int x, int y)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    Uint32 id = SDL_GetWindowID(v->win);
    if (type == SDL_MOUSEMOTION) {
        e.motion.windowID = id;
        e.motion.x = x;
        e.motion.y = y;
    } else {
        e.button.windowID = id;
        e.button.button = SDL_BUTTON_LEFT;
        e.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
        e.button.clicks = 1;
        e.button.x = x;
        e.button.y = y;
    }
    SDL_PushEvent(&e);
}

/* Feeds one step's events into SDL's queue, as a user's input would come. */
static void push_step(struct viewer *v, const struct script_step *st)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    Uint32 id = SDL_GetWindowID(v->win);
    switch (st->kind) {
    case STEP_WHEEL:
        push_mouse(v, SDL_MOUSEMOTION, st->a[0], st->a[1]);
        e.type = SDL_MOUSEWHEEL;
        e.wheel.windowID = id;
        e.wheel.y = st->a[2];
        e.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
        SDL_PushEvent(&e);
        break;
    case STEP_DRAG:
        push_mouse(v, SDL_MOUSEMOTION, st->a[0], st->a[1]);
        push_mouse(v, SDL_MOUSEBUTTONDOWN, st->a[0], st->a[1]);
        push_mouse(v, SDL_MOUSEMOTION, (st->a[0] + st->a[2]) / 2, (st->a[1] + st->a[3]) / 2);
        push_mouse(v, SDL_MOUSEMOTION, st->a[2], st->a[3]);
        push_mouse(v, SDL_MOUSEBUTTONUP, st->a[2], st->a[3]);
        break;
    case STEP_CLICK:
        push_mouse(v, SDL_MOUSEMOTION, st->a[0], st->a[1]);
        push_mouse(v, SDL_MOUSEBUTTONDOWN, st->a[0], st->a[1]);
        push_mouse(v, SDL_MOUSEBUTTONUP, st->a[0], st->a[1]);
        break;
    case STEP_MOVE:
        push_mouse(v, SDL_MOUSEMOTION, st->a[0], st->a[1]);
        break;
    case STEP_KEY:
        e.type = SDL_KEYDOWN;
        e.key.windowID = id;
        e.key.state = SDL_PRESSED;
        e.key.keysym.sym = st->key;
        e.key.keysym.scancode = SDL_GetScancodeFromKey(st->key);
        SDL_PushEvent(&e);
        e.type = SDL_KEYUP;
        e.key.state = SDL_RELEASED;
        SDL_PushEvent(&e);
        break;
    case STEP_RESIZE:
        SDL_SetWindowSize(v->win, st->a[0], st->a[1]);
        e.type = SDL_WINDOWEVENT;
        e.window.windowID = id;
        e.window.event = SDL_WINDOWEVENT_SIZE_CHANGED;
        e.window.data1 = st->a[0];
        e.window.data2 = st->a[1];
        SDL_PushEvent(&e);
        break;
    case STEP_SAVE:
        e.type = SDL_KEYDOWN;
        e.key.windowID = id;
        e.key.keysym.sym = SDLK_p;
        SDL_PushEvent(&e);
        break;
    case STEP_QUIT:
        e.type = SDL_QUIT;
        SDL_PushEvent(&e);
        break;
    case STEP_CURSOR:
    case STEP_FRAMES:
        break;
    }
}

static void dump_state(struct viewer *v, size_t i)
{
    if (!v->opts.dump_state)
        return;
    char hl[160] = "none", cursor[32] = "none", src[160];
    source_label(v, src, sizeof src);
    if (v->highlight != STATE_NONE)
        state_task_label(v->panes[0].tr, v->highlight, hl, sizeof hl);
    if (v->has_cursor)
        snprintf(cursor, sizeof cursor, "%lld", (long long)v->cursor);
    char tip[sizeof v->tooltip];
    snprintf(tip, sizeof tip, "%s", v->tooltip[0] ? v->tooltip : "none");
    for (char *c = tip; *c; c++)
        if (*c == '\n')
            *c = '|';
    char *ptext = panel_text(v);
    report(v, "step %zu: %s\nrange %lld %lld\ncursor %s\nview %s\nsource %s\ntheme %s\n"
              "playing %s\nhelp %s\nhighlight %s\ntooltip %s\nwindow %d %d\npanel:\n",
           i + 1, v->steps[i].text, (long long)v->from, (long long)v->to, cursor,
           v->view == LAYOUT_VIEW_THREADS ? "threads" : "cpus", src,
           v->theme == LAYOUT_THEME_LIGHT ? "light" : "dark", v->playing ? "yes" : "no",
           v->help ? "yes" : "no", hl, tip, v->win_w, v->win_h);
    /* The panel text can be long: one report per line. */
    char *save = NULL;
    for (char *line = strtok_r(ptext, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        report(v, "  %s\n", line);
    report(v, "end\n");
    free(ptext);
}

/* ---- life cycle ------------------------------------------------------- */

struct viewer *viewer_create(const struct trace *sim, const struct trace *real,
                             const struct viewer_options *opts, struct error *err)
{
    struct viewer *v = xcalloc(1, sizeof *v);
    v->opts = *opts;
    v->view = opts->view;
    v->theme = opts->theme;
    v->highlight = STATE_NONE;
    v->mouse_x = v->mouse_y = -1;
    v->panes[0].tr = sim;
    v->npanes = 1;
    if (real) {
        v->panes[1].tr = real;
        v->npanes = 2;
    }
    for (size_t p = 0; p < v->npanes; p++) {
        state_view_init(&v->panes[p].state);
        int64_t e = v->panes[p].tr->makespan;
        for (size_t i = 0; i < v->panes[p].tr->nsegments; i++)
            e = v->panes[p].tr->segments[i].end > e ? v->panes[p].tr->segments[i].end : e;
        v->end = e > v->end ? e : v->end;
    }
    /* An empty run still gets an axis. */
    v->end = v->end > VIEWER_MIN_SPAN ? v->end : VIEWER_MIN_SPAN;
    if (opts->script && parse_script(v, opts->script, err) != STATUS_OK)
        goto fail;
    /* the script's text is the caller's: only the parsed steps are kept */
    v->scripted = opts->script != NULL;
    v->opts.script = NULL;
    collect_times(v);
    fit(v);

    if (opts->script)
        SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
    /* SDL falls back to an invisible off-screen "display" when there is no
     * real one: a window nobody sees would wait for input for ever. Scripts
     * may use it (that is how the tests run). */
    bool chosen = getenv("SDL_VIDEODRIVER") != NULL;
    bool display = getenv("DISPLAY") || getenv("WAYLAND_DISPLAY");
    const char *why = NULL;
    if (!chosen && !display)
        why = "DISPLAY is not set";
    else if (SDL_Init(SDL_INIT_VIDEO) != 0)
        why = SDL_GetError();
    else
        v->sdl_up = true;
    if (v->sdl_up && !v->scripted &&
        (strcmp(SDL_GetCurrentVideoDriver(), "offscreen") == 0 ||
         strcmp(SDL_GetCurrentVideoDriver(), "dummy") == 0))
        why = "the video driver draws off screen";
    if (why) {
        error_set(err, STATUS_BAD_INPUT, NULL,
                  "cannot open a window: no display (%s). Run it on a desktop, or under a "
                  "virtual display (xvfb-run threadsim view FILE); threadsim export draws "
                  "the timeline into an image without one", why);
        goto fail;
    }
    char font[4096];
    if (!draw_font_path(DRAW_FONT_FAMILY, font, sizeof font)) {
        error_set(err, STATUS_INTERNAL, NULL,
                  "no font found to draw text: install the " DRAW_FONT_FAMILY
                  " font (Debian package fonts-dejavu-core)");
        goto fail;
    }
    v->fonts = draw_fonts_create(VIEWER_LAYOUT_FONT_PX, err);
    if (!v->fonts)
        goto fail;
    if (TTF_Init() != 0) {
        error_set(err, STATUS_INTERNAL, NULL, "cannot start SDL_ttf: %s", TTF_GetError());
        goto fail;
    }
    v->ttf_up = true;
    v->ui = TTF_OpenFont(font, VIEWER_FONT_PX);
    v->ui_bold = TTF_OpenFont(font, VIEWER_FONT_PX);
    if (!v->ui || !v->ui_bold) {
        error_set(err, STATUS_INTERNAL, NULL, "cannot open the font %s: %s", font, TTF_GetError());
        goto fail;
    }
    TTF_SetFontStyle(v->ui_bold, TTF_STYLE_BOLD);
    v->ui_fonts = draw_fonts_create(VIEWER_FONT_PX, err);
    if (!v->ui_fonts)
        goto fail;

    int w = opts->width > 0 ? opts->width : VIEWER_W, h = opts->height > 0 ? opts->height : VIEWER_H;
    char title[512];
    snprintf(title, sizeof title, "threadsim view: %s", sim->scenario ? sim->scenario : "");
    v->win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                              SDL_WINDOW_RESIZABLE);
    if (!v->win) {
        error_set(err, STATUS_BAD_INPUT, NULL, "cannot open a window: %s", SDL_GetError());
        goto fail;
    }
    SDL_SetWindowMinimumSize(v->win, VIEWER_MIN_W, VIEWER_MIN_H);
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    v->ren = SDL_CreateRenderer(v->win, -1, 0);
    if (!v->ren)
        v->ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_SOFTWARE);
    if (!v->ren) {
        error_set(err, STATUS_INTERNAL, NULL, "cannot draw into the window: %s", SDL_GetError());
        goto fail;
    }
    resize(v, w, h);
    if (!v->frame || !v->tex) {
        error_set(err, STATUS_INTERNAL, NULL, "cannot make the frame: %s", SDL_GetError());
        goto fail;
    }
    return v;
fail:
    viewer_destroy(v);
    return NULL;
}

enum status viewer_run(struct viewer *v, struct error *err)
{
    enum status st = render(v, err);
    size_t next = 0;
    Uint64 last = SDL_GetPerformanceCounter();
    while (st == STATUS_OK && !v->quit) {
        SDL_Event e;
        if (v->scripted) {
            if (next >= v->nsteps)
                break;
            const struct script_step *step = &v->steps[next];
            push_step(v, step);
            while (SDL_PollEvent(&e))
                handle(v, &e);
            if (step->kind == STEP_CURSOR)
                set_cursor(v, step->time);
            int frames = step->kind == STEP_FRAMES ? step->a[0] : 1;
            for (int f = 0; f < frames && st == STATUS_OK; f++) {
                advance_play(v, 1.0 / VIEWER_SCRIPT_FPS);
                st = render(v, err);
            }
            dump_state(v, next);
            next++;
            continue;
        }
        /* Wait for input, or for the next animation frame while playing. */
        if (SDL_WaitEventTimeout(&e, v->playing ? 16 : 250)) {
            handle(v, &e);
            while (SDL_PollEvent(&e))
                handle(v, &e);
        }
        Uint64 now = SDL_GetPerformanceCounter();
        advance_play(v, (double)(now - last) / (double)SDL_GetPerformanceFrequency());
        last = now;
        if (v->dirty || v->save_pending)
            st = render(v, err);
    }
    return st;
}

void viewer_destroy(struct viewer *v)
{
    if (!v)
        return;
    for (size_t p = 0; p < 2; p++) {
        layout_destroy(v->panes[p].lay);
        timeline_index_destroy(v->panes[p].index[0]);
        timeline_index_destroy(v->panes[p].index[1]);
        state_view_deinit(&v->panes[p].state);
    }
    for (size_t i = 0; i < v->nsteps; i++)
        free(v->steps[i].text);
    free(v->steps);
    free(v->times);
    if (v->ui)
        TTF_CloseFont(v->ui);
    if (v->ui_bold)
        TTF_CloseFont(v->ui_bold);
    draw_fonts_destroy(v->ui_fonts);
    if (v->ttf_up)
        TTF_Quit();
    draw_fonts_destroy(v->fonts);
    SDL_FreeSurface(v->frame);
    if (v->tex)
        SDL_DestroyTexture(v->tex);
    if (v->ren)
        SDL_DestroyRenderer(v->ren);
    if (v->win)
        SDL_DestroyWindow(v->win);
    if (v->sdl_up)
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    free(v);
}
