/* projection_runner.c: the runner thread (see projection_runner.h): rounds of
 * projection_catch_up_round on its own store connection, then a wait for new
 * events (store_wait_head: a notification on PostgreSQL, a look at the head on
 * SQLite), a poke, or RUNNER_POLL_MS; and whether everything is settled, for the
 * workbench's scripts. */
#include "projection_runner.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "projection.h"

#define RUNNER_POLL_MS 100      /* a round at least this often (pauses, throttles set elsewhere) */
#define RUNNER_WAIT_SLICE_MS 25 /* a poke waits at most this long for the head wait to end */
#define RUNNER_SLICE 5000       /* events per projection per round, so stop stays prompt */

struct proj_runner {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct store *s; /* the runner's own connection */
    const struct domain *d;
    bool stop;
    bool poked;
    uint64_t poke_gen; /* bumped by every poke */
    bool settled;
    bool has_error;
    int64_t head; /* the head as of the runner's last wait */
    err last_error;
};

/* Is every projection that can move at the head? Throttled ones count as settled:
 * they are slow on purpose, and waiting for them would stall a script. */
static bool all_settled(struct store *s, const struct domain *d, err *e)
{
    struct proj_lag *lags;
    size_t n;
    if (projection_status(s, d, &lags, &n, e) != ST_OK)
        return false;
    bool settled = true;
    for (size_t i = 0; i < n; i++) {
        const struct proj_lag *l = &lags[i];
        if (l->status == PROJ_PAUSED || l->status == PROJ_FAILED || l->throttle > 0)
            continue;
        if (l->status == PROJ_REBUILDING || (!l->stale && l->events_behind > 0))
            settled = false;
    }
    proj_lag_free(lags, n);
    return settled;
}

static void *runner_main(void *arg)
{
    struct proj_runner *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        uint64_t gen = r->poke_gen;
        r->poked = false;
        pthread_mutex_unlock(&r->lock);

        err e;
        err_clear(&e);
        int64_t done = 0;
        /* Each projection by at most RUNNER_SLICE events, those at one checkpoint
         * sharing their batches. */
        int rc = projection_catch_up_round(r->s, r->d, RUNNER_SLICE, &done, &e);
        bool settled = rc == ST_OK && all_settled(r->s, r->d, &e);

        pthread_mutex_lock(&r->lock);
        r->has_error = rc != ST_OK || e.code != ST_OK;
        if (r->has_error)
            r->last_error = e;
        if (r->poke_gen == gen)
            r->settled = settled && !r->has_error;
        if (r->stop)
            break;
        if (done > 0 && !r->has_error)
            continue; /* more may be waiting: go on at once */
        /* Wait for the head to move (another process's append), a poke, or the
         * round's period, in slices so that a poke is not kept waiting. */
        int64_t until = time_now_ms() + (r->has_error ? 1000 : RUNNER_POLL_MS);
        while (!r->poked && !r->stop) {
            int64_t left = until - time_now_ms();
            if (left <= 0)
                break;
            int64_t seen = r->head, now_head = seen;
            pthread_mutex_unlock(&r->lock);
            err ignored;
            int wrc = store_wait_head(
                r->s, seen, left < RUNNER_WAIT_SLICE_MS ? (int)left : RUNNER_WAIT_SLICE_MS,
                &now_head, &ignored);
            pthread_mutex_lock(&r->lock);
            if (wrc != ST_OK)
                break; /* the round says what is wrong */
            r->head = now_head;
            if (now_head > seen)
                break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

struct proj_runner *projection_runner_start(const char *db_path, const struct domain *d, err *e)
{
    return projection_runner_start_on(db_path, NULL, d, e);
}

struct proj_runner *projection_runner_start_on(const char *db_path, const char *branch,
                                               const struct domain *d, err *e)
{
    if (!db_path || strcmp(db_path, ":memory:") == 0) {
        err_set(e, ST_ERR,
                "the projection runner needs a store file: an in-memory store is private "
                "to its connection");
        return NULL;
    }
    struct store_options opt = STORE_OPTIONS_DEFAULT;
    opt.create = false;
    opt.branch = branch;
    struct store *s = store_open(db_path, &opt, e);
    if (!s)
        return NULL;
    if (projection_setup(s, d, e) != ST_OK) {
        store_close(s);
        return NULL;
    }
    struct proj_runner *r = xcalloc(1, sizeof *r);
    r->s = s;
    r->d = d;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    int prc = pthread_create(&r->thread, NULL, runner_main, r);
    if (prc != 0) {
        err_set(e, ST_ERR, "starting the projection runner: %s", strerror(prc));
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->wake);
        store_close(s);
        free(r);
        return NULL;
    }
    return r;
}

bool projection_runner_settled(struct proj_runner *r)
{
    pthread_mutex_lock(&r->lock);
    bool s = r->settled;
    pthread_mutex_unlock(&r->lock);
    return s;
}

bool projection_runner_wait_settled(struct proj_runner *r, int timeout_ms)
{
    int64_t until = time_now_ms() + timeout_ms;
    while (!projection_runner_settled(r)) {
        if (time_now_ms() >= until)
            return false;
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return true;
}

bool projection_runner_error(struct proj_runner *r, err *e)
{
    pthread_mutex_lock(&r->lock);
    bool has = r->has_error;
    if (has && e)
        *e = r->last_error;
    pthread_mutex_unlock(&r->lock);
    return has;
}

void projection_runner_poke(struct proj_runner *r)
{
    pthread_mutex_lock(&r->lock);
    r->poke_gen++;
    r->poked = true;
    r->settled = false;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

void projection_runner_stop(struct proj_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    store_close(r->s);
    free(r);
}
