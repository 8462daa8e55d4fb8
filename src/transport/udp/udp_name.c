/* UDP destinations given by name, and what a bind does when an address proves unreachable
 * (the rule is in include/ockam/udp.h, "Names"; docs/wire.md §5.5).
 *
 * A name ("host:port" as written in 2#host:port or a fixed peer) gets the list of its
 * addresses that the bind's socket can reach, in the resolver's order (localhost: 127.0.0.1
 * then ::1, without DNS). Messages go to one address at a time. UDP has no connection, so an
 * address proves unreachable only when the network says so: an ICMP port or host unreachable
 * for one of our datagrams, which Linux queues on the socket's error queue (IP_RECVERR /
 * IPV6_RECVERR) together with the start of the datagram, hence its routing number. Then the
 * name moves on to its next address, and the messages sent to the refused one in the last
 * OCKAM__UDP_PROVE_MS (kept as encoded copies) are sent there again. An address that refused
 * nothing for OCKAM__UDP_PROVE_MS after its first datagram is taken as working, and copies
 * are no longer kept. When every address refused, the next message starts again from the
 * first one (resolving the name again unless it is an IP literal or localhost); a DNS answer
 * is also asked again after OCKAM__UDP_NAME_TTL_MS, keeping the working address if it is
 * still in the answer. Every message lost to a refusal is counted in send_dropped and logged.
 *
 * Everything runs on the loop: names are resolved with uv_getaddrinfo (off the loop) while
 * their messages wait, in order; only a fixed peer is resolved synchronously, when the
 * operator creates the bind. */
#include "transport/udp/udp_internal.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#ifdef __linux__
#include <linux/errqueue.h>
#endif

static uint64_t
now_of(const ockam_udp_bind *b)
{
    return uv_now(b->io.loop);
}

static bool
same_key(const union ockam__udp_sa *a, const struct ockam__udp_pkey *key)
{
    struct ockam__udp_pkey k;
    return ockam__udp_key(&a->sa, &k) && memcmp(&k, key, sizeof k) == 0;
}

static void log_line(ockam_udp_bind *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
log_line(ockam_udp_bind *b, const char *fmt, ...)
{
    char line[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ockam__udp_reasm_log(&b->reasm, NULL, OCKAM__UDP_LOG_OTHER, now_of(b), line);
}

/* ---- candidates ---------------------------------------------------------------------- */

static bool
reachable_family(const ockam_udp_bind *b, int family)
{
    return family == b->family || (family == AF_INET && b->dual);
}

static void
add_candidate(ockam_udp_bind *b, struct ockam__udp_name *nm, const struct sockaddr *sa, size_t len)
{
    union ockam__udp_sa a;
    struct ockam__udp_pkey key;
    if (nm->n == OCKAM__UDP_MAX_CANDIDATES || len > sizeof a
        || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return;
    memset(&a, 0, sizeof a);
    memcpy(&a, sa, len);
    ockam__udp_unmap(&a);
    if (!reachable_family(b, a.sa.sa_family))
        return;
    if (a.sa.sa_family == AF_INET)
        a.in.sin_port = htons(nm->port);
    else
        a.in6.sin6_port = htons(nm->port);
    ockam__udp_key(&a.sa, &key);
    for (uint8_t i = 0; i < nm->n; i++) {
        if (same_key(&nm->addrs[i], &key))
            return; /* the resolver may name an address twice (once per socket type) */
    }
    nm->addrs[nm->n++] = a;
}

/* An IP literal is its own list; localhost is both loopback addresses, IPv4 first (as TCP
 * and the portals do, docs/wire.md §4.5). */
static void
fill_stable(ockam_udp_bind *b, struct ockam__udp_name *nm, const struct ockam__udp_dest *d)
{
    if (d->numeric) {
        add_candidate(b, nm, &d->sa.sa, sizeof d->sa);
        return;
    }
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    uv_ip4_addr("127.0.0.1", nm->port, &v4);
    uv_ip6_addr("::1", nm->port, &v6);
    add_candidate(b, nm, (const struct sockaddr *)&v4, sizeof v4);
    add_candidate(b, nm, (const struct sockaddr *)&v6, sizeof v6);
}

static void
fill_from(ockam_udp_bind *b, struct ockam__udp_name *nm, const struct addrinfo *res)
{
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        add_candidate(b, nm, ai->ai_addr, ai->ai_addrlen);
}

static int
hints_family(const ockam_udp_bind *b)
{
    return b->dual ? AF_UNSPEC : b->family;
}

/* ---- kept copies --------------------------------------------------------------------- */

static void
kept_free(ockam_udp_bind *b, struct ockam__udp_kept *k)
{
    b->kept_bytes -= k->len;
    ockam__free(k);
}

static void
kept_clear(ockam_udp_bind *b, struct ockam__udp_name *nm)
{
    while (nm->kept_head) {
        struct ockam__udp_kept *k = nm->kept_head;
        nm->kept_head = k->next;
        kept_free(b, k);
    }
    nm->kept_tail = NULL;
}

static void
kept_append(struct ockam__udp_name *nm, struct ockam__udp_kept *k)
{
    k->next = NULL;
    if (nm->kept_tail)
        nm->kept_tail->next = k;
    else
        nm->kept_head = k;
    nm->kept_tail = k;
}

void
ockam__udp_name_keep(struct ockam__udp_name *nm, const uint8_t *body, size_t len, uint16_t number)
{
    ockam_udp_bind *b = nm->bind;
    uint64_t now = now_of(b);
    /* Copies older than the proof window will not bounce any more. */
    while (nm->kept_head && nm->kept_head->at + OCKAM__UDP_PROVE_MS <= now) {
        struct ockam__udp_kept *k = nm->kept_head;
        nm->kept_head = k->next;
        if (!nm->kept_head)
            nm->kept_tail = NULL;
        kept_free(b, k);
    }
    /* Not kept: if it bounces, it is counted as lost like any other. */
    if (b->kept_bytes + len > OCKAM__UDP_KEEP_BYTES)
        return;
    struct ockam__udp_kept *k = ockam__alloc(sizeof *k + len);
    if (!k)
        return;
    k->number = number;
    k->at = now;
    k->len = len;
    memcpy(k->body, body, len);
    b->kept_bytes += len;
    kept_append(nm, k);
}

/* ---- settled messages ---------------------------------------------------------------- */

/* A message whose refusal has been dealt with (sent again, or counted as lost): the refusals
 * of its other fragments change nothing. */
static bool
settled(const ockam_udp_bind *b, const struct ockam__udp_pkey *key, uint16_t number)
{
    for (uint32_t i = 0; b->resent && i < OCKAM__UDP_RESENT; i++) {
        if (b->resent[i].number == number && memcmp(&b->resent[i].key, key, sizeof *key) == 0)
            return true;
    }
    return false;
}

static void
settle(ockam_udp_bind *b, const struct ockam__udp_pkey *key, uint16_t number)
{
    if (!b->resent) {
        b->resent = ockam__zalloc(OCKAM__UDP_RESENT * sizeof *b->resent);
        if (!b->resent)
            return;
    }
    b->resent[b->resent_next] = (struct ockam__udp_resent) {.key = *key, .number = number};
    b->resent_next = (b->resent_next + 1) % OCKAM__UDP_RESENT;
}

/* ---- sending ------------------------------------------------------------------------- */

static void
restart(struct ockam__udp_name *nm)
{
    nm->cur = 0;
    nm->exhausted = false;
    nm->proven = false;
    nm->tried = false;
}

static ockam_err
send_now(ockam_udp_bind *b, struct ockam__udp_name *nm, ockam_msg *msg)
{
    uint64_t now = now_of(b);
    if (nm->n == 0)
        return ockam__udp_send_drop(
            b, msg, OCKAM_EADDRINVAL, "the name has no address the bind's socket can reach");
    if (!nm->tried) {
        nm->tried = true;
        nm->since = now;
    } else if (!nm->proven && now - nm->since >= OCKAM__UDP_PROVE_MS) {
        nm->proven = true;
        kept_clear(b, nm);
    }
    bool keep = !nm->proven && nm->cur + 1 < nm->n;
    union ockam__udp_sa dst = nm->addrs[nm->cur];
    return ockam__udp_send(b, msg, &dst, keep ? nm : NULL);
}

static ockam_err
wait_add(ockam_udp_bind *b, struct ockam__udp_name *nm, ockam_msg *msg)
{
    struct ockam__udp_wait *w = ockam__alloc(sizeof *w);
    if (!w)
        return ockam__udp_send_drop(b, msg, OCKAM_ENOMEM, "out of memory");
    w->next = NULL;
    w->msg = msg;
    if (nm->wait_tail)
        nm->wait_tail->next = w;
    else
        nm->wait_head = w;
    nm->wait_tail = w;
    b->nwaiting++;
    return OCKAM_OK;
}

static ockam_msg *
wait_pop(ockam_udp_bind *b, struct ockam__udp_name *nm)
{
    struct ockam__udp_wait *w = nm->wait_head;
    if (!w)
        return NULL;
    nm->wait_head = w->next;
    if (!nm->wait_head)
        nm->wait_tail = NULL;
    b->nwaiting--;
    ockam_msg *m = w->msg;
    ockam__free(w);
    return m;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res);

static ockam_err
resolve_start(ockam_udp_bind *b, struct ockam__udp_name *nm)
{
    struct addrinfo hints = {.ai_family = hints_family(b), .ai_socktype = SOCK_DGRAM};
    nm->gai.data = nm;
    if (uv_getaddrinfo(b->io.loop, &nm->gai, on_resolved, nm->host, NULL, &hints) != 0)
        return OCKAM_EDNS;
    nm->resolving = true;
    b->refs++;
    return OCKAM_OK;
}

static bool
needs_resolving(const struct ockam__udp_name *nm, uint64_t now)
{
    return !nm->stable
        && (!nm->resolved || nm->exhausted || now - nm->resolved_at >= OCKAM__UDP_NAME_TTL_MS);
}

static ockam_err
name_send(ockam_udp_bind *b, struct ockam__udp_name *nm, ockam_msg *msg)
{
    uint64_t now = now_of(b);
    nm->used_at = now;
    if (!nm->resolving && !needs_resolving(nm, now)) {
        if (nm->exhausted)
            restart(nm);
        return send_now(b, nm, msg);
    }
    /* Waiting messages keep their order: later ones wait behind them. */
    if (b->nwaiting >= OCKAM__UDP_MAX_WAITING)
        return ockam__udp_send_drop(
            b, msg, OCKAM_EBUSY, "too many messages waiting for names to resolve");
    if (!nm->resolving && resolve_start(b, nm) != OCKAM_OK)
        return ockam__udp_send_drop(b, msg, OCKAM_EDNS, "cannot start name resolution");
    return wait_add(b, nm, msg);
}

/* A new answer: the address in use stays if it is still in it and worked. */
static void
install(ockam_udp_bind *b, struct ockam__udp_name *nm, const struct addrinfo *res)
{
    bool had_working = nm->resolved && !nm->exhausted && nm->proven && nm->cur < nm->n;
    struct ockam__udp_pkey key;
    if (had_working)
        ockam__udp_key(&nm->addrs[nm->cur].sa, &key);

    nm->n = 0;
    fill_from(b, nm, res);
    nm->resolved = true;
    nm->resolved_at = now_of(b);
    kept_clear(b, nm);
    restart(nm);
    for (uint8_t i = 0; had_working && i < nm->n; i++) {
        if (same_key(&nm->addrs[i], &key)) {
            nm->cur = i;
            nm->tried = nm->proven = true;
        }
    }
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct ockam__udp_name *nm = req->data;
    ockam_udp_bind *b = nm->bind;
    ockam_msg *m;

    nm->resolving = false;
    if (b->closing) {
        while ((m = wait_pop(b, nm)))
            (void)ockam__udp_send_drop(b, m, OCKAM_ECLOSED, "bind closed");
    } else {
        /* A failed new look-up keeps the previous answer while it has an address to try. */
        if (status == 0)
            install(b, nm, res);
        else if (nm->resolved && !nm->exhausted)
            nm->resolved_at = now_of(b);
        else
            nm->resolved = false;
        while ((m = wait_pop(b, nm))) {
            if (nm->resolved)
                (void)send_now(b, nm, m);
            else
                (void)ockam__udp_send_drop(b, m, OCKAM_EDNS, "destination name did not resolve");
        }
    }
    uv_freeaddrinfo(res);
    ockam__udp_bind_unref(b);
}

/* ---- the name table of a bind without a fixed peer ------------------------------------ */

static void
name_free(ockam_udp_bind *b, struct ockam__udp_name *nm)
{
    ockam_msg *m;
    while ((m = wait_pop(b, nm)))
        ockam_msg_free(m);
    kept_clear(b, nm);
    ockam__free(nm);
}

static struct ockam__udp_name *
name_new(ockam_udp_bind *b, const struct ockam__udp_dest *d)
{
    struct ockam__udp_name *nm = ockam__zalloc(sizeof *nm);
    if (!nm)
        return NULL;
    nm->bind = b;
    snprintf(nm->host, sizeof nm->host, "%s", d->host);
    nm->port = d->port;
    nm->stable = d->numeric || ockam__udp_is_localhost(d->host);
    if (nm->stable) {
        fill_stable(b, nm, d);
        nm->resolved = true;
    }
    return nm;
}

/* Forget the least recently used name that nothing waits on; false if every name is busy. */
static bool
evict_one(ockam_udp_bind *b)
{
    struct ockam__udp_name **victim = NULL;
    for (struct ockam__udp_name **p = &b->names; *p; p = &(*p)->next) {
        if (!(*p)->resolving && (!victim || (*p)->used_at <= (*victim)->used_at))
            victim = p;
    }
    if (!victim)
        return false;
    struct ockam__udp_name *nm = *victim;
    *victim = nm->next;
    b->nnames--;
    name_free(b, nm);
    return true;
}

static struct ockam__udp_name *
name_get(ockam_udp_bind *b, const struct ockam__udp_dest *d)
{
    for (struct ockam__udp_name *nm = b->names; nm; nm = nm->next) {
        if (nm->port == d->port && strcasecmp(nm->host, d->host) == 0)
            return nm;
    }
    if (b->nnames >= OCKAM__UDP_MAX_NAMES && !evict_one(b))
        return NULL;
    struct ockam__udp_name *nm = name_new(b, d);
    if (!nm)
        return NULL;
    nm->next = b->names;
    b->names = nm;
    b->nnames++;
    return nm;
}

ockam_err
ockam__udp_name_send_to(ockam_udp_bind *b, ockam_msg *msg, const struct ockam__udp_dest *d)
{
    struct ockam__udp_name *nm = name_get(b, d);
    if (!nm)
        return ockam__udp_send_drop(
            b, msg, OCKAM_EBUSY, "too many destination names being resolved at once");
    return name_send(b, nm, msg);
}

/* ---- the fixed peer ------------------------------------------------------------------ */

static void
peer_text_update(ockam_udp_bind *b)
{
    ockam__udp_format(
        &b->peer->addrs[b->peer->cur < b->peer->n ? b->peer->cur : 0].sa, b->peer_text);
}

ockam_err
ockam__udp_name_peer(ockam_udp_bind *b, const char *text)
{
    struct ockam__udp_dest d;
    ockam_err err = ockam__udp_parse(text, strlen(text), true, &d);
    if (err)
        return err;
    struct ockam__udp_name *nm = name_new(b, &d);
    if (!nm)
        return OCKAM_ENOMEM;
    if (!nm->stable) {
        /* The operator's call: resolved now (blocking), every address kept. */
        uv_getaddrinfo_t req;
        struct addrinfo hints = {.ai_family = hints_family(b), .ai_socktype = SOCK_DGRAM};
        if (uv_getaddrinfo(b->io.loop, &req, NULL, nm->host, NULL, &hints) == 0) {
            fill_from(b, nm, req.addrinfo);
            uv_freeaddrinfo(req.addrinfo);
        }
        nm->resolved = true;
        nm->resolved_at = now_of(b);
    }
    if (nm->n == 0) {
        name_free(b, nm);
        return OCKAM_EADDRINVAL;
    }
    b->peer = nm;
    b->fixed = true;
    snprintf(b->peer_given, sizeof b->peer_given, "%s", text);
    peer_text_update(b);
    return OCKAM_OK;
}

bool
ockam__udp_name_peer_has(const ockam_udp_bind *b, const struct ockam__udp_pkey *key)
{
    for (uint8_t i = 0; b->peer && i < b->peer->n; i++) {
        if (same_key(&b->peer->addrs[i], key))
            return true;
    }
    return false;
}

ockam_err
ockam__udp_name_send_peer(ockam_udp_bind *b, ockam_msg *msg)
{
    return name_send(b, b->peer, msg);
}

/* ---- refusals ------------------------------------------------------------------------ */

/* nm's current address refused a datagram: move on, and send the kept copies to the next
 * address. True when message `number` was among them (sent again or counted here). */
static bool
advance(ockam_udp_bind *b, struct ockam__udp_name *nm, const struct ockam__udp_pkey *refused,
    int uv_err, bool known, uint16_t number)
{
    char from[OCKAM__UDP_PEER_TEXT], to[OCKAM__UDP_PEER_TEXT];
    struct ockam__udp_kept *k = nm->kept_head, *next;
    bool found = false;

    ockam__udp_format(&nm->addrs[nm->cur].sa, from);
    nm->kept_head = nm->kept_tail = NULL;
    nm->cur++;
    nm->tried = nm->proven = false;
    if (nm->cur >= nm->n) {
        nm->exhausted = true;
        if (nm->n > 1) /* with one address, the loss's own line says it all */
            log_line(b,
                "%s:%u: %s refused a datagram (%s) and no other address is left; the next message "
                "starts again from the first address",
                nm->host, (unsigned)nm->port, from, uv_strerror(uv_err));
        for (; k; k = next) {
            next = k->next;
            found |= known && k->number == number;
            settle(b, refused, k->number);
            b->stats.send_dropped++;
            kept_free(b, k);
        }
        return found;
    }
    if (nm == b->peer)
        peer_text_update(b);
    ockam__udp_format(&nm->addrs[nm->cur].sa, to);
    log_line(b, "%s:%u: %s refused a datagram (%s); trying %s", nm->host, (unsigned)nm->port, from,
        uv_strerror(uv_err), to);
    for (; k; k = next) {
        next = k->next;
        found |= known && k->number == number;
        settle(b, refused, k->number);
        b->stats.resent++;
        if (!nm->tried) {
            nm->tried = true;
            nm->since = now_of(b);
        }
        union ockam__udp_sa dst = nm->addrs[nm->cur];
        (void)ockam__udp_send_encoded(b, k->body, k->len, k->number, &dst);
        if (nm->cur + 1 < nm->n) {
            k->at = now_of(b);
            kept_append(nm, k);
        } else {
            kept_free(b, k);
        }
    }
    return found;
}

static bool
is_current(const struct ockam__udp_name *nm, const struct ockam__udp_pkey *key)
{
    return nm && !nm->resolving && !nm->exhausted && nm->cur < nm->n
        && same_key(&nm->addrs[nm->cur], key);
}

/* The network refused a datagram we sent to `wire` (the socket's form of the address). */
static void
bounced(
    ockam_udp_bind *b, const union ockam__udp_sa *wire, int uv_err, const uint8_t *data, size_t len)
{
    union ockam__udp_sa dst = *wire;
    struct ockam__udp_pkey key;
    uint16_t number = 0;

    ockam__udp_unmap(&dst);
    if (!ockam__udp_key(&dst.sa, &key))
        return;
    b->stats.unreachable++;
    bool known = ockam__udp_frag_peek_number(data, len, &number) == OCKAM_OK;
    if (known && settled(b, &key, number))
        return;
    bool handled = false;
    if (is_current(b->peer, &key))
        handled |= advance(b, b->peer, &key, uv_err, known, number);
    for (struct ockam__udp_name *nm = b->names; nm; nm = nm->next) {
        if (is_current(nm, &key))
            handled |= advance(b, nm, &key, uv_err, known, number);
    }
    if (handled)
        return;
    char text[OCKAM__UDP_PEER_TEXT];
    ockam__udp_format(&dst.sa, text);
    if (known)
        settle(b, &key, number);
    b->stats.send_dropped++;
    log_line(b, "a message to %s was lost: the network refused it (%s)", text, uv_strerror(uv_err));
}

#if defined(__linux__) && defined(IP_RECVERR)

void
ockam__udp_errqueue_enable(ockam_udp_bind *b)
{
    uv_os_fd_t fd;
    int one = 1, rc = 0;
    if (uv_fileno((uv_handle_t *)&b->io, &fd) != 0)
        return;
    if (b->family == AF_INET6)
        rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
    /* IPv4 datagrams of a dual-stack socket report through the IPv4 option. */
    if (rc == 0 && (b->family == AF_INET || b->dual))
        rc = setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
    if (rc != 0)
        OCKAM_LOG_D("udp %s: ICMP errors not reported (%s): no fallback to a name's next address",
            b->local, strerror(errno));
}

static const struct sock_extended_err *
extended_err(struct msghdr *mh)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR)
            || (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR))
            return (const struct sock_extended_err *)(const void *)CMSG_DATA(c);
    }
    return NULL;
}

/* Reads at most this many errors per call; the next receive callback goes on. */
#define ERRQUEUE_BATCH 64

void
ockam__udp_errqueue_read(ockam_udp_bind *b)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&b->io, &fd) != 0)
        return;
    for (int i = 0; i < ERRQUEUE_BATCH && !b->closing; i++) {
        uint8_t data[OCKAM_UDP_MAX_DATAGRAM];
        union {
            struct cmsghdr align;
            char bytes[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(union ockam__udp_sa))];
        } ctl;
        union ockam__udp_sa name;
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
        struct msghdr mh = {.msg_name = &name,
            .msg_namelen = sizeof name,
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = ctl.bytes,
            .msg_controllen = sizeof ctl.bytes};
        memset(&name, 0, sizeof name);
        ssize_t n = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            b->errq_pending = false; /* empty */
            return;
        }
        const struct sock_extended_err *ee = extended_err(&mh);
        if (!ee || mh.msg_namelen == 0)
            continue;
        if (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6)
            continue; /* local errors (none expected for datagrams of 508 bytes) */
        /* libuv error codes are negated errno values on Unix. */
        bounced(b, &name, -(int)ee->ee_errno, data, (size_t)n);
    }
    b->errq_pending = true; /* maybe more */
}

#else

void
ockam__udp_errqueue_enable(ockam_udp_bind *b)
{
    OCKAM_LOG_D("udp %s: ICMP errors are not reported on this system", b->local);
}

void
ockam__udp_errqueue_read(ockam_udp_bind *b)
{
    b->errq_pending = false;
}

#endif

/* ---- closing ------------------------------------------------------------------------- */

void
ockam__udp_name_close(ockam_udp_bind *b)
{
    /* Each cancelled resolution still calls on_resolved (with UV_EAI_CANCELED), which drops
     * its waiting messages and its reference. */
    if (b->peer && b->peer->resolving)
        uv_cancel((uv_req_t *)&b->peer->gai);
    for (struct ockam__udp_name *nm = b->names; nm; nm = nm->next) {
        if (nm->resolving)
            uv_cancel((uv_req_t *)&nm->gai);
    }
}

void
ockam__udp_name_free_all(ockam_udp_bind *b)
{
    if (b->peer)
        name_free(b, b->peer);
    b->peer = NULL;
    while (b->names) {
        struct ockam__udp_name *nm = b->names;
        b->names = nm->next;
        name_free(b, nm);
    }
    b->nnames = 0;
    ockam__free(b->resent);
    b->resent = NULL;
}

/* ---- tests --------------------------------------------------------------------------- */

ockam_err
ockam__udp_name_answer(ockam_udp_bind *b, const char *host_port, const struct addrinfo *answer)
{
    struct ockam__udp_dest d;
    ockam_err err = ockam__udp_parse(host_port, strlen(host_port), true, &d);
    if (err)
        return err;
    if (d.numeric || ockam__udp_is_localhost(d.host) || b->fixed)
        return OCKAM_EINVAL;
    struct ockam__udp_name *nm = name_get(b, &d);
    if (!nm || nm->resolving)
        return OCKAM_EBUSY;
    install(b, nm, answer);
    return OCKAM_OK;
}
