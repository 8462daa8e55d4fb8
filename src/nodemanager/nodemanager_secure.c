/* The node manager's identity, secure channel listeners, channels and /secure/ routes (see
 * nodemanager_secure.h). */
#include "nodemanager/nodemanager_secure.h"

#include "core/core.h"
#include "ockam/multiaddr.h"
#include "ockam/secure_channel.h"
#include "ockam/tcp.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define API_LISTENER "api"
#define DEFAULT_TIMEOUT_MS 10000u
#define BEAT_MS 1000u       /* a proxy checks its channel this often */
#define BEAT_MISSES 2u      /* unanswered checks before the channel is made again */
#define BACKOFF_MIN_MS 250u /* first retry after a failure, doubling ... */
#define BACKOFF_MAX_MS 4000u
#define PROXY_QUEUE 64      /* messages a proxy keeps while its channel is being made */
#define VAULT_RETRY_MS 10u  /* a request whose identity's vault file is held: again after */
#define VAULT_WAIT_MS 2000u /* ... until this much time passed since it arrived */
#define IDENTITY_NAME_MAX 128

/* A connection made for a route's first TCP hop, closed by whoever owns the channel(s) it
 * carries; conn turns NULL when it closes by itself. */
struct held {
    ockam_conn *conn;
};

static void
held_gone(ockam_conn *conn, ockam_err reason, void *user)
{
    ((struct held *)user)->conn = NULL;
}

/* Close the connection (if still open) and free the holder. */
static void
held_close(struct held *h)
{
    if (!h)
        return;
    if (h->conn) {
        ockam_conn_off_close(h->conn, held_gone, h);
        ockam_conn_close(h->conn);
    }
    ockam__free(h);
}

/* A channel in a list of channels made for a route; sc turns NULL when the channel closes by
 * itself (Close from the peer, node teardown). */
struct hsc {
    ockam_sc *sc;
};

static void
hsc_gone(ockam_sc *sc, void *user)
{
    ((struct hsc *)user)->sc = NULL;
}

/* An identity that listeners and channels use, loaded once by name and shared: the node's own
 * (held by the manager for its lifetime) and those named by "identity" in requests, freed with
 * their last user. A listener's identity must outlive it (it attests its channel key again
 * once a day). */
struct idref {
    char *name;
    ockam_identity *id;
    ockam_vault *vault; /* memory copy of its keys */
    unsigned refs;
    bool stale; /* the name now denotes another identity: kept for its users, never shared */
};

struct sl {
    char *addr;
    struct idref *ident;
    ockam_sc_listener *l;
    json_t *authorized; /* array of identifiers */
    const char **ids;   /* views into authorized, for the trust policy */
};

struct chan {
    ockam_sc *sc;
    struct idref *ident;
    struct held *conn;
    char *to;
    json_t *authorized;
    struct ockam__nm_secure *s;
};

struct resolve; /* one /secure/ route being made */
typedef void (*resolved_fn)(struct resolve *r, ockam_err err, const char *why);

struct resolve {
    struct resolve *next;
    struct ockam__nm_secure *s; /* NULL once the manager is gone */
    struct idref *ident;        /* who initiates the channels (held; dropped with s) */
    ockam_multiaddr *ma;        /* what is left to resolve; /service/<encryptor> in front */
    json_t *authorized;
    const char **ids;
    uint32_t timeout_ms;
    struct hsc **made; /* the channels, outermost first */
    size_t nmade;
    resolved_fn done;
    void *user;
    ockam_msg *req; /* the API request waiting for this, if any */
    json_t *body;
    ockam_timer *timer; /* a message's channels: closed when it fires */
    uint64_t started_ms;
    struct held *conn;  /* the first hop's connection, made here */
    ockam_route *route; /* while connecting: the route after the first hop */
};

struct proxy {
    struct ockam__nm_secure *s;
    ockam_worker *worker;
    char addr[OCKAM_RANDOM_ADDR_LEN + 1];
    ockam_worker *beat; /* sends the checks, gets their replies */
    char *to;
    char encryptor[OCKAM_RANDOM_ADDR_LEN + 1]; /* "" while no channel is up */
    struct hsc **made;
    size_t nmade;
    struct held *conn;
    ockam_timer *timer;
    unsigned misses;
    uint32_t backoff_ms;
    bool resolving;
    struct resolve *r;
    ockam_msg *queue[PROXY_QUEUE]; /* oldest first */
    size_t nqueue;
    json_t *authorized;    /* identities the far end may have ([] = any) */
    bool expose;           /* the node's services consume the channel's flow (relays) */
    ockam_flow_id exposed; /* that flow while they do */
    uint32_t ups;          /* channels made so far */
    char *identity;        /* the identity it presents (NULL: the node's own), */
    struct idref *ident;   /* held once loaded */
};

struct guard { /* an outlet's allowed identities */
    char *addr;
    json_t *allow;
    const char **ids;
    ockam_sc_trust trust;
};

struct vault_wait;

struct ockam__nm_secure {
    struct guard **guards;
    size_t nguards;
    ockam__nodemanager *nm;
    struct idref *own; /* the node's identity, also in ids */
    struct idref **ids;
    size_t nids;
    ockam__nm_identity_load_fn load;
    ockam__nm_identity_current_fn current;
    void *load_user;
    struct vault_wait *waits;
    struct sl *ls;
    size_t nls;
    struct chan **chans;
    size_t nchans;
    struct resolve *ops;
    struct proxy **proxies;
    size_t nproxies;
};

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct ockam__nm_secure *
sec(ockam__nodemanager *nm)
{
    return *ockam__nm_secure_slot(nm);
}

static bool
push_ptr(void ***arr, size_t *n, void *p)
{
    void **a = ockam__alloc((*n + 1) * sizeof *a);
    if (!a)
        return false;
    if (*n)
        memcpy(a, *arr, *n * sizeof *a);
    a[(*n)++] = p;
    ockam__free(*arr);
    *arr = a;
    return true;
}

static void
drop_ptr(void **arr, size_t *n, void *p)
{
    for (size_t i = 0; i < *n; i++) {
        if (arr[i] == p) {
            arr[i] = arr[--*n];
            return;
        }
    }
}

/* Identifier views of a JSON array (NULL when empty); the array must outlive them. */
static const char **
id_views(json_t *arr, size_t *n)
{
    *n = json_array_size(arr);
    if (!*n)
        return NULL;
    const char **v = ockam__zalloc(*n * sizeof *v);
    for (size_t i = 0; v && i < *n; i++)
        v[i] = json_string_value(json_array_get(arr, i));
    return v;
}

/* A copy of body[key] as an array of valid identifiers; NULL (and *bad set) when one is not. */
static json_t *
authorized_of(json_t *body, const char **bad)
{
    json_t *in = json_object_get(body, "authorized"), *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(in, i, v)
    {
        uint8_t raw[32];
        const char *text = json_string_value(v);
        if (!text || ockam_identifier_parse(text, raw) != OCKAM_OK) {
            *bad = text ? text : "?";
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, json_string(text));
    }
    return out;
}

/* ---- identities ------------------------------------------------------------------------- */

static void
idref_free(struct idref *ref)
{
    ockam_identity_free(ref->id);
    ockam_vault_free(ref->vault);
    ockam__free(ref->name);
    ockam__free(ref);
}

static struct idref *
idref_hold(struct idref *ref)
{
    ref->refs++;
    return ref;
}

/* Release a hold; the last one frees the identity and its keys. */
static void
idref_put(struct ockam__nm_secure *s, struct idref *ref)
{
    if (!s || !ref || --ref->refs > 0)
        return;
    drop_ptr((void **)s->ids, &s->nids, ref);
    idref_free(ref);
}

/* The identity `name` (NULL: the node's own) held for the caller: shared when loaded already,
 * loaded otherwise (see ockam__nm_identity_load_fn for wait_ms and the errors). */
static ockam_err
idref_get(struct ockam__nm_secure *s, const char *name, uint32_t wait_ms, struct idref **out,
    char *why, size_t cap)
{
    if (!name) {
        *out = idref_hold(s->own);
        return OCKAM_OK;
    }
    for (size_t i = 0; i < s->nids; i++) {
        struct idref *r = s->ids[i];
        if (r->stale || strcmp(r->name, name) != 0)
            continue;
        if (!s->current || s->current(s->load_user, name, ockam_identity_identifier(r->id))) {
            *out = idref_hold(r);
            return OCKAM_OK;
        }
        r->stale = true; /* deleted and made again: what asks for the name now gets the new one */
    }
    if (!s->load) {
        snprintf(why, cap, "Node %s can use only its own identity, %s.", ockam__nm_name(s->nm),
            s->own->name);
        return OCKAM_ENOTSUP;
    }
    struct idref *ref = ockam__zalloc(sizeof *ref);
    ockam_err err = ref && (ref->name = ockam__strdup(name)) ? OCKAM_OK : OCKAM_ENOMEM;
    if (!err)
        err = s->load(s->load_user, name, wait_ms, &ref->id, &ref->vault, why, cap);
    if (!err && !push_ptr((void ***)&s->ids, &s->nids, ref))
        err = OCKAM_ENOMEM;
    if (err == OCKAM_ENOMEM)
        snprintf(why, cap, "The node ran out of memory.");
    else if (err && !why[0])
        snprintf(why, cap, "The identity %s cannot be loaded: %s.", name, ockam_strerror(err));
    if (err) {
        if (ref)
            idref_free(ref);
        return err;
    }
    ref->refs = 1;
    *out = ref;
    return OCKAM_OK;
}

/* ---- listeners --------------------------------------------------------------------------- */

static struct sl *
sl_find(struct ockam__nm_secure *s, const char *addr)
{
    if (addr && strncmp(addr, "/service/", 9) == 0)
        addr += 9;
    for (size_t i = 0; s && addr && i < s->nls; i++) {
        if (strcmp(s->ls[i].addr, addr) == 0)
            return &s->ls[i];
    }
    return NULL;
}

static json_t *
sl_json(struct ockam__nm_secure *s, const struct sl *l)
{
    return json_pack("{s:s, s:s, s:s, s:O, s:I}", "address", l->addr, "identity", l->ident->name,
        "identifier", ockam_identity_identifier(l->ident->id), "authorized", l->authorized,
        "flow_control_id", (json_int_t)ockam_sc_listener_flow_id(l->l));
}

/* An accepted channel's encryptor may be sent to from the node's listeners, as the sender
 * address of a connection may: a relay registered through the channel forwards into it. What
 * it carries reaches, at the initiator, only the workers that sent through the channel and
 * the services the initiator exposed to it (a relay client's node). */
static void
sl_on_channel(ockam_sc *sc, void *user)
{
    struct ockam__nm_secure *s = user;
    if (ockam__nm_consume_all(s->nm, ockam_sc_encryptor(sc)) != OCKAM_OK)
        OCKAM_LOG_W("secure channel %s: cannot be reached through the node's listeners",
            ockam_sc_encryptor(sc));
}

/* A listener at addr presenting ident (both ident and authorized are consumed). Make addr a
 * consumer of every flow the public services consume; and every public service a consumer of
 * the listener's flow (what comes out of its channels). */
static ockam_err
sl_add(struct ockam__nm_secure *s, const char *addr, json_t *authorized, struct idref *ident)
{
    if (sl_find(s, addr)) {
        json_decref(authorized);
        idref_put(s, ident);
        return OCKAM_EEXIST;
    }
    struct sl l = {.addr = ockam__strdup(addr), .authorized = authorized, .ident = ident};
    size_t n;
    l.ids = id_views(authorized, &n);
    ockam_sc_listener_opts o
        = {.trust = {.identifiers = l.ids, .count = n}, .on_channel = sl_on_channel, .user = s};
    ockam_err err
        = l.addr ? ockam_sc_listen(ockam__nm_node(s->nm), ident->id, addr, &o, &l.l) : OCKAM_ENOMEM;
    if (!err)
        err = ockam__nm_consume_all(s->nm, addr);
    struct sl *arr = err ? NULL : ockam__alloc((s->nls + 1) * sizeof *arr);
    if (!err && !arr)
        err = OCKAM_ENOMEM;
    if (err) {
        if (l.l)
            ockam_sc_listener_stop(l.l);
        ockam__free(l.addr);
        ockam__free(l.ids);
        json_decref(authorized);
        idref_put(s, ident);
        return err;
    }
    if (s->nls)
        memcpy(arr, s->ls, s->nls * sizeof *arr);
    ockam__free(s->ls);
    s->ls = arr;
    s->ls[s->nls++] = l;
    ockam__nm_services_consume(s->nm, ockam_sc_listener_flow_id(l.l));
    return OCKAM_OK;
}

static void
sl_remove(struct ockam__nm_secure *s, struct sl *l)
{
    ockam__nm_services_release(s->nm, ockam_sc_listener_flow_id(l->l));
    ockam_sc_listener_stop(l->l);
    ockam__free(l->addr);
    ockam__free(l->ids);
    json_decref(l->authorized);
    idref_put(s, l->ident);
    *l = s->ls[--s->nls];
}

/* A saved listener's identity ("identity" absent: the node's own), waiting for its vault file
 * as a starting node does for its own; NULL (logged) when it cannot be loaded. */
static struct idref *
saved_identity(struct ockam__nm_secure *s, json_t *saved, const char *addr)
{
    const char *name = json_string_value(json_object_get(saved, "identity"));
    struct idref *ref = NULL;
    char why[300] = "";
    ockam_err err = idref_get(s, name, VAULT_WAIT_MS, &ref, why, sizeof why);
    if (err)
        OCKAM_LOG_W("nodemanager: cannot restore the secure channel listener %s: %s", addr, why);
    return err ? NULL : ref;
}

ockam_err
ockam__nm_secure_start(ockam__nodemanager *nm, const ockam__nm_secure_opts *opts, json_t *config)
{
    struct ockam__nm_secure *s = ockam__zalloc(sizeof *s);
    struct idref *own = ockam__zalloc(sizeof *own);
    const char *name = opts->name ? opts->name : "default";
    if (own) {
        own->id = opts->id;
        own->vault = opts->vault;
        own->refs = 1;
        own->name = ockam__strdup(name);
    }
    if (!s || !own || !own->name || !push_ptr((void ***)&s->ids, &s->nids, own)) {
        if (own)
            idref_free(own);
        else {
            ockam_identity_free(opts->id);
            ockam_vault_free(opts->vault);
        }
        if (s)
            ockam__free(s->ids);
        ockam__free(s);
        return OCKAM_ENOMEM;
    }
    s->nm = nm;
    s->own = own;
    s->load = opts->load;
    s->current = opts->current;
    s->load_user = opts->load_user;
    *ockam__nm_secure_slot(nm) = s;
    json_t *saved = json_object_get(config, "secure_channel_listeners");
    bool api_saved = false;
    size_t i;
    json_t *v;
    json_array_foreach(saved, i, v)
    {
        const char *addr = json_string_value(json_object_get(v, "address"));
        const char *bad = NULL;
        json_t *auth = authorized_of(v, &bad);
        if (!addr || !auth) {
            json_decref(auth);
            continue;
        }
        api_saved = api_saved || strcmp(addr, API_LISTENER) == 0;
        struct idref *ident = saved_identity(s, v, addr);
        ockam_err err = ident ? sl_add(s, addr, auth, ident) : OCKAM_OK;
        if (!ident)
            json_decref(auth);
        if (err)
            OCKAM_LOG_W("nodemanager: cannot restore the secure channel listener %s: %s", addr,
                ockam_strerror(err));
    }
    /* A node always has its listener at api, unless it was deleted (saved as "deleted"). */
    if (!api_saved && !json_is_true(json_object_get(config, "api_listener_deleted")))
        return sl_add(s, API_LISTENER, json_array(), idref_hold(own));
    return OCKAM_OK;
}

void
ockam__nm_secure_flow(ockam__nodemanager *nm, ockam_flow_id flow, bool add)
{
    struct ockam__nm_secure *s = sec(nm);
    for (size_t i = 0; s && i < s->nls; i++) {
        if (add)
            ockam_flow_add_consumer(ockam__nm_node(nm), s->ls[i].addr, flow);
        else
            ockam_flow_remove_consumer(ockam__nm_node(nm), s->ls[i].addr, flow);
    }
}

ockam_err
ockam__nm_secure_consume_all(ockam__nodemanager *nm, const char *addr)
{
    struct ockam__nm_secure *s = sec(nm);
    ockam_err err = OCKAM_OK;
    for (size_t i = 0; s && !err && i < s->nls; i++)
        err = ockam_flow_add_consumer(
            ockam__nm_node(nm), addr, ockam_sc_listener_flow_id(s->ls[i].l));
    return err;
}

static json_t *
listeners_json(struct ockam__nm_secure *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; s && i < s->nls; i++)
        json_array_append_new(arr, sl_json(s, &s->ls[i]));
    return arr;
}

void
ockam__nm_secure_resources(ockam__nodemanager *nm, json_t *res)
{
    struct ockam__nm_secure *s = sec(nm);
    json_object_set_new(
        res, "identifier", s ? json_string(ockam_identity_identifier(s->own->id)) : json_null());
    json_object_set_new(res, "secure_channel_listeners", listeners_json(s));
}

void
ockam__nm_secure_config(ockam__nodemanager *nm, json_t *cfg)
{
    struct ockam__nm_secure *s = sec(nm);
    if (!s)
        return;
    json_t *arr = json_array();
    for (size_t i = 0; i < s->nls; i++)
        json_array_append_new(arr,
            json_pack("{s:s, s:s, s:O}", "address", s->ls[i].addr, "identity", s->ls[i].ident->name,
                "authorized", s->ls[i].authorized));
    json_object_set_new(cfg, "secure_channel_listeners", arr);
    json_object_set_new(cfg, "api_listener_deleted", json_boolean(!sl_find(s, API_LISTENER)));
}

void
ockam__nm_sc_listener_list(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b)
{
    ockam__nm_reply_ok(nm, req, listeners_json(sec(nm)));
}

static bool
need_identity(ockam__nodemanager *nm, ockam_msg *req)
{
    if (sec(nm))
        return true;
    ockam__nm_reply_err(nm, req, 500, "Node %s has no identity.", ockam__nm_name(nm));
    return false;
}

/* ---- requests that name an identity ------------------------------------------------------ */

/* A handler run again when the vault file it waited for may be free; until: when to give up. */
typedef void (*again_fn)(ockam__nodemanager *nm, ockam_msg *req, json_t *b, uint64_t until);

/* A request waiting for its identity's vault file, which another process holds for the few
 * milliseconds a command or a starting node needs it: the loop retries it on a timer rather
 * than blocking on the lock. */
struct vault_wait {
    struct vault_wait *next;
    struct ockam__nm_secure *s;
    ockam_msg *req;
    json_t *body;
    uint64_t until;
    again_fn again;
    ockam_timer *timer;
};

static void
wait_unlink(struct vault_wait *w)
{
    for (struct vault_wait **p = &w->s->waits; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            return;
        }
    }
}

static void
wait_fire(ockam_timer *t, void *user)
{
    struct vault_wait *w = user;
    ockam_timer_stop(t);
    wait_unlink(w);
    w->again(w->s->nm, w->req, w->body, w->until);
    json_decref(w->body);
    ockam__free(w);
}

static ockam_err
wait_later(struct ockam__nm_secure *s, ockam_msg *req, json_t *b, uint64_t until, again_fn again)
{
    struct vault_wait *w = ockam__zalloc(sizeof *w);
    if (!w)
        return OCKAM_ENOMEM;
    *w = (struct vault_wait) {.next = s->waits,
        .s = s,
        .req = req,
        .body = json_incref(b),
        .until = until,
        .again = again};
    ockam_err err
        = ockam_timer_start(ockam__nm_node(s->nm), VAULT_RETRY_MS, 0, wait_fire, w, &w->timer);
    if (err) {
        json_decref(w->body);
        ockam__free(w);
        return err;
    }
    s->waits = w;
    return OCKAM_OK;
}

/* The identity b names ("identity", absent: the node's own), held in *out. false when the
 * request was answered (an error) or waits for the identity's vault file (it comes back
 * through again). */
static bool
request_identity(ockam__nodemanager *nm, ockam_msg *req, json_t *b, uint64_t until, again_fn again,
    struct idref **out)
{
    struct ockam__nm_secure *s = sec(nm);
    json_t *v = json_object_get(b, "identity");
    const char *name = json_string_value(v);
    if (v && !json_is_null(v) && (!name || !name[0] || strlen(name) > IDENTITY_NAME_MAX)) {
        ockam__nm_reply_err(nm, req, 400, "\"identity\" must be the name of an identity.");
        return false;
    }
    char why[400] = "";
    ockam_err err = idref_get(s, name, 0, out, why, sizeof why);
    if (!err)
        return true;
    if (err == OCKAM_EBUSY && mono_ms() < until && wait_later(s, req, b, until, again) == OCKAM_OK)
        return false;
    ockam__nm_reply_err(nm, req, err == OCKAM_ENOENT ? 404 : 500, "%s", why);
    return false;
}

static void
listener_create(ockam__nodemanager *nm, ockam_msg *req, json_t *b, uint64_t until)
{
    struct ockam__nm_secure *s = sec(nm);
    const char *addr = json_string_value(json_object_get(b, "address"));
    const char *bad = NULL;
    if (!addr || !addr[0] || strlen(addr) > 128) {
        ockam__nm_reply_err(nm, req, 400, "The request needs \"address\".");
        return;
    }
    json_t *auth = authorized_of(b, &bad);
    if (!auth) {
        ockam__nm_reply_err(nm, req, 400, "'%s' is not an identifier (I + 64 hex digits).", bad);
        return;
    }
    struct idref *ident;
    if (!request_identity(nm, req, b, until, listener_create, &ident)) {
        json_decref(auth);
        return;
    }
    ockam_err err = sl_add(s, addr, auth, ident);
    if (err == OCKAM_EEXIST)
        ockam__nm_reply_err(
            nm, req, 409, "The address %s is already taken on node %s.", addr, ockam__nm_name(nm));
    else if (err)
        ockam__nm_reply_err(
            nm, req, 500, "Unable to start the secure channel listener: %s.", ockam_strerror(err));
    if (err)
        return;
    ockam__nm_changed(nm);
    ockam__nm_reply_ok(nm, req, sl_json(s, sl_find(s, addr)));
}

void
ockam__nm_sc_listener_create(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b)
{
    if (need_identity(nm, req))
        listener_create(nm, req, b, mono_ms() + VAULT_WAIT_MS);
}

void
ockam__nm_sc_listener_show(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b)
{
    struct sl *l = sl_find(sec(nm), a);
    if (!l)
        ockam__nm_reply_err(nm, req, 404, "There is no secure channel listener at %s on node %s.",
            a, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, sl_json(sec(nm), l));
}

void
ockam__nm_sc_listener_delete(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b)
{
    struct ockam__nm_secure *s = sec(nm);
    struct sl *l = sl_find(s, a);
    if (!l) {
        ockam__nm_reply_err(nm, req, 404, "There is no secure channel listener at %s on node %s.",
            a, ockam__nm_name(nm));
        return;
    }
    json_t *view = sl_json(s, l);
    sl_remove(s, l);
    ockam__nm_changed(nm);
    ockam__nm_reply_ok(nm, req, view);
}

/* ---- resolving /secure/ routes ----------------------------------------------------------- */

static void
close_made(struct hsc **made, size_t *n)
{
    for (size_t i = *n; i-- > 0;) {
        if (made[i]->sc) {
            ockam_sc_set_closed_cb(made[i]->sc, NULL, NULL);
            ockam_sc_close(made[i]->sc);
        }
        ockam__free(made[i]);
    }
    *n = 0;
}

static void
resolve_free(struct resolve *r)
{
    if (r->s) {
        for (struct resolve **p = &r->s->ops; *p; p = &(*p)->next) {
            if (*p == r) {
                *p = r->next;
                break;
            }
        }
        idref_put(r->s, r->ident);
    }
    close_made(r->made, &r->nmade);
    held_close(r->conn);
    ockam_route_free(r->route);
    ockam_multiaddr_free(r->ma);
    json_decref(r->authorized);
    json_decref(r->body);
    ockam_msg_free(r->req);
    ockam__free(r->ids);
    ockam__free(r->made);
    ockam__free(r);
}

static ssize_t
first_secure(const ockam_multiaddr *ma)
{
    for (size_t i = 0; i < ockam_multiaddr_count(ma); i++) {
        if (ockam_multiaddr_at(ma, i).code == OCKAM_MA_SECURE)
            return (ssize_t)i;
    }
    return -1;
}

static void resolve_step(struct resolve *r);

static void
resolve_opened(ockam_sc *sc, ockam_err status, void *user)
{
    struct resolve *r = user;
    if (!r->s || !r->done) { /* the manager, or the proxy that asked, is gone */
        if (sc)
            ockam_sc_close(sc);
        close_made(r->made, &r->nmade);
        resolve_free(r);
        return;
    }
    if (status) {
        close_made(r->made, &r->nmade);
        r->nmade = 0;
        r->done(r, status, NULL);
        return;
    }
    struct hsc **m = ockam__alloc((r->nmade + 1) * sizeof *m);
    struct hsc *h = ockam__zalloc(sizeof *h);
    ockam_multiaddr *ins = ockam_multiaddr_new();
    const char *enc = ockam_sc_encryptor(sc);
    ssize_t i = first_secure(r->ma);
    ockam_err err = m && h && ins ? ockam_multiaddr_push(ins, OCKAM_MA_SERVICE, enc, strlen(enc))
                                  : OCKAM_ENOMEM;
    if (!err)
        err = ockam_multiaddr_splice(r->ma, 0, (size_t)i + 1, ins);
    ockam_multiaddr_free(ins);
    if (m && r->nmade)
        memcpy(m, r->made, r->nmade * sizeof *m);
    if (m && h) {
        h->sc = sc;
        ockam_sc_set_closed_cb(sc, hsc_gone, h);
        m[r->nmade++] = h;
        ockam__free(r->made);
        r->made = m;
    } else {
        ockam__free(m);
        ockam__free(h);
        ockam_sc_close(sc);
    }
    if (err) {
        close_made(r->made, &r->nmade);
        r->nmade = 0;
        r->done(r, err, "The node ran out of memory.");
        return;
    }
    resolve_step(r);
}

static void
resolve_handshake(struct resolve *r, ockam_route *route, ockam_err err)
{
    size_t n;
    ockam__free(r->ids);
    r->ids = id_views(r->authorized, &n);
    ockam_sc_opts o = {.trust = {.identifiers = r->ids, .count = n}, .timeout_ms = r->timeout_ms};
    if (!err)
        err = ockam_sc_create(ockam__nm_node(r->s->nm), r->ident->id, route, &o, resolve_opened, r);
    ockam_route_free(route);
    if (err) {
        close_made(r->made, &r->nmade);
        r->nmade = 0;
        r->done(r, err, NULL);
    }
}

static void
resolve_connected(ockam_conn *conn, ockam_err status, void *user)
{
    struct resolve *r = user;
    ockam_route *route = r->route;
    r->route = NULL;
    if (!r->s || !r->done) { /* the manager, or the proxy that asked, is gone */
        if (conn)
            ockam_conn_close(conn);
        ockam_route_free(route);
        resolve_free(r);
        return;
    }
    ockam_err err = status;
    if (!err) {
        r->conn->conn = conn;
        err = ockam_conn_on_close(conn, held_gone, r->conn);
        if (err) {
            r->conn->conn = NULL;
            ockam_conn_close(conn);
        }
    }
    if (!err)
        err = ockam_route_push_front(route, ockam_addr_local(ockam_conn_address(conn)));
    resolve_handshake(r, route, err);
}

/* The next /secure/NAME: a channel to NAME through the hops before it. */
static void
resolve_step(struct resolve *r)
{
    ssize_t i = first_secure(r->ma);
    if (i < 0) {
        r->done(r, OCKAM_OK, NULL);
        return;
    }
    ockam_multiaddr *head = ockam_multiaddr_new();
    ockam_route *route = ockam_route_new();
    ockam_err err = head && route ? OCKAM_OK : OCKAM_ENOMEM;
    for (ssize_t k = 0; !err && k <= i; k++) {
        ockam_ma_component c = ockam_multiaddr_at(r->ma, (size_t)k);
        err = ockam_multiaddr_push(
            head, k == i ? OCKAM_MA_SERVICE : c.code, c.value.ptr, c.value.len);
    }
    if (!err)
        err = ockam_multiaddr_to_route(head, route);
    ockam_multiaddr_free(head);
    /* A first TCP hop is connected explicitly: a refused connection is then a quick, clear
     * error rather than a handshake timeout, and the connection goes with the channel. */
    if (!err && !r->conn && ockam_route_front(route).type == OCKAM_TRANSPORT_TCP) {
        ockam_addr first = ockam_route_front(route);
        char hp[OCKAM_MAX_ADDR_LEN + 1];
        snprintf(hp, sizeof hp, "%.*s", (int)first.len, (const char *)first.bytes);
        ockam_route_pop_front(route);
        r->route = route;
        r->conn = ockam__zalloc(sizeof *r->conn);
        err = r->conn ? ockam_tcp_connect(ockam__nm_node(r->s->nm), hp, NULL, resolve_connected, r)
                      : OCKAM_ENOMEM;
        if (!err)
            return;
        route = NULL;
    }
    resolve_handshake(r, route, err);
}

/* authorized and ident are consumed. */
static struct resolve *
resolve_new(struct ockam__nm_secure *s, const char *to, json_t *authorized, struct idref *ident,
    uint32_t timeout_ms, resolved_fn done, void *user, ockam_err *err)
{
    struct resolve *r = ockam__zalloc(sizeof *r);
    if (!r) {
        *err = OCKAM_ENOMEM;
        json_decref(authorized);
        idref_put(s, ident);
        return NULL;
    }
    r->s = s;
    r->ident = ident;
    r->started_ms = mono_ms();
    r->authorized = authorized;
    r->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
    r->done = done;
    r->user = user;
    *err = ockam_multiaddr_parse(to, &r->ma);
    if (*err) {
        resolve_free(r);
        return NULL;
    }
    r->next = s->ops;
    s->ops = r;
    return r;
}

/* The route text of what is left: "/service/<encryptor>/...". Caller frees. */
static char *
ma_text(const ockam_multiaddr *ma)
{
    size_t need = ockam_multiaddr_format(ma, NULL, 0) + 1;
    char *t = ockam__alloc(need);
    if (t)
        ockam_multiaddr_format(ma, t, need);
    return t;
}

/* Status and sentence for a failed handshake. */
static int
failure(ockam_err err, const char *why, char *text, size_t cap)
{
    if (why) {
        snprintf(text, cap, "%s", why);
        return 500;
    }
    switch (err) {
    case OCKAM_EUNTRUSTED:
        snprintf(text, cap, "The peer's identity is not among the authorized identifiers.");
        return 403;
    case OCKAM_ETIMEDOUT:
        snprintf(text, cap,
            "The secure channel handshake timed out: is there a secure channel listener at "
            "the end of the route, and does it trust this node's identity?");
        return 504;
    case OCKAM_ENOTSUP:
        snprintf(text, cap, "The route still contains /node, /project or /space.");
        return 400;
    case OCKAM_EMULTIADDR:
    case OCKAM_EROUTE:
        snprintf(text, cap, "The route cannot be turned into hops.");
        return 400;
    case OCKAM_ECONNREFUSED:
    case OCKAM_ENOENT:
        snprintf(text, cap, "The route cannot be reached: %s.", ockam_strerror(err));
        return 502;
    default:
        snprintf(text, cap, "The secure channel could not be created: %s.", ockam_strerror(err));
        return 502;
    }
}

/* ---- secure channels --------------------------------------------------------------------- */

static json_t *
chan_json(const struct chan *c)
{
    char enc[OCKAM_RANDOM_ADDR_LEN + 16];
    snprintf(enc, sizeof enc, "/service/%s", ockam_sc_encryptor(c->sc));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:b}", "encryptor", enc, "decryptor",
        ockam_sc_decryptor(c->sc), "to", c->to, "identity", c->ident->name, "identifier",
        ockam_identity_identifier(c->ident->id), "peer", ockam_sc_peer(c->sc), "authorized",
        c->authorized, "initiator", ockam_sc_is_initiator(c->sc));
}

static void
chan_free(struct chan *c)
{
    idref_put(c->s, c->ident);
    held_close(c->conn);
    ockam__free(c->to);
    json_decref(c->authorized);
    ockam__free(c);
}

static void
chan_closed(ockam_sc *sc, void *user)
{
    struct chan *c = user;
    if (c->s)
        drop_ptr((void **)c->s->chans, &c->s->nchans, c);
    chan_free(c);
}

static struct chan *
chan_find(struct ockam__nm_secure *s, const char *enc)
{
    if (enc && strncmp(enc, "/service/", 9) == 0)
        enc += 9;
    for (size_t i = 0; s && enc && i < s->nchans; i++) {
        if (strcmp(ockam_sc_encryptor(s->chans[i]->sc), enc) == 0)
            return s->chans[i];
    }
    return NULL;
}

/* Take the request r was resolved for into *req (now the caller's). When err, it is answered
 * with the failure instead, r is freed, and the result is false. */
static bool
take_request(struct resolve *r, ockam_err err, const char *why, ockam_msg **req)
{
    *req = r->req;
    r->req = NULL;
    if (!err)
        return true;
    char text[300];
    int status = failure(err, why, text, sizeof text);
    ockam__nm_reply_err(r->s->nm, *req, status, "%s", text);
    resolve_free(r);
    return false;
}

static void
create_done(struct resolve *r, ockam_err err, const char *why)
{
    ockam__nodemanager *nm = r->s->nm;
    ockam_msg *req;
    if (!take_request(r, err, why, &req))
        return;
    /* The innermost channel is the one the user asked for; the outer ones carry it and
     * close with it. */
    struct chan *c = ockam__zalloc(sizeof *c);
    ockam_sc *sc = r->made[r->nmade - 1]->sc;
    const char *to = json_string_value(json_object_get(r->body, "to"));
    if (!c || !(c->to = ockam__strdup(to)) || !push_ptr((void ***)&r->s->chans, &r->s->nchans, c)) {
        if (c)
            chan_free(c);
        close_made(r->made, &r->nmade);
        ockam__nm_reply_err(nm, req, 500, "The node ran out of memory.");
        resolve_free(r);
        return;
    }
    c->sc = sc;
    c->s = r->s;
    c->ident = r->ident;
    r->ident = NULL;
    c->conn = r->conn;
    r->conn = NULL;
    c->authorized = json_incref(r->authorized);
    /* The outer channels (nested /secure/) stay up for the node's lifetime. */
    for (size_t i = 0; i < r->nmade; i++) {
        if (r->made[i]->sc)
            ockam_sc_set_closed_cb(r->made[i]->sc, NULL, NULL);
        ockam__free(r->made[i]);
    }
    r->nmade = 0;
    ockam_sc_set_closed_cb(sc, chan_closed, c);
    ockam__nm_reply_ok(nm, req, chan_json(c));
    resolve_free(r);
}

/* "to" without /secure/ at the end is a route to a listener: /secure/api is implied only
 * when the caller gave none (Ockam's secure-channel create --to ends at the listener). */
static void
sc_create(ockam__nodemanager *nm, ockam_msg *req, json_t *b, uint64_t until)
{
    const char *to = json_string_value(json_object_get(b, "to"));
    const char *bad = NULL;
    json_t *auth = authorized_of(b, &bad);
    if (!to || !auth) {
        json_decref(auth);
        ockam__nm_reply_err(nm, req, 400,
            to ? "'%s' is not an identifier (I + 64 hex digits)." : "The request needs \"to\".",
            bad);
        return;
    }
    /* The last /service/NAME of "to" is the listener: it becomes /secure/NAME. */
    ockam_multiaddr *ma;
    if (ockam_multiaddr_parse(to, &ma) != OCKAM_OK || ockam_multiaddr_count(ma) == 0) {
        json_decref(auth);
        ockam_multiaddr_free(ma);
        ockam__nm_reply_err(nm, req, 400, "'%s' is not a valid multiaddr.", to);
        return;
    }
    size_t n = ockam_multiaddr_count(ma);
    ockam_ma_component last = ockam_multiaddr_at(ma, n - 1);
    char *text = NULL;
    if (last.code == OCKAM_MA_SERVICE || last.code == OCKAM_MA_SECURE) {
        ockam_multiaddr *ins = ockam_multiaddr_new();
        if (ins && ockam_multiaddr_push(ins, OCKAM_MA_SECURE, last.value.ptr, last.value.len) == 0
            && ockam_multiaddr_splice(ma, n - 1, 1, ins) == 0)
            text = ma_text(ma);
        ockam_multiaddr_free(ins);
    }
    ockam_multiaddr_free(ma);
    if (!text) {
        json_decref(auth);
        ockam__nm_reply_err(nm, req, 400,
            "'%s' does not end at a secure channel listener (e.g. .../service/api).", to);
        return;
    }
    struct idref *ident;
    if (!request_identity(nm, req, b, until, sc_create, &ident)) {
        json_decref(auth);
        ockam__free(text);
        return;
    }
    json_t *tms = json_object_get(b, "timeout_ms");
    ockam_err err;
    struct resolve *r = resolve_new(sec(nm), text, auth, ident,
        json_is_integer(tms) ? (uint32_t)json_integer_value(tms) : 0, create_done, NULL, &err);
    ockam__free(text);
    if (!r) {
        ockam__nm_reply_err(nm, req, 400, "'%s' cannot be turned into a route.", to);
        return;
    }
    r->req = req;
    r->body = json_incref(b);
    resolve_step(r);
}

void
ockam__nm_sc_create(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b)
{
    if (need_identity(nm, req))
        sc_create(nm, req, b, mono_ms() + VAULT_WAIT_MS);
}

void
ockam__nm_sc_list(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b)
{
    struct ockam__nm_secure *s = sec(nm);
    json_t *arr = json_array();
    for (size_t i = 0; s && i < s->nchans; i++)
        json_array_append_new(arr, chan_json(s->chans[i]));
    ockam__nm_reply_ok(nm, req, arr);
}

void
ockam__nm_sc_show(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b)
{
    struct chan *c = chan_find(sec(nm), a);
    if (!c)
        ockam__nm_reply_err(
            nm, req, 404, "There is no secure channel %s on node %s.", a, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, chan_json(c));
}

void
ockam__nm_sc_delete(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b)
{
    struct chan *c = chan_find(sec(nm), a);
    if (!c) {
        ockam__nm_reply_err(
            nm, req, 404, "There is no secure channel %s on node %s.", a, ockam__nm_name(nm));
        return;
    }
    json_t *view = chan_json(c);
    ockam_sc_close(c->sc); /* chan_closed frees c */
    ockam__nm_reply_ok(nm, req, view);
}

/* ---- messages through /secure/ routes ----------------------------------------------------- */

static void
close_later(ockam_timer *t, void *user)
{
    struct resolve *r = user;
    ockam_timer_stop(t);
    r->timer = NULL;
    close_made(r->made, &r->nmade);
    resolve_free(r);
}

static void
message_done(struct resolve *r, ockam_err err, const char *why)
{
    ockam__nodemanager *nm = r->s->nm;
    ockam_msg *req;
    if (!take_request(r, err, why, &req))
        return;
    char *text = ma_text(r->ma);
    json_t *body = json_deep_copy(r->body);
    json_object_set_new(body, "to", json_string(text ? text : ""));
    /* The handshake used part of the caller's time: the reply gets what is left. */
    uint64_t spent = mono_ms() - r->started_ms;
    json_int_t left = (json_int_t)(r->timeout_ms > spent ? r->timeout_ms - spent : 1);
    json_object_set_new(body, "timeout_ms", json_integer(left));
    ockam__free(text);
    ockam__nm_send_message(nm, req, NULL, body);
    json_decref(body);
    /* The channels were made for this one message: they close once its reply had time to
     * come back. */
    json_t *tms = json_object_get(r->body, "timeout_ms");
    uint64_t ms = (json_is_integer(tms) ? (uint64_t)json_integer_value(tms) : 10000) + 1000;
    r->done = NULL;
    if (ockam_timer_start(ockam__nm_node(nm), ms, 0, close_later, r, &r->timer) != OCKAM_OK) {
        close_made(r->made, &r->nmade);
        resolve_free(r);
    }
}

void
ockam__nm_secure_send(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *to = json_string_value(json_object_get(body, "to"));
    if (!to || !strstr(to, "/secure/")) {
        ockam__nm_send_message(nm, req, arg, body);
        return;
    }
    if (!need_identity(nm, req))
        return;
    json_t *tms = json_object_get(body, "timeout_ms");
    ockam_err err;
    struct resolve *r = resolve_new(sec(nm), to, json_array(), idref_hold(sec(nm)->own),
        json_is_integer(tms) ? (uint32_t)json_integer_value(tms) : 0, message_done, NULL, &err);
    if (!r) {
        ockam__nm_reply_err(nm, req, 400, "\"to\" is not a valid multiaddr.");
        return;
    }
    r->req = req;
    r->body = json_incref(body);
    resolve_step(r);
}

/* ---- inlet proxies ----------------------------------------------------------------------- */

static void proxy_resolve(struct proxy *p);

static void
proxy_down(struct proxy *p)
{
    if (p->exposed)
        ockam__nm_services_release(p->s->nm, p->exposed);
    p->exposed = 0;
    close_made(p->made, &p->nmade);
    ockam__free(p->made);
    held_close(p->conn);
    p->conn = NULL;
    p->made = NULL;
    p->nmade = 0;
    p->encryptor[0] = '\0';
}

static void
proxy_retry(ockam_timer *t, void *user)
{
    struct proxy *p = user;
    ockam_timer_stop(t);
    p->timer = NULL;
    proxy_resolve(p);
}

static void proxy_beat(ockam_timer *t, void *user);
static void proxy_flush(struct proxy *p);

static void
proxy_resolved(struct resolve *r, ockam_err err, const char *why)
{
    struct proxy *p = r->user;
    p->r = NULL;
    p->resolving = false;
    if (err) {
        OCKAM_LOG_I("route %s: no channel yet (%s); again in %u ms", p->to, ockam_strerror(err),
            p->backoff_ms);
        ockam_timer_start(ockam__nm_node(p->s->nm), p->backoff_ms, 0, proxy_retry, p, &p->timer);
        p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2;
        resolve_free(r);
        return;
    }
    p->made = r->made;
    p->nmade = r->nmade;
    p->conn = r->conn;
    r->conn = NULL;
    r->made = NULL;
    r->nmade = 0;
    snprintf(
        p->encryptor, sizeof p->encryptor, "%s", ockam_sc_encryptor(p->made[p->nmade - 1]->sc));
    p->backoff_ms = BACKOFF_MIN_MS;
    p->misses = 0;
    OCKAM_LOG_I("route %s: secure channel up (encryptor %s)", p->to, p->encryptor);
    /* A relay registered through the channel: what the relay node forwards comes out of it
     * and must reach the node's services, as through the listener of a plain relay. */
    if (p->expose) {
        p->exposed = ockam_sc_flow_id(p->made[p->nmade - 1]->sc);
        ockam__nm_services_consume(p->s->nm, p->exposed);
    }
    resolve_free(r);
    proxy_flush(p);
    ockam_timer_start(ockam__nm_node(p->s->nm), BEAT_MS, BEAT_MS, proxy_beat, p, &p->timer);
    /* A channel made again usually means the far node restarted: a relay it held is gone. */
    if (p->ups++ > 0 && p->expose)
        ockam__nm_relay_channel_remade(p->s->nm, p->addr);
}

/* A named identity is loaded when its vault file is free (another process may hold it for a
 * moment): until then the proxy retries as when the far end does not answer. */
static bool
proxy_identity(struct proxy *p)
{
    char why[300] = "";
    if (!p->identity || p->ident)
        return true;
    ockam_err err = idref_get(p->s, p->identity, 0, &p->ident, why, sizeof why);
    if (!err)
        return true;
    OCKAM_LOG_I("route %s: %s; again in %u ms", p->to, why, p->backoff_ms);
    ockam_timer_start(ockam__nm_node(p->s->nm), p->backoff_ms, 0, proxy_retry, p, &p->timer);
    p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2;
    return false;
}

static void
proxy_resolve(struct proxy *p)
{
    ockam_err err;
    if (!proxy_identity(p))
        return;
    /* Resolve only up to the last /secure/NAME: the rest is the proxy's callers' route. */
    struct resolve *r = resolve_new(p->s, p->to, json_incref(p->authorized),
        idref_hold(p->ident ? p->ident : p->s->own), DEFAULT_TIMEOUT_MS / 2, proxy_resolved, p,
        &err);
    if (!r) {
        OCKAM_LOG_W("route %s: %s", p->to, ockam_strerror(err));
        return;
    }
    p->resolving = true;
    p->r = r;
    resolve_step(r);
}

/* Every BEAT_MS: a message to echo on the far node through the channel; BEAT_MISSES without
 * an answer and the channel is made again. */
static void
proxy_beat(ockam_timer *t, void *user)
{
    struct proxy *p = user;
    if (p->misses >= BEAT_MISSES) {
        OCKAM_LOG_I("route %s: the far end stopped answering; making the channel again", p->to);
        ockam_timer_stop(t);
        p->timer = NULL;
        proxy_down(p);
        p->backoff_ms = BACKOFF_MIN_MS;
        proxy_resolve(p);
        return;
    }
    p->misses++;
    ockam_route *r = ockam_route_new();
    if (r && ockam_route_push_back(r, ockam_addr_local(p->encryptor)) == OCKAM_OK
        && ockam_route_push_back(r, ockam_addr_local("echo")) == OCKAM_OK)
        ockam_send_to(p->beat, r, "\x01", 1);
    ockam_route_free(r);
}

static void
beat_reply(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct proxy *p = user;
    p->misses = 0;
    ockam_msg_free(msg);
}

static void
proxy_forward(struct proxy *p, ockam_msg *msg)
{
    ockam_route *on = ockam_msg_onward(msg);
    ockam_route_pop_front(on);
    if (ockam_route_push_front(on, ockam_addr_local(p->encryptor)) != OCKAM_OK) {
        ockam_msg_free(msg);
        return;
    }
    ockam_forward(p->worker, msg);
}

/* What the inlet sends to [proxy, ...]: on through the current channel, routes otherwise
 * unchanged (the encryptor adopts the inlet's worker, so replies reach it). While the channel
 * is being made, the newest PROXY_QUEUE messages wait (the inlet's first probe among them). */
static void
proxy_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct proxy *p = user;
    if (p->encryptor[0]) {
        proxy_forward(p, msg);
        return;
    }
    if (p->nqueue == PROXY_QUEUE) {
        ockam_msg_free(p->queue[0]);
        memmove(p->queue, p->queue + 1, (PROXY_QUEUE - 1) * sizeof p->queue[0]);
        p->nqueue--;
    }
    p->queue[p->nqueue++] = msg;
}

static void
proxy_flush(struct proxy *p)
{
    size_t n = p->nqueue;
    p->nqueue = 0;
    for (size_t i = 0; i < n; i++) {
        if (p->encryptor[0])
            proxy_forward(p, p->queue[i]);
        else
            ockam_msg_free(p->queue[i]);
    }
}

ockam_err
ockam__nm_secure_proxy_start(ockam__nodemanager *nm, const char *to, json_t *authorized,
    const char *identity, bool expose, char **route_text, char **proxy)
{
    struct ockam__nm_secure *s = sec(nm);
    if (!s)
        return OCKAM_ENOTSUP;
    if (identity && (!identity[0] || strlen(identity) > IDENTITY_NAME_MAX))
        return OCKAM_EINVAL;
    ockam_multiaddr *ma;
    ockam_err err = ockam_multiaddr_parse(to, &ma);
    if (err)
        return err;
    /* Split after the last /secure/NAME: the proxy resolves the head, callers use the tail. */
    ssize_t last = -1;
    for (size_t i = 0; i < ockam_multiaddr_count(ma); i++)
        if (ockam_multiaddr_at(ma, i).code == OCKAM_MA_SECURE)
            last = (ssize_t)i;
    struct proxy *p = ockam__zalloc(sizeof *p);
    ockam_multiaddr *head = ockam_multiaddr_new(), *tail = ockam_multiaddr_new();
    err = p && head && tail && last >= 0 ? OCKAM_OK : OCKAM_ENOMEM;
    for (size_t i = 0; !err && i < ockam_multiaddr_count(ma); i++) {
        ockam_ma_component c = ockam_multiaddr_at(ma, i);
        err = ockam_multiaddr_push(
            (ssize_t)i <= last ? head : tail, c.code, c.value.ptr, c.value.len);
    }
    ockam_multiaddr_free(ma);
    if (!err) {
        p->s = s;
        p->to = ma_text(head);
        p->backoff_ms = BACKOFF_MIN_MS;
        p->authorized = authorized ? json_incref(authorized) : json_array();
        p->expose = expose;
        if (identity && !(p->identity = ockam__strdup(identity)))
            err = OCKAM_ENOMEM;
    }
    if (!err && identity) {
        /* An identity that is not there (or has no key) is an error now; one whose vault
         * file is busy is loaded by the first attempt that finds it free. */
        char why[300] = "";
        err = idref_get(s, identity, 0, &p->ident, why, sizeof why);
        if (err == OCKAM_EBUSY)
            err = OCKAM_OK;
    }
    if (!err) {
        ockam_addr_random(p->addr);
        ockam_worker_opts po = {.on_message = proxy_message, .user = p};
        ockam_worker_opts bo = {.on_message = beat_reply, .user = p};
        err = p->to ? ockam_worker_start(ockam__nm_node(nm), p->addr, &po, &p->worker)
                    : OCKAM_ENOMEM;
        if (!err)
            err = ockam_worker_start(ockam__nm_node(nm), NULL, &bo, &p->beat);
    }
    char *rest = !err ? ma_text(tail) : NULL;
    ockam_multiaddr_free(head);
    ockam_multiaddr_free(tail);
    if (!err && (!rest || !push_ptr((void ***)&s->proxies, &s->nproxies, p)))
        err = OCKAM_ENOMEM;
    if (err) {
        ockam__free(rest);
        if (p && p->worker)
            ockam_worker_stop(p->worker);
        if (p && p->beat)
            ockam_worker_stop(p->beat);
        if (p) {
            idref_put(s, p->ident);
            ockam__free(p->to);
            ockam__free(p->identity);
            json_decref(p->authorized);
        }
        ockam__free(p);
        return err;
    }
    size_t need = strlen(p->addr) + strlen(rest) + 16;
    *route_text = ockam__alloc(need);
    *proxy = ockam__strdup(p->addr);
    if (*route_text)
        snprintf(*route_text, need, "/service/%s%s", p->addr, rest);
    ockam__free(rest);
    proxy_resolve(p);
    return *route_text && *proxy ? OCKAM_OK : OCKAM_ENOMEM;
}

static void
proxy_free(struct proxy *p, bool stop_workers)
{
    if (p->r) {
        p->r->done = NULL;
        p->r->user = NULL;
    }
    ockam_timer_stop(p->timer);
    if (!stop_workers)
        p->exposed = 0; /* node teardown: the services are gone already */
    proxy_down(p);
    proxy_flush(p); /* no channel: frees what waits */
    if (stop_workers) {
        ockam_worker_stop(p->worker);
        ockam_worker_stop(p->beat);
    }
    idref_put(p->s, p->ident);
    ockam__free(p->identity);
    ockam__free(p->to);
    json_decref(p->authorized);
    ockam__free(p);
}

void
ockam__nm_secure_proxy_stop(ockam__nodemanager *nm, const char *proxy)
{
    struct ockam__nm_secure *s = sec(nm);
    for (size_t i = 0; s && proxy && i < s->nproxies; i++) {
        if (strcmp(s->proxies[i]->addr, proxy) == 0) {
            struct proxy *p = s->proxies[i];
            drop_ptr((void **)s->proxies, &s->nproxies, p);
            proxy_free(p, true);
            return;
        }
    }
}

/* ---- outlets for some identities only ------------------------------------------------------- */

bool
ockam__nm_secure_allow_valid(json_t *allow)
{
    if (!allow || json_is_null(allow))
        return true;
    if (!json_is_array(allow) || json_array_size(allow) == 0)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(allow, i, v)
    {
        uint8_t raw[32];
        const char *t = json_string_value(v);
        if (!t || (strcmp(t, "secure") != 0 && ockam_identifier_parse(t, raw) != OCKAM_OK))
            return false;
    }
    return true;
}

bool
ockam__nm_secure_ids_valid(json_t *ids)
{
    if (!ids || json_is_null(ids))
        return true;
    if (!json_is_array(ids))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        uint8_t raw[32];
        const char *t = json_string_value(v);
        if (!t || ockam_identifier_parse(t, raw) != OCKAM_OK)
            return false;
    }
    return true;
}

static void
guard_free(struct guard *g)
{
    ockam__free(g->addr);
    ockam__free(g->ids);
    json_decref(g->allow);
    ockam__free(g);
}

static struct guard *
guard_find(struct ockam__nm_secure *s, const char *addr)
{
    for (size_t i = 0; s && i < s->nguards; i++) {
        if (strcmp(s->guards[i]->addr, addr) == 0)
            return s->guards[i];
    }
    return NULL;
}

ockam_err
ockam__nm_secure_outlet_allow(ockam__nodemanager *nm, ockam_outlet *o, json_t *allow)
{
    struct ockam__nm_secure *s = sec(nm);
    if (!allow || json_is_null(allow))
        return OCKAM_OK;
    if (!s)
        return OCKAM_ENOTSUP;
    struct guard *g = ockam__zalloc(sizeof *g);
    if (!g || !(g->addr = ockam__strdup(ockam_outlet_address(o)))) {
        ockam__free(g);
        return OCKAM_ENOMEM;
    }
    /* "secure" alone: any identity, as long as it came through a channel (count 0). */
    g->allow = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(allow, i, v)
    {
        if (strcmp(json_string_value(v), "secure") != 0)
            json_array_append(g->allow, v);
    }
    size_t n;
    g->ids = id_views(g->allow, &n);
    g->trust = (ockam_sc_trust) {.identifiers = g->ids, .count = n};
    json_decref(g->allow);
    g->allow = json_incref(allow);
    if (!push_ptr((void ***)&s->guards, &s->nguards, g)) {
        guard_free(g);
        return OCKAM_ENOMEM;
    }
    ockam_outlet_set_access(o,
        (ockam_access) {
            .kind = OCKAM_ACCESS_CALLBACK, .cb = ockam_sc_access_identity, .user = &g->trust});
    return OCKAM_OK;
}

json_t *
ockam__nm_secure_outlet_allowed(ockam__nodemanager *nm, const char *addr)
{
    struct guard *g = guard_find(sec(nm), addr);
    return g ? g->allow : NULL;
}

void
ockam__nm_secure_outlet_forget(ockam__nodemanager *nm, const char *addr)
{
    struct ockam__nm_secure *s = sec(nm);
    struct guard *g = guard_find(s, addr);
    if (g) {
        drop_ptr((void **)s->guards, &s->nguards, g);
        guard_free(g);
    }
}

/* ---- teardown ---------------------------------------------------------------------------- */

void
ockam__nm_secure_free(ockam__nodemanager *nm)
{
    struct ockam__nm_secure *s = sec(nm);
    if (!s)
        return;
    *ockam__nm_secure_slot(nm) = NULL;
    for (size_t i = 0; i < s->nproxies; i++)
        proxy_free(s->proxies[i], false);
    for (struct vault_wait *w = s->waits; w;) {
        struct vault_wait *next = w->next;
        ockam_timer_stop(w->timer);
        ockam_msg_free(w->req);
        json_decref(w->body);
        ockam__free(w);
        w = next;
    }
    /* Handshakes in progress end with a callback that frees their op (s == NULL). */
    for (struct resolve *r = s->ops; r;) {
        struct resolve *next = r->next;
        idref_put(s, r->ident); /* the handshake borrowed it only while it started */
        r->ident = NULL;
        r->s = NULL;
        r->next = NULL;
        if (r->timer) { /* a message's channels, waiting to close: the node closes them */
            ockam_timer_stop(r->timer);
            resolve_free(r);
        }
        r = next;
    }
    for (size_t i = 0; i < s->nchans; i++) {
        ockam_sc_set_closed_cb(s->chans[i]->sc, NULL, NULL);
        chan_free(s->chans[i]);
    }
    for (size_t i = 0; i < s->nls; i++) {
        ockam__free(s->ls[i].addr);
        ockam__free(s->ls[i].ids);
        json_decref(s->ls[i].authorized);
        idref_put(s, s->ls[i].ident);
    }
    for (size_t i = 0; i < s->nguards; i++)
        guard_free(s->guards[i]);
    ockam__free(s->guards);
    ockam__free(s->ls);
    ockam__free(s->chans);
    ockam__free(s->proxies);
    /* What is left: the node's own identity (and any a proxy's handshake holds). */
    for (size_t i = 0; i < s->nids; i++)
        idref_free(s->ids[i]);
    ockam__free(s->ids);
    ockam__free(s);
}
