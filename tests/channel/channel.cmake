# Secure channels (src/channel/): the Noise core against published vectors, frames, and
# channels end to end over every transport.
set(_ch ${CMAKE_CURRENT_LIST_DIR})
ockam_add_test(test_noise SOURCES ${_ch}/test_noise.c LABELS unit)
ockam_add_test(test_channel SOURCES ${_ch}/test_channel.c ${_ch}/sc_util.c LABELS net TIMEOUT 300)
# TCP -> Kafka -> TCP against the mock cluster (tests/kafka/), nodes on their own threads.
if(OCKAM_WITH_KAFKA)
    ockam_add_test(test_channel_kafka SOURCES ${_ch}/test_channel_kafka.c LABELS kafka TIMEOUT 180
                   LIBS ockam_kafka_harness)
endif()
