#!/usr/bin/env bash
# Bash completion for `ockam`, generated from its own --help (so it cannot drift from it):
# commands, subcommands, each subcommand's options, node names for NODE values and for the
# node commands' NAME, and the choices of values written A|B.
# Usage: scripts/gen-completion.sh OCKAM_BINARY OUT_FILE
set -euo pipefail

ockam=$1
out=$2

# "  -y, --yes   ..." / "      --at NODE   ..." -> "--yes" / "--at=NODE" (and "-y")
options_of() {
    awk '/^(Options|Global options):$/ {on = 1; next} /^$/ {on = 0}
         on && /^  (-[A-Za-z0-9], |    )--/ {
             line = $0; sub(/^ +/, "", line)
             split(line, w, /  +/); spec = w[1]
             n = split(spec, p, /[ ,]+/)
             long = ""; short = ""; value = ""
             for (i = 1; i <= n; i++) {
                 if (p[i] ~ /^--/) long = p[i]
                 else if (p[i] ~ /^-/) short = p[i]
                 else if (p[i] != "") value = p[i]
             }
             print long (value != "" ? "=" value : "")
             if (short != "") print short (value != "" ? "=" value : "")
         }'
}

list_of() { # the names under "Commands:" or "Subcommands:"
    awk -v h="$1" '$0 == h ":" {on = 1; next} on && /^$/ {exit} on {print $1}'
}

commands=$("$ockam" --help | list_of Commands)
global=$("$ockam" node list --help | awk '/^Global options:$/ {on = 1} on' | options_of)

{
    echo "# bash completion for ockam; generated from 'ockam --help' by scripts/gen-completion.sh."
    echo "_ockam_nodes() {"
    echo '    local d=${OCKAM_HOME:-$HOME/.ockam}/nodes'
    echo '    [ -d "$d" ] && ls "$d" 2>/dev/null'
    echo "}"
    echo
    echo "# What each command and subcommand accepts: options (OPT or OPT=VALUE) and NAME args."
    echo "declare -gA _ockam_spec=("
    printf '    [_]=%q\n' "$(echo $commands $global)"
    for c in $commands; do
        help=$("$ockam" "$c" --help)
        subs=$(list_of Subcommands <<<"$help")
        if [ -z "$subs" ]; then
            printf '    [%q]=%q\n' "$c" "$(echo $(options_of <<<"$help"))"
            continue
        fi
        printf '    [%q]=%q\n' "$c" "$(echo $subs)"
        for s in $subs; do
            h=$("$ockam" "$c" "$s" --help)
            args=$(options_of <<<"$h")
            # The node commands' positional NAME is a node (except create's new name).
            if [ "$c" = node ] && [ "$s" != create ] && grep -q '^Usage: .*\[NAME\]' <<<"$h"; then
                args="$args @NODE"
            fi
            printf '    [%q]=%q\n' "$c/$s" "$(echo $args)"
        done
    done
    echo ")"
    cat <<'EOF'

_ockam() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local cmd="" sub="" i w key spec words="" value=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        [[ $w == -* ]] && continue
        if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; break; fi
    done
    key=${cmd:-_}
    [[ -n $sub && -n ${_ockam_spec[$cmd/$sub]+x} ]] && key=$cmd/$sub
    spec=${_ockam_spec[$key]-}
    # The value of an option that takes one.
    for w in $spec ${_ockam_spec[_]}; do
        [[ $w == "$prev="* ]] && value=${w#*=}
    done
    if [[ -n $value ]]; then
        if [[ $value == NODE ]]; then
            words=$(_ockam_nodes)
        elif [[ $value == *"|"* ]]; then
            words=${value//|/ }
        else
            return 0
        fi
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return 0
    fi
    # Options only once a '-' is typed; subcommands and node names otherwise.
    local extra=""
    if [[ $key != _ ]]; then
        for w in ${_ockam_spec[_]}; do [[ $w == -* ]] && extra="$extra $w"; done
    fi
    for w in $spec $extra; do
        case $w in
            @NODE) [[ $cur != -* ]] && words="$words $(_ockam_nodes)" ;;
            -*) [[ $cur == -* ]] && words="$words ${w%%=*}" ;;
            *) [[ $cur == -* ]] || words="$words $w" ;;
        esac
    done
    words=$(printf '%s\n' $words | awk '!seen[$0]++')
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _ockam ockam
EOF
} >"$out"
