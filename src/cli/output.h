/* Output of the `ockam` command (docs/cli.md §0.2).
 *
 * Results go to stdout in one of three renderings: plain (for people), machine (one bare
 * identifier: a name, an address, a route) and JSON. `--output json` prints JSON; otherwise a
 * terminal gets plain text and a pipe gets the machine form, else JSON, else plain. Every
 * command defines JSON, so `--output json` never prints nothing.
 * Status lines (✔ > ! ✗) and prompts go to stderr; -q silences all but errors. */
#ifndef OCKAM_CLI_OUTPUT_H
#define OCKAM_CLI_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>

typedef enum out_format {
    OUT_PLAIN = 0,
    OUT_JSON = 1,
} out_format;

void out_setup(out_format format, bool quiet, bool no_color, bool compact);
bool out_json(void);
/* True when the plain rendering will be printed (so building it is worth it). */
bool out_wants_plain(void);

/* Print a result (any argument may be NULL; json is stolen). */
void out_result(const char *plain, const char *machine, json_t *json);

/* Marks for plain text built by commands, coloured when stdout is a colour terminal. */
const char *out_mark_ok(void);
const char *out_mark_item(void);
const char *out_mark_fail(void);
/* Wrap a word in bold/colour codes when stdout is a colour terminal: "UP" green, "DOWN" red. */
const char *out_color_start(const char *color); /* "green", "red", "bold" */
const char *out_color_end(void);

/* stderr status lines, silenced by -q. */
void out_success(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error (never silenced): what went wrong, then an optional hint saying what to do.
 * Returns code, so commands can `return out_error(EXIT_RUNTIME, hint, ...)`. */
int out_error(int code, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Ask before destroying something. Without a terminal on stdin, -y is required. Returns true
 * to go ahead; otherwise *code is the exit code to return (the reason was printed). */
bool out_confirm(const char *question, bool yes, int *code);

#endif
