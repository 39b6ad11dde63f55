/* jobs.c: background jobs (jobs.h): rebuilds, imports and replays run on their own
 * thread and their own store connection, so the screen stays responsive. */
#include "tui/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui.h"

static void *job_thread(void *arg)
{
    struct tui_job *job = arg;
    job->status = job->run(job);
    __atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static struct tui_job *job_start(struct tui *app, const char *what, int (*run)(struct tui_job *),
                                 const char *arg1, const char *arg2, int64_t num, double real,
                                 void *data, void (*finish)(struct tui_job *), bool quiet,
                                 void (*setup)(struct tui_job *))
{
    int slot = -1;
    for (int i = 0; i < TUI_MAX_JOBS; i++)
        if (!app->jobs[i]) {
            slot = i;
            break;
        }
    if (slot < 0) {
        tui_error(app, "too many jobs running; wait for one to finish");
        return NULL;
    }
    struct tui_job *job = xcalloc(1, sizeof *job);
    job->what = xstrdup(what);
    job->run = run;
    job->app = app;
    job->arg1 = arg1 ? xstrdup(arg1) : NULL;
    job->arg2 = arg2 ? xstrdup(arg2) : NULL;
    job->num = num;
    job->real = real;
    job->quiet = quiet;
    job->data = data;
    job->finish = finish;
    if (setup)
        setup(job);
    err_clear(&job->e);
    if (pthread_create(&job->thread, NULL, job_thread, job) != 0) {
        tui_error(app, "%s: cannot start a thread", what);
        if (job->cleanup)
            job->cleanup(job);
        free(job->what);
        free(job->arg1);
        free(job->arg2);
        free(job);
        return NULL;
    }
    job->started = true;
    app->jobs[slot] = job;
    if (!quiet)
        tui_message(app, "%s: started", what);
    return job;
}

bool tui_job_start(struct tui *app, const char *what, int (*run)(struct tui_job *),
                   const char *arg1, const char *arg2, int64_t num, double real)
{
    return job_start(app, what, run, arg1, arg2, num, real, NULL, NULL, false, NULL) != NULL;
}

bool tui_job_start_data(struct tui *app, const char *what, int (*run)(struct tui_job *), void *data,
                        void (*setup)(struct tui_job *job))
{
    return job_start(app, what, run, NULL, NULL, 0, 0, data, NULL, false, setup) != NULL;
}

bool tui_job_start_quiet(struct tui *app, const char *what, int (*run)(struct tui_job *),
                         void *data, void (*finish)(struct tui_job *))
{
    return job_start(app, what, run, NULL, NULL, 0, 0, data, finish, true, NULL) != NULL;
}

static void job_free(struct tui_job *job)
{
    if (job->started)
        pthread_join(job->thread, NULL);
    if (job->cleanup)
        job->cleanup(job);
    free(job->what);
    free(job->arg1);
    free(job->arg2);
    free(job);
}

void tui_jobs_reap(struct tui *app)
{
    for (int i = 0; i < TUI_MAX_JOBS; i++) {
        struct tui_job *job = app->jobs[i];
        if (job && !__atomic_load_n(&job->done, __ATOMIC_ACQUIRE) && job->progress) {
            /* Running: its progress on the message line, while the line is its. */
            char buf[sizeof job->said];
            size_t n = strlen(job->what);
            if (job->progress(job, buf, sizeof buf) && strcmp(buf, job->said) != 0 &&
                !app->message_error && strncmp(app->message, job->what, n) == 0 &&
                app->message[n] == ':') {
                snprintf(job->said, sizeof job->said, "%s", buf);
                tui_message(app, "%s: %s", job->what, buf);
            }
        }
        if (!job || !__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
            continue;
        if (job->quiet) {
            /* The view that started it shows the result; nothing else changed. */
            pthread_join(job->thread, NULL);
            job->started = false;
            if (job->finish)
                job->finish(job);
            job_free(job);
            app->jobs[i] = NULL;
            app->dirty = true;
            continue;
        }
        if (job->status == ST_OK)
            tui_message(app, "%s: done%s%s", job->what, job->e.msg[0] ? ": " : "", job->e.msg);
        else
            tui_error(app, "%s: %s", job->what, job->e.msg[0] ? job->e.msg : "failed");
        if (job->finish) /* whoever started it shows the result its own way too */
            job->finish(job);
        job_free(job);
        app->jobs[i] = NULL;
        if (app->runner)
            projection_runner_poke(app->runner);
        tui_changed(app);
    }
}

bool tui_jobs_running(struct tui *app)
{
    for (int i = 0; i < TUI_MAX_JOBS; i++)
        if (app->jobs[i])
            return true;
    return false;
}

void tui_jobs_stop_all(struct tui *app)
{
    for (int i = 0; i < TUI_MAX_JOBS; i++)
        if (app->jobs[i]) {
            struct tui_job *job = app->jobs[i];
            job->stop = 1;
            if (job->also_stop)
                *job->also_stop = 1;
            if (job->started)
                pthread_join(job->thread, NULL);
            job->started = false;
            if (job->quiet && job->finish)
                job->finish(job); /* so that the view frees what it handed over */
            job_free(job);
            app->jobs[i] = NULL;
        }
}
