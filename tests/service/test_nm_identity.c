/* The node manager's secure channel listeners and channels with another identity than the
 * node's ("identity": NAME, nodemanager_secure.h), through its API on a real node: the
 * identity is loaded by name through the loader, presented to the peer, shared while in use
 * and loaded again once nothing uses it; an unknown name is a 404 with the loader's sentence;
 * a vault file another process holds is waited for on a timer (the loop keeps serving), up to
 * a bound; a saved listener comes back with its identity.
 *
 * The loader here does what the `ockam` command's does, minus the file: it copies the keys of
 * the named identity's vault into a new memory vault and loads the identity from its history. */
#include "identity/vault_internal.h"
#include "nodemanager/nodemanager.h"
#include "nodemanager/nodemanager_secure.h"
#include "support/nodes.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REQ_MS 10000

/* Identities "the user has": each in its own vault. */
struct named {
    const char *name;
    ockam_vault *vault;
    ockam_identity *id;
};

static struct named people[2] = {{.name = "alice"}, {.name = "bob"}};

struct loader {
    unsigned calls;
    unsigned busy; /* the next this many calls find the vault file held */
    bool always_busy;
};

static ockam_err
load(void *user, const char *name, uint32_t wait_ms, ockam_identity **id, ockam_vault **vault,
    char *why, size_t cap)
{
    struct loader *l = user;
    l->calls++;
    if (l->always_busy || l->busy) {
        if (l->busy)
            l->busy--;
        snprintf(why, cap, "The vault of %s is busy.", name);
        return OCKAM_EBUSY;
    }
    for (size_t i = 0; i < 2; i++) {
        if (strcmp(people[i].name, name) != 0)
            continue;
        ockam_err err = ockam__vault_copy_to_memory(people[i].vault, vault);
        if (err)
            return err;
        ockam_slice h = ockam_identity_export(people[i].id);
        err = ockam_identity_load(*vault, h.ptr, h.len, id);
        if (err)
            ockam_vault_free(*vault);
        return err;
    }
    snprintf(why, cap, "There is no identity named %s: create it with 'ockam identity create %s'.",
        name, name);
    return OCKAM_ENOENT;
}

struct fixture {
    ockam_node *node;
    ockam__nodemanager *nm;
    struct loader loader;
    char own_id[OCKAM_IDENTIFIER_STR_SIZE];
};

static void
new_identity(ockam_vault **vault, ockam_identity **id)
{
    assert_int_equal(ockam_vault_memory_new(vault), OCKAM_OK);
    assert_int_equal(
        ockam_identity_create(*vault, (uint64_t)time(NULL), OCKAM_IDENTITY_DEFAULT_TTL_S, id),
        OCKAM_OK);
}

/* A node with its manager (reached only through api.sock, whose file is removed at once) and
 * its own identity "own"; config: what a saved node would restore. */
static void
node_start(struct fixture *f, json_t *config)
{
    f->node = ockam_node_new();
    assert_non_null(f->node);
    char dir[] = "/tmp/ockam-nmid-XXXXXX", sock[64];
    assert_non_null(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/api.sock", dir);
    ockam_listener *api = NULL;
    assert_int_equal(ockam_uds_listen(f->node, sock, &api), OCKAM_OK);
    unlink(sock);
    rmdir(dir);
    ockam__nodemanager_opts o = {.node_name = "n", .api_listener = api};
    assert_int_equal(ockam__nodemanager_start(f->node, &o, &f->nm), OCKAM_OK);
    assert_int_equal(ockam__nodemanager_start_service(f->nm, "echo", NULL), OCKAM_OK);
    ockam__nm_secure_opts so = {.name = "own", .load = load, .load_user = &f->loader};
    new_identity(&so.vault, &so.id);
    snprintf(f->own_id, sizeof f->own_id, "%s", ockam_identity_identifier(so.id));
    assert_int_equal(ockam__nm_secure_start(f->nm, &so, config), OCKAM_OK);
}

/* One API request; the reply as JSON (caller frees), its status in *status. */
static json_t *
call(struct fixture *f, const char *method, const char *path, json_t *body, int *status)
{
    json_t *req = json_pack("{s:s, s:s}", "method", method, "path", path);
    if (body)
        json_object_set_new(req, "body", body);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    ockam_route *r = ockam_route_new();
    assert_int_equal(ockam_route_push_back(r, ockam_addr_local(OCKAM__NODEMANAGER_ADDR)), OCKAM_OK);
    ockam_msg *reply = NULL;
    assert_int_equal(ockam_node_request(f->node, r, text, strlen(text), REQ_MS, &reply), OCKAM_OK);
    ockam_route_free(r);
    free(text);
    ockam_slice p = ockam_msg_payload(reply);
    json_t *j = json_loadb((const char *)p.ptr, p.len, 0, NULL);
    ockam_msg_free(reply);
    assert_non_null(j);
    *status = (int)json_integer_value(json_object_get(j, "status"));
    return j;
}

static const char *
str(json_t *reply, const char *key)
{
    const char *s = json_string_value(json_object_get(json_object_get(reply, "body"), key));
    assert_non_null(s);
    return s;
}

static int
setup(void **state)
{
    for (size_t i = 0; i < 2; i++)
        new_identity(&people[i].vault, &people[i].id);
    return 0;
}

static int
teardown(void **state)
{
    for (size_t i = 0; i < 2; i++) {
        ockam_identity_free(people[i].id);
        ockam_vault_free(people[i].vault);
    }
    return 0;
}

/* A listener with bob, a channel with alice to it (authorizing only bob): each end presents
 * the identity it was given; a second user of bob shares the loaded one, which is loaded again
 * once nothing uses it. */
static void
test_listener_and_channel_identities(void **state)
{
    struct fixture f = {0};
    node_start(&f, NULL);
    const char *bob = ockam_identity_identifier(people[1].id);
    const char *alice = ockam_identity_identifier(people[0].id);
    int st;
    json_t *r = call(&f, "POST", "/node/secure_channel_listener",
        json_pack("{s:s, s:s}", "address", "lb", "identity", "bob"), &st);
    assert_int_equal(st, 200);
    assert_string_equal(str(r, "identity"), "bob");
    assert_string_equal(str(r, "identifier"), bob);
    json_decref(r);
    r = call(&f, "POST", "/node/secure_channel_listener",
        json_pack("{s:s, s:s}", "address", "lb2", "identity", "bob"), &st);
    assert_int_equal(st, 200);
    json_decref(r);
    assert_int_equal(f.loader.calls, 1);
    /* The api listener keeps the node's own identity. */
    r = call(&f, "GET", "/node/secure_channel_listener/api", NULL, &st);
    assert_string_equal(str(r, "identifier"), f.own_id);
    json_decref(r);

    r = call(&f, "POST", "/node/secure_channel",
        json_pack("{s:s, s:s, s:[s]}", "to", "/service/lb", "identity", "alice", "authorized", bob),
        &st);
    assert_int_equal(st, 200);
    assert_string_equal(str(r, "identity"), "alice");
    assert_string_equal(str(r, "identifier"), alice);
    assert_string_equal(str(r, "peer"), bob);
    char enc[128];
    snprintf(enc, sizeof enc, "/node/secure_channel/%s", str(r, "encryptor") + strlen("/service/"));
    json_decref(r);
    assert_int_equal(f.loader.calls, 2);
    /* Authorizing the node's own identity at lb fails: lb presents bob. */
    r = call(&f, "POST", "/node/secure_channel",
        json_pack("{s:s, s:[s], s:I}", "to", "/service/lb", "authorized", f.own_id, "timeout_ms",
            (json_int_t)3000),
        &st);
    assert_int_equal(st, 403);
    json_decref(r);

    /* Nothing uses bob or alice any more: both are freed, and loaded again when named. */
    json_decref(call(&f, "DELETE", "/node/secure_channel_listener/lb", NULL, &st));
    json_decref(call(&f, "DELETE", "/node/secure_channel_listener/lb2", NULL, &st));
    json_decref(call(&f, "DELETE", enc, NULL, &st));
    assert_int_equal(st, 200);
    r = call(&f, "POST", "/node/secure_channel_listener",
        json_pack("{s:s, s:s}", "address", "lb", "identity", "bob"), &st);
    assert_int_equal(st, 200);
    json_decref(r);
    assert_int_equal(f.loader.calls, 3);
    ockam_node_free(f.node);
}

static void
test_unknown_and_malformed_names(void **state)
{
    struct fixture f = {0};
    node_start(&f, NULL);
    int st;
    json_t *r = call(&f, "POST", "/node/secure_channel_listener",
        json_pack("{s:s, s:s}", "address", "l", "identity", "nobody"), &st);
    assert_int_equal(st, 404);
    assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
        "create it with 'ockam identity create nobody'"));
    json_decref(r);
    r = call(&f, "POST", "/node/secure_channel",
        json_pack("{s:s, s:s}", "to", "/service/api", "identity", "nobody"), &st);
    assert_int_equal(st, 404);
    json_decref(r);
    r = call(&f, "POST", "/node/secure_channel_listener",
        json_pack("{s:s, s:i}", "address", "l", "identity", 7), &st);
    assert_int_equal(st, 400);
    json_decref(r);
    /* Nothing was left behind: only api listens. */
    r = call(&f, "GET", "/node/secure_channel_listener", NULL, &st);
    assert_int_equal(json_array_size(json_object_get(r, "body")), 1);
    json_decref(r);
    ockam_node_free(f.node);
}

static bool
request_done(void *arg)
{
    return *(bool *)arg;
}

struct pending {
    bool done;
    int status;
};

static void
on_reply(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct pending *p = user;
    ockam_slice s = ockam_msg_payload(msg);
    json_t *j = json_loadb((const char *)s.ptr, s.len, 0, NULL);
    p->status = (int)json_integer_value(json_object_get(j, "status"));
    p->done = true;
    json_decref(j);
    ockam_msg_free(msg);
}

/* The vault file is held for the first two tries: the request succeeds on a later one, and
 * while it waits the node answers others (the loop is not blocked). Held for ever: an error
 * once the bound passed. */
static void
test_held_vault_file(void **state)
{
    struct fixture f = {0};
    node_start(&f, NULL);
    f.loader.busy = 2;
    struct pending p = {0};
    ockam_worker *w;
    ockam_worker_opts wo = {.on_message = on_reply, .user = &p};
    assert_int_equal(ockam_worker_start(f.node, NULL, &wo, &w), OCKAM_OK);
    const char *req = "{\"method\": \"POST\", \"path\": \"/node/secure_channel_listener\", "
                      "\"body\": {\"address\": \"lb\", \"identity\": \"bob\"}}";
    ockam_route *r = ockam_route_new();
    assert_int_equal(ockam_route_push_back(r, ockam_addr_local(OCKAM__NODEMANAGER_ADDR)), OCKAM_OK);
    assert_int_equal(ockam_send_to(w, r, req, strlen(req)), OCKAM_OK);
    ockam_route_free(r);
    tn_drain_node(f.node);
    assert_false(p.done); /* waiting for the file */
    int st;
    json_t *other = call(&f, "GET", "/node/secure_channel_listener", NULL, &st);
    assert_int_equal(st, 200);
    json_decref(other);
    assert_true(tn_run_until(f.node, request_done, &p.done, REQ_MS));
    assert_int_equal(p.status, 200);
    assert_int_equal(f.loader.calls, 3);

    f.loader.always_busy = true;
    uint64_t t0 = tn_now_ms();
    json_t *rep = call(&f, "POST", "/node/secure_channel",
        json_pack("{s:s, s:s}", "to", "/service/lb", "identity", "alice"), &st);
    assert_int_equal(st, 500);
    assert_non_null(strstr(json_string_value(json_object_get(rep, "error")), "busy"));
    assert_true(tn_now_ms() - t0 >= 1500);
    json_decref(rep);
    ockam_node_free(f.node);
}

/* A listener's identity is saved with it and comes back on the next start. */
static void
test_restored_listener(void **state)
{
    struct fixture f = {0};
    node_start(&f, NULL);
    int st;
    json_decref(call(&f, "POST", "/node/secure_channel_listener",
        json_pack("{s:s, s:s}", "address", "lb", "identity", "bob"), &st));
    assert_int_equal(st, 200);
    json_t *cfg = json_object();
    ockam__nm_secure_config(f.nm, cfg);
    ockam_node_free(f.node);

    struct fixture g = {0};
    node_start(&g, cfg);
    json_decref(cfg);
    json_t *r = call(&g, "GET", "/node/secure_channel_listener/lb", NULL, &st);
    assert_int_equal(st, 200);
    assert_string_equal(str(r, "identity"), "bob");
    assert_string_equal(str(r, "identifier"), ockam_identity_identifier(people[1].id));
    json_decref(r);
    r = call(&g, "POST", "/node/secure_channel",
        json_pack("{s:s, s:[s]}", "to", "/service/lb", "authorized",
            ockam_identity_identifier(people[1].id)),
        &st);
    assert_int_equal(st, 200);
    json_decref(r);
    ockam_node_free(g.node);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listener_and_channel_identities),
        cmocka_unit_test(test_unknown_and_malformed_names),
        cmocka_unit_test(test_held_vault_file),
        cmocka_unit_test(test_restored_listener),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
