# strata.bash: bash completion for strata (installed as
# share/bash-completion/completions/strata). The names come from the program
# itself, `strata __complete WHAT`, so that this script stays small and never
# reads YAML or help texts: subcommands and their options, and from the domain in
# effect (--domain on the line, else STRATA_DOMAIN) aggregates, projections,
# commands and payload fields. File arguments are completed by kind.

# _strata_files EXT...: files ending in .EXT (and folders, to walk into).
_strata_files()
{
    local f e
    local IFS=$'\n'
    for f in $(compgen -f -- "$cur"); do
        if [[ -d $f ]]; then
            COMPREPLY+=("$f")
            continue
        fi
        for e in "$@"; do
            [[ $f == *."$e" ]] && COMPREPLY+=("$f") && break
        done
    done
    compopt -o filenames 2>/dev/null
}

# _strata_names WHAT [ARG]: names from `strata __complete`, those starting with cur.
_strata_names()
{
    local IFS=$'\n' n
    for n in $("$prog" "${dom[@]}" __complete "$@" 2>/dev/null); do
        [[ $n == "$cur"* ]] && COMPREPLY+=("$n")
    done
}

_strata()
{
    COMPREPLY=()
    # bash splits words at '=' (COMP_WORDBREAKS): glue `field=value` back together
    # so that arguments are counted as the program sees them.
    local -a w=()
    local i cw=0 t
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        t=${COMP_WORDS[i]}
        if ((i > 1)) && [[ $t == "=" || ${COMP_WORDS[i - 1]} == "=" ]]; then
            w[${#w[@]} - 1]+=$t
        else
            w+=("$t")
        fi
        ((i == COMP_CWORD)) && cw=$((${#w[@]} - 1))
    done
    local cur=${w[cw]} prev=${w[cw - 1]}
    [[ ${COMP_WORDS[COMP_CWORD]} == "=" ]] && cur=${w[cw]}
    # The program as typed (./strata works), else the one on the PATH.
    local prog=${w[0]}
    [[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
    command -v "$prog" >/dev/null 2>&1 || prog=strata

    # The subcommand, the domain on the line and the positional arguments so far.
    local -a dom=() pos=()
    local sub=""
    for ((i = 1; i < cw; i++)); do
        case ${w[i]} in
        --domain) ((i + 1 < cw)) && dom=(--domain "${w[i + 1]}"); ((i++)) ;;
        --domain=*) dom=(--domain "${w[i]#--domain=}") ;;
        --db | --payload | --id | --expect-version | --correlation-id | --causation-id | \
            --stream | --type | --from | --to | --limit | --at | --at-time | --key | \
            --source | --map | --sort | --format | --vars | --speed | --rate | --compare | --sample | --max | \
            --rebuild | --throttle | --pause | --resume | --record | --branch) ((i++)) ;;
        -*) ;;
        *) if [[ -z $sub ]]; then sub=${w[i]}; else pos+=("${w[i]}"); fi ;;
        esac
    done

    case $prev in
    --domain)
        _strata_files yaml yml
        _strata_names domains
        return
        ;;
    --db) _strata_files db; return ;;
    --map) _strata_files map.yaml yaml yml; return ;;
    --record) _strata_files yaml yml; return ;;
    --format) COMPREPLY=($(compgen -W "ndjson cloudevents csv" -- "$cur")); return ;;
    --sort) COMPREPLY=($(compgen -W "time" -- "$cur")); return ;;
    --type) _strata_names types; return ;;
    --rebuild | --pause | --resume | --throttle) _strata_names projections; return ;;
    --payload | --id | --expect-version | --correlation-id | --causation-id | --stream | \
        --from | --to | --limit | --at | --at-time | --key | --source | --vars | --speed | --rate | \
        --compare | --sample | --max | --branch)
        return
        ;;
    esac

    if [[ $cur == -* ]]; then
        _strata_names options $sub
        return
    fi
    if [[ -z $sub ]]; then
        _strata_names subcommands
        return
    fi
    case $sub in
    branch) ((${#pos[@]} == 0)) && COMPREPLY=($(compgen -W "create list drop" -- "$cur")) ;;
    diff)
        if ((${#pos[@]} == 0)); then
            _strata_names aggregates
            _strata_names projections
        fi
        ;;
    state) ((${#pos[@]} == 0)) && _strata_names aggregates ;;
    query) ((${#pos[@]} == 0)) && _strata_names projections ;;
    why)
        if ((${#pos[@]} == 0)); then
            _strata_names aggregates
            _strata_names projections
        fi
        ;;
    exec)
        if ((${#pos[@]} == 0)); then
            _strata_names commands
        elif [[ $cur != *=* ]]; then
            # The payload's fields as field=, those not given yet.
            local f p given
            local IFS=$'\n'
            for f in $("$prog" "${dom[@]}" __complete fields "${pos[0]}" 2>/dev/null); do
                given=""
                for p in "${pos[@]:1}"; do [[ $p == "$f"* ]] && given=1; done
                [[ -z $given && $f == "$cur"* ]] && COMPREPLY+=("$f")
            done
            compopt -o nospace 2>/dev/null
        fi
        ;;
    check | test) _strata_files yaml yml ;;
    import | replay) _strata_files ndjson jsonl json csv gz ;;
    esac
    return 0
}
complete -F _strata strata
