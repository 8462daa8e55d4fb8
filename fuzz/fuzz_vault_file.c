/* The vault file parser. Properties: never a crash or a read past the input; a file that
 * parses encodes back to exactly the same bytes (one encoding per key ring). Each input is
 * tried as given and with its checksum recomputed, so that mutations reach the layout
 * checks behind the checksum. */
#include "fuzz_util.h"
#include "identity/crypto.h"
#include "identity/vault_internal.h"

static void
check(const uint8_t *data, size_t size)
{
    ockam__keyring kr = {0};
    uint8_t *copy = fuzz_dup(data, size);
    ockam_err err = ockam__vault_file_decode(copy, size, &kr);
    FUZZ_CHECK(err == OCKAM_OK || err == OCKAM_EVAULTFILE || err == OCKAM_ENOMEM);
    if (err == OCKAM_OK) {
        uint8_t *out = NULL;
        size_t len = 0;
        FUZZ_CHECK(ockam__vault_file_encode(&kr, &out, &len) == OCKAM_OK);
        FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
        ockam_secure_zero(out, len);
        ockam__free(out);
    } else {
        FUZZ_CHECK(kr.count == 0 && kr.keys == NULL);
    }
    ockam__keyring_clear(&kr);
    free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size);
    if (size < 32)
        return 0;
    uint8_t *fixed = fuzz_dup(data, size);
    FUZZ_CHECK(ockam__sha256(fixed, size - 32, fixed + size - 32) == OCKAM_OK);
    check(fixed, size);
    free(fixed);
    return 0;
}
