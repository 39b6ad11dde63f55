/* store.h: the event store, as a table of operations.
 *
 * Everything above this header talks to "a store", never to SQLite or PostgreSQL:
 * the SQLite backend (store_sqlite*.c) and the PostgreSQL backend (store_pg*.c,
 * through libpq) are two implementations of `struct store_ops` (as a tig view is a
 * table of operations), and store_open picks one by the look of the path. The
 * schema each backend writes is design.md's contract: `SELECT ... FROM events`
 * gives position, stream, version, type, schema, time, data, meta.
 *
 * Guarantees every backend keeps:
 * - events are never updated or deleted;
 * - all events of one append commit together or not at all;
 * - an append with a wrong expected version is ST_CONFLICT and appends nothing;
 * - an append whose command id was already processed is ST_DUPLICATE, appends
 *   nothing, and hands back the events that command appended the first time;
 * - positions are 1, 2, 3, ... without gaps, and become visible in that order (a
 *   reader that has seen position P never later sees a new event below P);
 *   versions are 1-based per stream;
 * - begin takes the write lock: between begin and commit no other handle appends;
 * - reads never load the whole store: they come in pages.
 *
 * Threads: a store handle is used by one thread at a time; open another handle
 * (its own connection) for another thread. */
#ifndef STRATA_STORE_H
#define STRATA_STORE_H

#include "util.h"

/* One stored event as read back. Strings are NUL-terminated; data and meta are
 * JSON text (meta may be NULL). Who owns the strings is said where events are
 * handed out. */
struct event {
    int64_t position; /* global order */
    int64_t version;  /* 1-based within its stream */
    int schema;       /* the event's schema version as written */
    char *stream;     /* "Account-42" */
    char *type;       /* "MoneyWithdrawn" */
    char *time;       /* "2026-11-27T10:00:00.123Z" */
    char *data;       /* JSON object text */
    char *meta;       /* JSON object text, or NULL */
};

/* A list of events that owns its strings (event_list.c): each its own allocation,
 * or, for events a backend read, the list's arena, reused from page to page. Copy an
 * event out of a list with event_list_push_copy, never by copying the struct. */
struct event_arena;
struct event_list {
    struct event *items;
    size_t len, cap;
    struct event_arena *arena; /* NULL until a read puts strings there */
};
void event_list_init(struct event_list *l);
void event_list_done(struct event_list *l);  /* frees every event's strings and the array */
void event_list_clear(struct event_list *l); /* frees the events, keeps the array */
void event_list_push_copy(struct event_list *l, const struct event *ev); /* deep copy */

/* An event to append. The store assigns position and version. */
struct new_event {
    const char *type;
    int schema;
    const char *time; /* contract text form; NULL means "now" */
    const char *data; /* canonical JSON object text */
    const char *meta; /* JSON object text, or NULL */
};

/* Expected versions for append. */
#define STORE_ANY_VERSION (-1) /* no check */
#define STORE_NO_STREAM 0      /* the stream must not exist yet */

/* Which events a read wants. Zero-initialise, then set what matters. */
struct event_filter {
    int64_t from;       /* first position wanted (inclusive); 0 = from the start */
    int64_t to;         /* last position wanted (inclusive); 0 = up to the head */
    const char *stream; /* exact stream name, or NULL */
    const char *type;   /* exact event type, or NULL */
    const char *text;   /* substring of stream, type, data or meta, or NULL (slow: a scan) */
    bool envelope_only; /* data is read as "{}" and meta as NULL: for analyses of the
                         * envelope (stream, type, time), which then read far less */
};

/* count_by: how a log's events are grouped (by the envelope alone, so a backend
 * answers in one grouped query and no event's data is read). */
enum store_group { STORE_GROUP_NONE, STORE_GROUP_TYPE, STORE_GROUP_STREAM };
/* One group: value (NULL for STORE_GROUP_NONE), bucket (the first bucket_len
 * characters of the time, NULL when bucket_len is 0), how many events, and the
 * earliest and latest time among them. Strings valid during the call only. */
struct store_count_row {
    const char *value, *bucket;
    int64_t count;
    const char *first, *last;
};
/* Called for each group, in no particular order; a status other than ST_OK stops. */
typedef int (*store_count_fn)(void *ctx, const struct store_count_row *row, err *e);

struct stream_info {
    char *name;
    int64_t version;       /* its last version */
    int64_t last_position; /* position of its last event */
};

struct snapshot {
    int64_t version;  /* stream version the state is as of */
    int64_t position; /* global position of that version's event */
    char *state;      /* JSON text */
};

/* A claim on the import ledger: a record's identity and the position it took. */
struct ledger_claim {
    unsigned char id[16];
    int64_t position;
};

struct store_options {
    bool create;         /* create the file (and the schema) if missing */
    bool read_only;      /* open read-only; writes fail with a clear error */
    int synchronous;     /* 2 = FULL (the default: survives power loss), 1 = NORMAL, 0 = OFF */
    int busy_timeout_ms; /* how long to wait for another writer; default STORE_BUSY_TIMEOUT_MS */
    int64_t max_pages;  /* a size limit in pages of the file (0 = none): for tests of a full disk */
    const char *branch; /* a what-if branch to open (core/store_branch.h); NULL or "main": main */
};
#define STORE_BUSY_TIMEOUT_MS 10000 /* the default wait for another writer */

/* The page cache of each SQLite connection the process opens from now on, in KiB
 * (0: the default, 32 MB, which appends and catch-up want). The workbench sets a
 * small one before it opens anything, so that its memory does not grow with the
 * pages of a large store it has touched (bench/RESULTS.md, tui_rss). Not
 * thread-safe: call it before any store is opened. */
void store_set_cache_kib(int kib);
#define STORE_OPTIONS_DEFAULT                                                                      \
    {                                                                                              \
        true, false, 2, STORE_BUSY_TIMEOUT_MS, 0, NULL                                             \
    }

/* What `strata doctor` asks of a store about its own health; each backend answers
 * in its own way (SQLite: PRAGMAs and an integrity check; PostgreSQL: the server's
 * fsync, synchronous_commit and full_page_writes, and whether every stream's row
 * agrees with its events, store_pg_ops.c). */
struct store_health {
    bool durable;        /* a commit survives a crash and a power loss */
    char durability[96]; /* how it is set: "journal_mode wal, synchronous FULL" */
    bool intact;         /* the backend's own integrity check passed */
    char integrity[200]; /* its first complaint, or "ok" */
    int64_t head;        /* the last position */
    int64_t count;       /* how many events there are (head - count = missing positions) */
    int64_t first_gap;   /* the first missing position, 0 when none */
    /* How the backend names its checks and their fixes, for doctor's lines (NULL:
     * SQLite's, "integrity_check" and its PRAGMAs). */
    const char *integrity_check, *integrity_fix, *durability_fix;
};

/* One value of a row of store_query: typed as the backend gives it. */
enum store_cell_type { CELL_NULL, CELL_INT, CELL_FLOAT, CELL_TEXT, CELL_BLOB };
struct store_cell {
    enum store_cell_type type;
    int64_t i;
    double f;
    const char *p; /* text (NUL-terminated) or blob bytes */
    size_t len;
};

/* How store_query hands out its result: columns once, then each row (valid
 * during the call). A non-zero return from row stops the statement (not an
 * error: the caller wanted no more). */
struct store_query_sink {
    void *ctx;
    void (*columns)(void *ctx, const char *const *names, size_t n);
    int (*row)(void *ctx, const struct store_cell *cells, size_t n);
};

/* How many events of one (type, schema version) the store holds (type_counts), or
 * of one type whatever its schema, schema 0 (type_totals). */
struct type_count {
    char *type;
    int schema;
    int64_t count;
};
void type_counts_free(struct type_count *tc, size_t n);

struct store;

struct store_ops {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(struct store *s);

    /* Transactions. Between begin and commit, appends are not committed one by one
     * (import uses this to make a whole file one transaction). A stream's version
     * seen inside the transaction includes the appends made in it. */
    int (*begin)(struct store *s, err *e);
    int (*commit)(struct store *s, err *e);
    void (*rollback)(struct store *s);

    /* Appends n >= 1 events to `stream`. expected_version: STORE_ANY_VERSION,
     * STORE_NO_STREAM, or the stream's current version. command_id may be NULL.
     * On ST_OK, `appended` (if not NULL) receives the events as stored. On
     * ST_DUPLICATE it receives the events that command id appended first. */
    int (*append)(struct store *s, const char *stream, int64_t expected_version,
                  const char *command_id, const struct new_event *events, size_t n,
                  struct event_list *appended, err *e);

    /* The events a command id appended, ST_NOT_FOUND if the id is unknown. */
    int (*command_events)(struct store *s, const char *command_id, struct event_list *out, err *e);

    /* Up to `limit` events matching f with position > after (ascending), or, when
     * `backward`, with position < after (descending; after = 0 means from the head).
     * Appends them to out. */
    int (*read_page)(struct store *s, const struct event_filter *f, int64_t after, bool backward,
                     size_t limit, struct event_list *out, err *e);

    /* Events of one stream with version >= from_version and position <= max_position
     * (0 = no limit), ascending, at most limit (0 = no limit). */
    int (*read_stream)(struct store *s, const char *stream, int64_t from_version,
                       int64_t max_position, size_t limit, struct event_list *out, err *e);

    int (*head)(struct store *s, int64_t *position, err *e); /* 0 when empty */
    /* Waits until the head is past `after`, at most timeout_ms (0: only looks), and
     * puts the head in *head (still <= after when the time ran out). How a follower
     * (the projection runner, the workbench) learns of other processes' appends:
     * SQLite looks at the head every STORE_WAIT_POLL_MS; PostgreSQL is told by a
     * notification at the appending transaction's commit (store_pg.c). */
    int (*wait_head)(struct store *s, int64_t after, int timeout_ms, int64_t *head, err *e);
    /* The stream's version as of max_position (0 = now); 0 if it has no events by then. */
    int (*stream_version)(struct store *s, const char *stream, int64_t max_position,
                          int64_t *version, err *e);
    /* Streams whose name starts with prefix (NULL = all), by name, paged. */
    int (*list_streams)(struct store *s, const char *prefix, size_t offset, size_t limit,
                        struct stream_info **out, size_t *n, err *e);
    /* How many streams there are (*count 0 on error, with e set). */
    int (*count_streams)(struct store *s, int64_t *count, err *e);
    /* The last position whose event's time is at or before `time` (contract text
     * form); 0 if none. */
    int (*position_at_time)(struct store *s, const char *time, int64_t *position, err *e);
    /* The events matching f (f->text must be NULL) grouped by `by` and, when
     * bucket_len > 0, by the first bucket_len characters of their time (10: the
     * day, 13: the hour, 16: the minute of the contract's time text). */
    int (*count_by)(struct store *s, const struct event_filter *f, enum store_group by,
                    int bucket_len, store_count_fn fn, void *ctx, err *e);

    /* Snapshots, keyed by stream and the hash of the rules that made them. */
    int (*snapshot_put)(struct store *s, const char *stream, const char *rules_hash,
                        const struct snapshot *snap, err *e);
    /* The newest snapshot of stream with this hash and position <= max_position
     * (0 = any); ST_NOT_FOUND if none. */
    int (*snapshot_get)(struct store *s, const char *stream, const char *rules_hash,
                        int64_t max_position, struct snapshot *out, err *e);

    /* The store's notes about itself, by key (SQLite: strata_meta): *value is a
     * new string, or ST_NOT_FOUND (NULL) when there is no such note. set writes
     * one (replacing it); it fails on a read-only store. */
    int (*meta_get)(struct store *s, const char *key, char **value, err *e);
    int (*meta_set)(struct store *s, const char *key, const char *value, err *e);
    /* When the event at position was appended (ms since the epoch, the writer's
     * clock, one reading per transaction): not its `time`, which an import keeps
     * from the source. ST_NOT_FOUND for events appended before the store kept it. */
    int (*append_time)(struct store *s, int64_t position, int64_t *ms, err *e);
    /* Durability, integrity and gaps in the positions (an integrity check reads the
     * whole file: for `strata doctor`, not for a hot path). */
    int (*health)(struct store *s, struct store_health *out, err *e);
    /* Every (type, schema) the store holds, with counts, by type and schema. */
    int (*type_counts)(struct store *s, struct type_count **out, size_t *n, err *e);
    /* The import ledger (core/import.c): records `id` (a 16-byte identity) as
     * imported into the event at `position`; *fresh is false, and nothing changes,
     * when it was there already. Inside the import's transaction. */
    int (*ledger_claim)(struct store *s, const unsigned char id[16], int64_t position, bool *fresh,
                        err *e);
    /* Optional (NULL: imports claim record by record): is `id` in the ledger? A
     * read, so an import can decide from it and write its claims later, sorted,
     * in the same transaction (core/import_ledger.h). id NULL: is any there? */
    int (*ledger_has)(struct store *s, const unsigned char id[16], bool *present, err *e);
    /* Optional (NULL: one ledger_claim each): claims n identities at once, in the
     * order given; those there already are left as they are. */
    int (*ledger_claim_many)(struct store *s, const struct ledger_claim *claims, size_t n, err *e);

    /* How many events of each type there are up to max_position (0 = the head),
     * by count descending then type, all schema versions together (schema 0). */
    int (*type_totals)(struct store *s, int64_t max_position, struct type_count **out, size_t *n,
                       err *e);

    /* Runs one read-only statement the user wrote (`strata sql`) on a separate
     * read-only connection, stopped after timeout_ms (0 = no limit). Refused
     * (ST_USAGE, e says why): a statement that writes, more than one statement,
     * ATTACH/DETACH, a pragma that sets something. A statement stopped by the
     * time limit is ST_ERR with a message that says so. SQLite: the events view
     * and every table; PostgreSQL: a READ ONLY transaction with statement_timeout. */
    int (*query)(struct store *s, const char *sql, int64_t timeout_ms,
                 const struct store_query_sink *sink, err *e);

    /* For `strata copy` (core/store_copy.c), inside the caller's transaction:
     * copy_put writes one row of a table copies carry as it is (one of
     * store_copy_tables, cells in its columns' order; a row with the same key is
     * left as it is); clear_times removes the append_times rows with
     * first_position in [from, to] (the ones the copy's own appends wrote, before
     * the source's are put). */
    int (*copy_put)(struct store *s, const char *table, const struct store_cell *cells, size_t n,
                    err *e);
    int (*clear_times)(struct store *s, int64_t from, int64_t to, err *e);
};

/* The tables `strata copy` carries row by row (the rest go through the operations
 * above: events and command ids by append, snapshots, notes, the ledger): their
 * columns in order and the store format that added them. */
struct store_copy_table {
    const char *name;
    const char *columns; /* "first_position, appended_at" */
    int ncols;
    int since_format;
};
extern const struct store_copy_table store_copy_tables[];
extern const size_t store_ncopy_tables;
/* The table of that name, or NULL (not one copies carry). */
const struct store_copy_table *store_copy_table(const char *name);

#define STORE_WAIT_POLL_MS 50 /* how often wait_head looks where nothing tells it */

struct store {
    const struct store_ops *ops;
    char *path;                 /* for messages: as given to store_open, any password masked */
    bool created;               /* store_open made a new store (the file was missing): a
                                 * front end may say so, as a mistyped path looks like this */
    struct store *under;        /* a branch (core/store_branch.h): the main store it reads up
                                 * to its fork point, and whose file holds it; else NULL */
    struct state_cache *states; /* aggregate states loaded through this handle
                                 * (core/state_cache.h); freed by store_close */
};
void state_cache_free(struct state_cache *c); /* core/state_cache.c */

/* Which backend a path names: a libpq connection URI (postgresql://...,
 * postgres://...) or a conninfo string after "postgresql:" ("postgresql:host=/run
 * dbname=bank") is PostgreSQL; anything else is an SQLite file. */
enum store_kind { STORE_SQLITE, STORE_POSTGRESQL };
enum store_kind store_kind_of(const char *path);
/* The path as it may be shown (messages, the workbench's header, status output):
 * a password in a URI's user info, a `password=` or `sslpassword=` parameter of a
 * URI's query or of a conninfo string, is replaced by "***". A file path comes back
 * unchanged. The caller frees the result. */
char *store_display_path(const char *path);

/* Opens (or creates) a store. "file.db" is SQLite; ":memory:" is a private
 * in-memory SQLite store (for `strata test`); a PostgreSQL URI or conninfo (see
 * store_kind_of) opens that database, creating the schema there when opt->create
 * says so (the database itself must exist). On error returns NULL with e set:
 * a file that is not SQLite, a SQLite file that is not a Strata store, a store
 * from a newer format, a read-only file opened for writing, ... each said plainly.
 * Two environment variables adjust opt for tests and scripts: STRATA_BUSY_TIMEOUT
 * (milliseconds to wait for another writer) and STRATA_MAX_PAGES (a size limit, to
 * see what a full disk does). opt->branch names a branch of the store to open
 * instead of main (an unknown one is ST_NOT_FOUND, said plainly). */
struct store *store_open(const char *path, const struct store_options *opt, err *e);
void store_close(struct store *s);

/* Convenience wrappers: s->ops->X(s, ...). */
int store_begin(struct store *s, err *e);
int store_commit(struct store *s, err *e);
void store_rollback(struct store *s);
int store_append(struct store *s, const char *stream, int64_t expected_version,
                 const char *command_id, const struct new_event *events, size_t n,
                 struct event_list *appended, err *e);
int store_command_events(struct store *s, const char *command_id, struct event_list *out, err *e);
int store_read_page(struct store *s, const struct event_filter *f, int64_t after, bool backward,
                    size_t limit, struct event_list *out, err *e);
int store_read_stream(struct store *s, const char *stream, int64_t from_version,
                      int64_t max_position, size_t limit, struct event_list *out, err *e);
int store_head(struct store *s, int64_t *position, err *e);
int store_wait_head(struct store *s, int64_t after, int timeout_ms, int64_t *head, err *e);
/* Which server session the store is on (store_session.c): a number that changes
 * when a lost connection was opened again (PostgreSQL's backend process id), so a
 * front end can say so; 0 for a file, which has no sessions. */
int64_t store_session(struct store *s);
int store_stream_version(struct store *s, const char *stream, int64_t max_position,
                         int64_t *version, err *e);
int store_list_streams(struct store *s, const char *prefix, size_t offset, size_t limit,
                       struct stream_info **out, size_t *n, err *e);
void stream_info_free(struct stream_info *infos, size_t n);
int store_count_streams(struct store *s, int64_t *count, err *e);
int store_position_at_time(struct store *s, const char *time, int64_t *position, err *e);
int store_count_by(struct store *s, const struct event_filter *f, enum store_group by,
                   int bucket_len, store_count_fn fn, void *ctx, err *e);
int store_snapshot_put(struct store *s, const char *stream, const char *rules_hash,
                       const struct snapshot *snap, err *e);
int store_snapshot_get(struct store *s, const char *stream, const char *rules_hash,
                       int64_t max_position, struct snapshot *out, err *e);
void snapshot_done(struct snapshot *snap);
int store_meta_get(struct store *s, const char *key, char **value, err *e);
int store_meta_set(struct store *s, const char *key, const char *value, err *e);
int store_append_time(struct store *s, int64_t position, int64_t *ms, err *e);
int store_health(struct store *s, struct store_health *out, err *e);
int store_type_counts(struct store *s, struct type_count **out, size_t *n, err *e);
/* The ledger_claim_many op, or ledger_claim for each when the backend has none. */
int store_ledger_claim_many(struct store *s, const struct ledger_claim *claims, size_t n, err *e);
int store_ledger_claim(struct store *s, const unsigned char id[16], int64_t position, bool *fresh,
                       err *e);
/* The ledger_has op; false (with nothing read) when the backend has none: then
 * store_ledger_probes says false and an import claims record by record. */
bool store_ledger_probes(struct store *s);
int store_ledger_has(struct store *s, const unsigned char id[16], bool *present, err *e);
/* Is the ledger empty (nothing imported through it yet)? False when not known. */
bool store_ledger_empty(struct store *s);
int store_type_totals(struct store *s, int64_t max_position, struct type_count **out, size_t *n,
                      err *e);
int store_query(struct store *s, const char *sql, int64_t timeout_ms,
                const struct store_query_sink *sink, err *e);
int store_copy_put(struct store *s, const char *table, const struct store_cell *cells, size_t n,
                   err *e);
int store_clear_times(struct store *s, int64_t from, int64_t to, err *e);

/* An iterator over every event matching f, in pages of `page` events, so memory
 * stays bounded by the page. The event returned by next is valid until the next
 * call. next returns 1 with an event, 0 at the end, -1 on error (e set). */
struct event_iter;
struct event_iter *store_iter_open(struct store *s, const struct event_filter *f, size_t page);
int store_iter_next(struct event_iter *it, const struct event **ev, err *e);
void store_iter_close(struct event_iter *it);

#endif
