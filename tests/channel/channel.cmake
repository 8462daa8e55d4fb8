# Secure channels (src/channel/): the Noise core against published vectors, frames, and
# channels end to end over every transport.
set(_ch ${CMAKE_CURRENT_LIST_DIR})
ockam_add_test(test_noise SOURCES ${_ch}/test_noise.c LABELS unit)
