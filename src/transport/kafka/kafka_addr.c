/* Kafka address syntax: "topic" or "topic/partition" (see ockam/kafka.h). Pure functions, no
 * librdkafka, any thread. */
#include "core/core.h"
#include "ockam/kafka.h"

static bool
topic_char(char c)
{
    /* Kafka's legal topic characters; '/' is not one of them, so it can separate a partition. */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
        || c == '_' || c == '-';
}

/* Decimal 0..INT32_MAX without sign, spaces or leading zeros ("0" itself is fine). */
static bool
parse_partition(const char *s, size_t len, int32_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

ockam_err
ockam_kafka_addr_parse(
    const char *text, size_t len, char topic[OCKAM_KAFKA_MAX_TOPIC + 1], int32_t *partition)
{
    size_t n = 0;
    while (n < len && text[n] != '/')
        n++;
    /* "." and ".." are refused by Kafka as topic names. */
    if (n == 0 || n > OCKAM_KAFKA_MAX_TOPIC || (n == 1 && text[0] == '.')
        || (n == 2 && text[0] == '.' && text[1] == '.'))
        return OCKAM_EADDRINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!topic_char(text[i]))
            return OCKAM_EADDRINVAL;
    }
    *partition = -1;
    if (n < len && !parse_partition(text + n + 1, len - n - 1, partition))
        return OCKAM_EADDRINVAL;
    memcpy(topic, text, n);
    topic[n] = '\0';
    return OCKAM_OK;
}
