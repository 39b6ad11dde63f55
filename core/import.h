/* import.h: appending events from files (import, replay), the engine under
 * `strata import` and `strata replay`. (Writing them out, `strata export`, is
 * event_format.h's.)
 *
 * Import reads every record of every file in order (core/reader.h), maps it
 * (core/mapping.h: through a source, or as Strata's canonical NDJSON when there is
 * no source), checks it, and appends it. Everything happens in one transaction:
 * by default one bad record anywhere means nothing is committed (every bad record
 * is still reported, as FILE:LINE: error: REASON or FILE:[INDEX]: error: REASON);
 * with skip_bad the good records are committed and the bad ones counted.
 * Canonical files keep their versions (each must continue its stream's, in the
 * store and earlier in the files); mapped records are appended at the end of
 * their stream. Positions are assigned by the store, in order.
 *
 * With sort_time the mapped events are collected first and stably sorted by time
 * (memory grows with the number of records: about the size of the events' text);
 * without it, memory stays bounded by one record (plus the reader's window).
 *
 * Nothing is imported twice (the import ledger): a mapped record whose identity
 * (core/import_identity.h: the source's `id:`, a CloudEvent's source and id, or
 * the raw record's hash and occurrence) is in the store's ledger is counted as
 * already present and not appended; a canonical line whose (stream, version) is
 * taken by an identical event likewise (by a different event: a bad record, as
 * before). allow_duplicates turns the ledger off.
 *
 * Replay is import paced in time, committing each event as it goes, so that a
 * workbench open on the same store sees them arrive: at `rate` events a second,
 * or following the events' own time stamps `speed` times faster. Setting *stop
 * (from a signal handler) ends it cleanly after the append in progress. */
#ifndef STRATA_IMPORT_H
#define STRATA_IMPORT_H

#include <signal.h>
#include <stdio.h>

#include "domain.h"
#include "store.h"
#include "util.h"

struct import_options {
    const struct source_spec *source; /* NULL: canonical NDJSON */
    /* When not NULL, every record must be an event this domain can read (known
     * type and schema, data valid after upcasting), or it is a bad record. NULL
     * (a --map import, or no domain): records are taken as they are. */
    const struct domain *domain;
    bool skip_bad;         /* commit the good records, count the bad */
    bool sort_time;        /* stable sort by time before appending */
    bool progress;         /* draw a progress bar on `errors` (a terminal) */
    bool allow_duplicates; /* no ledger: append every record, even one already imported */
    FILE *errors;          /* where bad records are reported; NULL = stderr */
    /* Only the general paths: every canonical line parsed into a value tree
     * (never read from its text alone, canonical_parse_raw), every expression of
     * a source through the evaluator (never expr_fast). The same result either
     * way; the tests compare the two. */
    bool slow_paths;
    /* Optional: told how far it got, about ten times a second (records read,
     * bytes read of bytes_total, 0 when unknown), for a front end that shows
     * progress its own way (the workbench's jobs). */
    void (*on_progress)(void *ctx, int64_t records, uint64_t bytes, uint64_t bytes_total);
    void *progress_ctx;
    /* replay */
    bool replay;                 /* commit each event as it goes, paced */
    double speed;                /* > 0: follow the time stamps, this many times faster */
    double rate;                 /* > 0: this many events a second (wins over speed) */
    volatile sig_atomic_t *stop; /* when it becomes non-zero, stop after the current append */
};

struct import_result {
    int64_t records;  /* records read (good, bad and skipped) */
    int64_t imported; /* events appended (and committed) */
    int64_t skipped;  /* records the source's `skip` passed over */
    int64_t bad;      /* bad records */
    int64_t present;  /* records already imported (the ledger, or identical canonical events) */
    int64_t first_position, last_position; /* of the appended events; 0 when none */
    double seconds;
    bool stopped; /* replay: ended by *stop */
};

/* Imports (or replays) files[0..nfiles). Returns ST_OK when everything wanted was
 * committed (with skip_bad: the good records); ST_ERR when records were bad and
 * nothing was committed, or when a file could not be read (e->msg says what and
 * where; for import nothing was committed, for replay what was appended stays);
 * ST_CONFLICT when another writer took a version in the meantime; ST_USAGE for a
 * source that cannot be used. *res is filled in every case. */
int import_files(struct store *s, char *const *files, size_t nfiles, const struct import_options *o,
                 struct import_result *res, err *e);

/* Picks what an import's records go through: the source `name` of domain d
 * (--source NAME), or the stand-alone map file map_path (--map FILE; *owned is
 * then set and the caller frees it with source_free), or neither (canonical
 * NDJSON: *out = NULL). Problems in a map file are printed to `msgs` as
 * FILE:LINE:COL: error: ...; an unknown source name is an error that lists the
 * domain's sources. Returns ST_OK, ST_USAGE or ST_ERR (e set). */
int import_pick_source(const struct domain *d, const char *name, const char *map_path,
                       struct source_spec **out, bool *owned, FILE *msgs, err *e);

/* Appends the one-line summary of an import or replay to out (no newline):
 * "imported 12 events (positions 1-12) from 2 files in 0.03 s (400 events/s)",
 * with ", already present M" after the count when records were already imported
 * ("imported 0 events, already present 100, from 1 file in 0.01 s"), and the
 * records passed over by `skip` and the bad records skipped when any. */
void import_format_summary(strbuf *out, const struct import_result *res, size_t nfiles,
                           bool replay);

#endif
