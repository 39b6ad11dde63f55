/* jobs.h: background work (a rebuild, an import, a replay), each on its own
 * thread and its own store connection, so that the screen stays responsive. The
 * main loop reaps finished jobs and reports them on the message line. */
#ifndef STRATA_TUI_JOBS_H
#define STRATA_TUI_JOBS_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/util.h"

#define TUI_MAX_JOBS 8

struct tui;

/* A background job on its own store connection. */
struct tui_job {
    pthread_t thread;
    bool started;
    volatile int done;          /* set by the job when it has finished */
    volatile sig_atomic_t stop; /* set by the workbench to end a replay early */
    char *what;                 /* "rebuild AccountList" */
    int status;                 /* ST_OK or the error's code */
    err e;
    int (*run)(struct tui_job *job); /* runs in the thread */
    struct tui *app;
    char *arg1, *arg2;
    int64_t num;
    double real;
    /* A quiet job (a view's own computation) says nothing on the message line:
     * when it ends, finish (if set) runs on the main thread with data. A job
     * that is not quiet reports on the message line, then runs finish (if set:
     * the output pane adds the result of the verb that started it). */
    bool quiet;
    void *data;
    void (*finish)(struct tui_job *job);
    /* Optional: frees what the job owns (data), when the job is freed. */
    void (*cleanup)(struct tui_job *job);
    /* Optional: another flag to set when the job is asked to stop. */
    volatile sig_atomic_t *also_stop;
    /* Optional: how far it got, for the message line while it runs ("1200
     * records, 40%"); false when there is nothing to say yet. */
    bool (*progress)(struct tui_job *job, char *buf, size_t cap);
    char said[128]; /* the progress last shown */
};

/* Starts a background job; false (with a message) when too many run. */
bool tui_job_start(struct tui *app, const char *what, int (*run)(struct tui_job *),
                   const char *arg1, const char *arg2, int64_t num, double real);
/* Starts a job with data (see struct tui_job's cleanup, also_stop, progress:
 * set by `setup` before the thread starts); false when too many run. */
bool tui_job_start_data(struct tui *app, const char *what, int (*run)(struct tui_job *), void *data,
                        void (*setup)(struct tui_job *job));
/* Starts a quiet job (see struct tui_job); false when too many run. */
bool tui_job_start_quiet(struct tui *app, const char *what, int (*run)(struct tui_job *),
                         void *data, void (*finish)(struct tui_job *));
bool tui_jobs_running(struct tui *app);
/* Reports and frees the jobs that have finished. */
void tui_jobs_reap(struct tui *app);
/* Asks every job to stop, waits for each and frees it (on the way out). */
void tui_jobs_stop_all(struct tui *app);

#endif
