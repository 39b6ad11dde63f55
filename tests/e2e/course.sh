#!/bin/sh
# course.sh: runs every command of docs/course.md, in order, in one shell, with
# `strata` on the PATH being the binary under test. In the course's ```sh blocks a
# line starting with "$ " is a command (a "# exit N" comment says the status it must
# end with, 0 otherwise) and the lines under it are what it prints: each must be
# one of its output lines (standard output and error together), or start one when
# it ends with "…".
. "$(dirname "$0")/lib.sh"
COURSE=$ROOT/docs/course.md
W=$TMP/course
mkdir -p "$W" "$TMP/bin" "$TMP/tmp"
ln -s "$STRATA" "$TMP/bin/strata"
unset STRATA_DOMAIN STRATA_DB STRATA_DATA_DIR

# The course as a script: command k writes its output to out.k and its status to
# rc.k; cmd.k, rc-want.k and want.k hold what the course says.
awk -v W="$W" '
    /^```sh$/ { inblock = 1; next }
    /^```$/ { inblock = 0; next }
    !inblock { next }
    /^\$ / {
        k++
        cmd = substr($0, 3)
        want = 0
        if (match(cmd, /# exit [0-9]+$/)) want = substr(cmd, RSTART + 7)
        print cmd > (W "/cmd." k)
        print want > (W "/rc-want." k)
        printf "" > (W "/want." k)
        printf "{ %s\n} >\"%s/out.%d\" 2>&1\necho $? >\"%s/rc.%d\"\n", cmd, W, k, W, k
        next
    }
    { print > (W "/want." k) }
    END { print "echo " k " >\"" W "/count\"" }
' "$COURSE" >"$W/course.sh"

(PATH="$TMP/bin:$PATH" TMPDIR="$TMP/tmp" HOME="$TMP" sh "$W/course.sh") >"$W/stdout" 2>&1
count=$(cat "$W/count" 2>/dev/null)
if [ -z "$count" ] || [ "$count" -lt 30 ]; then
    not_ok "the course ran to its end (30 commands or more)" "$(tail -20 "$W/stdout")"
    done_testing
    exit 1
fi
k=1
while [ "$k" -le "$count" ]; do
    cmd=$(cat "$W/cmd.$k")
    rc=$(cat "$W/rc.$k" 2>/dev/null)
    want=$(cat "$W/rc-want.$k")
    problems=""
    [ "$rc" = "$want" ] || problems="exit status $rc, the course says $want"
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        case $line in
        *…)
            prefix=${line%…}
            awk -v p="$prefix" 'index($0, p) == 1 { found = 1 } END { exit !found }' "$W/out.$k" ||
                problems="$problems
no output line starts with: $prefix" ;;
        *…*) ;;
        *)
            grep -qxF -- "$line" "$W/out.$k" || problems="$problems
no output line is: $line" ;;
        esac
    done <"$W/want.$k"
    if [ -z "$problems" ]; then
        ok "course: $cmd"
    else
        not_ok "course: $cmd" "$problems" "output:" "$(head -c 1500 "$W/out.$k")"
    fi
    k=$((k + 1))
done
done_testing
