#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct deadline {
    bool expired;
};

static void
deadline_cb(ockam_timer *t, void *user)
{
    ((struct deadline *)user)->expired = true;
}

bool
test_run_until(ockam_node *node, bool (*cond)(void *arg), void *arg, uint64_t timeout_ms)
{
    struct deadline d = {false};
    ockam_timer *t = NULL;
    assert_int_equal(ockam_timer_start(node, timeout_ms, 0, deadline_cb, &d, &t), OCKAM_OK);
    while (!cond(arg) && !d.expired)
        ockam_node_run_once(node);
    ockam_timer_stop(t);
    ockam_node_run_nowait(node); /* let the timer's close callback run */
    return cond(arg);
}

void
test_drain(ockam_node *node)
{
    /* Each turn delivers a batch; a handful of turns empties any test's queue. */
    for (int i = 0; i < 10000 && ockam_node_run_nowait(node); i++)
        ;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t
test_hex(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = text; *p;) {
        if (*p == ' ' || *p == '\n') {
            p++;
            continue;
        }
        int hi = hexval(p[0]);
        int lo = p[1] ? hexval(p[1]) : -1;
        assert_true(hi >= 0 && lo >= 0);
        assert_true(n < cap);
        out[n++] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    return n;
}

ockam_route *
test_route(const char *text)
{
    ockam_route *r = ockam_route_new();
    assert_non_null(r);
    assert_int_equal(ockam_route_parse(r, text), OCKAM_OK);
    return r;
}

void
test_assert_route(const ockam_route *route, const char *expected)
{
    char *s = ockam_route_to_string(route);
    assert_non_null(s);
    assert_string_equal(s, expected);
    ockam_free(s);
}
