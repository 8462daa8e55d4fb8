/* The secure-channel payload IdentityAndCredentials (see sc_payload.h). */
#include "identity/sc_payload.h"

#include "identity/identity_internal.h"

#include <openssl/crypto.h>
#include <stdio.h>

/* The label of an identity's secure-channel key in its vault: one key per identity. */
static void
sc_label(const ockam_identity *id, char label[OCKAM_VAULT_LABEL_MAX + 1])
{
    snprintf(label, OCKAM_VAULT_LABEL_MAX + 1, "%s/secure-channel", id->id_str);
}

void
ockam__sc_creds_clear(ockam__sc_creds *c)
{
    if (!c)
        return;
    ockam_secure_zero(c->static_secret, sizeof(c->static_secret));
    ockam__free(c->payload);
    *c = (ockam__sc_creds) {0};
}

/* The identity's secure-channel key pair: the one in the vault, or a new one. */
static ockam_err
sc_key(ockam_identity *id, ockam__sc_creds *out)
{
    char label[OCKAM_VAULT_LABEL_MAX + 1];
    sc_label(id, label);
    ockam_err err = ockam_vault_find(id->vault, OCKAM_KEY_X25519, label, out->static_public);
    if (err == OCKAM_ENOKEY)
        err = ockam_vault_generate(id->vault, OCKAM_KEY_X25519, label, out->static_public);
    return err ? err : ockam_vault_x25519_secret(id->vault, out->static_public, out->static_secret);
}

ockam_err
ockam__sc_creds_make(ockam_identity *id, uint64_t now_s, uint64_t ttl_s, ockam__sc_creds *out)
{
    if (!out)
        return OCKAM_EINVAL;
    *out = (ockam__sc_creds) {0};
    if (!id || !id->vault || now_s > UINT64_MAX - ttl_s)
        return OCKAM_EINVAL;
    /* The attestation must lie inside the identity key's window: end it there at the latest
     * (a channel key outliving its identity key would be refused by every peer). */
    uint64_t until = id->changes[id->count - 1].valid_until;
    uint64_t expires = now_s + ttl_s < until ? now_s + ttl_s : until;
    uint8_t *att = NULL;
    size_t att_len = 0;
    ockam__wbuf w = {0};
    ockam_err err = sc_key(id, out);
    if (!err)
        err = ockam_identity_attest_sc_key(id, out->static_public, now_s, expires, &att, &att_len);
    if (!err) {
        ockam__wbuf_head(&w, OCKAM__CBOR_ARRAY, 3);
        ockam__wbuf_raw(&w, id->history, id->history_len);
        ockam__wbuf_raw(&w, att, att_len);
        ockam__wbuf_head(&w, OCKAM__CBOR_ARRAY, 0); /* no credentials */
        err = w.oom ? OCKAM_ENOMEM : OCKAM_OK;
    }
    ockam__free(att);
    if (err) {
        ockam__wbuf_free(&w);
        ockam__sc_creds_clear(out);
        return err;
    }
    out->payload = w.p;
    out->payload_len = w.len;
    return OCKAM_OK;
}

/* [change_history, attestation, credentials]: views of the first two items; the
 * credentials must be an array of well-formed items (we do not check them: no authority). */
static ockam_err
payload_split(const uint8_t *p, size_t len, ockam_slice *history, ockam_slice *att)
{
    ockam__cbor_rd r = {p, len, 0};
    uint64_t n, creds;
    ockam_err err = ockam__cbor_array(&r, 1, &n);
    if (err)
        return err;
    if (n < 3)
        return OCKAM_ECBORTYPE;
    size_t start = r.pos;
    if ((err = ockam__cbor_skip(&r)))
        return err;
    *history = (ockam_slice) {p + start, r.pos - start};
    start = r.pos;
    if ((err = ockam__cbor_skip(&r)))
        return err;
    *att = (ockam_slice) {p + start, r.pos - start};
    err = ockam__cbor_array(&r, 1, &creds);
    if (!err)
        err = ockam__cbor_skip_n(&r, creds);
    if (!err)
        err = ockam__cbor_skip_n(&r, n - 3);
    if (!err && r.pos != len)
        err = OCKAM_ETRAILING;
    return err;
}

ockam_err
ockam__sc_payload_verify_identity(const uint8_t *payload, size_t len, const uint8_t peer_static[32],
    uint64_t now_s, ockam_identity **peer)
{
    ockam_slice history, att;
    ockam_identity *id = NULL;
    uint8_t attested[32];
    if (peer)
        *peer = NULL;
    if (!payload || !peer_static)
        return OCKAM_EINVAL;
    ockam_err err = payload_split(payload, len, &history, &att);
    if (!err)
        err = ockam_identity_import(history.ptr, history.len, NULL, &id);
    if (!err)
        err = ockam_attestation_verify(id, att.ptr, att.len, now_s, attested);
    /* The one link between the Noise session and the identity: the attested key is the
     * static key the peer proved it holds in the handshake. */
    if (!err && CRYPTO_memcmp(attested, peer_static, 32) != 0)
        err = OCKAM_EKEYMISMATCH;
    if (err || !peer) {
        ockam_identity_free(id);
        return err;
    }
    *peer = id;
    return OCKAM_OK;
}

ockam_err
ockam__sc_payload_verify(const uint8_t *payload, size_t len, const uint8_t peer_static[32],
    uint64_t now_s, char out_identifier[66])
{
    ockam_identity *id = NULL;
    if (!out_identifier)
        return OCKAM_EINVAL;
    ockam_err err = ockam__sc_payload_verify_identity(payload, len, peer_static, now_s, &id);
    if (err)
        return err;
    memcpy(out_identifier, id->id_str, OCKAM_IDENTIFIER_STR_SIZE);
    ockam_identity_free(id);
    return OCKAM_OK;
}
