/* A whole node (fuzz_node.h) gets an arbitrary sequence of operations on up to four fake
 * connections: raw bytes (any framing, valid or not), well-formed frames whose routes the
 * fuzzer builds from the node's real addresses (services, relays, portal workers, the other
 * connections, the probe, the node manager), ends of stream, and loop turns. After the input
 * every connection is closed and the node must be back where it was (fuzz_node.h lists the
 * invariants).
 *
 * The operations are in fuzz_node_ops.h. */
#include "fuzz_node_ops.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fn_setup();
    fn_reset_slots();
    run_input(fn_warm_up, sizeof fn_warm_up);
    for (int n = 0; n < 256; n++)
        fn_turn(); /* every handle of the warm-up closed */
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long base = fn_live_now();
    fn_tracking = getenv("FUZZ_NODE_LOG") != NULL;
    fn_reset_slots();
    run_input(data, size);
    fn_check_baseline(base);
    return 0;
}
