/* The node: loop, workers, router, timers, post. The security rules the router applies (flow
 * control) and the flow-control registrations live in node/policy.c.
 *
 * Delivery model: each worker has a mailbox (intrusive FIFO of messages). Sending checks the
 * route, access and flow control synchronously (so the sender gets an error code), then
 * appends to the receiver's mailbox and puts the receiver on the node's ready list. An idle
 * handle drains the ready list in batches, so a chain of local hops runs without a loop turn
 * per message, and I/O still gets its turn after each batch. */
#include "core/list.h"
#include "node/node_internal.h"
#include "node/policy.h"
#include "node/registry.h"
#include "node/transport.h"

#include <stdatomic.h>
#include <stdio.h>

#define DRAIN_BUDGET 4096   /* deliveries per idle callback before I/O gets a turn */
#define PER_WORKER_BURST 64 /* deliveries to one worker before the next ready worker */

enum worker_state { W_RUNNING, W_STOPPED };

struct access_cb {
    ockam_access_cb cb;
    void *user;
};

struct ockam_worker {
    ockam_node *node;
    ockam_worker_cb on_message;
    ockam_worker_stop_cb on_stop;
    void *user;
    struct access_cb *in_cb; /* only for OCKAM_ACCESS_CALLBACK */
    struct access_cb *out_cb;
    struct ockam__entry *entries; /* first = primary address */
    ockam_msg *mbox_head;
    ockam_msg *mbox_tail;
    size_t mbox_bytes; /* payload bytes in the mailbox (ockam__worker_queued_bytes) */
    ockam_worker *ready_next;
    uint8_t in_kind;
    uint8_t out_kind;
    uint8_t state;
    bool in_ready;
    bool in_callback;
    bool pinned; /* on stop_all_workers' list: freed by that walk, not by ockam_worker_stop */
    struct stop_watch *watches; /* ockam__worker_watch_stop */
};

struct stop_watch {
    struct stop_watch *next;
    void (*cb)(void *user);
    void *user;
};

struct post_item {
    struct post_item *next;
    void (*fn)(void *);
    void *arg;
};

struct ockam_timer {
    uv_timer_t handle;
    ockam_node *node;
    ockam_timer_cb cb;
    void *user;
    struct ockam__link link; /* in the node's timers */
};

struct ockam_node {
    uv_loop_t loop;
    uv_idle_t drain;
    uv_async_t wakeup;
    struct ockam__registry registry;
    struct ockam__entry *last_entry; /* route_local's last lookup, valid for last_epoch */
    uint64_t last_epoch;
    size_t workers;
    ockam_worker *ready_head, *ready_tail;
    struct ockam__link timers; /* running timers (ockam_timer) */
    struct ockam__policy policy;
    uv_mutex_t post_lock;
    struct post_item *posts;
    atomic_bool stop_requested;
    bool closing;
    const struct ockam__transport_ops *tops[OCKAM_TRANSPORT_MAX + 1];
    void *tself[OCKAM_TRANSPORT_MAX + 1];
};

/* ---- small helpers ------------------------------------------------------------------- */

static void
log_addr(ockam_log_level level, const char *what, ockam_addr a)
{
    char text[128];
    ockam_addr_format(a, text, sizeof text);
    ockam__log(level, "%s %s", what, text);
}

static bool
check_access(uint8_t kind, const struct access_cb *cb, ockam_worker *w, const ockam_msg *msg)
{
    switch (kind) {
    case OCKAM_ACCESS_ALLOW_ALL:
        return true;
    case OCKAM_ACCESS_DENY_ALL:
        return false;
    default:
        return cb && cb->cb(w, msg, cb->user);
    }
}

static void
free_mailbox(ockam_worker *w)
{
    ockam_msg *m = w->mbox_head;
    while (m) {
        ockam_msg *next = m->next;
        m->next = NULL;
        ockam_msg_free(m);
        m = next;
    }
    w->mbox_head = w->mbox_tail = NULL;
    w->mbox_bytes = 0;
}

static void
worker_free(ockam_worker *w)
{
    ockam__free(w->in_cb);
    ockam__free(w->out_cb);
    ockam__free(w);
}

/* ---- loop callbacks ------------------------------------------------------------------ */

static void
ready_push(ockam_node *n, ockam_worker *w)
{
    w->in_ready = true;
    w->ready_next = NULL;
    if (n->ready_tail)
        n->ready_tail->ready_next = w;
    else
        n->ready_head = w;
    n->ready_tail = w;
}

static ockam_worker *
ready_pop(ockam_node *n)
{
    ockam_worker *w = n->ready_head;
    if (!w)
        return NULL;
    n->ready_head = w->ready_next;
    if (!n->ready_head)
        n->ready_tail = NULL;
    w->in_ready = false;
    return w;
}

static void drain_cb(uv_idle_t *h);

static void
wake_drain(ockam_node *n)
{
    if (!uv_is_active((uv_handle_t *)&n->drain))
        uv_idle_start(&n->drain, drain_cb);
}

/* Deliver up to `budget` messages to w; returns how many were delivered. */
static int
deliver_some(ockam_worker *w, int budget)
{
    int done = 0;
    while (done < budget && w->state == W_RUNNING && w->mbox_head) {
        ockam_msg *m = w->mbox_head;
        w->mbox_head = m->next;
        if (!w->mbox_head)
            w->mbox_tail = NULL;
        m->next = NULL;
        w->mbox_bytes -= m->payload_len;
        w->in_callback = true;
        w->on_message(w, m, w->user);
        w->in_callback = false;
        done++;
    }
    return done;
}

static void
drain_cb(uv_idle_t *h)
{
    ockam_node *n = h->data;
    int budget = DRAIN_BUDGET;
    ockam_worker *w;

    while (budget > 0 && (w = ready_pop(n)) != NULL) {
        budget -= deliver_some(w, budget < PER_WORKER_BURST ? budget : PER_WORKER_BURST);
        if (w->state == W_STOPPED)
            worker_free(w);
        else if (w->mbox_head)
            ready_push(n, w);
    }
    if (!n->ready_head)
        uv_idle_stop(&n->drain);
}

static void
wakeup_cb(uv_async_t *h)
{
    ockam_node *n = h->data;
    struct post_item *items;

    uv_mutex_lock(&n->post_lock);
    items = n->posts;
    n->posts = NULL;
    uv_mutex_unlock(&n->post_lock);

    /* The list was built by pushing at the head; run in posting order. */
    struct post_item *rev = NULL;
    while (items) {
        struct post_item *next = items->next;
        items->next = rev;
        rev = items;
        items = next;
    }
    while (rev) {
        struct post_item *next = rev->next;
        rev->fn(rev->arg);
        ockam__free(rev);
        rev = next;
    }
    if (atomic_exchange(&n->stop_requested, false))
        uv_stop(&n->loop);
}

/* ---- node lifecycle ------------------------------------------------------------------ */

ockam_node *
ockam_node_new(void)
{
    ockam_node *n = ockam__zalloc(sizeof *n);
    if (!n)
        return NULL;
    ockam__link_init(&n->timers);
    if (uv_loop_init(&n->loop) != 0)
        goto fail_loop;
    if (uv_mutex_init(&n->post_lock) != 0)
        goto fail_mutex;
    uv_idle_init(&n->loop, &n->drain);
    n->drain.data = n;
    uv_async_init(&n->loop, &n->wakeup, wakeup_cb);
    n->wakeup.data = n;
    /* The wake-up handle must not keep ockam_node_run_once() from reporting "no work". */
    uv_unref((uv_handle_t *)&n->wakeup);
    ockam__registry_init(&n->registry);
    n->loop.data = n;
    ockam__policy_init(&n->policy);
    atomic_init(&n->stop_requested, false);
    return n;

fail_mutex:
    uv_loop_close(&n->loop);
fail_loop:
    ockam__free(n);
    return NULL;
}

static void
stop_entry_worker(struct ockam__entry *e, void *arg)
{
    ockam_worker **list = arg;
    ockam_worker *w = e->worker;
    /* Collect each worker once (through its primary entry), stop them after the walk. */
    if (w && w->entries == e) {
        w->ready_next = *list;
        w->pinned = true;
        *list = w;
    }
}

static void
stop_all_workers(ockam_node *n)
{
    /* Drop ready-list links first: stopped workers are freed directly here. */
    ockam_worker *w;
    while ((w = ready_pop(n)) != NULL) {
        if (w->state == W_STOPPED)
            worker_free(w);
    }
    ockam_worker *list = NULL;
    ockam__registry_each(&n->registry, stop_entry_worker, &list);
    /* A worker's on_stop (or a close watcher it triggers) may stop other workers of the list:
     * pinned ones stay allocated until the walk reaches them. */
    while (list) {
        ockam_worker *next = list->ready_next;
        list->ready_next = NULL;
        list->pinned = false;
        if (list->state != W_STOPPED)
            ockam_worker_stop(list);
        else if (!list->in_ready && !list->in_callback)
            worker_free(list);
        list = next;
    }
}

static void
close_walk_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void
ockam_node_free(ockam_node *n)
{
    if (!n)
        return;
    n->closing = true;
    stop_all_workers(n);
    while (!ockam__link_empty(&n->timers))
        ockam_timer_stop(OCKAM__CONTAINER_OF(n->timers.next, ockam_timer, link));
    for (int t = 0; t <= OCKAM_TRANSPORT_MAX; t++) {
        if (n->tops[t])
            n->tops[t]->shutdown(n->tself[t]);
    }
    /* Transports may stop workers while shutting down; those are stopped synchronously. */
    stop_all_workers(n);
    uv_close((uv_handle_t *)&n->drain, NULL);
    uv_close((uv_handle_t *)&n->wakeup, NULL);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    /* Anything left (a handle a transport forgot) is closed here rather than leaked. */
    uv_walk(&n->loop, close_walk_cb, NULL);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    for (int t = 0; t <= OCKAM_TRANSPORT_MAX; t++) {
        if (n->tops[t] && n->tops[t]->fini)
            n->tops[t]->fini(n->tself[t]);
        ockam__free(n->tself[t]);
    }
    int rc = uv_loop_close(&n->loop);
    if (rc != 0)
        OCKAM_LOG_E("node loop did not close cleanly: %s", uv_strerror(rc));
    stop_all_workers(n);
    ockam__registry_fini(&n->registry);
    ockam__policy_fini(&n->policy);
    for (struct post_item *p = n->posts; p;) {
        struct post_item *next = p->next;
        ockam__free(p);
        p = next;
    }
    uv_mutex_destroy(&n->post_lock);
    ockam__free(n);
}

ockam_err
ockam_node_run(ockam_node *n)
{
    /* Referenced while running, so the loop waits for posts and stop requests. */
    uv_ref((uv_handle_t *)&n->wakeup);
    /* A stop requested before run() still lets pending posts run: the wake-up callback runs
     * them, then sees the request and stops the loop. */
    uv_run(&n->loop, UV_RUN_DEFAULT);
    uv_unref((uv_handle_t *)&n->wakeup);
    return OCKAM_OK;
}

bool
ockam_node_run_once(ockam_node *n)
{
    return uv_run(&n->loop, UV_RUN_ONCE) != 0;
}

bool
ockam_node_run_nowait(ockam_node *n)
{
    return uv_run(&n->loop, UV_RUN_NOWAIT) != 0;
}

void
ockam_node_stop(ockam_node *n)
{
    atomic_store(&n->stop_requested, true);
    uv_async_send(&n->wakeup);
}

ockam_err
ockam_node_post(ockam_node *n, void (*fn)(void *arg), void *arg)
{
    struct post_item *p = ockam__alloc(sizeof *p);
    if (!p)
        return OCKAM_ENOMEM;
    p->fn = fn;
    p->arg = arg;
    uv_mutex_lock(&n->post_lock);
    p->next = n->posts;
    n->posts = p;
    uv_mutex_unlock(&n->post_lock);
    uv_async_send(&n->wakeup);
    return OCKAM_OK;
}

uint64_t
ockam_node_now_ms(ockam_node *n)
{
    return uv_now(&n->loop);
}

uv_loop_t *
ockam__node_loop(ockam_node *n)
{
    return &n->loop;
}

bool
ockam__node_closing(const ockam_node *n)
{
    return n->closing;
}

/* ---- transports (node/transport.h) ---------------------------------------------------- */

ockam_err
ockam__transport_register(
    ockam_node *n, const struct ockam__transport_ops *ops, const void *config, void **self_out)
{
    OCKAM_ASSERT(ops && ops->init && ops->route && ops->shutdown);
    OCKAM_ASSERT(ops->type > OCKAM_TRANSPORT_LOCAL && ops->type <= OCKAM_TRANSPORT_MAX);
    if (n->closing)
        return OCKAM_ECLOSED;
    if (n->tops[ops->type])
        return OCKAM_EEXIST;
    void *self = ockam__zalloc(ops->size);
    if (!self)
        return OCKAM_ENOMEM;
    ockam_err err = ops->init(self, n, config);
    if (err) {
        ockam__free(self);
        return err;
    }
    n->tops[ops->type] = ops;
    n->tself[ops->type] = self;
    if (self_out)
        *self_out = self;
    return OCKAM_OK;
}

void *
ockam__transport_get(ockam_node *n, uint8_t type)
{
    return type <= OCKAM_TRANSPORT_MAX && n->tops[type] ? n->tself[type] : NULL;
}

/* ---- workers ------------------------------------------------------------------------- */

static struct access_cb *
make_cb(const ockam_access *a)
{
    if (a->kind != OCKAM_ACCESS_CALLBACK)
        return NULL;
    struct access_cb *cb = ockam__alloc(sizeof *cb);
    if (cb) {
        cb->cb = a->cb;
        cb->user = a->user;
    }
    return cb;
}

static ockam_err
attach_address(ockam_worker *w, const char *address)
{
    size_t len = strlen(address);
    if (len == 0 || len > OCKAM_MAX_ADDR_LEN)
        return OCKAM_EINVAL;
    struct ockam__entry *e = ockam__registry_get(&w->node->registry, (const uint8_t *)address, len);
    if (!e)
        return OCKAM_ENOMEM;
    if (e->worker)
        return OCKAM_EEXIST;
    e->worker = w;
    /* Keep the primary address first; aliases follow it. */
    if (!w->entries) {
        w->entries = e;
    } else {
        e->next_of_worker = w->entries->next_of_worker;
        w->entries->next_of_worker = e;
    }
    return OCKAM_OK;
}

ockam_err
ockam_worker_start(
    ockam_node *n, const char *address, const ockam_worker_opts *opts, ockam_worker **out)
{
    char random[OCKAM_RANDOM_ADDR_LEN + 1];

    if (!opts || !opts->on_message)
        return OCKAM_EINVAL;
    if (n->closing)
        return OCKAM_ECLOSED;
    if (!address) {
        ockam_addr_random(random);
        address = random;
    }
    ockam_worker *w = ockam__zalloc(sizeof *w);
    if (!w)
        return OCKAM_ENOMEM;
    w->node = n;
    w->on_message = opts->on_message;
    w->on_stop = opts->on_stop;
    w->user = opts->user;
    w->in_kind = (uint8_t)opts->incoming.kind;
    w->out_kind = (uint8_t)opts->outgoing.kind;
    w->in_cb = make_cb(&opts->incoming);
    w->out_cb = make_cb(&opts->outgoing);
    ockam_err err = attach_address(w, address);
    if (err) {
        worker_free(w);
        return err;
    }
    n->workers++;
    if (out)
        *out = w;
    return OCKAM_OK;
}

ockam_err
ockam_worker_add_address(ockam_worker *w, const char *address)
{
    if (w->state != W_RUNNING)
        return OCKAM_ECLOSED;
    return attach_address(w, address);
}

void
ockam_worker_stop(ockam_worker *w)
{
    if (!w || w->state == W_STOPPED)
        return;
    ockam_node *n = w->node;
    w->state = W_STOPPED;
    struct stop_watch *watches = w->watches;
    w->watches = NULL;
    for (struct ockam__entry *e = w->entries; e;) {
        struct ockam__entry *next = e->next_of_worker;
        ockam__registry_remove(&n->registry, e);
        e = next;
    }
    w->entries = NULL;
    free_mailbox(w);
    n->workers--;
    if (w->on_stop)
        w->on_stop(w, w->user);
    /* The watchers run once the worker is gone: each may stop its own worker (but may not
     * unwatch another entry of this list, which is already detached). */
    while (watches) {
        struct stop_watch *next = watches->next;
        void (*cb)(void *) = watches->cb;
        void *user = watches->user;
        ockam__free(watches);
        cb(user);
        watches = next;
    }
    /* Still referenced by the ready list, a running callback or the node's teardown walk:
     * freed when that ends. */
    if (!w->in_ready && !w->in_callback && !w->pinned)
        worker_free(w);
}

ockam_err
ockam__worker_watch_stop(ockam_worker *w, void (*cb)(void *user), void *user)
{
    if (w->state == W_STOPPED)
        return OCKAM_ECLOSED;
    struct stop_watch *sw = ockam__zalloc(sizeof *sw);
    if (!sw)
        return OCKAM_ENOMEM;
    *sw = (struct stop_watch) {.next = w->watches, .cb = cb, .user = user};
    w->watches = sw;
    return OCKAM_OK;
}

void
ockam__worker_unwatch_stop(ockam_worker *w, void (*cb)(void *user), void *user)
{
    for (struct stop_watch **pp = &w->watches; *pp; pp = &(*pp)->next) {
        if ((*pp)->cb == cb && (*pp)->user == user) {
            struct stop_watch *sw = *pp;
            *pp = sw->next;
            ockam__free(sw);
            return;
        }
    }
}

ockam_worker *
ockam__node_worker_at(ockam_node *n, ockam_addr addr)
{
    if (addr.type != OCKAM_TRANSPORT_LOCAL)
        return NULL;
    struct ockam__entry *e = ockam__registry_find(&n->registry, addr.bytes, addr.len);
    return e ? e->worker : NULL;
}

ockam_worker_cb
ockam__worker_handler(const ockam_worker *w)
{
    return w->on_message;
}

ockam_err
ockam_worker_stop_at(ockam_node *n, const char *address)
{
    struct ockam__entry *e
        = ockam__registry_find(&n->registry, (const uint8_t *)address, strlen(address));
    if (!e || !e->worker)
        return OCKAM_ENOENT;
    ockam_worker_stop(e->worker);
    return OCKAM_OK;
}

ockam_addr
ockam_worker_addr(const ockam_worker *w)
{
    if (!w->entries)
        return ockam_addr_of(OCKAM_TRANSPORT_LOCAL, "", 0);
    return ockam_addr_of(OCKAM_TRANSPORT_LOCAL, w->entries->key, w->entries->len);
}

ockam_node *
ockam_worker_node(const ockam_worker *w)
{
    return w->node;
}

void *
ockam_worker_user(const ockam_worker *w)
{
    return w->user;
}

static void
set_access(uint8_t *kind, struct access_cb **cb, ockam_access a)
{
    ockam__free(*cb);
    *cb = make_cb(&a);
    *kind = (uint8_t)(a.kind == OCKAM_ACCESS_CALLBACK && !*cb ? OCKAM_ACCESS_DENY_ALL : a.kind);
}

void
ockam_worker_set_incoming(ockam_worker *w, ockam_access a)
{
    set_access(&w->in_kind, &w->in_cb, a);
}

void
ockam_worker_set_outgoing(ockam_worker *w, ockam_access a)
{
    set_access(&w->out_kind, &w->out_cb, a);
}

bool
ockam_node_has_worker(ockam_node *n, const char *address)
{
    struct ockam__entry *e
        = ockam__registry_find(&n->registry, (const uint8_t *)address, strlen(address));
    return e && e->worker;
}

struct each_ctx {
    void (*fn)(ockam_addr addr, void *arg);
    void *arg;
};

static void
each_entry(struct ockam__entry *e, void *arg)
{
    struct each_ctx *c = arg;
    if (e->worker)
        c->fn(ockam_addr_of(OCKAM_TRANSPORT_LOCAL, e->key, e->len), c->arg);
}

void
ockam_node_each_address(ockam_node *n, void (*fn)(ockam_addr addr, void *arg), void *arg)
{
    struct each_ctx c = {fn, arg};
    ockam__registry_each(&n->registry, each_entry, &c);
}

size_t
ockam__worker_queued_bytes(const ockam_worker *w)
{
    return w->mbox_bytes;
}

size_t
ockam_node_worker_count(const ockam_node *n)
{
    return n->workers;
}

/* ---- routing ------------------------------------------------------------------------- */

static void
enqueue(ockam_node *n, ockam_worker *w, ockam_msg *m)
{
    m->next = NULL;
    if (w->mbox_tail)
        w->mbox_tail->next = m;
    else
        w->mbox_head = m;
    w->mbox_tail = m;
    w->mbox_bytes += m->payload_len;
    if (!w->in_ready) {
        ready_push(n, w);
        wake_drain(n);
    }
}

static ockam_err
drop(ockam_msg *m, ockam_err err)
{
    ockam_msg_free(m);
    return err;
}

/* Messages tend to go where the previous one went: the last entry found is checked first. It
 * stays valid while no entry was removed (registry.removals unchanged). */
static struct ockam__entry *
find_entry(ockam_node *n, ockam_addr a)
{
    struct ockam__entry *e = n->last_entry;
    if (e && n->last_epoch == n->registry.removals && ockam__bytes_eq(e->key, e->len, a))
        return e;
    e = ockam__registry_find(&n->registry, a.bytes, a.len);
    n->last_entry = e;
    n->last_epoch = n->registry.removals;
    return e;
}

static ockam_err
route_local(ockam_node *n, ockam_msg *m, ockam_addr next)
{
    struct ockam__entry *e = find_entry(n, next);
    if (!e || !e->worker || e->worker->state != W_RUNNING) {
        log_addr(OCKAM_LOG_WARN, "dropping message: no worker at", next);
        return drop(m, OCKAM_ENOENT);
    }
    if (!ockam__policy_flow_allows(e, m->origin)) {
        log_addr(OCKAM_LOG_WARN, "dropping message from another node: flow control denies", next);
        return drop(m, OCKAM_EACCES);
    }
    ockam_worker *w = e->worker;
    if (!check_access(w->in_kind, w->in_cb, w, m)) {
        log_addr(OCKAM_LOG_WARN, "dropping message: incoming access control denies", next);
        return drop(m, OCKAM_EACCES);
    }
    enqueue(n, w, m);
    return OCKAM_OK;
}

static ockam_err
route_msg(ockam_node *n, ockam_worker *from, ockam_msg *m)
{
    if (n->closing)
        return drop(m, OCKAM_ECLOSED);
    if (m->onward.count == 0) {
        OCKAM_LOG_W("dropping message: empty onward route");
        return drop(m, OCKAM_EROUTE);
    }
    if (from && !check_access(from->out_kind, from->out_cb, from, m)) {
        log_addr(OCKAM_LOG_WARN, "dropping message: outgoing access control denies sender",
            ockam_worker_addr(from));
        return drop(m, OCKAM_EACCES);
    }
    ockam_addr next = ockam_route_front(&m->onward);
    if (next.type == OCKAM_TRANSPORT_LOCAL)
        return route_local(n, m, next);
    if (next.type > OCKAM_TRANSPORT_MAX || !n->tops[next.type]) {
        log_addr(OCKAM_LOG_WARN, "dropping message: no transport for", next);
        return drop(m, OCKAM_ENOTSUP);
    }
    return n->tops[next.type]->route(n->tself[next.type], m);
}

void
ockam__node_route_incoming(ockam_node *n, ockam_msg *m)
{
    (void)route_msg(n, NULL, m);
}

ockam_err
ockam_forward(ockam_worker *from, ockam_msg *msg)
{
    return route_msg(from->node, from, msg);
}

ockam_err
ockam_send(ockam_worker *from, ockam_msg *msg)
{
    ockam_route_clear(&msg->ret);
    ockam_err err = ockam_route_push_back(&msg->ret, ockam_worker_addr(from));
    if (err)
        return drop(msg, err);
    return route_msg(from->node, from, msg);
}

/* ockam_send_to() when the first hop is a transport that can encode the message straight
 * into a connection: no message is built, copied and freed. Same checks as route_msg(). */
static ockam_err
send_direct(ockam_worker *from, const ockam_route *onward, const void *data, size_t len)
{
    ockam_node *n = from->node;
    if (n->closing || onward->count == 0 || from->out_kind != OCKAM_ACCESS_ALLOW_ALL)
        return OCKAM_EAGAIN;
    ockam_addr next = ockam_route_front(onward);
    if (next.type == OCKAM_TRANSPORT_LOCAL || next.type > OCKAM_TRANSPORT_MAX)
        return OCKAM_EAGAIN;
    const struct ockam__transport_ops *t = n->tops[next.type];
    if (!t || !t->send_direct)
        return OCKAM_EAGAIN;
    return t->send_direct(n->tself[next.type], onward, ockam_worker_addr(from), data, len);
}

ockam_err
ockam_send_to(ockam_worker *from, const ockam_route *onward, const void *data, size_t len)
{
    ockam_err err = send_direct(from, onward, data, len);
    if (err != OCKAM_EAGAIN)
        return err;
    ockam_msg *m = ockam_msg_new();
    if (!m)
        return OCKAM_ENOMEM;
    if (ockam_route_copy(&m->onward, onward) || ockam_msg_set_payload(m, data, len))
        return drop(m, OCKAM_ENOMEM);
    return ockam_send(from, m);
}

ockam_err
ockam_reply(ockam_worker *from, ockam_msg *m, const void *data, size_t len)
{
    /* Swap the routes' storage: the return route becomes the onward route, no copies. */
    struct ockam_route tmp = m->onward;
    m->onward = m->ret;
    m->ret = tmp;
    ockam_route_clear(&m->ret);
    ockam_err err = ockam_route_push_back(&m->ret, ockam_worker_addr(from));
    if (!err && (data != m->payload || len != m->payload_len))
        err = ockam_msg_set_payload(m, data, len);
    if (err)
        return drop(m, err);
    return route_msg(from->node, from, m);
}

/* ---- what the policy module needs ------------------------------------------------- */

uint64_t
ockam__node_flow_epoch(const ockam_node *n)
{
    return n->registry.removals;
}

struct ockam__registry *
ockam__node_registry(ockam_node *n)
{
    return &n->registry;
}

struct ockam__policy *
ockam__node_policy(ockam_node *n)
{
    return &n->policy;
}

/* ---- timers -------------------------------------------------------------------------- */

static void
timer_fire(uv_timer_t *h)
{
    ockam_timer *t = h->data;
    t->cb(t, t->user);
}

ockam_err
ockam_timer_start(ockam_node *n, uint64_t timeout_ms, uint64_t repeat_ms, ockam_timer_cb cb,
    void *user, ockam_timer **out)
{
    if (!cb)
        return OCKAM_EINVAL;
    ockam_timer *t = ockam__zalloc(sizeof *t);
    if (!t)
        return OCKAM_ENOMEM;
    t->node = n;
    t->cb = cb;
    t->user = user;
    uv_timer_init(&n->loop, &t->handle);
    t->handle.data = t;
    uv_timer_start(&t->handle, timer_fire, timeout_ms, repeat_ms);
    ockam__link_push_front(&n->timers, &t->link);
    if (out)
        *out = t;
    return OCKAM_OK;
}

static void
timer_closed(uv_handle_t *h)
{
    ockam__free(h->data);
}

void
ockam_timer_stop(ockam_timer *t)
{
    if (!t)
        return;
    ockam__link_del(&t->link);
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, timer_closed);
}

/* ---- blocking request ---------------------------------------------------------------- */

struct request {
    ockam_msg *reply;
    bool timed_out;
};

static void
request_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct request *r = user;
    if (r->reply) {
        ockam_msg_free(msg); /* only the first reply counts */
        return;
    }
    r->reply = msg;
}

static void
request_timeout(ockam_timer *t, void *user)
{
    ((struct request *)user)->timed_out = true;
}

ockam_err
ockam_node_request(ockam_node *n, const ockam_route *onward, const void *data, size_t len,
    uint64_t timeout_ms, ockam_msg **reply)
{
    struct request r = {0};
    ockam_worker *w;
    ockam_timer *t;
    ockam_worker_opts opts = {.on_message = request_on_message, .user = &r};

    *reply = NULL;
    ockam_err err = ockam_worker_start(n, NULL, &opts, &w);
    if (err)
        return err;
    err = ockam_send_to(w, onward, data, len);
    if (err) {
        ockam_worker_stop(w);
        return err;
    }
    err = ockam_timer_start(n, timeout_ms, 0, request_timeout, &r, &t);
    if (err) {
        ockam_worker_stop(w);
        return err;
    }
    while (!r.reply && !r.timed_out)
        uv_run(&n->loop, UV_RUN_ONCE);
    ockam_timer_stop(t);
    ockam_worker_stop(w);
    if (!r.reply)
        return OCKAM_ETIMEDOUT;
    *reply = r.reply;
    return OCKAM_OK;
}
