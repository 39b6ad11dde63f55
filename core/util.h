/* util.h: the small things every module needs.
 *
 * Allocation wrappers that fail fast (htop's xmalloc): running out of memory is
 * not a condition Strata can recover from meaningfully, so callers are not
 * littered with checks for it. A growable string buffer. The error struct that
 * every fallible function fills with a message a user can act on, and the status
 * codes that double as the command line's exit codes (design.md). */
#ifndef STRATA_UTIL_H
#define STRATA_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer, always NUL-terminated (buf may hold NULs too). */
typedef struct strbuf {
    char *buf;
    size_t len;
    size_t cap;
} strbuf;

void sb_init(strbuf *sb);
void sb_done(strbuf *sb);  /* frees; sb may be reused after sb_init */
void sb_reset(strbuf *sb); /* len = 0, keeps the memory */
void sb_adds(strbuf *sb, const char *s);
/* sb_add and sb_addc are inline (the check inline, the growing not): they are
 * called for every byte or piece an import or a JSON writer makes, and the call
 * was most of their cost. */
void sb_grow_to(strbuf *sb, size_t need); /* makes cap >= need */
static inline void sb_grow(strbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;
    if (need > sb->cap)
        sb_grow_to(sb, need);
}
static inline void sb_add(strbuf *sb, const char *s, size_t n)
{
    sb_grow(sb, n);
    if (n)
        __builtin_memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}
static inline void sb_addc(strbuf *sb, char c)
{
    sb_grow(sb, 1);
    sb->buf[sb->len++] = c;
    sb->buf[sb->len] = '\0';
}
void sb_addf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(strbuf *sb, const char *fmt, va_list ap);
char *sb_steal(strbuf *sb); /* returns buf (caller frees); sb is left empty */

/* Status codes. Their numeric values are the exit codes of `strata`. */
enum status {
    ST_OK = 0,        /* success */
    ST_ERR = 1,       /* bad input or an I/O error */
    ST_USAGE = 2,     /* wrong usage */
    ST_REJECTED = 3,  /* a command rejected by a rule of the domain */
    ST_CONFLICT = 4,  /* a concurrency conflict (wrong expected version) */
    ST_DUPLICATE = 5, /* internal: a command id already processed (not an exit code) */
    ST_NOT_FOUND = 6, /* internal: no such stream / row / name (exit code 1) */
};

/* What went wrong, in words a user can act on: "what and where". The one error
 * carrier of Strata: store operations, the JSON parser, the expression compiler
 * and the record readers all fill it.
 *
 * `msg` is always the whole message, ready to print, so a caller that only prints
 * errors never needs more than e->msg. When the error has a place in a file
 * (err_set_at), msg starts with it, "FILE:LINE:COL: error: ", rendered by
 * err_format_place (the one definition of that form), and the place is also kept
 * in parts for callers that use it (a test's column, a reader's line offset).
 *
 * A line or column without a file is relative to a text the caller named (the
 * `--payload` option, one expression): it is kept in the parts but not put into
 * msg, and the caller words it ("--payload: invalid JSON at column 7: ...").
 *
 * The file name is copied (a small fixed buffer, not a pointer): errors outlive
 * the reader or loader that made them. msg keeps the name whole; `file` is
 * truncated past ERR_FILE_MAX - 1 bytes. */
#define ERR_MSG_MAX 1024
#define ERR_FILE_MAX 256
typedef struct err {
    int code;                /* an enum status, ST_OK when nothing is set */
    int col;                 /* 1-based column in bytes; 0 = unknown */
    int64_t line;            /* 1-based line; 0 = unknown */
    size_t offset;           /* byte offset of the place in the text parsed (JSON) */
    size_t what;             /* msg + what is the message without its place prefix */
    char file[ERR_FILE_MAX]; /* the place's file; "" when none */
    char msg[ERR_MSG_MAX];   /* NUL-terminated; truncated when longer */
} err;

/* Sets e->code and e->msg (printf-style) and forgets any place; returns code so
 * callers can `return err_set(e, ST_ERR, "...")`. A NULL e is allowed and ignored. */
int err_set(err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with a place: file (NULL or "" for none), line and col (0 = unknown).
 * With a file, msg becomes "FILE:LINE:COL: error: MESSAGE" (unknown parts left
 * out: "FILE:LINE: error: ...", "FILE: error: ..."); without one, msg is MESSAGE. */
int err_set_at(err *e, int code, const char *file, int64_t line, int col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
int err_vset_at(err *e, int code, const char *file, int64_t line, int col, const char *fmt,
                va_list ap);
/* Appends the place prefix "FILE:LINE:COL: error: " (unknown parts left out; nothing
 * without a file). Every "FILE:LINE:COL: error:" that Strata prints comes from here. */
void err_format_place(strbuf *sb, const char *file, int64_t line, int col);
/* The message without its place prefix ("invalid JSON: ..."); e->msg when no place. */
const char *err_what(const err *e);
/* Puts "PREFIX: " in front of what went wrong, for adding context on the way up;
 * a place stays in front ("FILE:3: error: PREFIX: ..."). */
void err_prefix(err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(err *e);

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole file (or "-" for stdin) into memory, NUL-terminated.
 * On error returns ST_ERR with the reason in e, and *out is untouched. */
int read_file(const char *path, char **out, size_t *len, err *e);

/* Time: Strata keeps times as UTC milliseconds since the epoch and writes them as
 * the contract's text form, 2026-11-27T10:00:00.123Z (always 24 characters). */
#define TIME_TEXT_LEN 24
int64_t time_now_ms(void);
void time_format_ms(int64_t ms, char out[TIME_TEXT_LEN + 1]);
/* Parses ISO-8601: YYYY-MM-DD, then 'T' or ' ' and hh:mm[:ss[.f{1,9}]], then 'Z',
 * '+hh:mm', '-hh:mm', '+hhmm', or nothing (then default_offset_min applies, minutes
 * east of UTC). A bare date means midnight. Returns true and *ms on success. */
bool time_parse(const char *s, size_t len, int default_offset_min, int64_t *ms);
/* Reads exactly n decimal digits of s at `at` (within len) into *out; false when
 * there are fewer or any is not a digit. The date parsers (here and instant.c)
 * share it. */
bool parse_digits(const char *s, size_t len, size_t at, size_t n, int *out);
/* Days since 1970-01-01 of a proleptic Gregorian date (month and day 1-based), and
 * back: the one calendar of Strata (instant.c builds CEL's timestamps on it). */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
void time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* 64-bit FNV-1a, for rule hashes (not for security). */
uint64_t hash_fnv1a(uint64_t h, const void *data, size_t n);
#define HASH_FNV_INIT 1469598103934665603ULL

/* Edit distance for "did you mean": insertions, deletions, substitutions and swaps
 * of two neighbouring letters each count 1 (optimal string alignment). */
int edit_distance(const char *a, const char *b);
/* The one "did you mean" of Strata: the name among candidates[0..n) (any n; NULL
 * entries are skipped) that `word` was plausibly meant to be, or NULL when none is
 * close enough to be meant (the nearest name is not suggested for its own sake).
 * Close enough, in this order of preference: the same but for case ("deposit" for
 * "Deposit"); at most max(1, strlen(word)/3) edits away ("Depositt", "Deopsit");
 * or, for a word of 3 characters or more, the start of the name, ignoring case
 * ("Dep" for "Deposit"). Ties go to fewer edits, then to the earlier candidate. */
const char *did_you_mean(const char *word, const char *const *candidates, size_t n);

#endif
