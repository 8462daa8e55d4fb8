/* The Noise XX handshake over routing: initiator, listener and responder.
 *
 *   initiator                         listener            responder (new per message 1)
 *   msg 1 [e] from decryptor -------> api --------------> read, write msg 2 to msg 1's return
 *   <----------------------------------------------------- msg 2 [e, ee, s, es, payload]
 *   verify payload, trust; msg 3 to msg 2's return route -> verify payload, trust
 *   open: encrypt with k2                                  open: encrypt with k1
 *
 * A handshake that fails is over at once: the initiator's callback gets the reason, the
 * responder drops everything without an answer (Ockam sends none), and the end's worker is
 * stopped, so nothing is left behind. Each end has a timer for the whole handshake. */
#include "channel/channel_internal.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>

/* ---- common ---------------------------------------------------------------------------- */

static void
fail(ockam_sc *sc, ockam_err status, const char *why)
{
    OCKAM_LOG_W("secure channel %s (%s): handshake failed: %s (%s)", sc->decryptor,
        sc->initiator ? "initiator" : "responder", why, ockam_strerror(status));
    sc->fail = status;
    ockam__sc_stop(sc);
}

static void
on_timeout(ockam_timer *t, void *user)
{
    ockam_sc *sc = user;
    sc->timer = NULL; /* a one-shot timer: stopped by ockam__sc_handshake_end below */
    ockam_timer_stop(t);
    fail(sc, OCKAM_ETIMEDOUT, "no answer in time");
}

static void
listener_unref(ockam_sc_listener *l)
{
    if (--l->refs > 0)
        return;
    ockam__noise_key_free(l->s_key);
    ockam__sc_creds_clear(&l->creds);
    ockam__sc_trust_free(&l->trust);
    ockam__free(l->address);
    ockam__free(l);
}

static void
free_handshake(ockam_sc *sc)
{
    if (sc->timer)
        ockam_timer_stop(sc->timer);
    sc->timer = NULL;
    if (sc->hs) {
        ockam__noise_clear(sc->hs);
        ockam__free(sc->hs);
        sc->hs = NULL;
    }
    ockam__sc_creds_clear(&sc->creds);
    ockam__sc_trust_free(&sc->trust);
    if (sc->listener) {
        sc->listener->half_open--;
        if (sc->listener->half_open < sc->listener->max_half_open)
            sc->listener->full_logged = false;
        listener_unref(sc->listener);
        sc->listener = NULL;
    }
}

void
ockam__sc_handshake_end(ockam_sc *sc, ockam_err status)
{
    ockam_sc_open_cb cb = sc->open_cb;
    void *user = sc->open_user;
    sc->open_cb = NULL;
    free_handshake(sc);
    if (cb)
        cb(NULL, status, user);
}

/* Verify the peer's IdentityAndCredentials against the static key the handshake used, then
 * the trust policy. */
static ockam_err
check_peer(ockam_sc *sc, const uint8_t *payload, size_t len, const struct ockam__sc_trust *t)
{
    ockam_err err = ockam__sc_payload_verify(payload, len, sc->hs->rs, ockam__sc_now_s(), sc->peer);
    if (err)
        return err;
    if (!ockam__sc_trust_allows(t, sc->peer))
        return OCKAM_EUNTRUSTED;
    return OCKAM_OK;
}

static ockam_err
split_and_open(ockam_sc *sc, ockam_flow_id spawner)
{
    uint8_t k1[OCKAM__KEY_LEN], k2[OCKAM__KEY_LEN];
    ockam_err err = ockam__noise_split(sc->hs, k1, k2);
    if (!err)
        err = ockam__sc_open(sc, k1, k2, spawner);
    OPENSSL_cleanse(k1, sizeof k1);
    OPENSSL_cleanse(k2, sizeof k2);
    return err;
}

static ockam_err
set_remote(ockam_sc *sc, const ockam_msg *from)
{
    ockam_route_free(sc->remote);
    sc->remote = ockam_route_new();
    if (!sc->remote || ockam_route_copy(sc->remote, &from->ret))
        return OCKAM_ENOMEM;
    if (ockam_route_len(sc->remote) == 0)
        return OCKAM_EROUTE;
    sc->remote_origin = from->origin;
    return OCKAM_OK;
}

/* Write this side's next handshake message with `payload` and send it back along msg's return
 * route, from the decryptor; msg is reused (consumed). */
static ockam_err
answer(ockam_sc *sc, ockam_msg *msg, const uint8_t *payload, size_t payload_len)
{
    size_t need = ockam__noise_next_len(sc->hs, payload_len), n;
    uint8_t *buf = ockam__alloc(need);
    if (!buf) {
        ockam_msg_free(msg);
        return OCKAM_ENOMEM;
    }
    ockam_err err = ockam__noise_write(sc->hs, payload, payload_len, buf, need, &n);
    if (err)
        ockam_msg_free(msg);
    else
        err = ockam_reply(sc->worker, msg, buf, n);
    ockam__free(buf);
    return err;
}

/* Read the peer's handshake message into a fresh buffer (caller frees *plain; NULL after an
 * error, so that every caller may free it whatever the result). */
static ockam_err
read_msg(ockam_sc *sc, const ockam_msg *msg, uint8_t **plain, size_t *plain_len)
{
    ockam_slice m = ockam_msg_payload(msg);
    *plain = NULL;
    if (m.len > OCKAM__NOISE_MAX_MSG)
        return OCKAM_EMSGSIZE;
    *plain = ockam__alloc(m.len ? m.len : 1);
    if (!*plain)
        return OCKAM_ENOMEM;
    ockam_err err = ockam__noise_read(sc->hs, m.ptr, m.len, *plain, m.len, plain_len);
    if (err) {
        ockam__free(*plain);
        *plain = NULL;
    }
    return err;
}

static ockam_err
start_handshake(ockam_sc *sc, const uint8_t static_secret[32], void *s_key, uint32_t timeout_ms)
{
    sc->hs = ockam__zalloc(sizeof *sc->hs);
    if (!sc->hs)
        return OCKAM_ENOMEM;
    ockam_err err = ockam__noise_init_key(
        sc->hs, sc->initiator, OCKAM__NOISE_NAME, NULL, 0, static_secret, s_key, NULL);
    if (err)
        return err;
    return ockam_timer_start(sc->node, timeout_ms, 0, on_timeout, sc, &sc->timer);
}

/* ---- initiator --------------------------------------------------------------------------- */

/* The initiator's credentials, kept per thread for the identity that made them last: making
 * them signs a new attestation and reads the vault, about a tenth of a handshake's work. They
 * are made again for another identity (or the same one after a key rotation) and once a day.
 * Per thread, because nodes on different threads open channels concurrently; a thread's entry
 * is erased and freed when the thread exits. */
struct creds_cache {
    const ockam_identity *id;
    char identifier[OCKAM_SC_IDENTIFIER_SIZE];
    size_t changes;
    uint64_t made;
    ockam__sc_creds creds;
    /* The static key as an OpenSSL object: importing the raw secret for every handshake
     * makes OpenSSL compute its public key again (an X25519 scalar multiplication). */
    void *s_key;
    bool registered;
};

static _Thread_local struct creds_cache cached;
static pthread_key_t cached_key;
static pthread_once_t cached_once = PTHREAD_ONCE_INIT;

static void
cached_drop(void *arg)
{
    struct creds_cache *c = arg;
    ockam__sc_creds_clear(&c->creds);
    ockam__noise_key_free(c->s_key);
    c->s_key = NULL;
    c->id = NULL;
}

static void
cached_key_init(void)
{
    (void)pthread_key_create(&cached_key, cached_drop);
}

static bool
cached_fits(ockam_identity *id, uint64_t now)
{
    return cached.id == id && cached.creds.payload
        && strcmp(cached.identifier, ockam_identity_identifier(id)) == 0
        && cached.changes == ockam_identity_change_count(id)
        && now - cached.made < OCKAM__SC_CREDS_RENEW_S;
}

/* The credentials (a copy of the payload for the caller to free) and the static key (shared:
 * the caller takes a reference of its own, see ockam__noise_init_key). */
static ockam_err
initiator_creds(ockam_identity *id, ockam__sc_creds *out, void **s_key)
{
    uint64_t now = ockam__sc_now_s();
    if (!cached_fits(id, now)) {
        ockam__sc_creds fresh;
        void *key = NULL;
        ockam_err err = ockam__sc_creds_make(id, now, OCKAM__SC_CREDS_TTL_S, &fresh);
        if (!err && (err = ockam__noise_key_new(fresh.static_secret, &key)) != OCKAM_OK)
            ockam__sc_creds_clear(&fresh);
        if (err)
            return err;
        if (!cached.registered) {
            (void)pthread_once(&cached_once, cached_key_init);
            cached.registered = pthread_setspecific(cached_key, &cached) == 0;
        }
        cached_drop(&cached);
        cached.creds = fresh;
        cached.s_key = key;
        cached.id = id;
        snprintf(cached.identifier, sizeof cached.identifier, "%s", ockam_identity_identifier(id));
        cached.changes = ockam_identity_change_count(id);
        cached.made = now;
    }
    *out = cached.creds;
    out->payload = ockam__alloc(cached.creds.payload_len);
    if (!out->payload) {
        *out = (ockam__sc_creds) {0};
        return OCKAM_ENOMEM;
    }
    memcpy(out->payload, cached.creds.payload, cached.creds.payload_len);
    *s_key = cached.s_key;
    return OCKAM_OK;
}

/* Message 2 arrived: check the responder, answer with message 3, open. */
static void
initiator_on_msg2(ockam_sc *sc, ockam_msg *msg)
{
    uint8_t *plain;
    size_t plain_len = 0;
    ockam_err err = read_msg(sc, msg, &plain, &plain_len);
    if (!err)
        err = check_peer(sc, plain, plain_len, &sc->trust);
    ockam__free(plain);
    if (err) {
        ockam_msg_free(msg);
        fail(sc, err, err == OCKAM_EUNTRUSTED ? "responder not trusted" : "message 2 refused");
        return;
    }
    if ((err = set_remote(sc, msg)) != OCKAM_OK) {
        ockam_msg_free(msg);
        fail(sc, err, "no route back");
        return;
    }
    err = answer(sc, msg, sc->creds.payload, sc->creds.payload_len);
    if (!err)
        err = split_and_open(sc, 0);
    if (err) {
        fail(sc, err, "cannot send message 3");
        return;
    }
    ockam_sc_open_cb cb = sc->open_cb;
    void *user = sc->open_user;
    sc->open_cb = NULL;
    free_handshake(sc);
    OCKAM_LOG_I("secure channel %s: open to %s", sc->encryptor, sc->peer);
    cb(sc, OCKAM_OK, user);
}

ockam_err
ockam_sc_create(ockam_node *node, ockam_identity *id, const ockam_route *to,
    const ockam_sc_opts *opts, ockam_sc_open_cb cb, void *user)
{
    ockam_sc *sc;
    uint8_t m1[OCKAM__DH_LEN];
    size_t n;
    void *s_key = NULL;
    if (!node || !id || !to || ockam_route_len(to) == 0 || !cb)
        return OCKAM_EINVAL;
    uint32_t timeout = opts && opts->timeout_ms ? opts->timeout_ms : OCKAM__SC_DEFAULT_TIMEOUT_MS;
    ockam_err err = ockam__sc_new(node, true, &sc);
    if (err)
        return err;
    err = ockam__sc_trust_copy(&sc->trust, opts ? &opts->trust : NULL);
    if (!err)
        err = initiator_creds(id, &sc->creds, &s_key);
    if (!err)
        err = start_handshake(sc, sc->creds.static_secret, s_key, timeout);
    if (!err)
        err = ockam__noise_write(sc->hs, NULL, 0, m1, sizeof m1, &n);
    ockam_msg *msg = err ? NULL : ockam_msg_new();
    if (!err && !msg)
        err = OCKAM_ENOMEM;
    if (!err && (ockam_route_copy(&msg->onward, to) || ockam_msg_set_payload(msg, m1, n))) {
        ockam_msg_free(msg);
        err = OCKAM_ENOMEM;
    }
    if (!err)
        err = ockam_send(sc->worker, msg); /* return route [decryptor] */
    if (err) {
        ockam__sc_stop(sc); /* no callback yet: open_cb is still unset */
        return err;
    }
    sc->open_cb = cb;
    sc->open_user = user;
    return OCKAM_OK;
}

struct sync_open {
    bool done;
    ockam_err status;
    ockam_sc *sc;
};

static void
sync_cb(ockam_sc *sc, ockam_err status, void *user)
{
    struct sync_open *s = user;
    s->done = true;
    s->status = status;
    s->sc = sc;
}

ockam_err
ockam_sc_create_sync(ockam_node *node, ockam_identity *id, const ockam_route *to,
    const ockam_sc_opts *opts, ockam_sc **out)
{
    struct sync_open s = {0};
    *out = NULL;
    ockam_err err = ockam_sc_create(node, id, to, opts, sync_cb, &s);
    if (err)
        return err;
    while (!s.done)
        ockam_node_run_once(node);
    *out = s.sc;
    return s.status;
}

/* ---- responder ------------------------------------------------------------------------------ */

/* Message 3 arrived: check the initiator and open. */
static void
responder_on_msg3(ockam_sc *sc, ockam_msg *msg)
{
    uint8_t *plain;
    size_t plain_len = 0;
    ockam_sc_listener *l = sc->listener;
    ockam_err err = read_msg(sc, msg, &plain, &plain_len);
    ockam_msg_free(msg);
    if (!err)
        err = check_peer(sc, plain, plain_len, &l->trust);
    ockam__free(plain);
    if (!err)
        err = split_and_open(sc, l->flow);
    if (err) {
        fail(sc, err, err == OCKAM_EUNTRUSTED ? "initiator not trusted" : "message 3 refused");
        return;
    }
    void (*on_channel)(ockam_sc *, void *) = l->on_channel;
    void *user = l->user;
    free_handshake(sc); /* may free the listener if it was stopped meanwhile */
    OCKAM_LOG_I("secure channel %s: accepted from %s", sc->encryptor, sc->peer);
    if (on_channel)
        on_channel(sc, user);
}

void
ockam__sc_on_handshake(ockam_sc *sc, ockam_msg *msg)
{
    if (sc->initiator && sc->hs->step == 1) {
        initiator_on_msg2(sc, msg);
    } else if (!sc->initiator && sc->hs->step == 2) {
        responder_on_msg3(sc, msg);
    } else {
        ockam_msg_free(msg);
        fail(sc, OCKAM_EPROTO, "unexpected handshake message");
    }
}

/* The listener's attestation, renewed once a day (it is valid for OCKAM__SC_CREDS_TTL_S). The
 * static key stays the same (the identity's vault keeps it), so does the shared key object. */
static ockam_err
listener_creds(ockam_sc_listener *l)
{
    uint64_t now = ockam__sc_now_s();
    if (now - l->creds_made < OCKAM__SC_CREDS_RENEW_S)
        return OCKAM_OK;
    ockam__sc_creds fresh;
    ockam_err err = ockam__sc_creds_make(l->id, now, OCKAM__SC_CREDS_TTL_S, &fresh);
    if (err)
        return err;
    if (CRYPTO_memcmp(fresh.static_public, l->creds.static_public, 32) != 0) {
        void *key;
        if ((err = ockam__noise_key_new(fresh.static_secret, &key)) != OCKAM_OK) {
            ockam__sc_creds_clear(&fresh);
            return err;
        }
        ockam__noise_key_free(l->s_key);
        l->s_key = key;
    }
    ockam__sc_creds_clear(&l->creds);
    l->creds = fresh;
    l->creds_made = now;
    return OCKAM_OK;
}

/* A new responder for message 1; it answers with message 2. */
static void
accept_msg1(ockam_sc_listener *l, ockam_msg *msg)
{
    ockam_sc *sc;
    uint8_t *plain;
    size_t plain_len;
    ockam_err err = listener_creds(l);
    if (!err)
        err = ockam__sc_new(l->node, false, &sc);
    if (err) {
        OCKAM_LOG_W("secure channel listener: cannot start a responder: %s", ockam_strerror(err));
        ockam_msg_free(msg);
        return;
    }
    sc->listener = l;
    l->refs++;
    l->half_open++;
    /* Frames will come the way message 1 came. */
    ockam_origin o = ockam_msg_origin(msg);
    if (o.producer)
        err = ockam_flow_add_consumer(l->node, sc->decryptor, o.producer);
    if (!err && o.spawner)
        err = ockam_flow_add_consumer(l->node, sc->decryptor, o.spawner);
    if (!err)
        err = start_handshake(sc, l->creds.static_secret, l->s_key, l->timeout_ms);
    if (!err)
        err = read_msg(sc, msg, &plain, &plain_len);
    if (!err) {
        ockam__free(plain); /* message 1's payload is not used (Ockam sends none) */
        err = set_remote(sc, msg);
    }
    if (err) {
        ockam_msg_free(msg);
        fail(sc, err, "message 1 refused");
        return;
    }
    if ((err = answer(sc, msg, l->creds.payload, l->creds.payload_len)) != OCKAM_OK)
        fail(sc, err, "cannot send message 2");
}

static void
listener_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_sc_listener *l = user;
    if (l->half_open >= l->max_half_open) {
        l->refused++;
        if (!l->full_logged)
            OCKAM_LOG_W("secure channel listener %s: %zu handshakes in progress, refusing more",
                l->address, l->half_open);
        l->full_logged = true;
        ockam_msg_free(msg);
        return;
    }
    accept_msg1(l, msg);
}

static void
listener_on_stop(ockam_worker *w, void *user)
{
    ockam_sc_listener *l = user;
    l->worker = NULL;
    listener_unref(l);
}

ockam_err
ockam_sc_listen(ockam_node *node, ockam_identity *id, const char *address,
    const ockam_sc_listener_opts *opts, ockam_sc_listener **out)
{
    if (!node || !id || !address)
        return OCKAM_EINVAL;
    ockam_sc_listener *l = ockam__zalloc(sizeof *l);
    if (!l)
        return OCKAM_ENOMEM;
    l->node = node;
    l->refs = 1;
    if (!(l->address = ockam__strdup(address))) {
        ockam__free(l);
        return OCKAM_ENOMEM;
    }
    l->timeout_ms = opts && opts->handshake_timeout_ms ? opts->handshake_timeout_ms
                                                       : OCKAM__SC_DEFAULT_TIMEOUT_MS;
    l->max_half_open
        = opts && opts->max_half_open ? opts->max_half_open : OCKAM__SC_DEFAULT_MAX_HALF_OPEN;
    l->on_channel = opts ? opts->on_channel : NULL;
    l->user = opts ? opts->user : NULL;
    ockam_err err = ockam__sc_trust_copy(&l->trust, opts ? &opts->trust : NULL);
    if (!err)
        err = ockam__sc_creds_make(id, ockam__sc_now_s(), OCKAM__SC_CREDS_TTL_S, &l->creds);
    l->id = id;
    l->creds_made = ockam__sc_now_s();
    if (!err)
        err = ockam__noise_key_new(l->creds.static_secret, &l->s_key);
    ockam_worker_opts wo
        = {.on_message = listener_on_message, .on_stop = listener_on_stop, .user = l};
    if (!err)
        err = ockam_worker_start(node, address, &wo, &l->worker);
    if (err) {
        listener_unref(l);
        return err;
    }
    l->flow = ockam_flow_id_new(node);
    if (out)
        *out = l;
    return OCKAM_OK;
}

ockam_flow_id
ockam_sc_listener_flow_id(const ockam_sc_listener *l)
{
    return l->flow;
}

size_t
ockam_sc_listener_half_open(const ockam_sc_listener *l)
{
    return l->half_open;
}

uint64_t
ockam_sc_listener_refused(const ockam_sc_listener *l)
{
    return l->refused;
}

void
ockam_sc_listener_stop(ockam_sc_listener *l)
{
    if (l && l->worker)
        ockam_worker_stop(l->worker); /* listener_on_stop drops the worker's reference */
}
