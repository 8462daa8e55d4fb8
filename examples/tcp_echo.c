/* TCP round trip inside one process: the node listens on 127.0.0.1 (a free port), lets its
 * echo service be reached through that listener (flow control is default deny), then sends
 * "Hello over TCP" along [1#127.0.0.1:PORT => echo]. The message leaves through a new TCP
 * connection, arrives on the listener, and echo's reply travels back the same way. */
#include "ockam/ockam.h"

#include <stdio.h>
#include <string.h>

int
main(void)
{
    ockam_node *node = ockam_node_new();
    ockam_listener *listener;
    if (!node || ockam_echo_start(node, "echo", NULL) != OCKAM_OK
        || ockam_tcp_listen(node, "127.0.0.1:0", NULL, &listener) != OCKAM_OK) {
        fprintf(stderr, "cannot set up the node\n");
        return 1;
    }
    /* Messages that arrive on this listener may reach echo, and nothing else. */
    ockam_flow_add_consumer(node, "echo", ockam_listener_flow_id(listener));

    char text[320];
    snprintf(text, sizeof text, "1#%s => echo", ockam_listener_address(listener));
    ockam_route *route = ockam_route_new();
    ockam_route_parse(route, text);
    printf("sending along [%s]\n", text);
    ockam_msg *reply = NULL;
    ockam_err err = ockam_node_request(node, route, "Hello over TCP", 14, 5000, &reply);
    ockam_route_free(route);
    int status = 1;
    if (err) {
        fprintf(stderr, "request failed: %s\n", ockam_strerror(err));
    } else {
        ockam_slice p = ockam_msg_payload(reply);
        char *ret = ockam_route_to_string(ockam_msg_return(reply));
        printf("reply over TCP: \"%.*s\"\nits return route: [%s]\n", (int)p.len,
            (const char *)p.ptr, ret);
        status = p.len == 14 && memcmp(p.ptr, "Hello over TCP", 14) == 0 ? 0 : 1;
        ockam_free(ret);
        ockam_msg_free(reply);
    }
    ockam_node_free(node);
    return status;
}
