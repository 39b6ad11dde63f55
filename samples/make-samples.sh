#!/bin/sh
# make-samples.sh: writes the project's own example event files, one per format
# Strata reads, with a map file for each foreign format. Deterministic: the same
# bytes on every machine (a Park-Miller generator in awk, gzip -n), so the files
# can be committed and the tests can rely on them.
#
#   sh samples/make-samples.sh                 the small samples, into samples/
#   sh samples/make-samples.sh big [N] [FILE]  N bank events (default 100000) of
#                                              canonical NDJSON into FILE (default
#                                              samples/bank-big.ndjson; not committed)
#
# The small samples:
#   bank.ndjson                  Strata's own format: accounts of domains/bank.yaml
#   legacy-accounts.csv (+.gz)   a legacy system's CSV (the bank domain's `legacy-csv`
#                                source), with quoted fields and several time forms
#   legacy-accounts.map.yaml     the same source as a stand-alone map file
#   orders.cloudevents.ndjson    CloudEvents 1.0, structured JSON, one per line
#   orders.map.yaml              format: cloudevents (the spec's defaults)
#   audit.json                   {"Records": [...]}, not in time order (CloudTrail-like)
#   audit.map.yaml               records: Records; import it with --sort time
#   upcast-bank.ndjson           events stored at old schema versions, for the
#   upcast-library.ndjson        domains whose events evolved (bank, library,
#   upcast-hotel.ndjson          hotel): `strata events --raw` shows them as stored,
#                                `strata events` upcast, `strata upcast --check`
#                                runs every chain (the README's tour)
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# bank_events N: canonical NDJSON for N events of the bank domain. Accounts are
# opened, then get deposits and withdrawals (never below zero; a withdrawal that
# leaves less than 100 also emits LowBalanceWarned, as the domain does); an empty
# account is sometimes closed. The first account is opened with schema 1 (the old
# shape {name, deposit}) so that upcasting has something to do.
bank_events() {
    awk -v N="$1" '
    function rnd(m) { seed = (seed * 16807) % 2147483647; return seed % m }
    function civil(days,   z, era, doe, yoe, y, doy, mp, d, m) {
        z = days + 719468; era = int(z / 146097); doe = z - era * 146097
        yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
        y = yoe + era * 400; doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
        mp = int((5 * doy + 2) / 153); d = doy - int((153 * mp + 2) / 5) + 1
        m = mp < 10 ? mp + 3 : mp - 9; if (m <= 2) y++
        return sprintf("%04d-%02d-%02d", y, m, d)
    }
    function ts(ms,   s) { s = int(ms / 1000)
        return sprintf("%sT%02d:%02d:%02d.%03dZ", civil(int(s / 86400)), int(s % 86400 / 3600),
                       int(s % 3600 / 60), s % 60, ms % 1000) }
    function emit(acc, type, schema, data, cmd, same) {
        pos++; ver[acc]++; if (!same) cid++
        printf "{\"position\":%d,\"stream\":\"Account-%s\",\"version\":%d,\"type\":\"%s\",\"schema\":%d,\"time\":\"%s\",\"data\":%s,\"meta\":{\"command\":\"%s\",\"commandId\":\"c-%d\"}}\n",
            pos, acc, ver[acc], type, schema, ts(now), data, cmd, cid
    }
    function name(i) { return i < 26 ? sprintf("%c", 65 + i) : sprintf("%c%d", 65 + i % 26, int(i / 26)) }
    BEGIN {
        seed = 42; pos = 0; cid = 0
        now = 1767225600000 # 2026-01-01T00:00:00Z
        split("Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert Sybil Trent Victor Walter Yara", owners, " ")
        naccounts = int(N / 40); if (naccounts < 5) naccounts = 5
        opened = 0
        while (pos < N) {
            now += 1000 + rnd(90000)
            if (opened < naccounts && (opened == 0 || rnd(8) == 0)) {
                a = name(opened); owner = owners[opened % 20 + 1]; dep = rnd(5) * 100
                if (opened == 0)
                    emit(a, "AccountOpened", 1, sprintf("{\"name\":\"%s\",\"deposit\":%d}", owner, dep), "OpenAccount")
                else
                    emit(a, "AccountOpened", 2, sprintf("{\"owner\":\"%s\",\"initialDeposit\":%d,\"currency\":\"EUR\"}", owner, dep), "OpenAccount")
                bal[a] = dep; status[a] = "open"; opened++
                continue
            }
            a = name(rnd(opened))
            if (status[a] != "open") continue
            r = rnd(10)
            if (r < 5) {
                amt = 10 + rnd(50) * 10
                emit(a, "MoneyDeposited", 1, sprintf("{\"amount\":%d}", amt), "Deposit"); bal[a] += amt
            } else if (r < 9 && bal[a] > 0) {
                amt = 1 + rnd(bal[a])
                emit(a, "MoneyWithdrawn", 1, sprintf("{\"amount\":%d}", amt), "Withdraw"); bal[a] -= amt
                if (bal[a] < 100 && pos < N)
                    emit(a, "LowBalanceWarned", 1, sprintf("{\"remaining\":%d}", bal[a]), "Withdraw", 1)
            } else if (bal[a] == 0 && rnd(3) == 0) {
                emit(a, "AccountClosed", 1, "{\"reason\":\"customer request\"}", "CloseAccount"); status[a] = "closed"
            }
        }
    }'
}

if [ "${1:-}" = big ]; then
    n=${2:-100000}
    out=${3:-$here/bank-big.ndjson}
    bank_events "$n" >"$out"
    echo "wrote $n events to $out"
    exit 0
fi

bank_events 60 >"$here/bank.ndjson"

# A legacy system's export: one row per movement, its own column names, times in
# the forms such systems write (a space for T, no zone, an offset, fractions).
cat >"$here/legacy-accounts.csv" <<'EOF'
account,kind,ts,amount,note
A,MoneyDeposited,2026-02-01 09:30:00,250,"salary, February"
B,MoneyDeposited,2026-02-01T10:00:00+01:00,120,
A,MoneyWithdrawn,2026-02-01T11:15:30.5Z,40,"rent ""share"""
C,MoneyDeposited,2026-02-02T08:00:00.123456Z,75,"two
lines"
B,MoneyWithdrawn,2026-02-02 12:00:00-05:00,20,
A,MoneyDeposited,2026-02-03T00:00:00Z,10,refund
EOF
gzip -n -9 -c "$here/legacy-accounts.csv" >"$here/legacy-accounts.csv.gz"

cat >"$here/legacy-accounts.map.yaml" <<'EOF'
# legacy-accounts.csv(.gz): the bank domain's `legacy-csv` source as a map file.
#   strata import --map samples/legacy-accounts.map.yaml samples/legacy-accounts.csv
format: csv
stream: "'Account-' + record.account"
type: record.kind
time: record.ts
data: "{'amount': int(record.amount)}"
meta: "record.note == '' ? null : {'note': record.note}"
EOF

cat >"$here/orders.cloudevents.ndjson" <<'EOF'
{"specversion":"1.0","id":"e-1","source":"/shop/orders","subject":"order-1001","type":"com.example.order.placed","time":"2026-03-01T09:00:00Z","datacontenttype":"application/json","data":{"items":2,"total":4990}}
{"specversion":"1.0","id":"e-2","source":"/shop/orders","subject":"order-1002","type":"com.example.order.placed","time":"2026-03-01T09:02:10.250+01:00","data":{"items":1,"total":1500}}
{"specversion":"1.0","id":"e-3","source":"/shop/payments","subject":"order-1001","type":"com.example.payment.received","time":"2026-03-01T09:05:00Z","channel":"card","attempt":1,"data":{"amount":4990}}
{"specversion":"1.0","id":"e-4","source":"/shop/orders","subject":"order-1001","type":"com.example.order.shipped","time":"2026-03-02T14:30:00Z","data":{"carrier":"post"}}
{"specversion":"1.0","id":"e-5","source":"/shop/orders","subject":"order-1002","type":"com.example.order.cancelled","time":"2026-03-02T15:00:00Z","datacontenttype":"text/plain","data":"customer changed their mind"}
EOF

cat >"$here/orders.map.yaml" <<'EOF'
# orders.cloudevents.ndjson: CloudEvents need no expressions; the defaults are
# stream = source + "/" + subject, type, time, data, and the other attributes as meta.
format: cloudevents
EOF

cat >"$here/audit.json" <<'EOF'
{"Records": [
  {"eventTime": "2026-04-01T10:05:00Z", "eventName": "PutObject", "userIdentity": {"arn": "arn:aws:iam::1:user/alice"}, "requestParameters": {"bucket": "reports", "key": "q1.pdf"}},
  {"eventTime": "2026-04-01T10:00:00Z", "eventName": "ConsoleLogin", "userIdentity": {"arn": "arn:aws:iam::1:user/alice"}, "requestParameters": null},
  {"eventTime": "2026-04-01T10:02:30Z", "eventName": "ConsoleLogin", "userIdentity": {"arn": "arn:aws:iam::1:user/bob"}, "requestParameters": null},
  {"eventTime": "2026-04-01T10:07:45Z", "eventName": "DeleteObject", "userIdentity": {"arn": "arn:aws:iam::1:user/bob"}, "requestParameters": {"bucket": "reports", "key": "draft.pdf"}},
  {"eventTime": "2026-04-01T10:06:00Z", "eventName": "GetObject", "userIdentity": {"arn": "arn:aws:iam::1:user/alice"}, "requestParameters": {"bucket": "reports", "key": "q1.pdf"}}
]}
EOF

cat >"$here/audit.map.yaml" <<'EOF'
# audit.json: a CloudTrail-like document; its records are not in time order.
#   strata import --map samples/audit.map.yaml --sort time samples/audit.json
format: json
records: Records
stream: record.userIdentity.arn
type: record.eventName
time: record.eventTime
data: "record.requestParameters == null ? {} : record.requestParameters"
EOF

# Events stored long ago, at old schema versions, beside new ones: what upcasting
# is for. bank: AccountOpened v1 {name, deposit} (one without a deposit, so the
# upcast's `has()` default shows); library: BookLent v1 {borrower, weeks} and v2
# {member, days} under a v3 domain (a two-step chain); hotel: RoomBooked v1 called
# the guest `name`.
cat >"$here/upcast-bank.ndjson" <<'EOF'
{"position":1,"stream":"Account-A","version":1,"type":"AccountOpened","schema":1,"time":"2024-03-01T09:00:00.000Z","data":{"name":"Alice","deposit":300},"meta":{"command":"OpenAccount","commandId":"u-1"}}
{"position":2,"stream":"Account-B","version":1,"type":"AccountOpened","schema":1,"time":"2024-03-01T09:30:00.000Z","data":{"name":"Bob"},"meta":{"command":"OpenAccount","commandId":"u-2"}}
{"position":3,"stream":"Account-A","version":2,"type":"MoneyDeposited","schema":1,"time":"2024-03-02T10:00:00.000Z","data":{"amount":50},"meta":{"command":"Deposit","commandId":"u-3"}}
{"position":4,"stream":"Account-B","version":2,"type":"MoneyDeposited","schema":1,"time":"2024-03-02T11:00:00.000Z","data":{"amount":120},"meta":{"command":"Deposit","commandId":"u-4"}}
{"position":5,"stream":"Account-C","version":1,"type":"AccountOpened","schema":2,"time":"2026-01-05T08:00:00.000Z","data":{"owner":"Carol","initialDeposit":200,"currency":"CHF"},"meta":{"command":"OpenAccount","commandId":"u-5"}}
{"position":6,"stream":"Account-A","version":3,"type":"MoneyWithdrawn","schema":1,"time":"2026-01-06T12:00:00.000Z","data":{"amount":80},"meta":{"command":"Withdraw","commandId":"u-6"}}
EOF

cat >"$here/upcast-library.ndjson" <<'EOF'
{"position":1,"stream":"Book-9780000000001","version":1,"type":"BookAdded","schema":1,"time":"2019-05-01T09:00:00.000Z","data":{"title":"Dune","copies":3},"meta":{"command":"AddBook","commandId":"l-1"}}
{"position":2,"stream":"Book-9780000000001","version":2,"type":"BookLent","schema":1,"time":"2019-05-02T10:00:00.000Z","data":{"borrower":"ann","weeks":2},"meta":{"command":"LendBook","commandId":"l-2"}}
{"position":3,"stream":"Book-9780000000001","version":3,"type":"BookLent","schema":2,"time":"2022-09-01T10:00:00.000Z","data":{"member":"bo","days":7},"meta":{"command":"LendBook","commandId":"l-3"}}
{"position":4,"stream":"Book-9780000000001","version":4,"type":"BookReturned","schema":1,"time":"2022-09-05T16:00:00.000Z","data":{"member":"ann"},"meta":{"command":"ReturnBook","commandId":"l-4"}}
{"position":5,"stream":"Book-9780000000001","version":5,"type":"BookLent","schema":3,"time":"2026-02-01T10:00:00.000Z","data":{"member":"cy","days":14,"channel":"kiosk"},"meta":{"command":"LendBook","commandId":"l-5"}}
EOF

cat >"$here/upcast-hotel.ndjson" <<'EOF'
{"position":1,"stream":"Room-101","version":1,"type":"RoomBooked","schema":1,"time":"2025-06-01T12:00:00.000Z","data":{"bookingId":"b1","name":"Ines","from":"2025-07-01T14:00:00Z","to":"2025-07-03T10:00:00Z","nights":["2025-07-01","2025-07-02"]},"meta":{"command":"Book","commandId":"h-1"}}
{"position":2,"stream":"Room-101","version":2,"type":"RoomBooked","schema":2,"time":"2026-01-10T12:00:00.000Z","data":{"bookingId":"b2","guest":"Jon","from":"2026-02-01T14:00:00Z","to":"2026-02-02T10:00:00Z","nights":["2026-02-01"]},"meta":{"command":"Book","commandId":"h-2"}}
EOF

echo "wrote the samples into $here"
