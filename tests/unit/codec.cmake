# Codec unit tests (the vectors of docs/wire.md, prefixes, mutations, limits). Included from
# tests/CMakeLists.txt; each file is one cmocka executable linked with the shared helpers.
set(_codec_util ${CMAKE_CURRENT_LIST_DIR}/codec_util.c)
foreach(_t test_codec_bare test_codec_cbor test_framing test_multiaddr test_udp_frag)
    ockam_add_test(${_t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${_t}.c ${_codec_util} LABELS unit)
endforeach()
