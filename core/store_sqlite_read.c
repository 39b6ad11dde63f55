/* store_sqlite_read.c: the SQLite store's rows of events into an event list
 * (store_sqlite.c's reads), and the stream names a long page reads by id.
 *
 * A page read by position joins event_log to streams for each event's stream name:
 * one B-tree probe per event, a fifth of what reading the row costs. A long page
 * (catch-up reads 65,536 events a batch) reads the stream id instead and looks
 * each id's name up once for the read (sq_names): a page holds a few thousand
 * streams at most in the usual store, so most events find their name in the
 * table. The names are only kept for the one read, whose statements all see one
 * snapshot of the file, so a name is never stale. A page of mostly new streams
 * would pay a lookup per event, more than the join: sq_read_rows gives up then and
 * its caller reads the rest of the page with the join; so it does at an event
 * whose stream has no row, which the join leaves out without counting it against
 * the page's limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_util.h"
#include "store_backend.h"
#include "store_sqlite_internal.h"
#include "util.h"

/* After this many events, a read that looked up more than one name in three gives
 * up the names (see above). */
#define NAMES_TRIAL 4096

struct name_slot {
    int64_t id;
    size_t off, len; /* the name in the read's text */
    bool used;
};

struct sq_names {
    struct name_slot *slots;
    size_t cap, n; /* a power of two; names in it */
    strbuf text;   /* the names, one after the other */
    size_t misses; /* lookups in streams */
    sqlite3_stmt *st;
};

static size_t slot_of(const struct sq_names *nm, int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 32) & (nm->cap - 1);
    while (nm->slots[i].used && nm->slots[i].id != id)
        i = (i + 1) & (nm->cap - 1);
    return i;
}

static void names_grow(struct sq_names *nm)
{
    struct name_slot *old = nm->slots;
    size_t n = nm->cap;
    nm->cap = n ? n * 2 : 1024;
    nm->slots = xcalloc(nm->cap, sizeof *nm->slots);
    for (size_t i = 0; i < n; i++)
        if (old[i].used)
            nm->slots[slot_of(nm, old[i].id)] = old[i];
    free(old);
}

/* The name of stream id (*len bytes, in nm->text: valid until the next lookup), or
 * NULL with *rc set: SQLITE_DONE when there is no such stream, else an error. */
static const char *name_of(struct sq_names *nm, int64_t id, size_t *len, int *rc)
{
    if (nm->cap == 0 || (nm->n + 1) * 2 > nm->cap)
        names_grow(nm);
    struct name_slot *s = &nm->slots[slot_of(nm, id)];
    if (!s->used) {
        nm->misses++;
        sqlite3_bind_int64(nm->st, 1, id);
        *rc = sqlite3_step(nm->st);
        if (*rc != SQLITE_ROW) {
            sqlite3_reset(nm->st);
            return NULL;
        }
        const char *t = (const char *)sqlite3_column_text(nm->st, 0);
        size_t l = (size_t)sqlite3_column_bytes(nm->st, 0);
        s->id = id;
        s->used = true;
        s->off = nm->text.len;
        s->len = l;
        sb_add(&nm->text, t ? t : "", t ? l : 0);
        sqlite3_reset(nm->st);
        nm->n++;
    }
    *len = s->len;
    return nm->text.buf + s->off;
}

struct sq_names *sq_names_open(struct sq_store *ss, int *rc)
{
    *rc = SQLITE_OK;
    if (!ss->stream_name) {
        *rc = sqlite3_prepare_v3(ss->db, "SELECT name FROM streams WHERE id = ?1", -1,
                                 SQLITE_PREPARE_PERSISTENT, &ss->stream_name, NULL);
        if (*rc != SQLITE_OK) {
            sqlite3_finalize(ss->stream_name);
            ss->stream_name = NULL;
            return NULL;
        }
    }
    struct sq_names *nm = xcalloc(1, sizeof *nm);
    sb_init(&nm->text);
    nm->st = ss->stream_name;
    return nm;
}

void sq_names_close(struct sq_names *nm)
{
    if (!nm)
        return;
    sqlite3_clear_bindings(nm->st);
    free(nm->slots);
    sb_done(&nm->text);
    free(nm);
}

int sq_read_rows(sqlite3_stmt *st, struct sq_names *nm, struct event_list *out, bool *gave_up)
{
    static const int col[5] = {1, 3, 5, 6, 7}; /* stream, type, time, data, meta */
    static const char *const dflt[5] = {"", "", "", "{}", NULL};
    size_t rows = 0;
    int rc;
    if (gave_up)
        *gave_up = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *text[5];
        size_t len[5];
        for (int k = nm ? 1 : 0; k < 5; k++) {
            text[k] = (const char *)sqlite3_column_text(st, col[k]);
            if (text[k]) {
                len[k] = (size_t)sqlite3_column_bytes(st, col[k]);
            } else {
                text[k] = dflt[k];
                len[k] = dflt[k] ? strlen(dflt[k]) : 0;
            }
        }
        if (nm) {
            if (nm->misses * 3 > rows && rows >= NAMES_TRIAL) {
                *gave_up = true; /* st stays where it is: its caller resets it */
                return SQLITE_DONE;
            }
            int nrc;
            text[0] = name_of(nm, sqlite3_column_int64(st, 1), &len[0], &nrc);
            if (!text[0] && nrc != SQLITE_DONE)
                return nrc;
            if (!text[0]) {      /* no such stream (a damaged file): the join leaves the row */
                *gave_up = true; /* out, and counts the page's limit without it */
                return SQLITE_DONE;
            }
        }
        rows++;
        struct event *ev = event_list_add(out);
        ev->position = sqlite3_column_int64(st, 0);
        ev->version = sqlite3_column_int64(st, 2);
        ev->schema = sqlite3_column_int(st, 4);
        event_list_set_strings(out, ev, text, len);
    }
    return rc;
}
