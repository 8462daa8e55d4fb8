/* Purpose-key attestations and the secure-channel payload. The input is
 *   u16 (big-endian) n || n bytes: a change history || the rest: an attestation
 * so that seeds carry their own subject and mutations reach every check. Properties: never a
 * crash; an attestation accepted at time T names the subject and its latest change; the
 * attestation decoder alone never reads past the input; the same bytes given as a whole
 * secure-channel payload [history, attestation, []] verify exactly when the pair does. */
#include "fuzz_util.h"
#include "identity/identity_internal.h"
#include "identity/sc_payload.h"

#define NOW 1765000000ull /* the seeds are valid at this time */

static void
check_payload(const ockam_slice h, const uint8_t *att, size_t att_len, ockam_err pair_err,
    const uint8_t key[32])
{
    ockam__wbuf w = {0};
    char ident[66];
    ockam__wbuf_head(&w, OCKAM__CBOR_ARRAY, 3);
    ockam__wbuf_raw(&w, h.ptr, h.len);
    ockam__wbuf_raw(&w, att, att_len);
    ockam__wbuf_head(&w, OCKAM__CBOR_ARRAY, 0);
    FUZZ_CHECK(!w.oom);
    uint8_t *p = fuzz_dup(w.p, w.len);
    ockam_err err = ockam__sc_payload_verify(p, w.len, key, NOW, ident);
    FUZZ_CHECK((err == OCKAM_OK) == (pair_err == OCKAM_OK));
    free(p);
    ockam__wbuf_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ockam__attestation_data ad;
    uint8_t *copy = fuzz_dup(data, size);
    (void)ockam__attestation_data_decode(copy, size, &ad);
    free(copy);
    if (size < 2 || (size_t)(data[0] << 8 | data[1]) > size - 2)
        return 0;
    size_t n = (size_t)(data[0] << 8 | data[1]);
    uint8_t *hist = fuzz_dup(data + 2, n), *att = fuzz_dup(data + 2 + n, size - 2 - n);
    ockam_identity *id = NULL;
    if (ockam_identity_import(hist, n, NULL, &id) == OCKAM_OK) {
        uint8_t key[32] = {0};
        ockam_err err = ockam_attestation_verify(id, att, size - 2 - n, NOW, key);
        if (err == OCKAM_OK) {
            ockam__cbor_rd r = {att, size - 2 - n, 0};
            ockam_slice d, in;
            ockam__sig sig;
            FUZZ_CHECK(ockam__attestation_decode(&r, &d, &sig) == OCKAM_OK);
            FUZZ_CHECK(ockam__versioned_decode(d.ptr, d.len, 2, &in) == OCKAM_OK);
            FUZZ_CHECK(ockam__attestation_data_decode(in.ptr, in.len, &ad) == OCKAM_OK);
            FUZZ_CHECK(memcmp(ad.subject, id->id, 32) == 0);
            FUZZ_CHECK(memcmp(ad.latest_change, id->changes[id->count - 1].hash, 32) == 0);
            FUZZ_CHECK(ad.expires_at >= NOW && ad.created_at <= NOW + 60);
        }
        check_payload(ockam_identity_export(id), att, size - 2 - n, err, key);
    }
    ockam_identity_free(id);
    free(hist);
    free(att);
    return 0;
}
