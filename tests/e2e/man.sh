#!/bin/sh
# man.sh: the manual pages in man/ are well-formed (mandoc -T lint -W warning, or
# groff -ww when mandoc is missing) and follow the code: every subcommand of
# `strata --help`, every --option of `strata SUB --help`, every environment
# variable the sources read, every exit status of core/util.h and every palette
# verb is named in its page. A failure says what is missing and where to add it.
. "$(dirname "$0")/lib.sh"
MAN=$ROOT/man
PAGE=$MAN/strata.1

for p in strata.1 strata-domain.5 strata-workbench.7; do
    if command -v mandoc >/dev/null 2>&1; then
        out=$(mandoc -T lint -W warning "$MAN/$p" 2>&1)
        tool="mandoc -T lint -W warning"
    elif command -v groff >/dev/null 2>&1; then
        out=$(groff -mdoc -ww -z "$MAN/$p" 2>&1)
        tool="groff -mdoc -ww -z"
    else
        _n=$((_n + 1))
        echo "ok $_n # SKIP neither mandoc nor groff is installed (apt-get install mandoc)"
        continue
    fi
    if [ -z "$out" ]; then ok "$p: $tool is silent"; else not_ok "$p: $tool is silent" "$out"; fi
done

# The subcommands: the lines under "commands:" in strata --help.
subs=$("$STRATA" --help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$subs" ] || not_ok "strata --help lists subcommands under 'commands:'" "$("$STRATA" --help)"
missing=""
for s in $subs; do
    grep -q "^\.It Cm $s\( \|$\)" "$PAGE" || missing="$missing
man/strata.1 has no entry for the subcommand '$s' (listed by strata --help): add
    .It Cm $s Op Ar ...
    what it does
  under '.Ss Subcommands' (in the order of strata --help)"
done
if [ -z "$missing" ]; then ok "every subcommand of strata --help is in strata.1 ($(echo $subs | wc -w))"; else not_ok "every subcommand of strata --help is in strata.1" "$missing"; fi

# The options: every --long-option a help text names, the program's own and
# each subcommand's. In the page an option is written `Fl -name` (mdoc adds the
# first dash), followed by a blank or the end of the line.
options_of() { # the --options in a help text on stdin
    grep -oE -- '(^|[][ (|`,])--[a-z][a-z0-9-]*' | sed 's/^[^-]*//' | sort -u
}
missing=""
count=0
for o in $("$STRATA" --help | sed -n '/^common options:/,$p' | options_of); do
    count=$((count + 1))
    grep -qE "Fl ${o#-}( |$)" "$PAGE" || missing="$missing
man/strata.1 does not name $o (from strata --help): add '.It Fl ${o#-}' to the list of
  common options in DESCRIPTION"
done
for s in $subs; do
    for o in $("$STRATA" "$s" --help 2>&1 | options_of); do
        count=$((count + 1))
        grep -qE "Fl ${o#-}( |$)" "$PAGE" || missing="$missing
man/strata.1 does not name $o of 'strata $s' (from strata $s --help): add
    .It Fl ${o#-} Ar VALUE
    what it does
  to the '.Bl -tag' list under '.It Cm $s' in man/strata.1"
    done
done
if [ -z "$missing" ]; then ok "every --option of every help text is in strata.1 ($count)"; else not_ok "every --option of every help text is in strata.1" "$missing"; fi

# The environment: every variable a source file reads with getenv (the
# terminal's own TERM, LINES and COLUMNS are curses', and HOME is named with
# XDG_CONFIG_HOME).
vars=$(cd "$ROOT" && cat core/*.c cli/*.c tui/*.c verbs/*.c 2>/dev/null | grep -oE 'getenv\("[A-Z_]+"\)' |
    sed 's/getenv("\(.*\)")/\1/' | sort -u)
missing=""
for v in $vars; do
    case $v in TERM | LINES | COLUMNS) continue ;; esac
    grep -q "Ev .*\<$v\>" "$PAGE" || missing="$missing
man/strata.1 does not describe the environment variable $v (read with getenv in
  the sources): add '.It Ev $v' and what it does under '.Sh ENVIRONMENT'"
done
if [ -z "$missing" ]; then ok "every environment variable the code reads is in strata.1 ($(echo $vars | wc -w))"; else not_ok "every environment variable the code reads is in strata.1" "$missing"; fi

# The exit statuses: core/util.h's enum status, less the internal ones.
codes=$(sed -n '/^enum status {/,/^};/p' "$ROOT/core/util.h" | grep -v internal |
    sed -n 's/.*= *\([0-9]\+\),.*/\1/p')
exits=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/p' "$PAGE")
missing=""
for c in $codes; do
    printf '%s\n' "$exits" | grep -q "^\.It $c$" || missing="$missing
man/strata.1 does not explain exit status $c (core/util.h, enum status): add
  '.It $c' and its meaning under '.Sh EXIT STATUS'"
done
if [ -n "$codes" ] && [ -z "$missing" ]; then ok "every exit status is in strata.1 ($(echo $codes | wc -w))"; else not_ok "every exit status is in strata.1" "$missing" "codes found: $codes"; fi

# The palette's verbs (tui/palette_verbs.c's table) in strata-workbench.7.
if [ -f "$ROOT/tui/palette_verbs.c" ]; then
    verbs=$(sed -n '/^static const struct verb verbs\[\]/,/^};/p' "$ROOT/tui/palette_verbs.c" |
        sed -n 's/^ *{"\([a-z-]*\)",.*/\1/p')
    missing=""
    for v in $verbs; do
        grep -q "Ic :$v\>" "$MAN/strata-workbench.7" || missing="$missing
man/strata-workbench.7 does not name the palette verb :$v (tui/palette_verbs.c):
  add '.It Ic :$v Ar ARGS' under '.Ss The palette'"
    done
    if [ -n "$verbs" ] && [ -z "$missing" ]; then ok "every palette verb is in strata-workbench.7 ($(echo $verbs | wc -w))"; else not_ok "every palette verb is in strata-workbench.7" "$missing"; fi
fi
done_testing
