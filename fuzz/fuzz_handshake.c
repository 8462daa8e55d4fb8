/* Noise XX handshake messages and the identity payload they carry, as a responder and an
 * initiator receive them. The first input byte picks the step:
 *   0: message 1 at a responder (any 32+ bytes are an ephemeral key), which then answers;
 *   1: message 2 at an initiator that sent a genuine message 1;
 *   2: message 3 at a responder that got a genuine message 1 and sent message 2;
 *   3: an IdentityAndCredentials payload checked against a fixed static key.
 * Properties: no read past the input (each step gets an exact-size heap copy); a failed read
 * ends the handshake (nothing more may be written); forged messages 2 and 3 never
 * authenticate; a payload never verifies against a key it does not attest. */
#include "channel/noise.h"
#include "fuzz_util.h"
#include "identity/sc_payload.h"

static const uint8_t s_i[32] = {1}, s_r[32] = {2}, e_i[32] = {3}, e_r[32] = {4};

static void
init_pair(ockam__noise *i, ockam__noise *r)
{
    FUZZ_CHECK(ockam__noise_init(i, true, OCKAM__NOISE_NAME, NULL, 0, s_i, e_i) == OCKAM_OK);
    FUZZ_CHECK(ockam__noise_init(r, false, OCKAM__NOISE_NAME, NULL, 0, s_r, e_r) == OCKAM_OK);
}

static void
exchange(ockam__noise *from, ockam__noise *to)
{
    uint8_t msg[128], out[128];
    size_t n, got;
    FUZZ_CHECK(ockam__noise_write(from, NULL, 0, msg, sizeof msg, &n) == OCKAM_OK);
    FUZZ_CHECK(ockam__noise_read(to, msg, n, out, sizeof out, &got) == OCKAM_OK);
}

static void
feed(ockam__noise *st, const uint8_t *data, size_t size, bool may_pass)
{
    uint8_t *copy = fuzz_dup(data, size), *out = malloc(size ? size : 1), msg[128];
    size_t got, n;
    FUZZ_CHECK(out);
    ockam_err err = ockam__noise_read(st, copy, size, out, size, &got);
    FUZZ_CHECK(may_pass || err != OCKAM_OK);
    if (err != OCKAM_OK)
        FUZZ_CHECK(ockam__noise_write(st, NULL, 0, msg, sizeof msg, &n) == OCKAM_EPROTO);
    else
        FUZZ_CHECK(got + 32 <= size);
    free(copy);
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ockam__noise i, r;
    char id[66];
    if (size == 0)
        return 0;
    uint8_t step = data[0] % 4;
    data++, size--;
    if (size > OCKAM__NOISE_MAX_MSG)
        return 0;
    init_pair(&i, &r);
    switch (step) {
    case 0:
        feed(&r, data, size, true);
        break;
    case 1:
        exchange(&i, &r);
        feed(&i, data, size, false);
        break;
    case 2:
        exchange(&i, &r);
        exchange(&r, &i);
        feed(&r, data, size, false);
        break;
    default: {
        uint8_t *copy = fuzz_dup(data, size);
        FUZZ_CHECK(ockam__sc_payload_verify(copy, size, s_i, 1700000000, id) != OCKAM_OK);
        free(copy);
    }
    }
    ockam__noise_clear(&i);
    ockam__noise_clear(&r);
    return 0;
}
