/* The node's transport table: register a transport's ops under its address type byte and
 * find its private state again. The slots live in the node (src/node); this file owns the
 * rules for filling them. */
#include "transport/transport.h"

ockam_err
ockam__transport_register(
    ockam_node *node, const struct ockam__transport_ops *ops, const void *config, void **self_out)
{
    OCKAM_ASSERT(ops && ops->init && ops->route && ops->shutdown);
    OCKAM_ASSERT(ops->type > OCKAM_TRANSPORT_LOCAL && ops->type <= OCKAM_TRANSPORT_MAX);
    if (ockam__node_closing(node))
        return OCKAM_ECLOSED;
    const struct ockam__transport_ops **ops_slot = ockam__node_transport_ops_slot(node, ops->type);
    void **self_slot = ockam__node_transport_slot(node, ops->type);
    if (*ops_slot)
        return OCKAM_EEXIST;
    void *self = ockam__zalloc(ops->size);
    if (!self)
        return OCKAM_ENOMEM;
    /* init must leave nothing behind when it fails: the state is freed here, without fini. */
    ockam_err err = ops->init(self, node, config);
    if (err) {
        ockam__free(self);
        return err;
    }
    *ops_slot = ops;
    *self_slot = self;
    if (self_out)
        *self_out = self;
    return OCKAM_OK;
}

void *
ockam__transport_get(ockam_node *node, uint8_t type)
{
    if (type > OCKAM_TRANSPORT_MAX || !*ockam__node_transport_ops_slot(node, type))
        return NULL;
    return *ockam__node_transport_slot(node, type);
}
