/* Relays (docs/wire.md §8): the service's bytes against the vectors of docs/wire.md §8 (a raw
 * socket plays the registering node), the client's bytes against them (a raw socket plays the relay
 * node), forwarding between three nodes with flow control, removal when the connection closes,
 * re-registration replacing, the pre-v0.88 forwarding variant, and supervision: pings,
 * re-registration after the relay node goes away and comes back, and retries that back off. */
#include "nodes.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 5000
#define CLIENT_ADDR "a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define CLIENT_HEX                                                                                 \
    "61 31 62 32 63 33 64 34 65 35 66 36 30 37 31 38 32 39 33 61 34 62 35 63 36 64 37 65 38 66 "   \
    "39 30"
/* §8.2: the ephemeral registration from [0#a1b2...] in a CURRENT frame (70-byte body). */
#define REG_FRAME                                                                                  \
    "00 00 00 46 83 81 82 00 52 66 6f 72 77 61 72 64 69 6e 67 5f 73 65 72 76 69 63 65 81 82 00 "   \
    "58 20 61 31 62 32 63 33 64 34 65 35 66 36 30 37 31 38 32 39 33 61 34 62 35 63 36 64 37 65 "   \
    "38 66 39 30 49 08 72 65 67 69 73 74 65 72"
/* §8.2: the same registration in the LEGACY profile, from [0#app]. */
#define REG_LEGACY                                                                                 \
    "00 26 01 01 00 12 66 6f 72 77 61 72 64 69 6e 67 5f 73 65 72 76 69 63 65 01 00 03 61 70 70 "   \
    "09 08 72 65 67 69 73 74 65 72"
#define FIXED_RELAY "forward_to_0123456789abcdef0123456789abcdef"

/* ---- nodes --------------------------------------------------------------------------- */

struct relay_node {
    ockam_node *node;
    ockam_listener *l;
    ockam_relay_service *svc;
    char addr[64];
};

static void
relay_node_start(struct relay_node *r, const char *bind, ockam_wire_profile profile)
{
    ockam_tcp_listen_opts o = {.profile = profile};
    r->node = tn_node_new();
    assert_int_equal(ockam_tcp_listen(r->node, bind, &o, &r->l), OCKAM_OK);
    snprintf(r->addr, sizeof r->addr, "%s", ockam_listener_address(r->l));
    ockam_flow_id id = ockam_listener_flow_id(r->l);
    ockam_relay_service_config cfg = OCKAM_RELAY_SERVICE_CONFIG_INIT;
    cfg.allow = &id;
    cfg.allow_count = 1;
    assert_int_equal(ockam_relay_service_start(r->node, &cfg, &r->svc), OCKAM_OK);
}

/* The registering node: uppercase is public (a consumer of `expose`, which stands for the
 * node's own listener); "secret" is not. */
struct client_node {
    ockam_node *node;
    ockam_flow_id expose;
    ockam_relay_client *rc;
    tn_probe *secret;
    int ups, downs;
};

static void
on_status(ockam_relay_client *rc, ockam_relay_state state, void *user)
{
    struct client_node *c = user;
    if (state == OCKAM_RELAY_UP)
        c->ups++;
    else
        c->downs++;
}

static void
client_node_new(struct client_node *c)
{
    memset(c, 0, sizeof *c);
    c->node = tn_node_new();
    assert_int_equal(ockam_tcp_init(c->node, NULL), OCKAM_OK);
    c->expose = ockam_flow_id_new(c->node);
    assert_int_equal(ockam_uppercase_start(c->node, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(c->node, "uppercase", c->expose), OCKAM_OK);
    c->secret = tn_probe_start(c->node, "secret");
}

static ockam_relay_client_config
client_config(struct client_node *c, ockam_route *to, const char *name)
{
    ockam_relay_client_config cfg = OCKAM_RELAY_CLIENT_CONFIG_INIT;
    cfg.to = to;
    cfg.name = name;
    cfg.expose = c->expose;
    cfg.on_status = on_status;
    cfg.user = c;
    return cfg;
}

static void
client_start(struct client_node *c, const char *relay_addr, const char *name, uint32_t ping_ms)
{
    ockam_route *to = tn_route("1#%s", relay_addr);
    ockam_relay_client_config cfg = client_config(c, to, name);
    cfg.ping_interval_ms = ping_ms;
    cfg.backoff_min_ms = 50;
    cfg.backoff_max_ms = 200;
    assert_int_equal(ockam_relay_client_start(c->node, &cfg, &c->rc), OCKAM_OK);
    ockam_route_free(to);
}

static bool
is_up(void *arg)
{
    return ockam_relay_client_state(arg) == OCKAM_RELAY_UP;
}

static bool
is_down(void *arg)
{
    return ockam_relay_client_state(arg) == OCKAM_RELAY_DOWN;
}

static bool
no_relays(void *arg)
{
    return ockam_relay_service_count(arg) == 0;
}

/* Send from app along the route text and take the reply (NULL if none in time). */
static ockam_msg *
request(tn_probe *app, const char *route, const void *data, size_t len, uint64_t ms)
{
    assert_int_equal(tn_send(tn_probe_worker(app), route, data, len), OCKAM_OK);
    return tn_probe_wait(app, ms);
}

static void
assert_upper(tn_probe *app, const char *route)
{
    ockam_msg *m = request(app, route, "\x05hello", 6, WAIT_MS);
    assert_non_null(m);
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, 6);
    assert_memory_equal(p.ptr, "\x05HELLO", 6);
    ockam_msg_free(m);
}

/* ---- raw-socket helpers ---------------------------------------------------------------- */

static void
send_hex(int fd, const char *hex)
{
    uint8_t buf[512];
    size_t n = tn_hex(hex, buf, sizeof buf);
    assert_true(tn_raw_send(fd, buf, n, WAIT_MS));
}

static void
expect_hex(int fd, const char *hex)
{
    uint8_t want[512], got[512];
    size_t n = tn_hex(hex, want, sizeof want);
    assert_true(tn_raw_recv(fd, got, n, WAIT_MS));
    assert_memory_equal(got, want, n);
}

/* Read one CURRENT frame body into buf (returns its length). */
static size_t
recv_frame(int fd, uint8_t *buf, size_t cap)
{
    uint8_t hdr[4];
    assert_true(tn_raw_recv(fd, hdr, 4, WAIT_MS));
    size_t len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
    assert_true(len <= cap);
    assert_true(tn_raw_recv(fd, buf, len, WAIT_MS));
    return len;
}

static void
hex_of(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = text; *p && n + 4 < cap; p++)
        n += (size_t)snprintf(out + n, cap - n, "%02x ", (unsigned char)*p);
}

/* ---- the service against the vectors ----------------------------------------------------- */

static void
test_service_registration_vector(void **state)
{
    struct relay_node r;
    uint8_t body[256];
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    int fd = tn_raw_connect(r.addr);
    assert_true(fd >= 0);
    send_hex(fd, "01 " REG_FRAME);
    expect_hex(fd, "01");
    /* The confirmation: 132-byte body to [0#a1b2...] from [0#forward_to_<32 hex>], payload
     * bytes(44) holding the BARE string of the same 43 characters. */
    assert_int_equal(recv_frame(fd, body, sizeof body), 132);
    uint8_t head[64];
    size_t hn = tn_hex("83 81 82 00 58 20 " CLIENT_HEX " 81 82 00 58 2b", head, sizeof head);
    assert_memory_equal(body, head, hn);
    const char *name = (const char *)body + hn;
    assert_memory_equal(name, "forward_to_", 11);
    for (int i = 11; i < 43; i++)
        assert_non_null(strchr("0123456789abcdef", name[i]));
    assert_memory_equal(body + hn + 43, "\x58\x2c\x2b", 3);
    assert_memory_equal(body + hn + 46, name, 43);
    assert_int_equal(ockam_relay_service_count(r.svc), 1);

    /* The relay lives on that connection: it goes when the connection closes. */
    close(fd);
    assert_true(tn_wait(no_relays, r.svc, WAIT_MS));
    tn_free_all();
}

/* CBOR byte-string header for n < 256. */
static void
cbor_bytes(size_t n, char *out, size_t cap)
{
    if (n < 24)
        snprintf(out, cap, "%02zx", 0x40 + n);
    else
        snprintf(out, cap, "58 %02zx", n);
}

static void
expect_static(int fd, const char *name)
{
    char nhex[128], h1[8], h2[8];
    uint8_t body[256], want[256];
    hex_of(name, nhex, sizeof nhex);
    cbor_bytes(strlen(name), h1, sizeof h1);
    cbor_bytes(strlen(name) + 1, h2, sizeof h2);
    size_t len = recv_frame(fd, body, sizeof body);
    char hex[1024];
    snprintf(hex, sizeof hex, "83 81 82 00 43 61 70 70 81 82 00 %s %s %s %02zx %s", h1, nhex, h2,
        strlen(name), nhex);
    size_t n = tn_hex(hex, want, sizeof want);
    assert_int_equal(len, n);
    assert_memory_equal(body, want, n);
}

static void
test_service_static_name(void **state)
{
    struct relay_node r;
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    int fd = tn_raw_connect(r.addr);
    assert_true(fd >= 0);
    /* "mybox" (payload 05 6d 79 62 6f 78) to static_forwarding_service from [0#app]. */
    send_hex(fd,
        "01 00 00 00 2d 83 81 82 00 58 19 73 74 61 74 69 63 5f 66 6f 72 77 61 72 64 69 6e "
        "67 5f 73 65 72 76 69 63 65 81 82 00 43 61 70 70 46 05 6d 79 62 6f 78");
    expect_hex(fd, "01");
    expect_static(fd, "forward_to_mybox");
    assert_true(ockam_node_has_worker(r.node, "forward_to_mybox"));
    close(fd);
    assert_true(tn_wait(no_relays, r.svc, WAIT_MS));
    tn_free_all();
}

/* The relay node runs hop, reachable from its listener's connections. */
static void
relay_node_hop(struct relay_node *r)
{
    assert_int_equal(ockam_hop_start(r->node, NULL, NULL), OCKAM_OK);
    assert_int_equal(
        ockam_flow_add_consumer(r->node, "hop", ockam_listener_flow_id(r->l)), OCKAM_OK);
}

/* A registration followed at once by a bad frame, in one write (`frames`, hex): the connection
 * closes before the service reads the registration. No relay may outlive it (nothing would
 * ever remove it). */
static void
registration_of_closed_connection(bool through_hop, const char *frames)
{
    struct relay_node r;
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    if (through_hop)
        relay_node_hop(&r);
    int fd = tn_raw_connect(r.addr);
    assert_true(fd >= 0);
    send_hex(fd, frames);
    assert_true(tn_raw_wait_closed(fd, WAIT_MS));
    close(fd);
    tn_drain();
    assert_int_equal(ockam_relay_service_count(r.svc), 0);
    assert_false(ockam_node_has_worker(r.node, "forward_to_mybox"));
    tn_free_all();
}

static void
test_service_registration_of_closed_connection(void **state)
{
    /* "mybox" to static_forwarding_service, then a frame of length zero. */
    registration_of_closed_connection(false,
        "01 00 00 00 2d 83 81 82 00 58 19 73 74 61 74 69 63 5f 66 6f 72 77 61 72 64 69 6e "
        "67 5f 73 65 72 76 69 63 65 81 82 00 43 61 70 70 46 05 6d 79 62 6f 78 00 00 00 00");
}

/* The same through a local hop: the registration waits in hop's mailbox while its connection
 * closes, and reaches the service with the return route [hop, <closed connection>]. No relay
 * may be made for a route that leads nowhere. */
static void
test_service_registration_through_hop_of_closed_connection(void **state)
{
    /* "mybox" to [hop, static_forwarding_service] from [0#app], then a frame of length zero. */
    registration_of_closed_connection(true,
        "01 00 00 00 33 83 82 82 00 43 68 6f 70 82 00 58 19 73 74 61 74 69 63 5f 66 6f 72 77 61 "
        "72 64 69 6e 67 5f 73 65 72 76 69 63 65 81 82 00 43 61 70 70 46 05 6d 79 62 6f 78 00 00 "
        "00 00");
}

/* A registration that reaches the service through a local hop: the relay still lives on the
 * connection the route leaves by, and goes when it closes. */
static void
test_service_registration_through_hop(void **state)
{
    struct relay_node r;
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    relay_node_hop(&r);
    ockam_node *n1 = tn_node_new();
    tn_probe *app = tn_probe_start(n1, "app");
    ockam_conn *c = tn_tcp_connect(n1, r.addr, OCKAM_WIRE_CURRENT);
    char route[128];
    snprintf(route, sizeof route, "%s => hop => static_forwarding_service", ockam_conn_address(c));
    assert_int_equal(tn_send(tn_probe_worker(app), route, "\x06viahop", 7), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m); /* the confirmation */
    ockam_msg_free(m);
    assert_true(ockam_node_has_worker(r.node, "forward_to_viahop"));
    ockam_conn_close(c);
    assert_true(tn_wait(no_relays, r.svc, WAIT_MS));
    assert_false(ockam_node_has_worker(r.node, "forward_to_viahop"));
    tn_free_all();
}

/* A relay whose route starts with a local worker that stops (a secure channel's encryptor, a
 * local hop): its next message finds nothing there, and the relay goes instead of taking
 * messages to drop them one by one forever. */
static void
test_service_relay_with_exit_gone(void **state)
{
    struct relay_node r;
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam_hop_start(r.node, "hop2", NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(r.node, "app");
    assert_int_equal(
        tn_send(tn_probe_worker(app), "hop2 => static_forwarding_service", "\x04gone", 5),
        OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m); /* the confirmation */
    ockam_msg_free(m);
    assert_true(ockam_node_has_worker(r.node, "forward_to_gone"));
    /* Through the relay: its route [hop2] then app. */
    assert_int_equal(tn_send(tn_probe_worker(app), "forward_to_gone => app", "hi", 2), OCKAM_OK);
    m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    assert_memory_equal(ockam_msg_payload(m).ptr, "hi", 2);
    ockam_msg_free(m);
    assert_int_equal(ockam_worker_stop_at(r.node, "hop2"), OCKAM_OK);
    assert_int_equal(tn_send(tn_probe_worker(app), "forward_to_gone => app", "hi", 2), OCKAM_OK);
    assert_true(tn_wait(no_relays, r.svc, WAIT_MS));
    assert_false(ockam_node_has_worker(r.node, "forward_to_gone"));
    tn_free_all();
}

static void
test_service_legacy_vector(void **state)
{
    struct relay_node r;
    uint8_t buf[256];
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_LEGACY);
    int fd = tn_raw_connect(r.addr);
    assert_true(fd >= 0);
    send_hex(fd, REG_LEGACY);
    /* BARE v1 confirmation: u16 length, 01, onward [0#app], return [0#forward_to_<32>],
     * payload bytes(44) with the BARE string. */
    assert_true(tn_raw_recv(fd, buf, 2, WAIT_MS));
    size_t len = ((size_t)buf[0] << 8) | buf[1];
    assert_int_equal(len, 1 + 6 + 46 + 45);
    assert_true(tn_raw_recv(fd, buf, len, WAIT_MS));
    uint8_t head[16];
    size_t hn = tn_hex("01 01 00 03 61 70 70 01 00 2b", head, sizeof head);
    assert_memory_equal(buf, head, hn);
    assert_memory_equal(buf + hn, "forward_to_", 11);
    assert_memory_equal(buf + hn + 43, "\x2c\x2b", 2);
    assert_memory_equal(buf + hn + 45, buf + hn, 43);
    close(fd);
    tn_free_all();
}

static void
test_service_bad_registration(void **state)
{
    struct relay_node r;
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    tn_probe *app = tn_probe_start(r.node, "app");
    /* Not a BARE string; an empty name; a name that is another worker's address. */
    assert_int_equal(tn_send(tn_probe_worker(app), "forwarding_service", "\x09x", 2), OCKAM_OK);
    assert_int_equal(
        tn_send(tn_probe_worker(app), "static_forwarding_service", "\x00", 1), OCKAM_OK);
    ockam_relay_service_config cfg = OCKAM_RELAY_SERVICE_CONFIG_INIT;
    cfg.address = "fs2";
    cfg.static_alias = "";
    cfg.prefix = "";
    assert_int_equal(ockam_relay_service_start(r.node, &cfg, NULL), OCKAM_OK);
    assert_int_equal(tn_send(tn_probe_worker(app), "fs2",
                         "\x03"
                         "app",
                         4),
        OCKAM_OK);
    tn_drain();
    assert_int_equal(ockam_relay_service_count(r.svc), 0);
    assert_int_equal(tn_probe_count(app), 0);
    /* A valid one from a local worker: confirmed, and the relay then forwards to [rest]. */
    assert_int_equal(
        tn_send(tn_probe_worker(app), "static_forwarding_service", "\x01z", 2), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_return(m), "0#forward_to_z");
    ockam_msg_free(m);
    tn_probe *dest = tn_probe_start(r.node, "dest");
    assert_int_equal(tn_send(tn_probe_worker(app), "forward_to_z => dest", "x", 1), OCKAM_OK);
    m = tn_probe_wait(dest, WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_return(m), "0#app");
    ockam_msg_free(m);
    tn_free_all();
}

/* Flows allowed after the start (a listener created later) reach both service addresses
 * and the relays. */
static void
test_service_allow_later(void **state)
{
    struct relay_node r = {0};
    struct client_node c;
    r.node = tn_node_new();
    assert_int_equal(ockam_relay_service_start(r.node, NULL, &r.svc), OCKAM_OK);
    r.l = tn_tcp_listen(r.node, OCKAM_WIRE_CURRENT);
    snprintf(r.addr, sizeof r.addr, "%s", ockam_listener_address(r.l));
    assert_int_equal(ockam_relay_service_allow(r.svc, ockam_listener_flow_id(r.l)), OCKAM_OK);
    client_node_new(&c);
    client_start(&c, r.addr, "later", 10000);
    assert_true(tn_wait(is_up, c.rc, WAIT_MS));
    struct client_node e;
    client_node_new(&e);
    client_start(&e, r.addr, NULL, 10000);
    assert_true(tn_wait(is_up, e.rc, WAIT_MS));
    assert_int_equal(ockam_relay_service_count(r.svc), 2);
    tn_free_all();
}

/* ---- the client against the vectors ------------------------------------------------------ */

static ockam_relay_client *
raw_client(struct client_node *c, uint16_t port, const char *name, uint32_t ping_ms)
{
    ockam_route *to = tn_route("1#127.0.0.1:%u", port);
    ockam_relay_client_config cfg = client_config(c, to, name);
    cfg.address = CLIENT_ADDR;
    cfg.ping_interval_ms = ping_ms;
    cfg.max_failures = 2;
    cfg.backoff_min_ms = 20;
    cfg.backoff_max_ms = 40;
    assert_int_equal(ockam_relay_client_start(c->node, &cfg, &c->rc), OCKAM_OK);
    ockam_route_free(to);
    return c->rc;
}

static void
send_confirmation(int fd)
{
    char name[256], hex[1024];
    hex_of(FIXED_RELAY, name, sizeof name);
    snprintf(hex, sizeof hex, "00 00 00 84 83 81 82 00 58 20 %s 81 82 00 58 2b %s 58 2c 2b %s",
        CLIENT_HEX, name, name);
    send_hex(fd, hex);
}

/* Read the client's ping frame and send it back as the relay would (to [0#a1b2...]). */
static void
loop_ping_back(int fd)
{
    uint8_t body[512], out[600];
    size_t len = recv_frame(fd, body, sizeof body);
    uint8_t head[128];
    /* onward [0#forward_to_..., 0#a1b2...], return [0#a1b2...] */
    char nhex[200], hex[600];
    hex_of(FIXED_RELAY, nhex, sizeof nhex);
    snprintf(hex, sizeof hex, "83 82 82 00 58 2b %s 82 00 58 20 %s 81 82 00 58 20 %s", nhex,
        CLIENT_HEX, CLIENT_HEX);
    size_t hn = tn_hex(hex, head, sizeof head);
    assert_true(len > hn);
    assert_memory_equal(body, head, hn);
    /* Back: [0#a1b2...] <- [0#forward_to_...]; same payload bytes. */
    size_t pn = len - hn;
    snprintf(hex, sizeof hex, "83 81 82 00 58 20 %s 81 82 00 58 2b %s", CLIENT_HEX, nhex);
    size_t on = tn_hex(hex, out + 4, sizeof out - 4);
    memcpy(out + 4 + on, body + hn, pn);
    size_t total = on + pn;
    out[0] = 0;
    out[1] = 0;
    out[2] = (uint8_t)(total >> 8);
    out[3] = (uint8_t)total;
    assert_true(tn_raw_send(fd, out, total + 4, WAIT_MS));
}

static void
test_client_registration_vector(void **state)
{
    struct client_node c;
    uint16_t port;
    int lfd = tn_raw_listen(&port);
    client_node_new(&c);
    raw_client(&c, port, NULL, 200);
    int fd = tn_raw_accept(lfd, WAIT_MS);
    assert_true(fd >= 0);
    expect_hex(fd, "01 " REG_FRAME);
    assert_int_equal(ockam_relay_client_state(c.rc), OCKAM_RELAY_DOWN);
    send_hex(fd, "01");
    send_confirmation(fd);
    assert_true(tn_wait(is_up, c.rc, WAIT_MS));
    assert_string_equal(ockam_relay_client_remote_address(c.rc), FIXED_RELAY);
    ockam_conn *conn = ockam_relay_client_conn(c.rc);
    assert_non_null(conn);
    tn_assert_route(
        ockam_relay_client_route(c.rc), "0#%s => 0#%s", ockam_conn_address(conn), FIXED_RELAY);
    /* The connection counts as one the node's listener accepted. */
    assert_int_equal(ockam_conn_spawner_id(conn), c.expose);

    /* Pings through the relay come back to the client: it stays UP. */
    for (int i = 0; i < 4; i++)
        loop_ping_back(fd);
    assert_int_equal(ockam_relay_client_state(c.rc), OCKAM_RELAY_UP);
    assert_int_equal(c.downs, 0);

    /* Unanswered pings: DOWN, its connection closed, and a new registration follows. */
    assert_true(tn_wait(is_down, c.rc, WAIT_MS));
    assert_string_equal(
        ockam_relay_client_last_error(c.rc), "2 pings through the relay unanswered");
    assert_true(tn_raw_wait_closed(fd, WAIT_MS));
    close(fd);
    fd = tn_raw_accept(lfd, WAIT_MS);
    assert_true(fd >= 0);
    expect_hex(fd, "01 " REG_FRAME);
    send_hex(fd, "01");
    send_confirmation(fd);
    assert_true(tn_wait(is_up, c.rc, WAIT_MS));
    assert_int_equal(ockam_relay_client_registrations(c.rc), 2);
    assert_int_equal(c.ups, 2);
    assert_int_equal(c.downs, 1);

    /* Stopping the client closes its connection. */
    ockam_relay_client_stop(c.rc);
    assert_true(tn_raw_wait_closed(fd, WAIT_MS));
    close(fd);
    close(lfd);
    tn_free_all();
}

static void
test_client_static_payload(void **state)
{
    struct client_node c;
    uint16_t port;
    uint8_t body[256];
    int lfd = tn_raw_listen(&port);
    client_node_new(&c);
    raw_client(&c, port, "mybox", 1000);
    int fd = tn_raw_accept(lfd, WAIT_MS);
    assert_true(fd >= 0);
    expect_hex(fd, "01");
    size_t len = recv_frame(fd, body, sizeof body);
    uint8_t want[128];
    size_t n = tn_hex("83 81 82 00 58 19 73 74 61 74 69 63 5f 66 6f 72 77 61 72 64 69 6e 67 5f "
                      "73 65 72 76 69 63 65 81 82 00 58 20 " CLIENT_HEX " 46 05 6d 79 62 6f 78",
        want, sizeof want);
    assert_int_equal(len, n);
    assert_memory_equal(body, want, n);
    /* A confirmation for another name is refused (Rust: must end with the name). */
    send_hex(fd, "01");
    send_confirmation(fd);
    tn_drain();
    assert_int_equal(ockam_relay_client_state(c.rc), OCKAM_RELAY_DOWN);
    close(fd);
    close(lfd);
    tn_free_all();
}

/* ---- three nodes --------------------------------------------------------------------------- */

static void
test_forwarding_and_flow_control(void **state)
{
    struct relay_node r;
    struct client_node c;
    char route[256];
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    tn_probe *private2 = tn_probe_start(r.node, "private");
    client_node_new(&c);
    client_start(&c, r.addr, "n3", 10000);
    assert_true(tn_wait(is_up, c.rc, WAIT_MS));
    assert_string_equal(ockam_relay_client_remote_address(c.rc), "forward_to_n3");

    ockam_node *n1 = tn_node_new();
    tn_probe *app = tn_probe_start(n1, "app");
    ockam_conn *c12 = tn_tcp_connect(n1, r.addr, OCKAM_WIRE_CURRENT);
    const char *s12 = ockam_conn_address(c12);

    /* The docs' example: n1 -> n2's relay -> n3's uppercase, and the reply back. */
    snprintf(route, sizeof route, "%s => forward_to_n3 => uppercase", s12);
    ockam_msg *m = request(app, route, "\x05hello", 6, WAIT_MS);
    assert_non_null(m);
    assert_memory_equal(ockam_msg_payload(m).ptr, "\x05HELLO", 6);
    /* The relay is not on the way back: the reply comes straight from n3 through n2. */
    assert_int_equal(ockam_route_len(ockam_msg_return(m)), 3);
    ockam_msg_free(m);

    /* Nothing else: n3's private worker, n2's private worker (from n1 and from n3). */
    snprintf(route, sizeof route, "%s => forward_to_n3 => secret", s12);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "x", 1), OCKAM_OK);
    snprintf(route, sizeof route, "%s => private", s12);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "x", 1), OCKAM_OK);
    tn_probe *app3 = tn_probe_start(c.node, "app3");
    snprintf(
        route, sizeof route, "%s => private", ockam_conn_address(ockam_relay_client_conn(c.rc)));
    assert_int_equal(tn_send(tn_probe_worker(app3), route, "x", 1), OCKAM_OK);
    snprintf(route, sizeof route, "%s => forward_to_n3 => uppercase", s12);
    assert_upper(app, route); /* after the others on the same connections */
    tn_drain();
    assert_int_equal(tn_probe_total(c.secret), 0);
    assert_int_equal(tn_probe_total(private2), 0);

    /* The relay goes with its client (which closes its own connection). */
    ockam_relay_client_stop(c.rc);
    assert_true(tn_wait(no_relays, r.svc, WAIT_MS));
    tn_free_all();
}

static void
test_registration_replaces(void **state)
{
    struct relay_node r;
    struct client_node a, b;
    char route[256];
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    client_node_new(&a);
    client_node_new(&b);
    client_start(&a, r.addr, "box", 60000);
    assert_true(tn_wait(is_up, a.rc, WAIT_MS));
    client_start(&b, r.addr, "box", 60000);
    assert_true(tn_wait(is_up, b.rc, WAIT_MS));
    assert_int_equal(ockam_relay_service_count(r.svc), 1);

    tn_probe *pa = tn_probe_start(a.node, "p");
    tn_probe *pb = tn_probe_start(b.node, "p");
    assert_int_equal(ockam_flow_add_consumer(a.node, "p", a.expose), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(b.node, "p", b.expose), OCKAM_OK);
    ockam_node *n1 = tn_node_new();
    tn_probe *app = tn_probe_start(n1, "app");
    ockam_conn *c12 = tn_tcp_connect(n1, r.addr, OCKAM_WIRE_CURRENT);
    snprintf(route, sizeof route, "%s => forward_to_box => p", ockam_conn_address(c12));
    assert_int_equal(tn_send(tn_probe_worker(app), route, "x", 1), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(pb, WAIT_MS);
    assert_non_null(m);
    ockam_msg_free(m);
    assert_int_equal(tn_probe_total(pa), 0);

    /* The replaced registration's connection closing does not remove the new relay. */
    ockam_relay_client_stop(a.rc);
    tn_drain();
    assert_int_equal(ockam_relay_service_count(r.svc), 1);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "y", 1), OCKAM_OK);
    assert_true(tn_probe_wait_total(pb, 2, WAIT_MS));
    tn_free_all();
}

/* Pre-v0.88 and Elixir relays keep the client's address in front: the client forwards. */
static void
test_old_variant_forwarding(void **state)
{
    struct relay_node r;
    struct client_node c;
    char route[256];
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    client_node_new(&c);
    client_start(&c, r.addr, "old", 10000);
    assert_true(tn_wait(is_up, c.rc, WAIT_MS));
    tn_probe *app = tn_probe_start(r.node, "app");
    snprintf(route, sizeof route, "%s => %s => uppercase",
        ockam_conn_address(tn_only_accepted(r.node)), ockam_relay_client_address(c.rc));
    assert_upper(app, route);
    tn_free_all();
}

/* ---- supervision ----------------------------------------------------------------------- */

static void
test_relay_node_restart(void **state)
{
    struct relay_node r;
    struct client_node c;
    char route[256], addr[64];
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    snprintf(addr, sizeof addr, "%s", r.addr);
    client_node_new(&c);
    client_start(&c, addr, "n3", 100);
    assert_true(tn_wait(is_up, c.rc, WAIT_MS));

    tn_log_capture();
    tn_node_free(r.node);
    assert_true(tn_wait(is_down, c.rc, WAIT_MS));
    /* Retries while the node is away stay quiet after the first line. */
    uint64_t until = tn_now_ms() + 500;
    while (tn_now_ms() < until)
        tn_wait(is_up, c.rc, until - tn_now_ms());
    assert_int_equal(tn_log_count("is DOWN"), 1);
    tn_log_release();

    relay_node_start(&r, addr, OCKAM_WIRE_CURRENT);
    assert_true(tn_wait(is_up, c.rc, WAIT_MS));
    assert_int_equal(ockam_relay_client_registrations(c.rc), 2);
    assert_int_equal(c.ups, 2);
    assert_int_equal(c.downs, 1);

    ockam_node *n1 = tn_node_new();
    tn_probe *app = tn_probe_start(n1, "app");
    ockam_conn *c12 = tn_tcp_connect(n1, r.addr, OCKAM_WIRE_CURRENT);
    snprintf(route, sizeof route, "%s => forward_to_n3 => uppercase", ockam_conn_address(c12));
    assert_upper(app, route);
    tn_free_all();
}

static bool
registered_twice(void *arg)
{
    return ockam_relay_client_registrations(arg) >= 2;
}

/* The relay disappears while the connection stays: pings fail, the client re-registers. */
static void
test_relay_lost_pings_fail(void **state)
{
    struct relay_node r;
    struct client_node c;
    relay_node_start(&r, "127.0.0.1:0", OCKAM_WIRE_CURRENT);
    client_node_new(&c);
    client_start(&c, r.addr, "n3", 50);
    assert_true(tn_wait(is_up, c.rc, WAIT_MS));
    assert_int_equal(ockam_relay_service_remove(r.svc, "forward_to_n3"), OCKAM_OK);
    assert_true(tn_wait(registered_twice, c.rc, WAIT_MS));
    assert_int_equal(c.downs, 1);
    assert_true(ockam_node_has_worker(r.node, "forward_to_n3"));
    tn_free_all();
}

struct accept_count {
    int lfd;
    int accepted;
};

static bool
accept_and_close(void *arg)
{
    struct accept_count *a = arg;
    int fd;
    while ((fd = accept(a->lfd, NULL, NULL)) >= 0) {
        a->accepted++;
        close(fd);
    }
    return false;
}

/* A relay node that accepts and closes at once: retries back off (never a tight loop). */
static void
test_retries_back_off(void **state)
{
    struct client_node c;
    uint16_t port;
    struct accept_count a = {.lfd = tn_raw_listen(&port)};
    client_node_new(&c);
    ockam_route *to = tn_route("1#127.0.0.1:%u", port);
    ockam_relay_client_config cfg = client_config(&c, to, "x");
    cfg.backoff_min_ms = 100;
    cfg.backoff_max_ms = 400;
    assert_int_equal(ockam_relay_client_start(c.node, &cfg, &c.rc), OCKAM_OK);
    ockam_route_free(to);
    tn_wait(accept_and_close, &a, 2000);
    /* Delays 50-100, 100-200, 200-400, then 200-400 ms: about 6-10 attempts in 2 s. */
    assert_true(a.accepted >= 3);
    assert_true(a.accepted <= 14);
    assert_int_equal(ockam_relay_client_state(c.rc), OCKAM_RELAY_DOWN);
    assert_int_equal(c.downs, 0); /* never UP, so no change to report */
    assert_true(strlen(ockam_relay_client_last_error(c.rc)) > 0);
    close(a.lfd);
    tn_free_all();
}

static void
test_client_refused_then_up(void **state)
{
    struct client_node c;
    char addr[64];
    struct relay_node r;
    snprintf(addr, sizeof addr, "127.0.0.1:%u", tn_dead_port());
    client_node_new(&c);
    client_start(&c, addr, "late", 100);
    tn_drain();
    uint64_t until = tn_now_ms() + 300;
    while (tn_now_ms() < until)
        tn_wait(is_up, c.rc, until - tn_now_ms());
    assert_non_null(strstr(ockam_relay_client_last_error(c.rc), "refused"));
    relay_node_start(&r, addr, OCKAM_WIRE_CURRENT);
    assert_true(tn_wait(is_up, c.rc, WAIT_MS));
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_service_registration_vector),
        TN_TEST(test_service_static_name),
        TN_TEST(test_service_registration_of_closed_connection),
        TN_TEST(test_service_registration_through_hop_of_closed_connection),
        TN_TEST(test_service_registration_through_hop),
        TN_TEST(test_service_legacy_vector),
        TN_TEST(test_service_bad_registration),
        TN_TEST(test_service_allow_later),
        TN_TEST(test_client_registration_vector),
        TN_TEST(test_client_static_payload),
        TN_TEST(test_forwarding_and_flow_control),
        TN_TEST(test_registration_replaces),
        TN_TEST(test_service_relay_with_exit_gone),
        TN_TEST(test_old_variant_forwarding),
        TN_TEST(test_relay_node_restart),
        TN_TEST(test_relay_lost_pings_fail),
        TN_TEST(test_retries_back_off),
        TN_TEST(test_client_refused_then_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
