/* `ockam secure-channel-listener ...` and `ockam secure-channel ...`. */
#include "cli/cli.h"

const cli_cmd cli_secure_channel_listener_cmds[] = {
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
const cli_cmd cli_secure_channel_cmds[] = {
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
