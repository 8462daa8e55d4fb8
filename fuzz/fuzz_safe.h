/* What the node-manager fuzz targets let a request or a config.json name (header-only):
 * loopback addresses the harness owns (fuzz_node.h: port 0, the refused port, the echo
 * target), so that the node under test never reaches out to anything else on the machine or
 * the network. "$R" and "$E" in an input stand for the refused and the echo port.
 *
 * At the end, the entry points these targets share (a target defines only fuzz_safe_target):
 * the process's set-up and the life of one input on a node of its own. */
#ifndef OCKAM_FUZZ_FUZZ_SAFE_H
#define OCKAM_FUZZ_FUZZ_SAFE_H

#include "fuzz_node.h"

#include <jansson.h>

/* Only loopback addresses the harness owns. */
static inline bool
safe_text(const char *s)
{
    char allowed[6][48];
    snprintf(allowed[0], sizeof allowed[0], "127.0.0.1:0");
    snprintf(allowed[1], sizeof allowed[1], "127.0.0.1:%d", fn.refused_port);
    snprintf(allowed[2], sizeof allowed[2], "127.0.0.1:%d", fn.echo_port);
    snprintf(allowed[3], sizeof allowed[3], "/ip4/127.0.0.1/tcp/%d", fn.refused_port);
    snprintf(allowed[4], sizeof allowed[4], "/ip4/127.0.0.1/tcp/%d", fn.echo_port);
    snprintf(allowed[5], sizeof allowed[5], "/ip4/127.0.0.1/udp/%d", fn.refused_port);
    for (size_t i = 0; i < 6; i++) {
        size_t n = strlen(allowed[i]);
        if (strncmp(s, allowed[i], n) == 0 && (s[n] == '\0' || (s[0] == '/' && s[n] == '/')))
            return !strstr(s + n, "/ip") && !strstr(s + n, "/dns") && !strstr(s + n, "/tcp/")
                && !strstr(s + n, "/udp/") && !strstr(s + n, "/ble");
    }
    /* Anything else: no host:port, no multiaddr protocol that reaches out. */
    return !strchr(s, ':') && !strstr(s, "/ip") && !strstr(s, "/dns") && !strstr(s, "/tcp")
        && !strstr(s, "/udp") && !strstr(s, "/ble") && !strstr(s, "#");
}

/* Every string in the request, keys included; long waits are refused too (wait_ms,
 * timeout_ms, ping_interval_ms above 300 ms would only slow the fuzzer down). */
static inline bool
safe_json(json_t *v)
{
    const char *key;
    json_t *item;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return safe_text(json_string_value(v));
    case JSON_ARRAY:
        json_array_foreach(v, i, item)
        {
            if (!safe_json(item))
                return false;
        }
        return true;
    case JSON_OBJECT:
        json_object_foreach(v, key, item)
        {
            if (!safe_text(key) || !safe_json(item))
                return false;
            if (strstr(key, "_ms") && (!json_is_integer(item) || json_integer_value(item) > 300))
                return false;
        }
        return true;
    default:
        return true;
    }
}

/* The input with $R and $E replaced (caller frees); NULL if it is not safe to send. */
static inline char *
prepare(const uint8_t *data, size_t size, size_t *len)
{
    char *out = malloc(size * 8 + 1);
    FUZZ_CHECK(out);
    size_t n = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '$' && i + 1 < size && (data[i + 1] == 'R' || data[i + 1] == 'E')) {
            n += (size_t)sprintf(
                out + n, "%d", data[i + 1] == 'R' ? fn.refused_port : fn.echo_port);
            i++;
            continue;
        }
        out[n++] = (char)data[i];
    }
    out[n] = '\0';
    json_error_t err;
    json_t *req = json_loadb(out, n, JSON_DECODE_ANY, &err);
    bool ok = !req || safe_json(req); /* what does not parse reaches out to nothing */
    json_decref(req);
    if (!ok) {
        free(out);
        return NULL;
    }
    *len = n;
    return out;
}

/* ---- the targets' entry points ------------------------------------------------------ */

/* A target: its name (for fn_check_idle), the largest input it takes, and what it does. */
struct fuzz_safe_target {
    const char *name;
    size_t max_size;
    /* The prepared input (text[len] is '\0'; freed after the call), on the input's node. */
    void (*use)(const char *text, size_t len);
    /* After the node's loop has turned 8 times, before it is freed; NULL for none. */
    void (*check)(void);
};

/* Defined by the target that includes this header (one a program); the entry points below are
 * its own. */
extern const struct fuzz_safe_target fuzz_safe_target;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fn_no_sc_listener = true; /* no input arrives through a connection */
    fn_cycle_base();
    return 0;
}

/* One input: inputs over the size limit are skipped; otherwise a node is made, the input, if
 * prepare() finds it safe, is used and the node's loop turned (check then), and the node is
 * freed with nothing of it left behind. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct fuzz_safe_target *t = &fuzz_safe_target;
    if (size > t->max_size)
        return 0;
    fn_setup();
    size_t len = 0;
    char *text = prepare(data, size, &len);
    if (text) {
        t->use(text, len);
        free(text);
        for (int n = 0; n < 8; n++)
            ockam_node_run_nowait(fn.node);
        if (t->check)
            t->check();
    }
    fn_teardown();
    fn_check_idle(t->name);
    return 0;
}

#endif
