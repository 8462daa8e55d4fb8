/* Local routing through k in-process hops: messages/s and ns per hop, 64-byte payloads.
 * Usage: bench_routing [messages]   (prints one line per k) */
#include "ockam/ockam.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCH 1024

struct run {
    ockam_worker *app;
    ockam_route *route;
    long remaining; /* messages still to send */
    long received;
    long inflight;
};

static uint8_t payload[64];

static void
send_batch(struct run *r)
{
    while (r->inflight < BATCH && r->remaining > 0) {
        if (ockam_send_to(r->app, r->route, payload, sizeof payload) != OCKAM_OK)
            abort();
        r->inflight++;
        r->remaining--;
    }
}

static void
sink_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct run *r = user;
    ockam_msg_free(msg);
    r->received++;
    r->inflight--;
    if (r->inflight == 0) {
        if (r->remaining == 0)
            ockam_node_stop(ockam_worker_node(w));
        else
            send_batch(r);
    }
}

static void
app_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_msg_free(msg);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
bench(int k, long messages)
{
    ockam_node *node = ockam_node_new();
    struct run r = {.remaining = messages};
    char name[16];

    r.route = ockam_route_new();
    for (int i = 0; i < k; i++) {
        snprintf(name, sizeof name, "h%d", i);
        ockam_hop_start(node, name, NULL);
        ockam_route_push_back(r.route, ockam_addr_local(name));
    }
    ockam_route_push_back(r.route, ockam_addr_local("sink"));
    ockam_worker_opts so = {.on_message = sink_on_message, .user = &r};
    ockam_worker_start(node, "sink", &so, NULL);
    ockam_worker_opts ao = {.on_message = app_on_message};
    ockam_worker_start(node, "app", &ao, &r.app);

    double t0 = now_s();
    send_batch(&r);
    ockam_node_run(node);
    double dt = now_s() - t0;

    /* Each message is delivered k+1 times (k hops and the sink). */
    double per_msg = dt / (double)messages * 1e9;
    printf("local routing k=%-2d %10.0f msg/s  %7.1f ns/msg  %6.1f ns/hop  (64 B, %ld msgs)\n", k,
        (double)messages / dt, per_msg, per_msg / (k + 1), messages);
    ockam_route_free(r.route);
    ockam_node_free(node);
}

int
main(int argc, char **argv)
{
    long messages = argc > 1 ? atol(argv[1]) : 2000000;
    bench(1, messages);
    bench(10, messages / 4);
    return 0;
}
