# Identities, attestations, the secure-channel payload and vaults.
foreach(_t test_crypto test_identity test_attestation test_vault test_vault_zero)
    ockam_add_test(${_t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${_t}.c
                   ${CMAKE_CURRENT_LIST_DIR}/identity_util.c LABELS unit LIBS PkgConfig::OPENSSL)
endforeach()
