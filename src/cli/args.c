/* Argument parsing (see args.h). */
#include "cli/args.h"

#include "cli/output.h"
#include "cli/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where an option lives: table t, index i. */
typedef struct opt_ref {
    int t, i;
} opt_ref;

static bool
find_long(const cli_args *a, const char *name, size_t len, opt_ref *ref)
{
    for (int t = 0; t < 2; t++) {
        for (int i = 0; a->tables[t] && a->tables[t][i].name; i++) {
            const char *n = a->tables[t][i].name;
            if (strlen(n) == len && strncmp(n, name, len) == 0) {
                *ref = (opt_ref) {t, i};
                return true;
            }
        }
    }
    return false;
}

static bool
find_short(const cli_args *a, char c, opt_ref *ref)
{
    for (int t = 0; t < 2; t++) {
        for (int i = 0; a->tables[t] && a->tables[t][i].name; i++) {
            if (a->tables[t][i].short_name == c) {
                *ref = (opt_ref) {t, i};
                return true;
            }
        }
    }
    return false;
}

static const cli_opt *
opt_of(const cli_args *a, opt_ref r)
{
    return &a->tables[r.t][r.i];
}

static bool usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static bool
usage_error(const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    out_error(EXIT_USAGE, "Run the command with --help to see its arguments.", "%s", text);
    return false;
}

static bool
store_value(cli_args *a, opt_ref r, const char *value)
{
    const cli_opt *o = opt_of(a, r);
    if (o->kind == OPT_VALUE) {
        a->value[r.t][r.i] = value;
        return true;
    }
    const char **list = a->list[r.t][r.i];
    int n = a->count[r.t][r.i];
    if (n >= ARGS_MAX_LIST)
        return usage_error("Too many --%s options.", o->name);
    if (!list)
        list = a->list[r.t][r.i] = xmalloc((ARGS_MAX_LIST + 1) * sizeof *list);
    list[n] = value;
    list[n + 1] = NULL;
    a->count[r.t][r.i] = n + 1;
    return true;
}

/* Handle the option at argv[*i] (already known to start with "--"). */
static bool
parse_long(cli_args *a, int argc, char **argv, int *i)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    opt_ref r;
    if (!find_long(a, arg, len, &r))
        return usage_error("Unknown option '%s'.", argv[*i]);
    const cli_opt *o = opt_of(a, r);
    if (o->kind == OPT_FLAG || o->kind == OPT_COUNT) {
        if (eq)
            return usage_error("The option '--%s' takes no value.", o->name);
        a->count[r.t][r.i]++;
        return true;
    }
    if (eq)
        return store_value(a, r, eq + 1);
    if (*i + 1 >= argc)
        return usage_error("The option '--%s' needs a value.", o->name);
    return store_value(a, r, argv[++*i]);
}

/* Handle a cluster of short options at argv[*i] ("-qy", "-vvv", "-t value", "-tvalue"). */
static bool
parse_short(cli_args *a, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    for (size_t k = 1; arg[k]; k++) {
        opt_ref r;
        char name[3] = {'-', arg[k], 0};
        if (!find_short(a, arg[k], &r))
            return usage_error("Unknown option '%s'.", name);
        const cli_opt *o = opt_of(a, r);
        if (o->kind == OPT_FLAG || o->kind == OPT_COUNT) {
            a->count[r.t][r.i]++;
            continue;
        }
        if (arg[k + 1])
            return store_value(a, r, arg + k + 1);
        if (*i + 1 >= argc)
            return usage_error("The option '%s' needs a value.", name);
        return store_value(a, r, argv[++*i]);
    }
    return true;
}

bool
args_parse(cli_args *a, const cli_opt *cmd, const cli_opt *global, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->tables[0] = cmd;
    a->tables[1] = global;
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool ok = true;
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
        } else if (!options_done && strncmp(arg, "--", 2) == 0) {
            ok = parse_long(a, argc, argv, &i);
        } else if (!options_done && arg[0] == '-' && arg[1]) {
            ok = parse_short(a, argc, argv, &i);
        } else if (a->npos < ARGS_MAX_POS) {
            a->pos[a->npos++] = arg;
        } else {
            ok = usage_error("Too many arguments at '%s'.", arg);
        }
        if (!ok)
            return false;
    }
    return true;
}

void
args_free(cli_args *a)
{
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < ARGS_MAX_OPTS; i++)
            free(a->list[t][i]);
    }
    memset(a, 0, sizeof *a);
}

static bool
lookup(const cli_args *a, const char *name, opt_ref *r)
{
    return find_long(a, name, strlen(name), r);
}

bool
args_flag(const cli_args *a, const char *name)
{
    return args_count(a, name) > 0;
}

int
args_count(const cli_args *a, const char *name)
{
    opt_ref r;
    return lookup(a, name, &r) ? a->count[r.t][r.i] : 0;
}

const char *
args_value(const cli_args *a, const char *name)
{
    opt_ref r;
    return lookup(a, name, &r) ? a->value[r.t][r.i] : NULL;
}

const char *const *
args_list(const cli_args *a, const char *name, size_t *n)
{
    opt_ref r;
    if (!lookup(a, name, &r) || !a->list[r.t][r.i]) {
        if (n)
            *n = 0;
        return NULL;
    }
    if (n)
        *n = (size_t)a->count[r.t][r.i];
    return a->list[r.t][r.i];
}

void
args_print_options(const cli_opt *table)
{
    for (int i = 0; table && table[i].name; i++) {
        const cli_opt *o = &table[i];
        if (!o->help)
            continue;
        char left[64];
        const char *meta = o->metavar ? o->metavar : "VALUE";
        bool takes = o->kind == OPT_VALUE || o->kind == OPT_LIST;
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, takes ? " " : "",
                takes ? meta : "");
        else
            snprintf(
                left, sizeof left, "    --%s%s%s", o->name, takes ? " " : "", takes ? meta : "");
        if (strlen(left) > 34)
            printf("  %s\n  %-34s %s\n", left, "", o->help); /* too wide: help below */
        else
            printf("  %-34s %s\n", left, o->help);
    }
}
