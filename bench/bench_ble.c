/* BLE benchmark roles on BlueZ's controller emulator (scripts/bench.sh, scenario "ble"; the
 * runner starts btvirt and passes controller=unix:PATH). Roles, one process each:
 *
 *   sink name=N controller=C          a node advertising N: echo, and a "sink" worker that
 *                                     counts messages and answers the end marker
 *   thr name=N controller=C size=S mib=M
 *                                     a node that sends M MiB in messages of S bytes to
 *                                     N's sink through one link and reports the payload rate
 *                                     (time from the first message to the sink's answer)
 *   rtt name=N controller=C size=S secs=T
 *                                     request/reply through echo, one at a time
 *   raw-sink name=N controller=C      a raw HCI host (no libockam): advertises N, counts ACL
 *                                     bytes, answers the end marker
 *   raw-thr name=N controller=C mib=M a raw HCI host that connects to the raw sink's address
 *                                     (addr=) and sends M MiB of full-size ACL packets, one in
 *                                     flight (the emulator's buffer count), as fast as the
 *                                     controller completes them: the raw ACL rate of this
 *                                     emulator on this machine, the ceiling for any host
 *
 * Sinks print "ready <bd_addr>" when advertising; measuring roles print one "result" line
 * (bench_util.h format). */
#include "bench_util.h"
#include "ockam/ockam.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define WAIT_MS 30000u
#define QUEUE_MARK (512u * 1024u) /* bytes queued on the link before the sender yields */

/* ---- libockam roles ------------------------------------------------------------------- */

static ockam_node *
ble_node(int argc, char **argv, bool listen)
{
    ockam_node *node = ockam_node_new();
    ockam_ble_config cfg = OCKAM_BLE_CONFIG_INIT;
    cfg.controller = bench_arg_str(argc, argv, "controller", NULL);
    if (!node || !cfg.controller)
        bench_die("need controller=unix:PATH");
    cfg.listener_name = listen ? bench_arg_str(argc, argv, "name", "bench") : NULL;
    if (ockam_ble_init(node, &cfg) != OCKAM_OK)
        bench_die("cannot open the controller %s", cfg.controller);
    uint64_t until = ockam_node_now_ms(node) + WAIT_MS;
    while (!ockam_ble_ready(node) && ockam_node_now_ms(node) < until)
        ockam_node_run_once(node);
    if (!ockam_ble_ready(node))
        bench_die("controller not ready");
    return node;
}

static void
sink_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    if (ockam_msg_payload(msg).len == BENCH_END_SIZE)
        (void)ockam_reply(w, msg, "done", 4);
    else
        ockam_msg_free(msg);
}

static int
role_sink(int argc, char **argv)
{
    ockam_node *node = ble_node(argc, argv, true);
    ockam_flow_id flow = ockam_ble_listener_flow_id(node);
    ockam_worker_opts o = {.on_message = sink_on_message};
    if (ockam_echo_start(node, NULL, NULL) != OCKAM_OK
        || ockam_worker_start(node, "sink", &o, NULL) != OCKAM_OK
        || ockam_flow_add_consumer(node, "echo", flow) != OCKAM_OK
        || ockam_flow_add_consumer(node, "sink", flow) != OCKAM_OK)
        bench_die("cannot start the sink");
    printf("ready %s\n", ockam_ble_local_address(node));
    fflush(stdout);
    ockam_node_run(node);
    ockam_node_free(node);
    return 0;
}

struct client {
    ockam_node *node;
    ockam_ble_link *link;
    ockam_err status;
    int calls;
    ockam_msg *reply;
};

static void
on_up(ockam_ble_link *link, ockam_err status, void *arg)
{
    struct client *c = arg;
    c->calls++;
    c->status = status;
}

static void
client_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct client *c = user;
    ockam_msg_free(c->reply);
    c->reply = msg;
}

static void
run_until(struct client *c, bool (*done)(struct client *), const char *what)
{
    uint64_t until = ockam_node_now_ms(c->node) + WAIT_MS;
    while (!done(c) && ockam_node_now_ms(c->node) < until)
        ockam_node_run_once(c->node);
    if (!done(c))
        bench_die("timed out waiting for %s", what);
}

static bool
is_up(struct client *c)
{
    return c->calls > 0;
}

static bool
has_reply(struct client *c)
{
    return c->reply != NULL;
}

static ockam_worker *
client_start(struct client *c, int argc, char **argv, ockam_route **route, const char *service)
{
    c->node = ble_node(argc, argv, false);
    const char *name = bench_arg_str(argc, argv, "name", "bench");
    if (ockam_ble_connect(c->node, name, on_up, c, &c->link) != OCKAM_OK)
        bench_die("connect");
    run_until(c, is_up, "the link");
    if (c->status != OCKAM_OK)
        bench_die("link to %s: %s", name, ockam_strerror(c->status));
    ockam_worker *w;
    ockam_worker_opts o = {.on_message = client_on_message, .user = c};
    if (ockam_worker_start(c->node, "app", &o, &w) != OCKAM_OK)
        bench_die("worker");
    *route = ockam_route_new();
    if (ockam_route_push_back(*route, ockam_addr_local(ockam_ble_link_address(c->link)))
        || ockam_route_push_back(*route, ockam_addr_local(service)))
        bench_die("route");
    return w;
}

static int
role_thr(int argc, char **argv)
{
    struct client c = {0};
    ockam_route *route;
    ockam_worker *w = client_start(&c, argc, argv, &route, "sink");
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 1024);
    uint64_t total = (uint64_t)bench_arg_long(argc, argv, "mib", 8) << 20;
    const uint8_t *data = bench_payload(size);
    uint64_t sent = 0, msgs = 0, t0 = bench_now_ns();
    while (sent < total) {
        struct ockam_ble_stats st;
        for (ockam_ble_link_stats(c.link, &st); st.queued_bytes > QUEUE_MARK;
             ockam_ble_link_stats(c.link, &st))
            ockam_node_run_once(c.node);
        if (ockam_send_to(w, route, data, size) != OCKAM_OK)
            bench_die("send");
        sent += size;
        msgs++;
        (void)ockam_node_run_nowait(c.node);
    }
    if (ockam_send_to(w, route, "e", BENCH_END_SIZE) != OCKAM_OK)
        bench_die("send end");
    run_until(&c, has_reply, "the sink's answer");
    bench_report_thr(msgs, sent, bench_now_ns() - t0);
    free((void *)data);
    ockam_msg_free(c.reply);
    ockam_route_free(route);
    ockam_node_free(c.node);
    return 0;
}

static int
role_rtt(int argc, char **argv)
{
    struct client c = {0};
    ockam_route *route;
    ockam_worker *w = client_start(&c, argc, argv, &route, "echo");
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 16);
    double secs = bench_arg_double(argc, argv, "secs", 1.0);
    const uint8_t *data = bench_payload(size);
    struct bench_lat lat;
    bench_lat_init(&lat, 1000000);
    uint64_t end = bench_now_ns() + (uint64_t)(secs * 1e9);
    for (int warm = 0; bench_now_ns() < end; warm++) {
        uint64_t t = bench_now_ns();
        if (ockam_send_to(w, route, data, size) != OCKAM_OK)
            bench_die("send");
        run_until(&c, has_reply, "the echo");
        ockam_msg_free(c.reply);
        c.reply = NULL;
        if (warm >= 10 && !bench_lat_add(&lat, bench_now_ns() - t))
            break;
    }
    bench_lat_report(&lat);
    free((void *)data);
    ockam_route_free(route);
    ockam_node_free(c.node);
    return 0;
}

/* ---- raw HCI roles (plain sockets, blocking) --------------------------------------------- */

struct raw {
    int fd;
    uint8_t in[1 + 4 + 65535];
};

static void
raw_write(struct raw *r, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(r->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            bench_die("raw write: %s", strerror(errno));
        p += k;
        n -= (size_t)k;
    }
}

static void
raw_read_exact(struct raw *r, uint8_t *p, size_t n)
{
    while (n) {
        struct pollfd pf = {.fd = r->fd, .events = POLLIN};
        if (poll(&pf, 1, WAIT_MS) != 1)
            bench_die("raw read: timeout");
        ssize_t k = read(r->fd, p, n);
        if (k <= 0)
            bench_die("raw read: %s", k == 0 ? "EOF" : strerror(errno));
        p += k;
        n -= (size_t)k;
    }
}

/* One H4 packet into r->in; returns its total length. */
static size_t
raw_read(struct raw *r)
{
    raw_read_exact(r, r->in, 1);
    size_t hdr = r->in[0] == 0x04 ? 2 : 4;
    raw_read_exact(r, r->in + 1, hdr);
    size_t plen = r->in[0] == 0x04 ? r->in[2] : (size_t)(r->in[3] | (r->in[4] << 8));
    raw_read_exact(r, r->in + 1 + hdr, plen);
    return 1 + hdr + plen;
}

static void
raw_cmd(struct raw *r, uint16_t op, const uint8_t *params, uint8_t len)
{
    uint8_t c[4 + 255] = {0x01, (uint8_t)op, (uint8_t)(op >> 8), len};
    if (len)
        memcpy(c + 4, params, len);
    raw_write(r, c, 4u + len);
    for (;;) {
        raw_read(r);
        if (r->in[0] != 0x04)
            continue;
        if (r->in[1] == 0x0E && (r->in[4] | (r->in[5] << 8)) == op)
            return;
        if (r->in[1] == 0x0F && (r->in[5] | (r->in[6] << 8)) == op)
            return;
    }
}

static void
raw_open(struct raw *r, const char *spec)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (!spec || strncmp(spec, "unix:", 5) != 0)
        bench_die("need controller=unix:PATH");
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", spec + 5);
    r->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (r->fd < 0 || connect(r->fd, (struct sockaddr *)&sun, sizeof sun) != 0)
        bench_die("cannot connect to %s", spec);
    static const uint8_t mask[8] = {0xFF, 0xFF, 0xFB, 0xFF, 0x07, 0xF8, 0xBF, 0x3D};
    static const uint8_t le_mask[8] = {0x1F};
    raw_cmd(r, 0x0C03, NULL, 0);
    raw_cmd(r, 0x0C01, mask, 8);
    raw_cmd(r, 0x2001, le_mask, 8);
}

static int
role_raw_sink(int argc, char **argv)
{
    struct raw r;
    raw_open(&r, bench_arg_str(argc, argv, "controller", NULL));
    const char *name = bench_arg_str(argc, argv, "name", "rawsink");
    size_t n = strlen(name) > 26 ? 26 : strlen(name);
    uint8_t adv[15] = {0xA0, 0, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07, 0};
    uint8_t data[32] = {(uint8_t)(2 + n), (uint8_t)(n + 1), 0x09};
    memcpy(data + 3, name, n);
    raw_cmd(&r, 0x2006, adv, sizeof adv);
    raw_cmd(&r, 0x2008, data, sizeof data);
    raw_cmd(&r, 0x1009, NULL, 0);
    printf("ready %02X:%02X:%02X:%02X:%02X:%02X\n", r.in[12], r.in[11], r.in[10], r.in[9], r.in[8],
        r.in[7]);
    fflush(stdout);
    raw_cmd(&r, 0x200A, (const uint8_t[]) {1}, 1);
    uint64_t got = 0;
    for (;;) { /* until the runner kills us (or the emulator goes: raw_read exits) */
        raw_read(&r);
        if (r.in[0] != 0x02)
            continue;
        size_t len = (size_t)(r.in[3] | (r.in[4] << 8));
        if (len != 1) {
            got += len;
            continue;
        }
        /* The end marker (a 1-byte packet): answer with the bytes received, on its handle. The
         * emulator drops what a slow reader cannot take, so the sender counts only these. */
        uint8_t ack[13] = {0x02, r.in[1], (uint8_t)(r.in[2] & 0x0F), 8, 0};
        for (int i = 0; i < 8; i++)
            ack[5 + i] = (uint8_t)(got >> (8 * i));
        raw_write(&r, ack, sizeof ack);
        got = 0;
    }
    return 0;
}

/* Wait up to ms for one packet; false on timeout. */
static bool
raw_poll(struct raw *r, int ms)
{
    struct pollfd pf = {.fd = r->fd, .events = POLLIN};
    return poll(&pf, 1, ms) == 1;
}

static int
role_raw_thr(int argc, char **argv)
{
    struct raw r;
    raw_open(&r, bench_arg_str(argc, argv, "controller", NULL));
    unsigned b[6];
    const char *addr = bench_arg_str(argc, argv, "addr", "");
    if (sscanf(addr, "%x:%x:%x:%x:%x:%x", &b[5], &b[4], &b[3], &b[2], &b[1], &b[0]) != 6)
        bench_die("need addr=XX:XX:XX:XX:XX:XX");
    uint8_t cc[25] = {0x10, 0, 0x10, 0, 0, 0};
    for (int i = 0; i < 6; i++)
        cc[6 + i] = (uint8_t)b[i];
    cc[13] = 6;
    cc[15] = 12;
    cc[19] = 200;
    uint16_t handle = 0xFFFF;
    for (int tries = 0; tries < 1000 && handle == 0xFFFF; tries++) {
        raw_cmd(&r, 0x200D, cc, sizeof cc);
        for (;;) {
            raw_read(&r);
            if (r.in[0] == 0x04 && r.in[1] == 0x3E && r.in[3] == 0x01)
                break;
        }
        if (r.in[4] == 0)
            handle = (uint16_t)((r.in[5] | (r.in[6] << 8)) & 0x0FFF);
    }
    if (handle == 0xFFFF)
        bench_die("could not connect to %s", addr);
    uint64_t total = (uint64_t)bench_arg_long(argc, argv, "mib", 8) << 20;
    enum { MTU = 192 };
    uint8_t pkt[5 + MTU] = {0x02, (uint8_t)handle, (uint8_t)(handle >> 8), MTU, 0};
    memset(pkt + 5, 0x5A, MTU);
    uint64_t sent = 0, msgs = 0, t0 = bench_now_ns();
    while (sent < total) {
        raw_write(&r, pkt, sizeof pkt);
        sent += MTU;
        msgs++;
        for (;;) { /* one packet in flight: wait for its completion */
            raw_read(&r);
            if (r.in[0] == 0x04 && r.in[1] == 0x13)
                break;
        }
    }
    uint8_t end[6] = {0x02, (uint8_t)handle, (uint8_t)(handle >> 8), 1, 0, 0xEE};
    uint64_t got = 0;
    for (int tries = 0; tries < 10 && !got; tries++) {
        raw_write(&r, end, sizeof end);
        while (raw_poll(&r, 1000)) {
            raw_read(&r);
            if (r.in[0] == 0x02 && r.in[3] == 8) {
                for (int i = 0; i < 8; i++)
                    got |= (uint64_t)r.in[5 + i] << (8 * i);
                break;
            }
        }
    }
    if (!got)
        bench_die("the raw sink did not answer");
    if (got < sent)
        fprintf(stderr, "raw-thr: the emulator dropped %llu of %llu bytes (slow reader)\n",
            (unsigned long long)(sent - got), (unsigned long long)sent);
    sent = got;
    bench_report_thr(msgs, sent, bench_now_ns() - t0);
    close(r.fd);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *role = argc > 1 ? argv[1] : "";
    ockam_log_set_level(OCKAM_LOG_ERROR);
    if (strcmp(role, "sink") == 0)
        return role_sink(argc, argv);
    if (strcmp(role, "thr") == 0)
        return role_thr(argc, argv);
    if (strcmp(role, "rtt") == 0)
        return role_rtt(argc, argv);
    if (strcmp(role, "raw-sink") == 0)
        return role_raw_sink(argc, argv);
    if (strcmp(role, "raw-thr") == 0)
        return role_raw_thr(argc, argv);
    bench_die("usage: bench_ble sink|thr|rtt|raw-sink|raw-thr key=value...");
}
