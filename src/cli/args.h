/* Argument parsing of the `ockam` command: a table of options per command plus the global
 * options every command accepts. Long options take "--name value" or "--name=value"; short
 * ones "-t value", "-tvalue", and flags cluster ("-qy", "-vvv"). "--" ends the options. */
#ifndef OCKAM_CLI_ARGS_H
#define OCKAM_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum opt_kind {
    OPT_FLAG,  /* --yes */
    OPT_COUNT, /* -vvv */
    OPT_VALUE, /* --to X (the last one wins) */
    OPT_LIST,  /* --allow-outgoing X, repeatable */
} opt_kind;

typedef struct cli_opt {
    const char *name; /* long name without dashes; NULL ends a table */
    char short_name;  /* 0 = none */
    opt_kind kind;
    const char *metavar; /* "HOST:PORT" for values */
    const char *help;    /* NULL = hidden from --help */
} cli_opt;

#define ARGS_MAX_OPTS 32
#define ARGS_MAX_LIST 64
#define ARGS_MAX_POS 8

typedef struct cli_args {
    const cli_opt *tables[2]; /* the command's options, then the global ones */
    const char *value[2][ARGS_MAX_OPTS];
    int count[2][ARGS_MAX_OPTS];
    const char **list[2][ARGS_MAX_OPTS];
    const char *pos[ARGS_MAX_POS];
    int npos;
} cli_args;

/* Parse argv[0..argc) against the command's table and the global one. On a usage error,
 * prints it and returns false. */
bool args_parse(cli_args *a, const cli_opt *cmd, const cli_opt *global, int argc, char **argv);
void args_free(cli_args *a);

bool args_flag(const cli_args *a, const char *name);
int args_count(const cli_args *a, const char *name);
const char *args_value(const cli_args *a, const char *name); /* NULL when absent */
/* The values of a list option (NULL-terminated array, NULL when absent); *n may be NULL. */
const char *const *args_list(const cli_args *a, const char *name, size_t *n);

/* Print the option table as help lines to stdout. */
void args_print_options(const cli_opt *table);

#endif
