/* The operations the node-level fuzz targets apply to a node (fuzz_node.h), header-only.
 *
 * Input: a sequence of operations, each one byte then its arguments:
 *   0 conn len bytes[len]          raw bytes to connection conn % 4
 *   1 conn nonward nret route... kind len payload   one frame (see frame_op)
 *   2 conn                         end of stream on the connection
 *   3 n                            n % 8 + 1 loop turns
 *   4 conn profile                 (re)open the connection, CURRENT or LEGACY framing
 *   5 n                            let n * 100 ms pass on the node's clock (timeouts)
 * A connection used before op 4 opens with CURRENT framing; its preamble byte is sent for it
 * when it opens through op 1 or 4 (not op 0: raw bytes are the whole stream). */
#ifndef OCKAM_FUZZ_FUZZ_NODE_OPS_H
#define OCKAM_FUZZ_FUZZ_NODE_OPS_H

#include "fuzz_node.h"

struct rd {
    const uint8_t *p;
    size_t n;
};

static uint8_t
u8(struct rd *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static const uint8_t *
take(struct rd *r, size_t *len)
{
    if (*len > r->n)
        *len = r->n;
    const uint8_t *p = r->p;
    r->p += *len;
    r->n -= *len;
    return p;
}

/* The connection in slot sel % 4, opened (CURRENT framing) if it is not; with `preamble` a new
 * connection first gets the CURRENT preamble byte, as a real peer sends it. */
static struct fn_conn *
conn_at(uint8_t sel, bool preamble)
{
    size_t i = sel % FN_CONNS;
    if (!fn_conns[i].c) {
        if (fn_conns[i].peer >= 0)
            close(fn_conns[i].peer);
        fn_conns[i].peer = -1;
        if (!fn_conn_open(i, OCKAM_WIRE_CURRENT))
            return NULL;
        if (preamble)
            fn_feed(i, (const uint8_t[]) {OCKAM_WIRE_VERSION}, 1);
    }
    return &fn_conns[i];
}

/* ---- addresses the fuzzer can name ---------------------------------------------------- */

struct addr_list {
    char names[64][OCKAM_RELAY_NAME_MAX + 16];
    size_t n;
};

static void
collect(ockam_addr a, void *arg)
{
    struct addr_list *l = arg;
    if (l->n < 64 && a.len < sizeof l->names[0]) {
        memcpy(l->names[l->n], a.bytes, a.len);
        l->names[l->n][a.len] = '\0';
        l->n++;
    }
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* How many more times this input may name the secure channel listener. A handshake's first
 * message is any payload of 32 bytes or more, and each one costs the listener a key pair and
 * two X25519 operations: inputs that named it again and again spent half the run time there,
 * while the fuzzer cannot get past the second message (it needs the real keys). Two per input
 * keep two handshakes in progress at once. */
#define FN_API_PER_INPUT 2
static int fn_api_left;

/* One address of a route: a fixed service, a connection's sender, the secure channel
 * listener, the k-th registered
 * address (relays and portal workers have random names), or raw bytes of any type. */
static ockam_err
push_addr(struct rd *r, ockam_route *route)
{
    static const char *const fixed[] = {"echo", "uppercase", "hop", "forwarding_service",
        "static_forwarding_service", "outlet", "refused", "probe", OCKAM__NODEMANAGER_ADDR};
    size_t nfixed = sizeof fixed / sizeof fixed[0];
    uint8_t sel = u8(r);
    if (sel < nfixed)
        return ockam_route_push_back(route, ockam_addr_local(fixed[sel]));
    if (sel < nfixed + FN_CONNS) {
        ockam_conn *c = fn_conns[sel - nfixed].c;
        return ockam_route_push_back(route, ockam_addr_local(c ? ockam_conn_address(c) : "x"));
    }
    if (sel >= 190 && sel < 200) /* secure channels */
        return ockam_route_push_back(route, ockam_addr_local(fn_api_left-- > 0 ? "api" : "x"));
    if (sel < 200) {
        static struct addr_list l;
        l.n = 0;
        ockam_node_each_address(fn.node, collect, &l);
        qsort(l.names, l.n, sizeof l.names[0], cmp_names);
        size_t k = u8(r);
        return ockam_route_push_back(route, ockam_addr_local(l.n ? l.names[k % l.n] : "x"));
    }
    uint8_t type = u8(r);
    size_t len = u8(r) % 64;
    const uint8_t *bytes = take(r, &len);
    return ockam_route_push_back(route, ockam_addr_of(type, bytes, len));
}

/* A frame: nonward % 4 addresses, nret % 3 return addresses, then a payload: kind 0 raw bytes,
 * 1 a BARE string of them (relay names), 2 a portal Payload of them (03, length, bytes). */
static void
frame_op(struct rd *r)
{
    uint8_t sel = u8(r);
    struct fn_conn *fc = conn_at(sel, true);
    ockam_msg *m = ockam_msg_new();
    FUZZ_CHECK(m);
    size_t non = u8(r) % 4, nret = u8(r) % 3;
    ockam_err err = OCKAM_OK;
    for (size_t i = 0; i < non && !err; i++)
        err = push_addr(r, ockam_msg_onward(m));
    for (size_t i = 0; i < nret && !err; i++)
        err = push_addr(r, ockam_msg_return(m));
    uint8_t kind = u8(r);
    size_t len = u8(r);
    len |= (size_t)u8(r) << 8;
    const uint8_t *data = take(r, &len);
    uint8_t pre[1 + OCKAM__VARINT_MAX];
    size_t npre = 0;
    if (kind % 3 == 1) {
        npre = ockam__varint_put(pre, len);
    } else if (kind % 3 == 2) {
        pre[0] = 3;
        npre = 1 + ockam__varint_put(pre + 1, len);
    }
    uint8_t *payload = malloc(npre + len + 1);
    FUZZ_CHECK(payload);
    memcpy(payload, pre, npre);
    if (len)
        memcpy(payload + npre, data, len);
    if (!err)
        err = ockam_msg_set_payload(m, payload, npre + len);
    free(payload);
    if (!err && fc) {
        ockam_wire_profile profile = ockam_conn_profile(fc->c);
        size_t cap = ockam__frame_msg_size(profile, m);
        uint8_t *frame = malloc(cap ? cap : 1);
        size_t written = 0;
        FUZZ_CHECK(frame);
        if (ockam__frame_encode_msg(profile, m, frame, cap, &written) == OCKAM_OK) {
            fn_feed((size_t)(fc - fn_conns), frame, written);
        }
        free(frame);
    }
    ockam_msg_free(m);
}

/* Structures that grow once and stay (connection maps, the registry's buckets) are made by a
 * first input that uses every connection slot, before any baseline is taken. */
static const uint8_t fn_warm_up[] = {
    1, 0, 1, 0, 0, 0, 1, 0, 'x', 1, 1, 1, 0, 0, 0, 1, 0, 'x', 1, 2, 1, 0, 0, 0, 1, 0, 'x', 1, 3, 1,
    0, 0, 0, 1, 0, 'x', 4, 3, 1, 1, 3, 1, 0, 0, 0, 1, 0, 'x', 3, 7, //
};

/* Apply the operations of data[0..size) to the connection slots as they are (see
 * fn_reset_slots), then close every connection. */
static void
run_input(const uint8_t *data, size_t size)
{
    struct rd r = {data, size};
    fn_api_left = FN_API_PER_INPUT;
    for (int ops = 0; r.n && ops < 128; ops++) {
        uint8_t op = u8(&r) % 6;
        if (op == 0) {
            struct fn_conn *fc = conn_at(u8(&r), false);
            size_t len = u8(&r);
            const uint8_t *bytes = take(&r, &len);
            if (fc)
                fn_feed((size_t)(fc - fn_conns), bytes, len);
        } else if (op == 1) {
            frame_op(&r);
        } else if (op == 2) {
            struct fn_conn *fc = &fn_conns[u8(&r) % FN_CONNS];
            if (fc->c)
                ockam__conn_feed_eof(fc->c);
        } else if (op == 3) {
            for (int n = u8(&r) % 8 + 1; n > 0; n--)
                fn_turn();
        } else if (op == 5) {
            fn_advance((uint64_t)u8(&r) * 100);
        } else {
            size_t i = u8(&r) % FN_CONNS;
            ockam_wire_profile profile = u8(&r) & 1 ? OCKAM_WIRE_LEGACY : OCKAM_WIRE_CURRENT;
            if (fn_conns[i].c)
                ockam_conn_close(fn_conns[i].c);
            for (int n = 0; fn_conns[i].c && n < 64; n++)
                fn_turn();
            if (!fn_conns[i].c) {
                if (fn_conns[i].peer >= 0)
                    close(fn_conns[i].peer);
                fn_conns[i].peer = -1;
                if (fn_conn_open(i, profile) && profile == OCKAM_WIRE_CURRENT)
                    fn_feed(i, (const uint8_t[]) {OCKAM_WIRE_VERSION}, 1);
            }
        }
    }
    for (int n = 0; n < 4; n++)
        fn_turn();
    fn_close_all();
}

#endif
