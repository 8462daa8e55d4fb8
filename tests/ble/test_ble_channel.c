/* A secure channel over BLE -> TCP:
 *   n1 -BLE (4#name)-> n2 (hop) -TCP (1#host:port)-> n3 (channel listener "api", echo)
 * The channel opens across both legs, a message goes through it to echo and the reply comes
 * back through it. Every L2CAP frame either BLE end receives from its controller (so every
 * byte that crossed the radio, both ways) is recorded: the same message sent without the
 * channel is seen there, sent through the channel it is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ble_util.h"
#include "channel/sc_util.h"
#include "node/transport.h"
#include "transport/ble/ble_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char secret[] = "attack at dawn over the air";
static const char answer[] = "ATTACK AT DAWN OVER THE AIR";

/* ---- the radio tap: every L2CAP frame a node's controller hands it --------------------- */

static struct {
    void (*orig)(void *user, uint16_t handle, const uint8_t *frame, size_t len);
    uint8_t *bytes;
    size_t len, cap, frames;
} tap;

static void
tap_l2cap(void *user, uint16_t handle, const uint8_t *frame, size_t len)
{
    if (tap.len + len > tap.cap) {
        size_t cap = tap.cap ? tap.cap : 65536;
        while (cap < tap.len + len)
            cap *= 2;
        tap.bytes = realloc(tap.bytes, cap);
        assert_non_null(tap.bytes);
        tap.cap = cap;
    }
    memcpy(tap.bytes + tap.len, frame, len);
    tap.len += len;
    tap.frames++;
    tap.orig(user, handle, frame, len);
}

static void
tap_install(ockam_node *node)
{
    struct ockam__ble *t = ockam__transport_get(node, OCKAM_TRANSPORT_BLE);
    assert_non_null(t);
    assert_true(tap.orig == NULL || tap.orig == t->hci.cbs.l2cap);
    tap.orig = t->hci.cbs.l2cap;
    t->hci.cbs.l2cap = tap_l2cap;
}

static void
tap_reset(void)
{
    tap.len = tap.frames = 0;
}

static bool
tap_saw(const void *needle, size_t len)
{
    return tap.len >= len && memmem(tap.bytes, tap.len, needle, len) != NULL;
}

/* ---- the nodes ---------------------------------------------------------------------------- */

static void
tcp_init_allowing(ockam_node *n, const char *dest)
{
    ockam_tcp_config cfg = OCKAM_TCP_CONFIG_INIT;
    const char *allowed[1] = {dest};
    cfg.allowed_outgoing = allowed;
    cfg.allowed_outgoing_count = 1;
    assert_int_equal(ockam_tcp_init(n, &cfg), OCKAM_OK);
}

/* Upper-cases the payload and replies. */
static void
upper_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_slice p = ockam_msg_payload(msg);
    char out[128];
    size_t n = p.len < sizeof out ? p.len : sizeof out;
    for (size_t i = 0; i < n; i++) {
        char c = (char)p.ptr[i];
        out[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    (void)ockam_reply(w, msg, out, n);
}

static void
assert_payload(const ockam_msg *m, const void *data, size_t len)
{
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    assert_memory_equal(p.ptr, data, len);
}

static void
test_channel_over_ble_tcp(void **state)
{
    /* n3: TCP listener, channel listener "api", the upper-casing service. */
    ockam_node *n3 = tn_node_new();
    assert_int_equal(ockam_tcp_init(n3, NULL), OCKAM_OK);
    ockam_listener *l3 = tn_tcp_listen(n3, OCKAM_WIRE_CURRENT);
    ockam_identity *id3 = sc_identity();
    sc_listener sl;
    sc_listen(&sl, n3, id3, "api", NULL);
    assert_int_equal(ockam_flow_add_consumer(n3, "api", ockam_listener_flow_id(l3)), OCKAM_OK);
    ockam_worker_opts uo = {.on_message = upper_on_message};
    assert_int_equal(ockam_worker_start(n3, "upper", &uo, NULL), OCKAM_OK);
    assert_int_equal(
        ockam_flow_add_consumer(n3, "upper", ockam_sc_listener_flow_id(sl.l)), OCKAM_OK);
    /* The same service reachable without a channel, for the control message. */
    assert_int_equal(ockam_worker_start(n3, "plain", &uo, NULL), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(n3, "plain", ockam_listener_flow_id(l3)), OCKAM_OK);
    char dest3[64];
    snprintf(dest3, sizeof dest3, "%s", ockam_listener_address(l3));

    /* n2: BLE listener with a hop that may open TCP to n3. */
    char name[OCKAM_BLE_MAX_NAME + 1];
    snprintf(name, sizeof name, "%s", bt_name("sc"));
    ockam_node *n2 = bt_node(name);
    assert_int_equal(ockam_hop_start(n2, NULL, NULL), OCKAM_OK);
    bt_allow(n2, "hop");
    tcp_init_allowing(n2, dest3);
    tap_install(n2);

    /* n1: the initiator, over BLE. */
    ockam_node *n1 = bt_node(NULL);
    tap_install(n1);
    tn_probe *app = tn_probe_start(n1, "app");
    ockam_identity *id1 = sc_identity();

    /* Control: without the channel the tap sees the plaintext both ways. */
    char route[256];
    snprintf(route, sizeof route, "4#%s => 0#hop => 1#%s => 0#plain", name, dest3);
    assert_int_equal(tn_send(tn_probe_worker(app), route, secret, strlen(secret)), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, BT_WAIT_MS);
    assert_non_null(m);
    assert_payload(m, answer, strlen(answer));
    ockam_msg_free(m);
    assert_true(tap_saw(secret, strlen(secret)));
    assert_true(tap_saw(answer, strlen(answer)));

    /* The channel: handshake and messages cross the same BLE link and TCP connection. */
    tap_reset();
    ockam_route *to = tn_route("4#%s => 0#hop => 1#%s => 0#api", name, dest3);
    ockam_sc *sc = sc_open(n1, id1, to, NULL);
    ockam_route_free(to);
    assert_true(sc_wait_accepted(&sl, 1));
    assert_string_equal(ockam_sc_peer(sc), ockam_identity_identifier(id3));

    snprintf(route, sizeof route, "0#%s => 0#upper", ockam_sc_encryptor(sc));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tn_send(tn_probe_worker(app), route, secret, strlen(secret)), OCKAM_OK);
        m = tn_probe_wait(app, BT_WAIT_MS);
        assert_non_null(m);
        assert_payload(m, answer, strlen(answer));
        tn_assert_route(ockam_msg_onward(m), "0#app");
        tn_assert_route(ockam_msg_return(m), "0#%s => 0#upper", ockam_sc_encryptor(sc));
        char peer[OCKAM_SC_IDENTIFIER_SIZE];
        assert_true(ockam_sc_msg_identifier(m, peer));
        assert_string_equal(peer, ockam_identity_identifier(id3));
        ockam_msg_free(m);
    }
    struct ockam_sc_stats st;
    ockam_sc_stats(sc, &st);
    assert_int_equal(st.sent, 3);
    assert_int_equal(st.received, 3);

    /* The frames did cross the radio (handshake and 6 frames), and carried no plaintext. */
    print_message("%zu L2CAP frames (%zu bytes) over BLE for the channel\n", tap.frames, tap.len);
    assert_true(tap.frames >= 9);
    assert_true(tap.len >= 6 * strlen(secret));
    assert_false(tap_saw(secret, strlen(secret)));
    assert_false(tap_saw(answer, strlen(answer)));
    assert_false(tap_saw("attack", 6));
    assert_false(tap_saw("ATTACK", 6));

    tn_free_all();
    sc_free_all();
    free(tap.bytes);
    memset(&tap, 0, sizeof tap);
}

int
main(void)
{
    BT_REQUIRE_BTVIRT();
    const struct CMUnitTest tests[] = {
        TN_TEST(test_channel_over_ble_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
