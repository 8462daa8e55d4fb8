/* A whole node (fuzz_node.h) gets an arbitrary sequence of operations on up to four fake
 * connections: raw bytes (any framing, valid or not), well-formed frames whose routes the
 * fuzzer builds from the node's real addresses (services, relays, portal workers, the other
 * connections, the probe, the node manager), ends of stream, and loop turns. After the input
 * every connection is closed and the node must be back where it was (fuzz_node.h lists the
 * invariants).
 *
 * The operations are in fuzz_node_ops.h. */
#include "fuzz_node_ops.h"

/* Structures that grow once and stay (connection maps, the registry's buckets) are made by a
 * first input that uses every connection slot, before any baseline is taken. */
static const uint8_t warm_up[] = {
    1, 0, 1, 0, 0, 0, 1, 0, 'x', 1, 1, 1, 0, 0, 0, 1, 0, 'x', 1, 2, 1, 0, 0, 0, 1, 0, 'x', 1, 3, 1,
    0, 0, 0, 1, 0, 'x', 4, 3, 1, 1, 3, 1, 0, 0, 0, 1, 0, 'x', 3, 7, //
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool warm;
    fn_setup();
    if (!warm) {
        warm = true;
        fn_reset_slots();
        run_input(warm_up, sizeof warm_up);
        for (int n = 0; n < 256; n++)
            fn_turn(); /* every handle of the warm-up closed */
    }
    long base = fn_live_now();
    fn_tracking = getenv("FUZZ_NODE_LOG") != NULL;
    fn_reset_slots();
    run_input(data, size);
    fn_check_baseline(base);
    return 0;
}
