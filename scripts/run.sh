#!/bin/sh
# run.sh: what `make run` does once ./strata is built: opens the workbench on the
# shipped bank domain with a store in the current folder (bank.db). The first time
# (no store, or an empty one) it seeds the store, so the first screen has
# something to show: the sample event file when it is there (old events, some at
# an earlier schema version, so upcasting shows), then a few commands.
top=$(cd "$(dirname "$0")/.." && pwd)
strata="$top/strata"
domain="$top/domains/bank.yaml"
db=bank.db
if [ ! -x "$strata" ]; then
    echo "run.sh: $strata is not built; run make first" >&2
    exit 1
fi
if [ -z "$("$strata" events --domain "$domain" --db "$db" --limit 1 2>/dev/null)" ]; then
    echo "strata: seeding $db with a few events (delete it to start again)"
    if [ -f "$top/samples/bank.ndjson" ]; then
        "$strata" import --domain "$domain" --db "$db" "$top/samples/bank.ndjson" >/dev/null || exit 1
    fi
    # A few commands of today, each through the domain's rules. Ids that already
    # exist in the sample are fine: a rejected command appends nothing.
    "$strata" exec --domain "$domain" --db "$db" OpenAccount accountId=demo owner="Demo User" initialDeposit=500 >/dev/null 2>&1
    "$strata" exec --domain "$domain" --db "$db" Deposit accountId=demo amount=120 >/dev/null 2>&1
    "$strata" exec --domain "$domain" --db "$db" Withdraw accountId=demo amount=530 >/dev/null 2>&1
    "$strata" project --domain "$domain" --db "$db" >/dev/null 2>&1
fi
exec "$strata" tui --domain "$domain" --db "$db"
