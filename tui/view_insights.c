/* view_insights.c: the Insights view: a first look at the log as of the
 * timeline: event types with bars, the top variants with coverage bars, the flow
 * as a matrix of counts (rows: from, columns: to, the busiest types first) and
 * a histogram of case durations. It needs no domain.
 *
 * The numbers come from core/insights.c (the engines of the stats, variants,
 * flow and durations verbs), computed by a quiet background job
 * (jobs.h) on its own store connection, so the screen stays responsive on a big
 * log; when the timeline moves (or the live head does) the view asks again, and
 * shows the previous result, marked as being recomputed, meanwhile. */
#include <stdio.h>

#include "core/insights.h"
#include "core/utf8.h"
#include "tui/lines.h"
#include "tui/tui.h"

#define TOP_VARIANTS 10
#define FLOW_TYPES 12 /* at most this many types in the matrix */

struct insights_view {
    struct insights cur;
    bool have;
    bool busy; /* a job is computing */
    char *error;
    struct lines text;
    int text_width; /* the width text was laid out for */
    int64_t text_position;
    struct scroll sc;
};

/* What a job computes: handed to the job, handed back in finish. */
struct insights_task {
    struct insights_view *iv;
    int64_t position;
    struct insights res;
    int status;
};

static void insights_open(struct view *v)
{
    struct insights_view *iv = xcalloc(1, sizeof *iv);
    lines_init(&iv->text);
    v->priv = iv;
}

static void insights_close(struct view *v)
{
    struct insights_view *iv = v->priv;
    insights_done(&iv->cur);
    lines_done(&iv->text);
    free(iv->error);
    free(iv);
}

static int job_run(struct tui_job *job)
{
    struct insights_task *t = job->data;
    struct store_options o = STORE_OPTIONS_DEFAULT;
    o.create = false;
    o.read_only = true;
    o.branch = job->app->branch;
    struct store *s = store_open(job->app->db_path, &o, &job->e);
    if (!s)
        return t->status = ST_ERR;
    t->status = insights_compute(s, t->position, &job->stop, &t->res, &job->e);
    store_close(s);
    return t->status;
}

static void job_finish(struct tui_job *job)
{
    struct insights_task *t = job->data;
    struct insights_view *iv = t->iv;
    iv->busy = false;
    free(iv->error);
    iv->error = NULL;
    if (t->status == ST_OK && !job->stop) {
        insights_done(&iv->cur);
        iv->cur = t->res;
        iv->have = true;
        iv->text_width = -1; /* lay out again */
    } else {
        insights_done(&t->res);
        if (!job->stop)
            iv->error = xstrdup(job->e.msg[0] ? job->e.msg : "failed");
    }
    free(t);
}

/* Starts a computation up to the position the timeline shows. */
static void ask(struct view *v, int64_t position)
{
    struct insights_view *iv = v->priv;
    struct insights_task *t = xcalloc(1, sizeof *t);
    t->iv = iv;
    t->position = position;
    if (tui_job_start_quiet(v->app, "insights", job_run, t, job_finish))
        iv->busy = true;
    else
        free(t);
}

/* ---- layout ---- */

/* name cut or padded to w columns */
static void cell(strbuf *sb, const char *s, int w, bool right)
{
    int n = (int)utf8_count(s, strlen(s));
    if (n > w) {
        size_t i = 0;
        for (int c = 0; c < w - 1 && s[i]; c++)
            i += utf8_seq(s + i, strlen(s + i)) ? utf8_seq(s + i, strlen(s + i)) : 1;
        sb_add(sb, s, i);
        sb_adds(sb, "…");
        return;
    }
    if (right)
        sb_addf(sb, "%*s", w - n, "");
    sb_adds(sb, s);
    if (!right)
        sb_addf(sb, "%*s", w - n, "");
}

static void bar(strbuf *sb, double frac, int w)
{
    int fill = (int)(frac * w + 0.5);
    if (frac > 0 && fill == 0)
        fill = 1;
    for (int i = 0; i < fill && i < w; i++)
        sb_adds(sb, tui_utf8() ? "█" : "#");
}

static const char *flow_label(const char *s, bool start)
{
    return s ? s : start ? "▶ start" : "■ end";
}

static void layout_flow(struct insights_view *iv, int w)
{
    const struct insights *in = &iv->cur;
    struct lines *l = &iv->text;
    int label = 16, colw = 7;
    int k = (w - 2 - label) / colw - 1; /* type columns, with the end column */
    if (k > FLOW_TYPES)
        k = FLOW_TYPES;
    if (k > (int)in->ntypes)
        k = (int)in->ntypes;
    if (k < 1) {
        lines_add(l, tui_attr(TC_DIM), "  (too narrow for the matrix)");
        return;
    }
    /* columns: the k busiest types (numbered, as their rows are), then the end;
     * rows: the start, then the k types. Numbers, because type names share
     * their beginnings too often to tell apart when cut to a column. */
    strbuf sb;
    sb_init(&sb);
    sb_addf(&sb, "  %*s", label, "");
    for (int c = 0; c <= k; c++) {
        char num[16];
        snprintf(num, sizeof num, "%d", c + 1);
        sb_addc(&sb, ' ');
        cell(&sb, c < k ? num : "■ end", colw - 1, true);
    }
    lines_add(l, tui_attr(TC_LABEL), "%s", sb.buf);
    for (int r = -1; r < k; r++) {
        sb_reset(&sb);
        const char *from = r < 0 ? NULL : in->types[r].type;
        if (r < 0) {
            sb_adds(&sb, "  ");
            cell(&sb, flow_label(from, true), label, false);
        } else {
            char lab[300];
            snprintf(lab, sizeof lab, "%d %s", r + 1, from);
            sb_adds(&sb, "  ");
            cell(&sb, lab, label, false);
        }
        for (int c = 0; c <= k; c++) {
            const char *to = c < k ? in->types[c].type : NULL;
            int64_t n = 0;
            for (size_t f = 0; f < in->nflows; f++)
                if (in->flows[f].from == from && in->flows[f].to == to) {
                    n = in->flows[f].count;
                    break;
                }
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)n);
            sb_addc(&sb, ' ');
            cell(&sb, n ? num : "·", colw - 1, true);
        }
        lines_add(l, tui_attr(TC_NORMAL), "%s", sb.buf);
    }
    if ((int)in->ntypes > k)
        lines_add(l, tui_attr(TC_DIM), "  (the %d busiest of %zu types)", k, in->ntypes);
    sb_done(&sb);
}

static void layout(struct insights_view *iv, int w)
{
    const struct insights *in = &iv->cur;
    struct lines *l = &iv->text;
    lines_clear(l);
    strbuf sb;
    sb_init(&sb);
    lines_add(l, tui_attr(TC_TITLE), "Insights as of position %lld: %lld events, %lld cases",
              (long long)in->position, (long long)in->events, (long long)in->cases);
    lines_add(l, 0, "%s", "");
    int name_w = w / 3 > 30 ? 30 : w / 3, bar_w = w - name_w - 12;
    lines_add(l, tui_attr(TC_LABEL), "Event types (%zu)", in->ntypes);
    int64_t top = in->ntypes ? in->types[0].count : 1;
    for (size_t i = 0; i < in->ntypes; i++) {
        sb_reset(&sb);
        sb_adds(&sb, "  ");
        cell(&sb, in->types[i].type, name_w, false);
        sb_addf(&sb, " %7lld ", (long long)in->types[i].count);
        bar(&sb, (double)in->types[i].count / (double)top, bar_w);
        lines_add(l, tui_attr(TC_NORMAL), "%s", sb.buf);
    }
    lines_add(l, 0, "%s", "");
    lines_add(l, tui_attr(TC_LABEL), "Top variants (%zu in all; bar: cases covered so far)",
              in->nvariants);
    int64_t covered = 0;
    int cov_w = 12;
    for (size_t i = 0; i < in->nvariants && i < TOP_VARIANTS; i++) {
        covered += in->variants[i].count;
        double cov = in->cases ? (double)covered / (double)in->cases : 0;
        sb_reset(&sb);
        sb_addf(&sb, "  %6lld %5.1f%% ", (long long)in->variants[i].count,
                in->cases ? 100.0 * (double)in->variants[i].count / (double)in->cases : 0);
        size_t before = sb.len;
        bar(&sb, cov, cov_w);
        int drawn = (int)utf8_count(sb.buf + before, sb.len - before);
        sb_addf(&sb, "%*s ", cov_w - drawn, "");
        sb_adds(&sb, in->variants[i].text);
        lines_add(l, tui_attr(TC_NORMAL), "%s", sb.buf);
    }
    lines_add(l, 0, "%s", "");
    lines_add(l, tui_attr(TC_LABEL), "Flow: how often the column directly follows the row");
    layout_flow(iv, w);
    lines_add(l, 0, "%s", "");
    lines_add(l, tui_attr(TC_LABEL), "Case durations (first to last event)");
    int64_t most = 1;
    for (int i = 0; i < INSIGHTS_BUCKETS; i++)
        most = in->buckets[i] > most ? in->buckets[i] : most;
    for (int i = 0; i < INSIGHTS_BUCKETS; i++) {
        sb_reset(&sb);
        sb_adds(&sb, "  ");
        cell(&sb, insights_bucket_label(i), 14, false);
        sb_addf(&sb, " %7lld ", (long long)in->buckets[i]);
        bar(&sb, (double)in->buckets[i] / (double)most, w - 28);
        lines_add(l, tui_attr(TC_NORMAL), "%s", sb.buf);
    }
    sb_done(&sb);
    iv->text_width = w;
    iv->text_position = in->position;
}

static void insights_draw(struct view *v, struct area a)
{
    struct insights_view *iv = v->priv;
    int64_t want = tui_shown_head(v->app);
    if (!iv->busy && (!iv->have || iv->cur.position != want) && !iv->error)
        ask(v, want);
    if (!iv->have) {
        draw_str(a.y, a.x, a.w, "Insights", tui_attr(TC_TITLE));
        if (iv->error)
            draw_wrapped(a.y + 2, a.x + 2, a.w - 2, a.h - 2, iv->error, tui_attr(TC_ERROR));
        else
            draw_fmt(a.y + 2, a.x + 2, a.w - 2, tui_attr(TC_DIM),
                     "Counting the log up to position %lld ...", (long long)want);
        return;
    }
    if (iv->text_width != a.w || iv->text_position != iv->cur.position)
        layout(iv, a.w);
    lines_draw_page(&iv->text, &iv->sc, a);
    if (iv->busy || iv->cur.position != want)
        draw_fmt(a.y, a.x + a.w - 24 > a.x ? a.x + a.w - 24 : a.x, 24, tui_attr(TC_DIM),
                 "recomputing at %lld", (long long)want);
}

static enum request insights_request(struct view *v, enum request req)
{
    struct insights_view *iv = v->priv;
    int rows = v->last.h > 0 ? v->last.h : 10;
    if (req == REQ_REFRESH) {
        free(iv->error);
        iv->error = NULL;
        return req;
    }
    if (scroll_page_request(&iv->sc, req, (long)iv->text.len, rows))
        return REQ_NONE;
    return req;
}

const struct view_ops view_insights_ops = {
    .keymap = KM_GENERIC,
    .open = insights_open,
    .close = insights_close,
    .draw = insights_draw,
    .request = insights_request,
};
