/* A node's config.json (docs/cli.md, node state) gets arbitrary contents, applied to a whole
 * node (fuzz_node.h) as `node start` applies it: the saved services, extra TCP and UDP
 * listeners through the node manager's calls (the loop over them in the CLI's noderun.c is a
 * few lines, mirrored here), then the saved outlets, inlets and relays through
 * ockam__nodemanager_restore_portals, which is the code `node start` runs.
 *
 * Input: the file's bytes ("$R" and "$E" stand for the refused and the echo port; a file that
 * names any other network address is not applied, see fuzz_safe.h).
 * Invariants: nothing crashes; items that cannot come back are skipped; the node manager then
 * answers GET /node and its config (what the next `node start` would save) is an object;
 * nothing of the node is left once it is freed (fn_check_idle). */
#include "fuzz_safe.h"

static void
apply(json_t *cfg)
{
    json_t *saved = json_object_get(cfg, "services");
    for (size_t i = 0; i < json_array_size(saved); i++) {
        json_t *s = json_array_get(saved, i);
        const char *addr = json_string_value(json_object_get(s, "addr"));
        const char *type = json_string_value(json_object_get(s, "type"));
        if (addr && type && !ockam_node_has_worker(fn.node, addr))
            (void)ockam__nodemanager_start_service(fn.nm, type, addr);
    }
    json_t *extra = json_object_get(cfg, "tcp_listeners");
    for (size_t i = 0; i < json_array_size(extra); i++) {
        const char *addr = json_string_value(json_array_get(extra, i));
        if (addr)
            (void)ockam__nodemanager_tcp_listen(fn.nm, addr, NULL);
    }
    const char *udp = json_string_value(json_object_get(cfg, "udp_listener_address"));
    if (udp)
        (void)ockam__nodemanager_udp_listen(fn.nm, udp, true, NULL);
    extra = json_object_get(cfg, "udp_listeners");
    for (size_t i = 0; i < json_array_size(extra); i++) {
        const char *addr = json_string_value(json_array_get(extra, i));
        if (addr)
            (void)ockam__nodemanager_udp_listen(fn.nm, addr, false, NULL);
    }
    ockam__nodemanager_restore_portals(fn.nm, cfg);
}

/* The config being applied: from use() to check(). */
static json_t *config;

static void
use(const char *text, size_t len)
{
    json_error_t err;
    config = json_loadb(text, len, 0, &err);
    if (json_is_object(config))
        apply(config);
}

static void
check(void)
{
    if (json_is_object(config)) {
        json_t *saved = ockam__nodemanager_config(fn.nm);
        FUZZ_CHECK(json_is_object(saved));
        json_decref(saved);
        json_t *res = ockam__nodemanager_resources(fn.nm);
        FUZZ_CHECK(json_is_object(res));
        json_decref(res);
    }
    json_decref(config);
    config = NULL;
}

const struct fuzz_safe_target fuzz_safe_target = {"fuzz_config", 8192, use, check};
