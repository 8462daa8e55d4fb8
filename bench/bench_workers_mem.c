/* Memory per idle worker: RSS delta after starting N workers at random addresses.
 * Usage: bench_workers_mem [count]   (default 1 000 000) */
#include "ockam/ockam.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long
rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static void
on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_msg_free(msg);
}

int
main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 1000000;
    ockam_node *node = ockam_node_new();
    ockam_worker_opts opts = {.on_message = on_message};

    long before = rss_bytes();
    for (long i = 0; i < count; i++) {
        if (ockam_worker_start(node, NULL, &opts, NULL) != OCKAM_OK) {
            fprintf(stderr, "worker start failed at %ld\n", i);
            return 1;
        }
    }
    long after = rss_bytes();
    printf("workers: %ld idle workers, RSS delta %.1f MiB, RSS total %.1f MiB, %.0f bytes per "
           "worker\n",
        count, (double)(after - before) / (1024.0 * 1024.0), (double)after / (1024.0 * 1024.0),
        (double)(after - before) / (double)count);
    ockam_node_free(node);
    return 0;
}
