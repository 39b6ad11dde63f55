/* read_ahead.c: see read_ahead.h. One thread, one request at a time: the caller
 * asks for the page after the one it was just given, and takes it (or not) at its
 * next read_ahead_page. */
#include "read_ahead.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"
#include "util.h"

struct read_ahead {
    /* The thread's own handle on the same file. It also moves most of the WAL's
     * checkpoints from the caller's commits to the thread: it copies the
     * committed log into the file after each page (PASSIVE: it never waits for,
     * nor holds up, the caller's batch). The caller's own autocheckpoint stays
     * on: the log starts over only when a write transaction begins with every
     * frame copied, which the thread, copying while the next batch runs, never
     * sees; so the caller still checkpoints once the log is long (16,384 pages),
     * and then copies only the frames the thread has not (one batch's). Without
     * it the log grew with every batch, and reads slowed with it (the WAL's
     * index grows). */
    struct store *rs;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* under lock: */
    bool asked, done, quit;
    int64_t after, to;
    size_t limit;
    int rc;
    struct event_list page; /* the thread's; the caller's once done */
    size_t taken;           /* pages the caller took from the thread */
};

bool read_ahead_always(void)
{
    const char *v = getenv("STRATA_PROJECTION_READ_AHEAD");
    return v && strcmp(v, "1") == 0;
}

/* The page of up to `limit` events after `after` with position <= to, from s. */
static int read_page(struct store *s, int64_t after, int64_t to, size_t limit,
                     struct event_list *out, err *e)
{
    struct event_filter f;
    memset(&f, 0, sizeof f);
    f.to = to;
    return store_read_page(s, &f, after, false, limit, out, e);
}

/* The WAL of rs's file copied into it as far as no reader needs it. */
static void checkpoint(struct store *rs)
{
    sqlite3_wal_checkpoint_v2(store_sqlite_db(rs), NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

/* Waits, under ra->lock, until the thread has no request. */
static void idle_locked(struct read_ahead *ra)
{
    while (ra->asked)
        pthread_cond_wait(&ra->cond, &ra->lock);
}

static void *reader(void *arg)
{
    struct read_ahead *ra = arg;
    pthread_mutex_lock(&ra->lock);
    for (;;) {
        while (!ra->asked && !ra->quit)
            pthread_cond_wait(&ra->cond, &ra->lock);
        if (ra->quit)
            break;
        int64_t after = ra->after, to = ra->to;
        size_t limit = ra->limit;
        pthread_mutex_unlock(&ra->lock);
        /* The page is the thread's alone until it says done. */
        event_list_clear(&ra->page);
        err e;
        err_clear(&e);
        int rc = read_page(ra->rs, after, to, limit, &ra->page, &e);
        checkpoint(ra->rs);
        pthread_mutex_lock(&ra->lock);
        ra->rc = rc;
        ra->asked = false;
        ra->done = true;
        pthread_cond_broadcast(&ra->cond);
    }
    pthread_mutex_unlock(&ra->lock);
    return NULL;
}

static void free_all(struct read_ahead *ra)
{
    pthread_cond_destroy(&ra->cond);
    pthread_mutex_destroy(&ra->lock);
    event_list_done(&ra->page);
    store_close(ra->rs);
    free(ra);
}

struct read_ahead *read_ahead_open(struct store *s)
{
    if (!store_sqlite_db(s) || s->under || !s->path || strcmp(s->path, ":memory:") == 0)
        return NULL;
    /* Writable, for its checkpoints (it writes nothing else: the caller's open
     * has already brought the file to this build's format). */
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = false;
    err e;
    err_clear(&e);
    struct store *rs = store_open(s->path, &opt, &e);
    if (!rs)
        return NULL; /* read in place, as every other store does */
    struct read_ahead *ra = xcalloc(1, sizeof *ra);
    ra->rs = rs;
    event_list_init(&ra->page);
    pthread_mutex_init(&ra->lock, NULL);
    pthread_cond_init(&ra->cond, NULL);
    if (pthread_create(&ra->thread, NULL, reader, ra) != 0) {
        free_all(ra);
        return NULL;
    }
    return ra;
}

/* Waits until the thread has no request; true when it had this one, read it
 * whole, and out now holds it. */
static bool take(struct read_ahead *ra, int64_t after, int64_t to, size_t limit,
                 struct event_list *out)
{
    pthread_mutex_lock(&ra->lock);
    bool mine = (ra->asked || ra->done) && ra->after == after && ra->to == to && ra->limit == limit;
    idle_locked(ra);
    bool got = mine && ra->done && ra->rc == ST_OK && ra->page.len == limit;
    ra->done = false;
    pthread_mutex_unlock(&ra->lock);
    if (got) { /* the caller's emptied array becomes the thread's next page */
        struct event_list t = *out;
        *out = ra->page;
        ra->page = t;
        ra->taken++;
    }
    return got;
}

int read_ahead_page(struct read_ahead *ra, struct store *s, int64_t after, int64_t to, size_t limit,
                    bool more, struct event_list *out, err *e)
{
    if (!ra || !take(ra, after, to, limit, out)) {
        int rc = read_page(s, after, to, limit, out, e);
        if (rc != ST_OK)
            return rc;
    }
    if (ra && more && limit > 0 && out->len == limit) {
        pthread_mutex_lock(&ra->lock);
        ra->after = out->items[out->len - 1].position;
        ra->to = to;
        ra->limit = limit;
        ra->asked = true;
        pthread_cond_broadcast(&ra->cond);
        pthread_mutex_unlock(&ra->lock);
    }
    return ST_OK;
}

void read_ahead_wait(struct read_ahead *ra)
{
    pthread_mutex_lock(&ra->lock);
    idle_locked(ra);
    pthread_mutex_unlock(&ra->lock);
}

size_t read_ahead_taken(const struct read_ahead *ra)
{
    return ra ? ra->taken : 0;
}

void read_ahead_close(struct read_ahead *ra)
{
    if (!ra)
        return;
    pthread_mutex_lock(&ra->lock);
    ra->quit = true; /* a read in progress finishes first */
    pthread_cond_broadcast(&ra->cond);
    pthread_mutex_unlock(&ra->lock);
    pthread_join(ra->thread, NULL);
    /* The last batches' frames copied too: readers of a log with every frame
     * copied read the file and skip the WAL's index, which a long log slows. */
    checkpoint(ra->rs);
    free_all(ra);
}
