/* Output of the `ockam` command (see output.h). */
#include "cli/output.h"

#include "cli/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    out_format format;
    bool quiet;
    bool compact;
    bool stdout_tty;
    bool color_out; /* colours on stdout */
    bool color_err; /* colours on stderr */
} out = {.format = OUT_PLAIN};

void
out_setup(out_format format, bool quiet, bool no_color, bool compact)
{
    const char *nc = getenv("NO_COLOR");
    bool color = !no_color && !(nc && nc[0]);
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0)
        color = false;
    out.format = format;
    out.quiet = quiet;
    out.compact = compact;
    out.stdout_tty = isatty(STDOUT_FILENO);
    out.color_out = color && out.stdout_tty;
    out.color_err = color && isatty(STDERR_FILENO);
}

bool
out_json(void)
{
    return out.format == OUT_JSON;
}

bool
out_wants_plain(void)
{
    return out.format == OUT_PLAIN && out.stdout_tty;
}

static void
print_json(json_t *json)
{
    size_t flags = JSON_ENCODE_ANY | (out.compact ? JSON_COMPACT : JSON_INDENT(2));
    char *text = json_dumps(json, flags);
    if (text) {
        printf("%s\n", text);
        free(text);
    }
}

void
out_result(const char *plain, const char *machine, json_t *json)
{
    if (out.format == OUT_JSON) {
        if (json)
            print_json(json);
    } else if (out.stdout_tty && plain) {
        printf("%s\n", plain);
    } else if (!out.stdout_tty && machine) {
        printf("%s\n", machine);
    } else if (json) {
        print_json(json);
    } else if (plain) {
        printf("%s\n", plain);
    }
    json_decref(json);
    fflush(stdout);
}

static const char *
paint(bool on, const char *code, const char *text)
{
    static char buf[4][64];
    static int next;
    if (!on)
        return text;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "\033[%sm%s\033[0m", code, text);
    return b;
}

const char *
out_mark_ok(void)
{
    return paint(out.color_out, "32", "✔");
}

const char *
out_mark_item(void)
{
    return paint(out.color_out, "2", "│");
}

const char *
out_mark_fail(void)
{
    return paint(out.color_out, "31", "✗");
}

const char *
out_color_start(const char *color)
{
    if (!out.color_out)
        return "";
    if (strcmp(color, "green") == 0)
        return "\033[32m";
    if (strcmp(color, "red") == 0)
        return "\033[31m";
    return "\033[1m";
}

const char *
out_color_end(void)
{
    return out.color_out ? "\033[0m" : "";
}

static void status_line(const char *mark, const char *color, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
status_line(const char *mark, const char *color, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s ", paint(out.color_err, color, mark));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void
out_success(const char *fmt, ...)
{
    if (out.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    status_line("✔", "32", fmt, ap);
    va_end(ap);
}

void
out_info(const char *fmt, ...)
{
    if (out.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    status_line(">", "36", fmt, ap);
    va_end(ap);
}

void
out_warn(const char *fmt, ...)
{
    if (out.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    status_line("!", "33", fmt, ap);
    va_end(ap);
}

int
out_error(int code, const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status_line("✗", "31", fmt, ap);
    va_end(ap);
    if (hint)
        fprintf(stderr, "  %s\n", hint);
    return code;
}

bool
out_confirm(const char *question, bool yes, int *code)
{
    if (yes)
        return true;
    if (!isatty(STDIN_FILENO)) {
        *code = out_error(EXIT_RUNTIME, "Pass -y (--yes) to confirm when there is no terminal.",
            "%s: confirmation needed. Use --yes to confirm.", question);
        return false;
    }
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    char answer[16] = "";
    if (!fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
        out_info("Nothing was changed.");
        *code = EXIT_OK;
        return false;
    }
    return true;
}
