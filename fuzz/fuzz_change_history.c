/* Change histories (the identity decoder and verifier). Properties: never a crash or a read
 * past the input; the record decoders agree with the verifier on what is malformed; a
 * history that verifies exports byte for byte as given, its identifier is "I" + 64 hex of
 * the first change's hash, and importing the export gives the same identity. */
#include "fuzz_util.h"
#include "identity/identity_internal.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = fuzz_dup(data, size);
    ockam_slice inner;
    ockam__change_data cd;
    /* The inner decoders alone, on the same bytes. */
    (void)ockam__versioned_decode(copy, size, OCKAM__DATA_CHANGE, &inner);
    (void)ockam__change_data_decode(copy, size, &cd);

    ockam_identity *id = NULL, *again = NULL;
    ockam_err err = ockam_identity_import(copy, size, NULL, &id);
    FUZZ_CHECK((err == OCKAM_OK) == (id != NULL));
    FUZZ_CHECK(err != OCKAM_EAGAIN);
    if (err == OCKAM_OK) {
        ockam_slice s = ockam_identity_export(id);
        FUZZ_CHECK(s.len == size && memcmp(s.ptr, data, size) == 0);
        FUZZ_CHECK(ockam_identity_change_count(id) >= 1);
        FUZZ_CHECK(memcmp(id->id, id->changes[0].hash, 32) == 0);
        FUZZ_CHECK(strlen(ockam_identity_identifier(id)) == 65);
        FUZZ_CHECK(
            ockam_identity_import(s.ptr, s.len, ockam_identity_identifier(id), &again) == OCKAM_OK);
        FUZZ_CHECK(strcmp(ockam_identity_identifier(again), ockam_identity_identifier(id)) == 0);
    }
    ockam_identity_free(again);
    ockam_identity_free(id);
    free(copy);
    return 0;
}
