/* Logging: repeats of one log statement collapse into "... and N more like this" within the
 * window (off by default), other statements are not affected, and the count comes out when
 * the window is over or on ockam_log_flush. */
#include "core/core.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static char lines[64][256];
static size_t nlines;

static void
capture(ockam_log_level level, const char *line, void *user)
{
    if (nlines < 64)
        snprintf(lines[nlines], sizeof lines[0], "%s", line);
    nlines++;
}

static void
dropped(int i)
{
    OCKAM_LOG_W("connection %d closed: bad input", i);
}

static void
other(void)
{
    OCKAM_LOG_W("something else");
}

static int
setup(void **state)
{
    nlines = 0;
    ockam_log_set_handler(capture, NULL);
    return 0;
}

static int
teardown(void **state)
{
    ockam_log_set_repeat_window(0);
    ockam_log_set_handler(NULL, NULL);
    return 0;
}

static void
test_off_by_default(void **state)
{
    for (int i = 0; i < 10; i++)
        dropped(i);
    assert_int_equal(nlines, 10);
}

static void
test_repeats_collapse(void **state)
{
    ockam_log_set_repeat_window(60000);
    for (int i = 0; i < 3000; i++)
        dropped(i);
    other();
    other();
    assert_int_equal(nlines, 2); /* the first of each statement */
    assert_string_equal(lines[0], "connection 0 closed: bad input");
    assert_string_equal(lines[1], "something else");
    ockam_log_flush();
    assert_int_equal(nlines, 4);
    assert_string_equal(
        lines[2], "... and 2999 more like this in the last 60 s: connection 0 closed: bad input");
    assert_string_equal(lines[3], "... and 1 more like this in the last 60 s: something else");
    ockam_log_flush(); /* nothing more pending */
    assert_int_equal(nlines, 4);
}

/* Once the window is over the next line is written again (and the count before it). */
static void
test_window_ends(void **state)
{
    ockam_log_set_repeat_window(1);
    dropped(1);
    dropped(2);
    /* Let the 1 ms window pass (a wait on the clock, not a synchronisation). */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 3000000L);
    dropped(3);
    assert_int_equal(nlines, 3);
    assert_string_equal(lines[0], "connection 1 closed: bad input");
    assert_string_equal(
        lines[1], "... and 1 more like this in the last 1 s: connection 1 closed: bad input");
    assert_string_equal(lines[2], "connection 3 closed: bad input");
}

int
main(void)
{
    ockam_log_set_level(OCKAM_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_off_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeats_collapse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_ends, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
