/* kafka_mock: a librdkafka mock cluster in its own process, for the Kafka tests and benchmark
 * only (never installed). The mock speaks the real Kafka protocol over loopback TCP, so the
 * clients under test run exactly as against a broker (docs/wire.md §11.5).
 *
 *   kafka_mock [-b BROKERS] [TOPIC[:PARTITIONS]]...
 *
 * Prints "BOOTSTRAP=host:port[,host:port...]" on stdout once the topics exist, then answers
 * one command per stdin line with "OK" or "ERR <text>":
 *   down <broker id|-1>        disconnect the broker(s) and refuse new connections
 *   up <broker id|-1>          accept connections again
 *   rtt <broker id|-1> <ms>    add round-trip delay
 *   topic <name> <partitions>  create a topic
 *   quit
 * EOF on stdin, SIGTERM or SIGINT ends it cleanly; so does the death of its parent (Linux),
 * so a crashed test never leaves a mock behind.
 *
 * Threading: the main thread reads commands; the mock cluster runs on librdkafka's own
 * thread, and the rd_kafka_mock_* calls used here hand their work to it. */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define MAX_LINE 512

static int signal_pipe[2] = {-1, -1};

static void
on_signal(int sig)
{
    /* Only async-signal-safe work here: wake the main loop. */
    int saved = errno;
    char c = (char)sig;
    if (write(signal_pipe[1], &c, 1) < 0) {
        /* nothing to do: a wake-up is already pending */
    }
    errno = saved;
}

static void
install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
}

static rd_kafka_t *
new_handle(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The handle only anchors the cluster; it never connects anywhere, so its notice about
     * missing bootstrap servers is noise (log_level 4 keeps warnings and errors). */
    if (rd_kafka_conf_set(conf, "client.id", "kafka_mock", err, sizeof err) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static int
create_topic(rd_kafka_mock_cluster_t *mc, const char *name, int partitions)
{
    if (partitions < 1 || partitions > 1024)
        return -1;
    return rd_kafka_mock_topic_create(mc, name, partitions, 1) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0
                                                                                             : -1;
}

/* "name" or "name:partitions" (default 1 partition). */
static int
create_topic_arg(rd_kafka_mock_cluster_t *mc, const char *arg)
{
    char name[256];
    const char *colon = strchr(arg, ':');
    size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
    if (n == 0 || n >= sizeof name)
        return -1;
    memcpy(name, arg, n);
    name[n] = '\0';
    return create_topic(mc, name, colon ? atoi(colon + 1) : 1);
}

static void
reply(int ok, const char *what)
{
    if (ok)
        printf("OK\n");
    else
        printf("ERR %s\n", what);
    fflush(stdout);
}

/* Returns 1 to keep going, 0 to quit. */
static int
run_command(rd_kafka_mock_cluster_t *mc, char *line)
{
    char verb[32], name[256];
    int a = 0, b = 0;

    if (sscanf(line, "%31s", verb) != 1) {
        reply(0, "empty command");
        return 1;
    }
    if (strcmp(verb, "quit") == 0) {
        reply(1, NULL);
        return 0;
    }
    if (strcmp(verb, "down") == 0 && sscanf(line, "%*s %d", &a) == 1) {
        reply(rd_kafka_mock_broker_set_down(mc, a) == RD_KAFKA_RESP_ERR_NO_ERROR, "down failed");
    } else if (strcmp(verb, "up") == 0 && sscanf(line, "%*s %d", &a) == 1) {
        reply(rd_kafka_mock_broker_set_up(mc, a) == RD_KAFKA_RESP_ERR_NO_ERROR, "up failed");
    } else if (strcmp(verb, "rtt") == 0 && sscanf(line, "%*s %d %d", &a, &b) == 2) {
        reply(rd_kafka_mock_broker_set_rtt(mc, a, b) == RD_KAFKA_RESP_ERR_NO_ERROR, "rtt failed");
    } else if (strcmp(verb, "topic") == 0 && sscanf(line, "%*s %255s %d", name, &a) == 2) {
        reply(create_topic(mc, name, a) == 0, "topic failed");
    } else {
        reply(0, "unknown command");
    }
    return 1;
}

/* Feed complete lines from buf to run_command; returns 0 when told to quit. */
static int
run_lines(rd_kafka_mock_cluster_t *mc, char *buf, size_t *len)
{
    char *nl;
    while ((nl = memchr(buf, '\n', *len)) != NULL) {
        *nl = '\0';
        int more = run_command(mc, buf);
        size_t used = (size_t)(nl - buf) + 1;
        memmove(buf, nl + 1, *len - used);
        *len -= used;
        if (!more)
            return 0;
    }
    if (*len == MAX_LINE) { /* an over-long line: drop it */
        reply(0, "line too long");
        *len = 0;
    }
    return 1;
}

static void
serve(rd_kafka_mock_cluster_t *mc)
{
    char buf[MAX_LINE];
    size_t len = 0;
    struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = signal_pipe[0], .events = POLLIN}};

    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (fds[1].revents)
            return; /* SIGTERM / SIGINT */
        if (!fds[0].revents)
            continue;
        ssize_t n = read(0, buf + len, sizeof buf - len);
        if (n <= 0)
            return; /* EOF: the test is gone or done */
        len += (size_t)n;
        if (!run_lines(mc, buf, &len))
            return;
    }
}

static int
parse_args(int argc, char **argv, int *brokers, int *first_topic)
{
    int i = 1;
    *brokers = 1;
    if (i + 1 < argc && strcmp(argv[i], "-b") == 0) {
        *brokers = atoi(argv[i + 1]);
        i += 2;
    }
    *first_topic = i;
    return *brokers >= 1 && *brokers <= 16 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    int brokers, first;
    if (parse_args(argc, argv, &brokers, &first) != 0 || pipe(signal_pipe) != 0) {
        fprintf(stderr, "usage: kafka_mock [-b BROKERS] [TOPIC[:PARTITIONS]]...\n");
        return 64;
    }
    install_signals();
    rd_kafka_t *rk = new_handle();
    rd_kafka_mock_cluster_t *mc = rk ? rd_kafka_mock_cluster_new(rk, brokers) : NULL;
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
        return 1;
    }
    int rc = 0;
    for (int i = first; i < argc && rc == 0; i++) {
        if (create_topic_arg(mc, argv[i]) != 0) {
            fprintf(stderr, "kafka_mock: cannot create topic '%s'\n", argv[i]);
            rc = 1;
        }
    }
    if (rc == 0) {
        printf("BOOTSTRAP=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        serve(mc);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
}
