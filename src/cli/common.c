/* Small helpers every command file uses: JSON field access, argument checks and one API call
 * to the node named by a flag. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"

#include <stdlib.h>
#include <string.h>

const char *
cli_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

const char *
cli_strip_worker(const char *arg)
{
    return strncmp(arg, "/worker/", 8) == 0 ? arg + 8 : arg;
}

int
cli_call_at(const cli_args *a, const char *flag, bool create_default, const char *method,
    const char *path, json_t *body, uint64_t timeout_ms, char **node, json_t **res)
{
    int code = EXIT_OK;
    *node = cli_pick_node(args_value(a, flag), create_default, &code);
    if (!*node) {
        json_decref(body);
        return code;
    }
    return api_call(*node, method, path, body, timeout_ms, res);
}

int
cli_check_host_port(const char *value, const char *what, const char *example)
{
    char host[256];
    unsigned port;
    if (parse_host_port(value, host, sizeof host, &port))
        return EXIT_OK;
    char *hint = xasprintf("Use HOST:PORT, e.g. %s.", example);
    out_error(EXIT_USAGE, hint, "Invalid %s '%s'.", what, value);
    free(hint);
    return EXIT_USAGE;
}
