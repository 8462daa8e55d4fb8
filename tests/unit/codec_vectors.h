/* Every hex vector of docs/wire.md, shared by the codec tests. Placeholders there are filled
 * with the concrete bytes docs/wire.md names: client address a1b2c3d4e5f60718293a4b5c6d7e8f90,
 * relay forward_to_0123456789abcdef0123456789abcdef. */
#ifndef OCKAM_TESTS_UNIT_CODEC_VECTORS_H
#define OCKAM_TESTS_UNIT_CODEC_VECTORS_H

/* ---- §3.4 BARE TransportMessage ------------------------------------------------------ */
#define VEC_V1 "01 01 00 04 65 63 68 6f 01 00 03 61 70 70 06 05 68 65 6c 6c 6f"
#define VEC_V1_FRAME "00 15 " VEC_V1
#define VEC_V2 "01 01 00 04 65 63 68 6f 01 00 03 61 70 70 06 05 68 65 6c 6c 6f 00"
#define VEC_V3 "02 01 00 04 65 63 68 6f 01 00 03 61 70 70 06 05 68 65 6c 6c 6f 01 02 7b 7d"
#define VEC_V4_FRAME "00 04 01 00 00 00"
#define VEC_V4 "01 00 00 00"
/* V5 is a route on its own; the message tests wrap it as version 1, empty return, no payload. */
#define VEC_V5 "02 01 0e 31 32 37 2e 30 2e 30 2e 31 3a 34 30 30 30 00 04 65 63 68 6f"
#define VEC_V5_MSG "01 " VEC_V5 " 00 00"
#define VEC_V6 "01 01 00 09 75 70 70 65 72 63 61 73 65 01 00 03 61 70 70 06 05 68 65 6c 6c 6f"

/* ---- §4.2 CURRENT TCP ---------------------------------------------------------------- */
#define VEC_C1_BODY "83 81 82 00 44 65 63 68 6f 81 82 00 43 61 70 70 46 05 68 65 6c 6c 6f"
#define VEC_C1 "00 00 00 17 " VEC_C1_BODY
#define VEC_C2_BODY "84 81 82 00 44 65 63 68 6f 81 82 00 43 61 70 70 46 05 68 65 6c 6c 6f 62 7b 7d"
#define VEC_C2 "00 00 00 1a " VEC_C2_BODY
#define VEC_C3_BODY "83 81 82 00 43 61 70 70 81 82 00 44 65 63 68 6f 46 05 68 65 6c 6c 6f"
#define VEC_C3 "00 00 00 17 " VEC_C3_BODY
#define VEC_C4_BODY "83 81 82 00 44 65 63 68 6f 81 82 00 43 61 70 70 45 68 65 6c 6c 6f"
#define VEC_C4 "00 00 00 16 " VEC_C4_BODY
#define VEC_C5_BODY "83 80 80 40"
#define VEC_C5 "00 00 00 04 " VEC_C5_BODY
/* C6 is a route on its own; wrapped as [C6, [], h''] for the message tests. */
#define VEC_C6 "82 82 01 4e 31 32 37 2e 30 2e 30 2e 31 3a 34 30 30 30 82 00 44 65 63 68 6f"
#define VEC_C6_MSG "83 " VEC_C6 " 80 40"

/* ---- §5.2 UDP ------------------------------------------------------------------------ */
#define VEC_U1 "85 01 19 12 34 00 f5 57 " VEC_C1_BODY

/* ---- §7.1 portals -------------------------------------------------------------------- */
#define HEX_CLIENT                                                                                 \
    "61 31 62 32 63 33 64 34 65 35 66 36 30 37 31 38 32 39 33 61 34 62 35 63 36 64 37 65 38 66 "   \
    "39 30"
#define VEC_PING_BODY "83 81 82 00 46 6f 75 74 6c 65 74 81 82 00 58 20 " HEX_CLIENT " 41 00"
#define VEC_PING "00 00 00 32 " VEC_PING_BODY
#define VEC_PORTAL_GET "03 03 47 45 54"

/* ---- §8 relays ----------------------------------------------------------------------- */
#define HEX_FWD_SERVICE "66 6f 72 77 61 72 64 69 6e 67 5f 73 65 72 76 69 63 65"
#define HEX_RELAY                                                                                  \
    "66 6f 72 77 61 72 64 5f 74 6f 5f 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66 30 31 32 "   \
    "33 34 35 36 37 38 39 61 62 63 64 65 66"
#define HEX_REGISTER "08 72 65 67 69 73 74 65 72" /* BARE string "register" */
#define VEC_REG_BODY                                                                               \
    "83 81 82 00 52 " HEX_FWD_SERVICE " 81 82 00 58 20 " HEX_CLIENT " 49 " HEX_REGISTER
#define VEC_REG "00 00 00 46 " VEC_REG_BODY
#define VEC_CONFIRM_BODY                                                                           \
    "83 81 82 00 58 20 " HEX_CLIENT " 81 82 00 58 2b " HEX_RELAY " 58 2c 2b " HEX_RELAY
#define VEC_CONFIRM "00 00 00 84 " VEC_CONFIRM_BODY
#define VEC_STATIC_REG_PAYLOAD "05 6d 79 62 6f 78"
#define VEC_REG_LEGACY_BODY "01 01 00 12 " HEX_FWD_SERVICE " 01 00 03 61 70 70 09 " HEX_REGISTER
#define VEC_REG_LEGACY "00 26 " VEC_REG_LEGACY_BODY

#define STR_CLIENT "a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define STR_RELAY "forward_to_0123456789abcdef0123456789abcdef"

/* ---- §10 multiaddr ------------------------------------------------------------------- */
#define VEC_MA_TEXT "/ip4/127.0.0.1/tcp/4000/service/echo"
#define VEC_MA "04 7f 00 00 01 06 0f a0 be e8 03 04 65 63 68 6f"

#endif
