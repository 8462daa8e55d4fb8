/* The `ockam` command: global options, finding the command, help, and running it. */
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/state.h"
#include "ockam/ockam.h"
#include "ockam_commit.h" /* generated: OCKAM_COMMIT */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cli_group {
    const char *name;
    const char *summary;
    const cli_cmd *cmds;
} cli_group;

static const cli_group groups[] = {
    {"node", "Create, list, show, start, stop and delete nodes", cli_node_cmds},
    {"message", "Send messages along routes", cli_message_cmds},
    {"service", "Start and list services (hop)", cli_service_cmds},
    {"worker", "List the workers of a node", cli_worker_cmds},
    {"tcp-listener", "Manage the TCP listeners of a node", cli_tcp_listener_cmds},
    {"tcp-connection", "Manage the TCP connections of a node", cli_tcp_connection_cmds},
    {"udp-listener", "Manage the UDP listeners of a node", cli_udp_listener_cmds},
    {"udp-connection", "Manage the UDP connections (fixed peers) of a node",
        cli_udp_connection_cmds},
    {"ble-connection", "Manage the BLE connections of a node (needs --ble-controller)",
        cli_ble_connection_cmds},
    {"kafka-transport", "Show the Kafka transport of a node", cli_kafka_transport_cmds},
    {"relay", "Create, list, show and delete relays (reach a node through another)",
        cli_relay_cmds},
    {"tcp-outlet", "Manage TCP outlets (the server end of a portal)", cli_tcp_outlet_cmds},
    {"tcp-inlet", "Manage TCP inlets (the client end of a portal)", cli_tcp_inlet_cmds},
    {"vault", "Create, list, show, move and delete vaults (where secret keys live)",
        cli_vault_cmds},
    {"identity", "Create, import, show, list and delete identities", cli_identity_cmds},
    {"secure-channel-listener", "Manage the secure channel listeners of a node",
        cli_secure_channel_listener_cmds},
    {"secure-channel", "Create, list, show and delete secure channels", cli_secure_channel_cmds},
    {"reset", "Delete every node and all local state", cli_reset_cmds},
};
#define NGROUPS (sizeof groups / sizeof groups[0])

static const cli_opt global_opts[] = {
    {"help", 'h', OPT_FLAG, NULL, "Print help"},
    {"version", 'V', OPT_FLAG, NULL, "Print the version"},
    {"output", 0, OPT_VALUE, "plain|json", "Output format [default: plain]"},
    {"compact-output", 0, OPT_FLAG, NULL, "Print JSON on one line"},
    {"quiet", 'q', OPT_FLAG, NULL, "No status messages on stderr (errors still show)"},
    {"verbose", 'v', OPT_COUNT, NULL, "More logging; repeat for more (-vv)"},
    {"no-color", 0, OPT_FLAG, NULL, "No colours (also: NO_COLOR=1)"},
    {"home", 0, OPT_VALUE, "DIR", NULL}, /* state directory; how background nodes get it */
    {NULL, 0, 0, NULL, NULL},
};

/* ---- help ----------------------------------------------------------------------------------- */

static void
print_top_help(FILE *f)
{
    fprintf(f, "ockam %s: Ockam routing nodes, transports and messages\n\n", OCKAM_VERSION_STRING);
    fprintf(f, "Usage: ockam [OPTIONS] COMMAND [SUBCOMMAND] [ARGS]\n\nCommands:\n");
    for (size_t i = 0; i < NGROUPS; i++)
        fprintf(f, "  %-16s %s\n", groups[i].name, groups[i].summary);
    fprintf(f,
        "\nRun 'ockam COMMAND --help' for more. State lives in $OCKAM_HOME (default "
        "~/.ockam).\n\nExample:\n  ockam node create n1\n  ockam message send hello "
        "--to /node/n1/service/echo\n"
        "\nExit status:\n"
        "  0                                  Success\n"
        "  64                                 Usage error: unknown command or option, bad "
        "argument\n"
        "  70                                 Runtime error: not found, not running, refused, "
        "timeout\n"
        "\nEnvironment:\n"
        "  OCKAM_HOME                         Where nodes keep their state [default: ~/.ockam]\n"
        "  NO_COLOR                           No colours when set and not empty\n");
}

static void
print_group_help(FILE *f, const cli_group *g)
{
    fprintf(f, "%s\n\nUsage: ockam %s SUBCOMMAND [ARGS]\n\nSubcommands:\n", g->summary, g->name);
    for (const cli_cmd *c = g->cmds; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\nRun 'ockam %s SUBCOMMAND --help' for more.\n", g->name);
}

static void
print_cmd_help(const cli_group *g, const cli_cmd *c)
{
    const char *sep = c->name[0] ? " " : "";
    printf("%s\n\nUsage: ockam %s%s%s %s%s[OPTIONS]\n", c->summary, g->name, sep, c->name, c->usage,
        c->usage[0] ? " " : "");
    if (c->opts[0].name) {
        printf("\nOptions:\n");
        args_print_options(c->opts);
    }
    printf("\nGlobal options:\n");
    args_print_options(global_opts);
    if (c->help)
        printf("\n%s\n", c->help);
}

/* ---- finding the command -------------------------------------------------------------------- */

static bool
global_takes_value(const char *arg)
{
    return strcmp(arg, "--output") == 0 || strcmp(arg, "--home") == 0;
}

/* Indexes of the first two words that are not options (or values of global options). */
static void
find_words(int argc, char **argv, int *first, int *second)
{
    *first = *second = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return;
        if (argv[i][0] == '-') {
            i += global_takes_value(argv[i]);
            continue;
        }
        if (*first < 0) {
            *first = i;
        } else {
            *second = i;
            return;
        }
    }
}

static const cli_group *
find_group(const char *name)
{
    for (size_t i = 0; i < NGROUPS; i++) {
        if (strcmp(groups[i].name, name) == 0)
            return &groups[i];
    }
    return NULL;
}

static const cli_cmd *
find_cmd(const cli_group *g, const char *name)
{
    for (const cli_cmd *c = g->cmds; c->name; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

static bool
has_flag(int argc, char **argv, const char *long_name, const char *short_name)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], long_name) == 0 || strcmp(argv[i], short_name) == 0)
            return true;
    }
    return false;
}

/* argv without the command words, for the option parser. */
static char **
strip_words(int argc, char **argv, int w1, int w2, int *out_argc)
{
    char **rest = xmalloc((size_t)argc * sizeof *rest);
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (i != w1 && i != w2)
            rest[n++] = argv[i];
    }
    *out_argc = n;
    return rest;
}

/* ---- routes from standard input ------------------------------------------------------------ */

/* The segments of one line of stdin, each prefixed with '/' ("a/b/" -> "/a/b"); NULL at EOF. */
static char *
stdin_route(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n <= 0) {
        free(line);
        return NULL;
    }
    strbuf sb = {0};
    for (char *save = NULL, *seg = strtok_r(line, "/ \t\r\n", &save); seg;
         seg = strtok_r(NULL, "/ \t\r\n", &save))
        sb_printf(&sb, "/%s", seg);
    free(line);
    return sb_take(&sb);
}

/* s with every `pat` replaced by `with`. Caller frees. */
static char *
replace_all(const char *s, const char *pat, const char *with)
{
    strbuf sb = {0};
    size_t plen = strlen(pat);
    for (const char *hit; (hit = strstr(s, pat)); s = hit + plen)
        sb_printf(&sb, "%.*s%s", (int)(hit - s), s, with);
    sb_printf(&sb, "%s", s);
    return sb_take(&sb);
}

/* Ockam's pipe convention: in an argument, "/-" stands for the route printed by the previous
 * command ("/node/n2/-/service/x"), "-/" for the same at the start ("-/service/x"). Each such
 * argument reads one line of standard input. The value of --home (how background nodes get
 * their state directory) is never rewritten. Returns false (error printed) when stdin has no
 * line to give. Replaced arguments are leaked on purpose: they live as long as argv. */
static bool
substitute_stdin(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return true;
        if (strcmp(argv[i], "--home") == 0) {
            i++;
            continue;
        }
        bool mid = strstr(argv[i], "/-") != NULL;
        if (!mid && !strstr(argv[i], "-/"))
            continue;
        char *route = stdin_route();
        if (!route || !route[0]) {
            free(route);
            out_error(EXIT_USAGE,
                "Pipe the output of a command that prints a route, e.g. "
                "'ockam relay create ... | ockam message send ...'.",
                "'%s': '-' stands for a route read from standard input, and there is none.",
                argv[i]);
            return false;
        }
        char *with = mid ? xstrdup(route) : xasprintf("%s/", route);
        argv[i] = replace_all(argv[i], mid ? "/-" : "-/", with);
        free(with);
        free(route);
    }
    return true;
}

/* ---- running -------------------------------------------------------------------------------- */

static int
check_positionals(const cli_group *g, const cli_cmd *c, const cli_args *a)
{
    if (a->npos < c->min_pos)
        return out_error(EXIT_USAGE, "Run the command with --help to see its arguments.",
            "Missing argument %s for 'ockam %s %s'.", c->usage, g->name, c->name);
    if (a->npos > c->max_pos)
        return out_error(EXIT_USAGE, "Run the command with --help to see its arguments.",
            "Unexpected argument '%s'.", a->pos[c->max_pos]);
    return EXIT_OK;
}

static int
setup(const cli_args *a)
{
    const char *output = args_value(a, "output");
    out_format format = OUT_PLAIN;
    if (output && strcmp(output, "json") == 0)
        format = OUT_JSON;
    else if (output && strcmp(output, "plain") != 0)
        return out_error(EXIT_USAGE, "Use --output plain or --output json.",
            "Invalid value '%s' for --output.", output);
    if (args_flag(a, "compact-output"))
        format = OUT_JSON;
    out_setup(
        format, args_flag(a, "quiet"), args_flag(a, "no-color"), args_flag(a, "compact-output"));
    /* Library warnings (dropped messages...) are for node logs, not for CLI users. */
    int v = args_count(a, "verbose");
    ockam_log_set_level(v >= 2 ? OCKAM_LOG_DEBUG : v == 1 ? OCKAM_LOG_INFO : OCKAM_LOG_ERROR);
    return state_init(args_value(a, "home")) ? EXIT_OK : EXIT_RUNTIME;
}

static int
run_cmd(const cli_group *g, const cli_cmd *c, int argc, char **argv)
{
    cli_args a;
    if (!args_parse(&a, c->opts, global_opts, argc, argv)) {
        args_free(&a);
        return EXIT_USAGE;
    }
    int code;
    if (args_flag(&a, "help")) {
        print_cmd_help(g, c);
        code = EXIT_OK;
    } else {
        code = check_positionals(g, c, &a);
        if (!code)
            code = setup(&a);
        if (!code)
            code = c->run(&a);
    }
    args_free(&a);
    return code;
}

static int
dispatch(int argc, char **argv)
{
    int w1, w2;
    find_words(argc, argv, &w1, &w2);
    bool help = has_flag(argc, argv, "--help", "-h");
    if (w1 < 0) {
        if (has_flag(argc, argv, "--version", "-V")) {
            /* As Ockam's own: the version, then the commit on a second line. */
            printf("ockam %s\ncompiled from: %s\n", OCKAM_VERSION_STRING, OCKAM_COMMIT);
            return EXIT_OK;
        }
        print_top_help(help ? stdout : stderr);
        return help ? EXIT_OK : EXIT_USAGE;
    }
    const cli_group *g = find_group(argv[w1]);
    if (!g)
        return out_error(EXIT_USAGE, "Run 'ockam --help' to see the commands.",
            "Unknown command '%s'.", argv[w1]);
    const cli_cmd *c = g->cmds[0].name[0] == '\0' ? &g->cmds[0] : NULL;
    if (c) {
        w2 = -1; /* a group that is itself a command: later words are its arguments */
    } else if (w2 < 0) {
        print_group_help(help ? stdout : stderr, g);
        return help ? EXIT_OK : EXIT_USAGE;
    } else if (!(c = find_cmd(g, argv[w2]))) {
        char hint[128];
        snprintf(hint, sizeof hint, "Run 'ockam %s --help' to see its subcommands.", g->name);
        return out_error(EXIT_USAGE, hint, "Unknown subcommand '%s %s'.", g->name, argv[w2]);
    }
    int rest_argc;
    char **rest = strip_words(argc, argv, w1, w2, &rest_argc);
    int code = run_cmd(g, c, rest_argc, rest);
    free(rest);
    return code;
}

int
main(int argc, char **argv)
{
    /* A closed pipe (ockam node list | head) must be an error return, not a kill. */
    signal(SIGPIPE, SIG_IGN);
    if (!substitute_stdin(argc, argv))
        return EXIT_USAGE;
    return dispatch(argc, argv);
}
