/* import.c: the import and replay engine (see import.h). */
#include "import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aggregate.h"
#include "event_format.h"
#include "import_identity.h"
#include "import_ledger.h"
#include "json.h"
#include "mapping.h"
#include "reader.h"

#define BATCH_MAX 512 /* events of one stream appended in one call */

/* A record's identity for the ledger, when the ledger is on. */
struct ident {
    bool set;
    unsigned char id[IDENTITY_LEN];
};

struct sorted_item {
    struct mapped_event ev;
    char *where;
    size_t seq; /* file order, so that the sort is stable */
    struct ident id;
};

struct importer {
    struct store *s;
    const struct import_options *o;
    struct import_result *res;
    err *e;
    FILE *errs;
    bool canonical;
    int64_t now_ms;
    struct version_check vc;
    int64_t base;                /* the head when the import's transaction began */
    struct occurrences *occ;     /* mapped imports with the ledger on */
    struct raw_identity rid;     /* the source's part of a raw record's identity (with occ) */
    struct ledger_batch *claims; /* claims held back (import_ledger.h); NULL: claim each */
    strbuf raw;                  /* a record's text when the reader has no line */
    struct mapping_plan plan;    /* the source's simple expressions (mapping.h) */

    /* events of one stream waiting to be appended together */
    struct mapped_event *batch;
    size_t nbatch;
    /* A mapped import's events keep their strings in buffers reused from record
     * to record (mapping_apply_bufs): bufs[i] holds batch[i]'s, and bufs[nbatch]
     * is where the next record is mapped. NULL: each event owns its strings
     * (canonical files, --sort time). */
    struct mapped_bufs **bufs;

    /* --sort time */
    struct sorted_item *items;
    size_t nitems, capitems;

    /* progress bar */
    double start;
    double last_draw;
    bool drawn;
    uint64_t bytes_total;  /* of all files */
    uint64_t bytes_before; /* of the files already read */
    struct reader *cur;

    /* replay pacing */
    bool have_t0;
    int64_t t0_event;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool stopped(const struct importer *im)
{
    return im->o->stop && *im->o->stop;
}

/* ---- progress ------------------------------------------------------------------------ */

static void progress_clear(struct importer *im)
{
    if (im->drawn) {
        fputs("\r\033[K", im->errs);
        fflush(im->errs);
        im->drawn = false;
    }
}

static void progress_draw(struct importer *im, bool force)
{
    if (!im->o->progress && !im->o->on_progress)
        return;
    double t = now_s();
    if (!force && t - im->last_draw < 0.1)
        return;
    im->last_draw = t;
    double elapsed = t - im->start;
    uint64_t done = im->bytes_before, total = im->bytes_total;
    if (im->cur) {
        uint64_t d, tt;
        reader_progress(im->cur, &d, &tt);
        done += d;
    }
    if (im->o->on_progress)
        im->o->on_progress(im->o->progress_ctx, im->res->records, done, total);
    if (!im->o->progress)
        return;
    double rate = elapsed > 0 ? (double)im->res->records / elapsed : 0;
    fprintf(im->errs, "\r\033[K  %lld records  %.0f/s", (long long)im->res->records, rate);
    if (total > 0) {
        double frac = (double)done / (double)total;
        if (frac > 1)
            frac = 1;
        int width = 24, fill = (int)(frac * width + 0.5);
        fputs("  [", im->errs);
        for (int i = 0; i < width; i++)
            fputc(i < fill ? '#' : '-', im->errs);
        fprintf(im->errs, "] %3.0f%%", frac * 100);
        if (frac > 0.01 && elapsed > 0.5) {
            long left = (long)(elapsed * (1 - frac) / frac + 0.5);
            fprintf(im->errs, "  %ld:%02ld left", left / 60, left % 60);
        }
    }
    fflush(im->errs);
    im->drawn = true;
}

/* ---- bad records ---------------------------------------------------------------------- */

static void report_bad(struct importer *im, const char *where, const char *reason)
{
    progress_clear(im);
    fprintf(im->errs, "%s: error: %s\n", where, reason);
    im->res->bad++;
}

/* With a domain, a record must be an event the domain can read (a known type and
 * schema version, data that matches its fields after upcasting): what is appended
 * is valid, whatever path it came by. The canonical line is already parsed, so its
 * data is checked without parsing it again. Returns true when it may go on. */
static bool domain_accepts(struct importer *im, const struct mapped_event *ev, const value *line,
                           char *reason, size_t n)
{
    const struct domain *d = im->o->domain;
    if (!d)
        return true;
    struct event stored = {0,        ev->version,      ev->schema, ev->stream,
                           ev->type, (char *)ev->time, ev->data,   ev->meta};
    /* A line read from its text alone (line null) has no tree: its data is parsed
     * by the check itself, to the same value. */
    const value *data = im->canonical && line->type == V_MAP ? value_map_get(line, "data") : NULL;
    err e;
    err_clear(&e);
    if (event_validate(d, &stored, data && data->type == V_MAP ? data : NULL, false, &e) == ST_OK)
        return true;
    size_t len = strnlen(e.msg, n - 1); /* a long message is cut to the reason's room */
    memcpy(reason, e.msg, len);
    reason[len] = '\0';
    return false;
}

/* ---- appending --------------------------------------------------------------------------- */

static void batch_clear(struct importer *im)
{
    for (size_t i = 0; i < im->nbatch; i++)
        mapped_event_done(&im->batch[i]);
    if (im->bufs && im->nbatch > 0) { /* the next record's buffers back to the front */
        struct mapped_bufs *next = im->bufs[im->nbatch];
        im->bufs[im->nbatch] = im->bufs[0];
        im->bufs[0] = next;
    }
    im->nbatch = 0;
}

/* Where the next record is mapped: the buffers after the batch's (NULL when
 * events own their strings). take() puts the event at batch[nbatch], its
 * buffers' place, or flushes first, and then batch_clear has moved them to
 * bufs[0], the event's new place. */
static struct mapped_bufs *next_bufs(struct importer *im)
{
    if (!im->bufs)
        return NULL;
    struct mapped_bufs **b = &im->bufs[im->nbatch];
    if (!*b) {
        *b = xmalloc(sizeof **b);
        mapped_bufs_init(*b);
    }
    return *b;
}

/* Appends the waiting batch. Returns 0 or -1 (e set). */
static int batch_flush(struct importer *im)
{
    if (im->nbatch == 0)
        return 0;
    struct new_event evs[BATCH_MAX];
    for (size_t i = 0; i < im->nbatch; i++) {
        evs[i].type = im->batch[i].type;
        evs[i].schema = im->batch[i].schema;
        evs[i].time = im->batch[i].time;
        evs[i].data = im->batch[i].data;
        evs[i].meta = im->batch[i].meta;
    }
    int64_t expected = im->canonical ? im->batch[0].version - 1 : STORE_ANY_VERSION;
    int rc = store_append(im->s, im->batch[0].stream, expected, NULL, evs, im->nbatch, NULL, im->e);
    if (rc != ST_OK) {
        if (rc == ST_CONFLICT)
            err_prefix(im->e, "another writer appended to %s meanwhile", im->batch[0].stream);
        if (!im->e->code)
            im->e->code = rc;
        batch_clear(im);
        return -1;
    }
    im->res->imported += (int64_t)im->nbatch;
    batch_clear(im);
    return 0;
}

/* Sleeps until the replay clock says the event is due; false when stopped. */
static bool replay_wait(struct importer *im, const struct mapped_event *ev)
{
    double due;
    if (im->o->rate > 0) {
        due = im->start + (double)im->res->imported / im->o->rate;
    } else {
        if (!im->have_t0) {
            im->have_t0 = true;
            im->t0_event = ev->time_ms;
        }
        double speed = im->o->speed > 0 ? im->o->speed : 1.0;
        double offset = (double)(ev->time_ms - im->t0_event) / 1000.0 / speed;
        due = im->start + (offset > 0 ? offset : 0);
    }
    for (;;) {
        if (stopped(im))
            return false;
        double left = due - now_s();
        if (left <= 0)
            return true;
        if (left > 0.1)
            left = 0.1; /* wake up often enough to notice a stop */
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A canonical line whose version is taken: 1 when the stored event at that place
 * is identical (already present), 0 when it is not (or the version leaves a gap),
 * -1 when the store could not be read. Pending appends are flushed first, so that
 * a line repeated within the import is compared with what it repeats. */
static int canonical_present(struct importer *im, const struct mapped_event *ev)
{
    if (im->o->allow_duplicates || batch_flush(im) < 0)
        return im->o->allow_duplicates ? 0 : -1;
    struct event_list got;
    event_list_init(&got);
    if (store_read_stream(im->s, ev->stream, ev->version, 0, 1, &got, im->e) != ST_OK) {
        event_list_done(&got);
        return -1;
    }
    const struct event *x = got.len ? &got.items[0] : NULL;
    int same = x && x->version == ev->version && x->schema == ev->schema &&
               strcmp(x->type, ev->type) == 0 && strcmp(x->time, ev->time) == 0 &&
               strcmp(x->data, ev->data) == 0 && same_text(x->meta, ev->meta);
    event_list_done(&got);
    return same;
}

/* The ledger: true when the record was imported before (counted, nothing to
 * append); false when it is new (claimed at the position it will take). -1 on
 * an error. Replay claims inside the transaction its append commits with. */
static int ledger_seen(struct importer *im, const struct ident *id)
{
    int64_t position = im->base + im->res->imported + (int64_t)im->nbatch + 1;
    if (im->o->replay) {
        if (store_begin(im->s, im->e) != ST_OK || store_head(im->s, &position, im->e) != ST_OK)
            return -1;
        position++;
    }
    if (im->claims) {
        if (!ledger_batch_knows_all(im->claims)) { /* else one look, no ledger read */
            bool present = ledger_batch_has(im->claims, id->id);
            if (!present && store_ledger_has(im->s, id->id, &present, im->e) != ST_OK)
                return -1;
            if (present) {
                im->res->present++;
                return 1;
            }
        }
        if (!ledger_batch_add_new(im->claims, id->id, position)) {
            im->res->present++;
            return 1;
        }
        if (ledger_batch_due(im->claims) && ledger_batch_write(im->claims, im->s, im->e) != ST_OK)
            return -1;
        return 0;
    }
    bool fresh;
    if (store_ledger_claim(im->s, id->id, position, &fresh, im->e) != ST_OK) {
        if (im->o->replay)
            store_rollback(im->s);
        return -1;
    }
    if (!fresh) {
        if (im->o->replay)
            store_rollback(im->s);
        im->res->present++;
        return 1;
    }
    return 0;
}

/* Where a record is ("FILE:LINE"), made only when a message needs it: formatting
 * it for every record was 3% of a mapped import. */
struct where {
    const struct reader *r;
    const struct record *rec;
    strbuf *sb;
    const char *fixed; /* made already (a sorted import keeps it) */
};

static const char *where_text(struct where *w)
{
    if (w->fixed)
        return w->fixed;
    sb_reset(w->sb);
    record_where(w->r, w->rec, w->sb);
    w->fixed = w->sb->buf;
    return w->fixed;
}

/* Takes one mapped event (ownership passes here); id is its identity when the
 * ledger is on. Returns 0, or -1 on a fatal error (e set). */
static int take(struct importer *im, struct mapped_event *ev, struct where *wh,
                const struct ident *id)
{
    char reason[512];
    if (im->canonical) {
        int v = version_check_next(&im->vc, im->s, ev->stream, ev->version, reason, sizeof reason,
                                   im->e);
        if (v < 0) {
            mapped_event_done(ev);
            return -1;
        }
        if (v == MAP_BAD) { /* with or without --skip-bad: the same count either way */
            int p = canonical_present(im, ev);
            if (p != 0) {
                if (p > 0)
                    im->res->present++;
                mapped_event_done(ev);
                return p < 0 ? -1 : 0;
            }
        }
        if (v == MAP_BAD) {
            report_bad(im, where_text(wh), reason);
            mapped_event_done(ev);
            if (im->o->replay && !im->o->skip_bad) {
                err_set(im->e, ST_ERR, "replay stopped at the first bad record (%s)",
                        where_text(wh));
                return -1;
            }
            return 0;
        }
    }
    if (im->res->bad > 0 && !im->o->skip_bad) {
        /* Nothing will be committed: only go on checking. */
        mapped_event_done(ev);
        return 0;
    }
    if (im->o->replay) {
        if (!replay_wait(im, ev)) {
            im->res->stopped = true;
            mapped_event_done(ev);
            return 0;
        }
        int seen = id && id->set ? ledger_seen(im, id) : 0;
        if (seen != 0) {
            mapped_event_done(ev);
            return seen < 0 ? -1 : 0;
        }
        im->batch[0] = *ev;
        im->nbatch = 1;
        int rc = batch_flush(im);
        if (id && id->set) {
            if (rc == 0 && store_commit(im->s, im->e) != ST_OK)
                rc = -1;
            else if (rc < 0)
                store_rollback(im->s);
        }
        return rc;
    }
    if (id && id->set) {
        int seen = ledger_seen(im, id);
        if (seen != 0) {
            mapped_event_done(ev);
            return seen < 0 ? -1 : 0;
        }
    }
    if (im->nbatch > 0 &&
        (im->nbatch == BATCH_MAX || strcmp(im->batch[0].stream, ev->stream) != 0 ||
         (im->canonical && im->batch[im->nbatch - 1].version + 1 != ev->version))) {
        if (batch_flush(im) < 0) {
            mapped_event_done(ev);
            return -1;
        }
    }
    im->batch[im->nbatch++] = *ev;
    return 0;
}

static int cmp_items(const void *a, const void *b)
{
    const struct sorted_item *x = a, *y = b;
    if (x->ev.time_ms != y->ev.time_ms)
        return x->ev.time_ms < y->ev.time_ms ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The text a record without a line of its own (CSV, a JSON array's element) is
 * known by: a CSV row's names and fields, separated by bytes text cannot hold
 * (cheaper than JSON, which the import measured: ~1 us a record); anything else
 * as JSON. */
static void record_text(strbuf *sb, const value *v)
{
    sb_reset(sb);
    if (v->type == V_MAP) {
        size_t n = value_map_len(v);
        for (size_t i = 0; i < n; i++) {
            const value *k = value_map_key_at(v, i), *x = value_map_val_at(v, i);
            if (k->type != V_STRING || x->type != V_STRING)
                goto json;
            /* name 0x1f field 0x1e, room made once (four sb_adds were ~60
             * instructions a CSV row more) */
            size_t kl = value_strlen(k), xl = value_strlen(x), at = sb->len;
            if (at + kl + xl + 3 > sb->cap)
                sb_grow_to(sb, at + kl + xl + 3);
            if (kl) /* an empty string's text may be NULL: no memcpy from it */
                memcpy(sb->buf + at, value_str(k), kl);
            sb->buf[at + kl] = '\x1f';
            if (xl)
                memcpy(sb->buf + at + kl + 1, value_str(x), xl);
            sb->buf[at + kl + 1 + xl] = '\x1e';
            sb->len = at + kl + xl + 2;
            sb->buf[sb->len] = '\0';
        }
        return;
    }
json:
    sb_reset(sb);
    json_write(sb, v);
}

/* The identity of a mapped record for the ledger (import_identity.h). Returns
 * MAP_OK (id filled, or left unset when the ledger is off) or MAP_BAD. */
static int identify(struct importer *im, const struct record *rec, struct ident *id, char *reason,
                    size_t n)
{
    id->set = false;
    if (im->canonical || im->o->allow_duplicates)
        return MAP_OK;
    const struct source_spec *src = im->o->source;
    char *text;
    const char *scope;
    if (mapping_record_id(src, &rec->v, &text, &scope, reason, n) != MAP_OK)
        return MAP_BAD;
    if (text) {
        identity_of_text(src->name, scope, text, strlen(text), id->id);
        free(text);
    } else {
        unsigned char h[IDENTITY_LEN];
        if (rec->raw) {
            hash128(rec->raw, rec->raw_len, 0, h);
        } else {
            record_text(&im->raw, &rec->v);
            hash128(im->raw.buf, im->raw.len, 0, h);
        }
        raw_identity_of(&im->rid, h, occurrences_next(im->occ, h), id->id);
    }
    id->set = true;
    return MAP_OK;
}

/* Reads one file; events go to take() or, when sorting, to im->items. Returns 0
 * or -1 (e set). */
static int import_one(struct importer *im, const char *path)
{
    /* Canonical lines are read from their text where canonical_parse_raw can;
     * only the others are parsed into a tree (import_options.slow_paths: all). A
     * mapped source's lines always go through its mapping, parsed. */
    struct reader_options ro = {SRC_NDJSON, NULL, 0, im->canonical && !im->o->slow_paths};
    if (!im->canonical) {
        ro.format = im->o->source->format;
        ro.records = im->o->source->records;
        ro.delimiter = im->o->source->delimiter;
    }
    struct reader *r = reader_open(path, &ro, im->e);
    if (!r)
        return -1;
    im->cur = r;
    if (im->occ)
        occurrences_reset(im->occ); /* occurrences count within one file */
    struct record rec;
    struct ident id;
    struct mapped_event ev;
    char reason[512];
    strbuf where;
    sb_init(&where);
    int rc, result = 0;
    int64_t records_before = im->res->records;
    while (!stopped(im) && (rc = reader_next(r, &rec, im->e)) != 0) {
        if (rc < 0) {
            result = -1;
            break;
        }
        im->res->records++;
        if ((im->res->records & 255) == 0)
            progress_draw(im, false);
        struct where wh = {r, &rec, &where, NULL};
        bool fast = rec.unparsed && canonical_parse_raw(rec.raw, rec.raw_len, &ev);
        if (!fast)
            reader_parse(r, &rec);
        if (rec.bad) {
            report_bad(im, where_text(&wh), rec.reason.msg);
            if (im->o->replay && !im->o->skip_bad) {
                err_set(im->e, ST_ERR, "replay stopped at the first bad record (%s)",
                        where_text(&wh));
                result = -1;
                break;
            }
            continue;
        }
        int m = fast ? MAP_OK
                : im->canonical
                    ? canonical_parse(&rec.v, rec.raw, rec.raw_len, &ev, reason, sizeof reason)
                    : mapping_apply_bufs(im->o->source, &im->plan, &rec.v, im->now_ms,
                                         next_bufs(im), &ev, reason, sizeof reason);
        if (m == MAP_SKIP) {
            im->res->skipped++;
            continue;
        }
        if (m == MAP_OK && !domain_accepts(im, &ev, &rec.v, reason, sizeof reason)) {
            mapped_event_done(&ev);
            m = MAP_BAD;
        }
        if (m == MAP_OK && identify(im, &rec, &id, reason, sizeof reason) != MAP_OK) {
            mapped_event_done(&ev);
            m = MAP_BAD;
        }
        if (m == MAP_BAD) {
            report_bad(im, where_text(&wh), reason);
            if (im->o->replay && !im->o->skip_bad) {
                err_set(im->e, ST_ERR, "replay stopped at the first bad record (%s)",
                        where_text(&wh));
                result = -1;
                break;
            }
            continue;
        }
        if (im->o->sort_time) {
            if (im->nitems == im->capitems) {
                im->capitems = im->capitems ? im->capitems * 2 : 1024;
                im->items = xrealloc(im->items, im->capitems * sizeof *im->items);
            }
            struct sorted_item *it = &im->items[im->nitems];
            it->ev = ev;
            it->where = xstrdup(where_text(&wh));
            it->seq = im->nitems++;
            it->id = id;
            continue;
        }
        if (take(im, &ev, &wh, &id) < 0) {
            result = -1;
            break;
        }
        if (im->res->stopped)
            break;
    }
    /* A file with no records at all is almost always the wrong file (or a failed
     * download): say so, as a bad record of its own, rather than import nothing. */
    if (result == 0 && !stopped(im) && im->res->records == records_before)
        report_bad(im, path, "the file holds no records (it is empty)");
    uint64_t d, t;
    reader_progress(r, &d, &t);
    im->bytes_before += t ? t : d;
    im->cur = NULL;
    sb_done(&where);
    reader_close(r);
    return result;
}

int import_files(struct store *s, char *const *files, size_t nfiles, const struct import_options *o,
                 struct import_result *res, err *e)
{
    memset(res, 0, sizeof *res);
    struct importer im;
    memset(&im, 0, sizeof im);
    im.s = s;
    im.o = o;
    im.res = res;
    im.e = e;
    im.errs = o->errors ? o->errors : stderr;
    im.canonical = o->source == NULL;
    im.now_ms = time_now_ms();
    im.start = now_s();
    im.batch = xcalloc(BATCH_MAX, sizeof *im.batch);
    if (!im.canonical && !o->sort_time && !o->slow_paths)
        im.bufs = xcalloc(BATCH_MAX + 1, sizeof *im.bufs);
    version_check_init(&im.vc);
    sb_init(&im.raw);
    if (!im.canonical && !o->allow_duplicates) {
        im.occ = occurrences_new();
        raw_identity_init(&im.rid, o->source->name);
    }
    if (!im.canonical && !o->slow_paths)
        mapping_plan_init(&im.plan, o->source);
    if (!im.canonical && mapping_check_source(o->source, e) != ST_OK) {
        mapping_plan_done(&im.plan);
        sb_done(&im.raw);
        occurrences_free(im.occ);
        raw_identity_done(&im.rid);
        free(im.batch);
        free(im.bufs);
        version_check_done(&im.vc);
        return e->code;
    }
    for (size_t i = 0; i < nfiles; i++) {
        struct stat st;
        if (strcmp(files[i], "-") != 0 && stat(files[i], &st) == 0)
            im.bytes_total += (uint64_t)st.st_size;
    }
    int64_t head_before = 0;
    int rc = store_head(s, &head_before, e);
    bool in_tx = false;
    if (rc == ST_OK && !o->replay) {
        rc = store_begin(s, e);
        in_tx = rc == ST_OK;
        if (in_tx) /* the head again, now that no other writer can move it */
            rc = store_head(s, &head_before, e);
    }
    im.base = head_before;
    /* Under the write lock, so that "the ledger is empty" stays true. */
    if (in_tx && im.occ && store_ledger_probes(s))
        im.claims = ledger_batch_new(store_ledger_empty(s));
    int result = rc == ST_OK ? 0 : -1;
    for (size_t i = 0; i < nfiles && result == 0 && !res->stopped && !stopped(&im); i++)
        result = import_one(&im, files[i]);
    if (o->sort_time) {
        if (result == 0 && !stopped(&im)) {
            qsort(im.items, im.nitems, sizeof *im.items, cmp_items);
            for (size_t i = 0; i < im.nitems; i++) {
                if (result == 0 && !res->stopped && !stopped(&im)) {
                    struct mapped_event ev = im.items[i].ev;
                    memset(&im.items[i].ev, 0, sizeof ev);
                    struct where wh = {NULL, NULL, NULL, im.items[i].where};
                    result = take(&im, &ev, &wh, &im.items[i].id);
                }
                mapped_event_done(&im.items[i].ev);
                free(im.items[i].where);
            }
        } else {
            for (size_t i = 0; i < im.nitems; i++) {
                mapped_event_done(&im.items[i].ev);
                free(im.items[i].where);
            }
        }
        free(im.items);
    }
    if (result == 0 && !(res->bad > 0 && !o->skip_bad))
        result = batch_flush(&im);
    batch_clear(&im);
    free(im.batch);
    for (size_t i = 0; im.bufs && i <= BATCH_MAX; i++) {
        if (im.bufs[i])
            mapped_bufs_done(im.bufs[i]);
        free(im.bufs[i]);
    }
    free(im.bufs);
    version_check_done(&im.vc);
    sb_done(&im.raw);
    occurrences_free(im.occ);
    raw_identity_done(&im.rid);
    mapping_plan_done(&im.plan);
    if (result == 0)
        progress_draw(&im, true);
    progress_clear(&im);

    int status = ST_OK;
    if (result < 0) {
        status = e->code ? e->code : ST_ERR;
    } else if (!o->replay && stopped(&im)) {
        status = err_set(e, ST_ERR, "interrupted: nothing was imported");
    } else if (res->bad > 0 && !o->skip_bad && !o->replay) {
        status = err_set(
            e, ST_ERR,
            "%lld bad record%s: nothing was imported (use --skip-bad to import the good ones)",
            (long long)res->bad, res->bad == 1 ? "" : "s");
    }
    if (in_tx) {
        if (status == ST_OK && im.claims && ledger_batch_write(im.claims, s, e) != ST_OK)
            status = e->code ? e->code : ST_ERR;
        if (status == ST_OK) {
            status = store_commit(s, e);
        } else {
            store_rollback(s);
        }
    }
    ledger_batch_free(im.claims);
    if (status != ST_OK && !o->replay) {
        res->imported = 0;
        res->present = 0;
    }
    if (res->imported > 0) {
        res->first_position = head_before + 1;
        res->last_position = head_before + res->imported;
    }
    res->seconds = now_s() - im.start;
    return status;
}

/* ---- helpers for the command line ------------------------------------------------------ */

int import_pick_source(const struct domain *d, const char *name, const char *map_path,
                       struct source_spec **out, bool *owned, FILE *msgs, err *e)
{
    *out = NULL;
    *owned = false;
    if (name && map_path)
        return err_set(e, ST_USAGE, "give --source NAME or --map FILE, not both");
    if (map_path) {
        struct diag_list diags;
        diag_list_init(&diags);
        *out = source_load_map(map_path, &diags);
        if (!*out) {
            diag_list_print(&diags, msgs);
            diag_list_done(&diags);
            return err_set(e, ST_ERR, "%s: the map file has errors", map_path);
        }
        diag_list_done(&diags);
        *owned = true;
        return ST_OK;
    }
    if (!name)
        return ST_OK;
    if (!d)
        return err_set(e, ST_USAGE,
                       "--source %s needs a domain (--domain FILE or STRATA_DOMAIN); "
                       "or describe the file with --map FILE",
                       name);
    *out = domain_source(d, name);
    if (*out)
        return ST_OK;
    if (d->nsources == 0)
        return err_set(e, ST_ERR, "the domain %s has no `sources:`; add one or use --map FILE",
                       d->file);
    const char **names = xcalloc(d->nsources, sizeof *names);
    strbuf list;
    sb_init(&list);
    for (size_t i = 0; i < d->nsources; i++) {
        names[i] = d->sources[i].name;
        sb_addf(&list, "%s%s", i ? ", " : "", names[i]);
    }
    const char *mean = did_you_mean(name, names, d->nsources);
    if (mean)
        err_set(e, ST_ERR, "no source '%s' in the domain (did you mean '%s'?)", name, mean);
    else
        err_set(e, ST_ERR, "no source '%s' in the domain; its sources are %s", name, list.buf);
    sb_done(&list);
    free(names);
    return ST_ERR;
}

void import_format_summary(strbuf *out, const struct import_result *res, size_t nfiles, bool replay)
{
    if (replay && res->stopped)
        sb_addf(out, "stopped after %lld events", (long long)res->imported);
    else
        sb_addf(out, "%s %lld event%s", replay ? "replayed" : "imported", (long long)res->imported,
                res->imported == 1 ? "" : "s");
    if (res->imported > 0)
        sb_addf(out, " (positions %lld-%lld)", (long long)res->first_position,
                (long long)res->last_position);
    if (res->present > 0)
        sb_addf(out, ", already present %lld,", (long long)res->present);
    sb_addf(out, " from %zu file%s in %.2f s", nfiles, nfiles == 1 ? "" : "s", res->seconds);
    if (res->imported > 0 && res->seconds > 0)
        sb_addf(out, " (%.0f events/s)", (double)res->imported / res->seconds);
    if (res->skipped > 0)
        sb_addf(out, "; %lld record%s passed over by skip", (long long)res->skipped,
                res->skipped == 1 ? "" : "s");
    if (res->bad > 0)
        sb_addf(out, "; %lld bad record%s skipped", (long long)res->bad, res->bad == 1 ? "" : "s");
}
