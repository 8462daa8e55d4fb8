/* Local routing: one node, three hop workers and an echo service.
 *
 * "app" sends "Hello Ockam!" along h1 => h2 => h3 => echo. Each hop prints the message's
 * routes as it sees them, removes itself from the onward route, adds itself to the return
 * route and forwards. echo replies to the return route, so the reply travels back through
 * h3, h2 and h1 to app. */
#include "ockam/ockam.h"

#include <stdio.h>
#include <stdlib.h>

static void
print_routes(const char *who, ockam_msg *msg)
{
    char *onward = ockam_route_to_string(ockam_msg_onward(msg));
    char *ret = ockam_route_to_string(ockam_msg_return(msg));
    ockam_slice p = ockam_msg_payload(msg);
    printf("%-5s onward: [%s]\n      return: [%s]\n      payload: \"%.*s\"\n", who, onward, ret,
        (int)p.len, (const char *)p.ptr);
    ockam_free(onward);
    ockam_free(ret);
}

/* A hop that narrates what it does; the library's own hop is ockam_hop_start(). */
static void
printing_hop(ockam_worker *self, ockam_msg *msg, void *user)
{
    const char *name = user;
    print_routes(name, msg);
    ockam_route_pop_front(ockam_msg_onward(msg));
    ockam_route_push_front(ockam_msg_return(msg), ockam_worker_addr(self));
    ockam_err err = ockam_forward(self, msg);
    if (err)
        fprintf(stderr, "%s: forward failed: %s\n", name, ockam_strerror(err));
}

static void
app_on_reply(ockam_worker *self, ockam_msg *msg, void *user)
{
    printf("\nreply arrived at app:\n");
    print_routes("app", msg);
    ockam_msg_free(msg);
    *(bool *)user = true;
    ockam_node_stop(ockam_worker_node(self));
}

int
main(void)
{
    static const char *hops[] = {"h1", "h2", "h3"};
    ockam_node *node = ockam_node_new();
    ockam_worker *app;
    bool replied = false;

    if (!node || ockam_echo_start(node, "echo", NULL) != OCKAM_OK)
        return 1;
    for (size_t i = 0; i < 3; i++) {
        ockam_worker_opts opts = {.on_message = printing_hop, .user = (void *)hops[i]};
        if (ockam_worker_start(node, hops[i], &opts, NULL) != OCKAM_OK)
            return 1;
    }
    ockam_worker_opts app_opts = {.on_message = app_on_reply, .user = &replied};
    if (ockam_worker_start(node, "app", &app_opts, &app) != OCKAM_OK)
        return 1;

    ockam_route *route = ockam_route_new();
    ockam_route_parse(route, "h1 => h2 => h3 => echo");
    printf("app sends \"Hello Ockam!\" along [0#h1 => 0#h2 => 0#h3 => 0#echo]\n"
           "(on the way out each hop moves itself from the onward to the return route;\n"
           " on the way back each hop does the same with the reply)\n\n");
    ockam_err err = ockam_send_to(app, route, "Hello Ockam!", 12);
    ockam_route_free(route);
    if (err) {
        fprintf(stderr, "send failed: %s\n", ockam_strerror(err));
        return 1;
    }
    ockam_node_run(node);
    ockam_node_free(node);
    return replied ? 0 : 1;
}
