/* Local state under $OCKAM_HOME (layout in state.h). */
#include "cli/state.h"

#include "cli/output.h"
#include "cli/spawn.h"
#include "cli/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NAME_LEN 64

static char *home;

static bool
mkdir_p(const char *path, mode_t mode)
{
    char *copy = xstrdup(path);
    bool ok = true;
    for (char *p = copy + 1; ok; p++) {
        bool end = *p == '\0';
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(copy, mode) != 0 && errno != EEXIST)
            ok = false;
        if (end)
            break;
        *p = '/';
    }
    free(copy);
    return ok;
}

bool
state_init(const char *override)
{
    const char *env = getenv("OCKAM_HOME");
    const char *user = getenv("HOME");
    char *dir;
    if (override && override[0])
        dir = xstrdup(override);
    else if (env && env[0])
        dir = xstrdup(env);
    else if (user && user[0])
        dir = xasprintf("%s/.ockam", user);
    else {
        out_error(EXIT_RUNTIME, "Set OCKAM_HOME to a directory for Ockam's state.",
            "Neither OCKAM_HOME nor HOME is set.");
        return false;
    }
    if (dir[0] != '/') {
        char cwd[PATH_MAX];
        char *abs = xasprintf("%s/%s", getcwd(cwd, sizeof cwd) ? cwd : ".", dir);
        free(dir);
        dir = abs;
    }
    char *nodes = xasprintf("%s/nodes", dir);
    bool ok = mkdir_p(nodes, 0700);
    free(nodes);
    if (!ok) {
        out_error(EXIT_RUNTIME, "Check the permissions, or point OCKAM_HOME somewhere else.",
            "Cannot create the state directory %s: %s.", dir, strerror(errno));
        free(dir);
        return false;
    }
    free(home);
    home = dir;
    return true;
}

const char *
state_home(void)
{
    return home;
}

bool
state_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MAX_NAME_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

const char *
state_name_from_arg(const char *text)
{
    if (strncmp(text, "/node/", 6) == 0)
        text += 6;
    return state_name_valid(text) ? text : NULL;
}

char *
state_node_dir(const char *name)
{
    return xasprintf("%s/nodes/%s", home, name);
}

char *
state_node_path(const char *name, const char *file)
{
    return xasprintf("%s/nodes/%s/%s", home, name, file);
}

bool
state_node_exists(const char *name)
{
    char *path = state_node_path(name, "config.json");
    bool ok = access(path, F_OK) == 0;
    free(path);
    return ok;
}

char *
state_random_name(void)
{
    static const char *const adjectives[] = {"brave", "calm", "clever", "cosmic", "crisp", "eager",
        "fancy", "gentle", "golden", "happy", "humble", "jolly", "keen", "lively", "lucky",
        "mellow", "nimble", "noble", "proud", "quick", "quiet", "rapid", "shiny", "silent", "sleek",
        "snappy", "sunny", "swift", "tidy", "vivid", "witty", "zesty"};
    static const char *const animals[] = {"albatross", "badger", "beaver", "bison", "cheetah",
        "crane", "dolphin", "falcon", "ferret", "gazelle", "gecko", "heron", "ibis", "jackal",
        "koala", "lemur", "lynx", "marmot", "narwhal", "ocelot", "otter", "panda", "puffin",
        "quokka", "raven", "salmon", "stork", "tapir", "toucan", "walrus", "wombat", "yak"};
    for (;;) {
        uint32_t r[2];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
            r[0] = (uint32_t)rand();
            r[1] = (uint32_t)rand();
        }
        char *name = xasprintf("%s-%s", adjectives[r[0] % 32], animals[r[1] % 32]);
        if (!state_node_exists(name))
            return name;
        free(name);
    }
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
state_node_names(size_t *n)
{
    char *dir = xasprintf("%s/nodes", home);
    DIR *d = opendir(dir);
    free(dir);
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!state_name_valid(e->d_name) || !state_node_exists(e->d_name))
            continue;
        if (count == cap)
            names = xrealloc(names, (cap = cap ? cap * 2 : 8) * sizeof *names);
        names[count++] = xstrdup(e->d_name);
    }
    if (d)
        closedir(d);
    if (count)
        qsort(names, count, sizeof *names, cmp_names);
    *n = count;
    return names;
}

void
state_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static pid_t
read_pid(const char *name)
{
    char *path = state_node_path(name, "pid");
    char *text = read_file(path, NULL);
    free(path);
    long pid = text ? strtol(text, NULL, 10) : 0;
    free(text);
    return pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
}

/* The process was sent SIGKILL (it stays pending in ShdPnd, even in a zombie) or has already
 * exited: it is on its way out whatever it still holds. */
static bool
pid_dying(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool dying = false;
    while (!dying && fgets(line, sizeof line, f)) {
        unsigned long long mask;
        char st;
        if (sscanf(line, "ShdPnd: %llx", &mask) == 1 || sscanf(line, "SigPnd: %llx", &mask) == 1)
            dying = (mask & (1ULL << (SIGKILL - 1))) != 0;
        else if (sscanf(line, "State: %c", &st) == 1)
            dying = st == 'Z' || st == 'X';
    }
    fclose(f);
    return dying;
}

bool
state_node_running(const char *name, pid_t *pid)
{
    char *path = state_node_path(name, "lock");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    bool running = false;
    /* A shared probe fails only while the node holds its exclusive lock. */
    if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        running = true;
        /* kill -9 returns before the kernel has torn the process down, and its lock goes with
         * its files, late in that: a node whose process is dying is waited for, so that right
         * after a kill it reads as stopped and can be created or started again. */
        pid_t holder = read_pid(name);
        if (holder > 0 && pid_dying(holder) && lock_wait(fd, LOCK_SH, STOP_GRACE_MS))
            running = false;
    }
    if (fd >= 0)
        close(fd);
    if (pid)
        *pid = running ? read_pid(name) : 0;
    return running;
}

json_t *
state_config_load(const char *name)
{
    char *path = state_node_path(name, "config.json");
    json_error_t err;
    json_t *cfg = json_load_file(path, 0, &err);
    free(path);
    if (cfg && !json_is_object(cfg)) {
        json_decref(cfg);
        return NULL;
    }
    return cfg;
}

bool
state_config_save(const char *name, json_t *config)
{
    char *text = json_dumps(config, JSON_INDENT(2));
    if (!text)
        return false;
    char *path = state_node_path(name, "config.json");
    size_t len = strlen(text);
    text[len] = '\n';
    int rc = write_file_atomic(path, text, len + 1, 0600);
    free(path);
    free(text);
    return rc == 0;
}

char *
state_listener_address(const char *name)
{
    json_t *cfg = state_config_load(name);
    const char *addr = json_string_value(json_object_get(cfg, "tcp_listener_address"));
    char *out = addr ? xstrdup(addr) : NULL;
    json_decref(cfg);
    return out;
}

char *
state_default_get(void)
{
    char *path = xasprintf("%s/default_node", home);
    char *text = read_file(path, NULL);
    free(path);
    if (!text)
        return NULL;
    text[strcspn(text, "\r\n")] = '\0';
    if (!state_name_valid(text) || !state_node_exists(text)) {
        free(text);
        return NULL;
    }
    return text;
}

bool
state_default_set(const char *name)
{
    char *path = xasprintf("%s/default_node", home);
    char *text = xasprintf("%s\n", name);
    int rc = write_file_atomic(path, text, strlen(text), 0600);
    free(text);
    free(path);
    return rc == 0;
}

void
state_default_repair(void)
{
    char *current = state_default_get();
    if (current) {
        free(current);
        return;
    }
    size_t n;
    char **names = state_node_names(&n);
    if (n) {
        state_default_set(names[0]);
    } else {
        char *path = xasprintf("%s/default_node", home);
        unlink(path);
        free(path);
    }
    state_names_free(names, n);
}

bool
state_node_prepare(const char *name)
{
    char *dir = state_node_dir(name);
    bool ok = remove_tree(dir) == 0 && mkdir(dir, 0700) == 0;
    if (!ok)
        out_error(EXIT_RUNTIME, "Check the permissions of OCKAM_HOME.",
            "Cannot create the node directory %s: %s.", dir, strerror(errno));
    free(dir);
    return ok;
}

bool
state_node_remove(const char *name)
{
    char *dir = state_node_dir(name);
    bool ok = remove_tree(dir) == 0;
    free(dir);
    return ok;
}
