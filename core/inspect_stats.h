/* inspect_stats.h: a log's frequency table (core/inspect_stats.c), what
 * `strata stats` prints: events grouped by a value (the type, the stream, or any
 * expression over the event) and optionally by a time bucket, with each group's
 * count and earliest and latest time.
 *
 * Grouped by type or stream with no --where, the store answers in one grouped query
 * (store_count_by) and no event's data is parsed; otherwise the events are read
 * page by page and each is evaluated. Memory is bounded by the number of groups,
 * which is capped (max_groups): events of further values are counted as "other". */
#ifndef STRATA_INSPECT_STATS_H
#define STRATA_INSPECT_STATS_H

#include <stdbool.h>

#include "expr.h"
#include "intern.h"
#include "store.h"

#define STATS_MAX_GROUPS 1000000

struct stats_opts {
    struct event_filter filter;
    const expr *where;         /* NULL: every event */
    const expr *by;            /* NULL: by by_field */
    enum store_group by_field; /* when by is NULL: STORE_GROUP_TYPE, _STREAM or _NONE */
    int bucket_len;            /* 0, or 10 / 13 / 16: the day, hour, minute */
    size_t max_groups;         /* 0 = STATS_MAX_GROUPS */
};

struct stats_group {
    char *value;  /* JSON text: "\"MoneyDeposited\"", 42, null; NULL when not grouped by value */
    char *bucket; /* the time's first bucket_len characters, or NULL */
    int64_t count;
    char first[TIME_TEXT_LEN + 1], last[TIME_TEXT_LEN + 1];
};

struct stats_result {
    struct stats_group *groups;
    size_t n, cap;
    int64_t total; /* events counted */
    int64_t other; /* events beyond the cap of groups (in total, in no group) */
    bool by_store; /* the store's grouped query answered */
    struct intern keys;
};

int inspect_stats(struct store *s, const struct stats_opts *o, struct stats_result *r, err *e);
/* Sorts by count (descending, then value), or with buckets by bucket then count. */
void stats_sort(struct stats_result *r);
void stats_result_done(struct stats_result *r);

#endif
