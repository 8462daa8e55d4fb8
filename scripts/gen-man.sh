#!/usr/bin/env bash
# Man pages from the command's own --help, so that they cannot drift from it:
#   ockam(1)          `ockam --help` and the global options
#   ockam-<cmd>(1)    one per command (node, tcp-outlet, ...): `ockam <cmd> --help` and the
#                     --help of each of its subcommands
# Usage: scripts/gen-man.sh OCKAM_BINARY OUT_DIR VERSION
set -euo pipefail

ockam=$1
out=$2
version=$3
mkdir -p "$out"
# The pages' date is the sources' (reproducible builds), not the build's.
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)

# Help text -> roff. Sections ("Options:" ...) become .SH (or .SS under a subcommand), option
# lines become .TP entries, everything else is kept line for line (.nf), escaped.
to_roff() {
    local level=$1 # SH for a page's own text, SS for a subcommand's
    awk -v level="$level" '
    function esc(s) {
        gsub(/\\/, "\\e", s)
        gsub(/-/, "\\-", s)
        if (s ~ "^[.\047]") s = "\\&" s
        return s
    }
    function flush_text() { if (intext) { print ".fi"; intext = 0 } }
    NR == 1 { next }                    # the summary: the page NAME or the subsection title
    /^Usage: / {
        flush_text()
        print (level == "SH" ? ".SH SYNOPSIS" : ".PP")
        sub(/^Usage: /, "")
        print ".B " esc($0)
        next
    }
    /^[A-Z][A-Za-z ]*:$/ {              # "Options:", "Subcommands:", "Examples:" ...
        flush_text()
        section = toupper(substr($0, 1, length($0) - 1))
        if (level == "SH") print ".SH " section
        else print ".PP\n.B " section
        next
    }
    /^$/ { flush_text(); section = ""; print ".PP"; next }
    section ~ /OPTIONS|COMMANDS|EXIT STATUS|ENVIRONMENT/ && /^  [^ ]|^      --/ {    # one entry
        line = $0
        sub(/^ +/, "", line)
        if (match(line, /  +/)) {
            spec = substr(line, 1, RSTART - 1); desc = substr(line, RSTART + RLENGTH)
        } else {
            spec = line; desc = ""
            if ((getline nxt) > 0) { sub(/^ +/, "", nxt); desc = nxt }
        }
        print ".TP\n.B " esc(spec) "\n" esc(desc)
        next
    }
    { if (!intext) { print ".nf"; intext = 1 } print esc($0) }
    END { flush_text() }
    '
}

# Text for roff: '-' is a minus sign (copy-pasted options must keep it), not a hyphen.
dash() { printf '%s' "${1//-/\\-}"; }

# NAME line, from the first line of a help text ("ockam 0.1.0: Ockam routing ..." for ockam).
page_header() {
    local page=$1 summary=$2
    printf '.TH %s 1 "%s" "ockam %s" "Ockam Manual"\n' "$(dash "${page^^}")" "$date" "$version"
    printf '.SH NAME\n%s \\- %s\n' "$(dash "$page")" "$(dash "$summary")"
}

commands=$("$ockam" --help | awk '/^Commands:$/ {on = 1; next} on && /^$/ {exit} on {print $1}')

# ockam(1)
{
    top=$("$ockam" --help)
    page_header ockam "$(head -n1 <<<"$top" | sed 's/^ockam [^:]*: //')"
    to_roff SH <<<"$top"
    # The global options, as every command's --help lists them.
    { echo; "$ockam" node list --help | awk '/^Global options:$/ {on = 1} on'; } | to_roff SH
    echo ".SH SEE ALSO"
    sep=""
    for c in $commands; do
        printf '%s\\fBockam\\-%s\\fR(1)' "$sep" "$(dash "$c")"
        sep=", "
    done
    echo
} >"$out/ockam.1"

# ockam-<cmd>(1)
for c in $commands; do
    {
        group=$("$ockam" "$c" --help)
        page_header "ockam-$c" "$(head -n1 <<<"$group")"
        subs=$(awk '/^Subcommands:$/ {on = 1; next} on && /^$/ {exit} on {print $1}' <<<"$group")
        if [ -z "$subs" ]; then
            # A command without subcommands (reset): its own help is the page.
            to_roff SH <<<"$group" | awk '/^\.SH GLOBAL OPTIONS$/ {exit} {print}'
        else
            to_roff SH <<<"$group"
            echo ".SH COMMANDS"
            for s in $subs; do
                help=$("$ockam" "$c" "$s" --help)
                printf '.SS "ockam %s %s"\n%s\n' "$(dash "$c")" "$s" "$(dash "$(head -n1 <<<"$help")")"
                # The global options are in ockam(1), once.
                awk '/^Global options:$/ {skip = 1; next} skip && /^$/ {skip = 0; next} !skip' \
                    <<<"$help" | to_roff SS
            done
        fi
        echo ".SH SEE ALSO"
        printf '%s\n' '\fBockam\fR(1)'
    } >"$out/ockam-$c.1"
done
