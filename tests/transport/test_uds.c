/* The UDS transport (docs/wire.md §6.2): socket file mode and removal, stale and live files,
 * the LEGACY wire bytes from a raw client, 5#path hops, and a UDS -> hop -> TCP bridge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "nodes.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define WAIT_MS 5000

#define V1_FRAMED "00 15 01 01 00 04 65 63 68 6f 01 00 03 61 70 70 06 05 68 65 6c 6c 6f"
#define V1_REPLY "00 15 01 01 00 03 61 70 70 01 00 04 65 63 68 6f 06 05 68 65 6c 6c 6f"

static char dir[64];

static int
make_dir(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/ockam-uds-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int
remove_dir(void **state)
{
    tn_free_all();
    assert_int_equal(rmdir(dir), 0); /* nothing left behind */
    return 0;
}

static void
path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static bool
exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* A socket file nobody listens on: bound, then closed without unlinking. */
static void
make_stale(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd);
}

static void
test_mode_and_removal(void **state)
{
    char path[128];
    path_of(path, sizeof path, "node.sock");
    ockam_node *n = tn_node_new();
    ockam_listener *l = NULL;
    assert_int_equal(ockam_uds_listen(n, path, &l), OCKAM_OK);
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_string_equal(ockam_listener_address(l), path);
    assert_int_equal(ockam_listener_transport(l), OCKAM_TRANSPORT_UDS);
    assert_int_equal(ockam_listener_profile(l), OCKAM_WIRE_LEGACY);
    ockam_listener_close(l);
    tn_drain();
    assert_false(exists(path));

    /* And at node free. */
    assert_int_equal(ockam_uds_listen(n, path, NULL), OCKAM_OK);
    tn_free_all();
    assert_false(exists(path));
}

static void
test_stale_and_live_files(void **state)
{
    char path[128];
    path_of(path, sizeof path, "stale.sock");
    make_stale(path);
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_uds_listen(n, path, NULL), OCKAM_OK);
    /* Now it is live: a second listener must not steal it. */
    ockam_node *n2 = tn_node_new();
    assert_int_equal(ockam_uds_listen(n2, path, NULL), OCKAM_EADDRINUSE);
    assert_true(exists(path));

    char file[128];
    path_of(file, sizeof file, "regular");
    int fd = open(file, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ockam_uds_listen(n2, file, NULL), OCKAM_EADDRINUSE);
    assert_true(exists(file));
    unlink(file);

    char longpath[200];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(ockam_uds_listen(n2, longpath, NULL), OCKAM_EADDRINVAL);
    tn_free_all();
    assert_false(exists(path));
}

static void
test_raw_legacy_client(void **state)
{
    char path[128];
    uint8_t buf[64], want[64];
    path_of(path, sizeof path, "echo.sock");
    ockam_node *n = tn_node_new();
    ockam_listener *l = NULL;
    assert_int_equal(ockam_echo_start(n, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_uds_listen(n, path, &l), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(n, "echo", ockam_listener_flow_id(l)), OCKAM_OK);
    int fd = tn_raw_connect_unix(path);
    assert_true(fd >= 0);
    size_t len = tn_hex(V1_FRAMED, buf, sizeof buf);
    assert_true(tn_raw_send(fd, buf, len, WAIT_MS));
    len = tn_hex(V1_REPLY, want, sizeof want);
    assert_true(tn_raw_recv(fd, buf, len, WAIT_MS));
    assert_memory_equal(buf, want, len);
    close(fd);
    tn_free_all();
}

/* 5#path in a route from a local worker opens (then reuses) a connection. */
static void
test_lazy_uds_hop(void **state)
{
    char path[128], route[256];
    path_of(path, sizeof path, "far.sock");
    ockam_node *far = tn_node_new();
    ockam_listener *l = NULL;
    assert_int_equal(ockam_echo_start(far, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_uds_listen(far, path, &l), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(far, "echo", ockam_listener_flow_id(l)), OCKAM_OK);
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_uds_init(n, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n, "app");
    snprintf(route, sizeof route, "5#%s => echo", path);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tn_send(tn_probe_worker(app), route, "uds", 3), OCKAM_OK);
        ockam_msg *m = tn_probe_wait(app, WAIT_MS);
        assert_non_null(m);
        ockam_conn *c = ockam_conn_find(n, path);
        assert_non_null(c);
        assert_int_equal(ockam_conn_transport(c), OCKAM_TRANSPORT_UDS);
        tn_assert_route(ockam_msg_return(m), "0#%s => 0#echo", ockam_conn_address(c));
        ockam_msg_free(m);
    }
    assert_int_equal(tn_conn_count(n), 1);
    tn_free_all();
}

/* n1 -UDS-> n2 (hop) -TCP-> n3 (echo): one node, two stream transports. */
static void
test_uds_to_tcp_bridge(void **state)
{
    char path[128], route[512];
    path_of(path, sizeof path, "n2.sock");
    ockam_node *n3 = tn_node_new();
    assert_int_equal(ockam_echo_start(n3, NULL, NULL), OCKAM_OK);
    ockam_listener *l3 = tn_tcp_listen(n3, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam_flow_add_consumer(n3, "echo", ockam_listener_flow_id(l3)), OCKAM_OK);
    ockam_node *n2 = tn_node_new();
    ockam_listener *l2 = NULL;
    assert_int_equal(ockam_hop_start(n2, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_uds_listen(n2, path, &l2), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(n2, "hop", ockam_listener_flow_id(l2)), OCKAM_OK);
    ockam_conn *c23 = tn_tcp_connect(n2, ockam_listener_address(l3), OCKAM_WIRE_CURRENT);
    ockam_node *n1 = tn_node_new();
    assert_int_equal(ockam_uds_init(n1, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n1, "app");
    snprintf(route, sizeof route, "5#%s => hop => %s => echo", path, ockam_conn_address(c23));
    assert_int_equal(tn_send(tn_probe_worker(app), route, "mixed", 5), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    ockam_conn *c12 = ockam_conn_find(n1, path);
    assert_non_null(c12);
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#%s => 0#echo", ockam_conn_address(c12),
        ockam_conn_address(c23));
    ockam_msg_free(m);
    tn_free_all();
}

/* n1 -UDS-> n2 (hop) -> 5#<n3 path>: a message from another node makes n2 open a Unix-socket
 * connection only to a path its ockam_uds_config allows (the TCP rule, per transport). */
static void
run_uds_open_proxy(bool allowed)
{
    char p2[128], p3[128], route[512];
    path_of(p2, sizeof p2, "n2.sock");
    path_of(p3, sizeof p3, "n3.sock");
    ockam_node *n3 = tn_node_new();
    ockam_listener *l3 = NULL;
    assert_int_equal(ockam_echo_start(n3, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_uds_listen(n3, p3, &l3), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(n3, "echo", ockam_listener_flow_id(l3)), OCKAM_OK);

    ockam_node *n2 = tn_node_new();
    ockam_listener *l2 = NULL;
    const char *allow[] = {p3};
    ockam_uds_config cfg = OCKAM_UDS_CONFIG_INIT;
    cfg.allowed_outgoing = allowed ? allow : NULL;
    cfg.allowed_outgoing_count = allowed ? 1 : 0;
    assert_int_equal(ockam_uds_init(n2, &cfg), OCKAM_OK);
    assert_int_equal(ockam_uds_init(n2, NULL), OCKAM_EEXIST);
    assert_int_equal(ockam_hop_start(n2, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_echo_start(n2, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_uds_listen(n2, p2, &l2), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(n2, "hop", ockam_listener_flow_id(l2)), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(n2, "echo", ockam_listener_flow_id(l2)), OCKAM_OK);

    ockam_node *n1 = tn_node_new();
    assert_int_equal(ockam_uds_init(n1, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n1, "app");
    snprintf(route, sizeof route, "5#%s => hop => 5#%s => echo", p2, p3);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "proxied", 7), OCKAM_OK);
    if (allowed) {
        ockam_msg *m = tn_probe_wait(app, WAIT_MS);
        assert_non_null(m);
        ockam_msg_free(m);
        assert_non_null(ockam_conn_find(n2, p3));
        tn_free_all();
        return;
    }
    /* A later round trip on the same connection: the refusal happened before it. */
    snprintf(route, sizeof route, "5#%s => echo", p2);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "control", 7), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    ockam_slice body = ockam_msg_payload(m);
    assert_int_equal(body.len, 7);
    assert_memory_equal(body.ptr, "control", 7);
    ockam_msg_free(m);
    tn_drain();
    assert_null(ockam_conn_find(n2, p3));
    assert_int_equal(tn_conn_count(n3), 0);
    tn_free_all();
}

static void
test_uds_open_proxy_refused(void **state)
{
    run_uds_open_proxy(false);
}

static void
test_uds_open_proxy_allowed(void **state)
{
    run_uds_open_proxy(true);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mode_and_removal, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_stale_and_live_files, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_raw_legacy_client, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_lazy_uds_hop, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_uds_to_tcp_bridge, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_uds_open_proxy_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_uds_open_proxy_allowed, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
