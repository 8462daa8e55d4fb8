/* Wire profile names (the CLI's --wire option). */
#include "ockam/wire.h"
#include "core/core.h"

const char *
ockam_wire_profile_name(ockam_wire_profile profile)
{
    return profile == OCKAM_WIRE_LEGACY ? "legacy" : "current";
}

ockam_err
ockam_wire_profile_parse(const char *text, ockam_wire_profile *out)
{
    if (strcmp(text, "current") == 0) {
        *out = OCKAM_WIRE_CURRENT;
        return OCKAM_OK;
    }
    if (strcmp(text, "legacy") == 0) {
        *out = OCKAM_WIRE_LEGACY;
        return OCKAM_OK;
    }
    return OCKAM_EINVAL;
}
