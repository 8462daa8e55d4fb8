/* The file vault: the memory vault's key ring, saved to one file after every change.
 *
 * File format, version 1 (all integers big-endian; docs/wire.md §15.6):
 *
 *   offset  size  field
 *   0       8     magic "OCKVAULT"
 *   8       1     version = 1
 *   9       2     count: number of keys (at most OCKAM__VAULT_MAX_KEYS)
 *   11      ...   count entries, each:
 *                   1   type: 1 = Ed25519 (32-byte seed), 2 = X25519 (32-byte scalar)
 *                   1   label length L (at most OCKAM_VAULT_LABEL_MAX)
 *                   L   label bytes (no NUL)
 *                   32  secret key
 *   end-32  32    SHA-256 of every byte before it
 *
 * Public keys are not stored: they are recomputed from the secrets on load. The checksum
 * catches a damaged file (a torn one cannot happen: every write goes to "<path>.tmp",
 * is fsync'd, renamed over the file, and the directory is fsync'd). A key appears at most
 * once; anything else (bad magic, version, type, lengths, duplicates, trailing bytes, a
 * checksum that differs) is OCKAM_EVAULTFILE.
 *
 * One owner: the vault holds an exclusive flock on "<path>.lock" while it is open, so a
 * second open of the same file (this process or another) is OCKAM_EBUSY instead of two
 * writers silently overwriting each other's keys.
 *
 * Permissions: the directory must be 0700 and the file 0600 (no group/other bits) and both
 * owned by us, or the vault refuses to open (OCKAM_EACCES): a secret that others could read
 * is already lost, and one they could write could be replaced. */
#include "identity/crypto.h"
#include "identity/vault_internal.h"

#include <stdio.h>

#include <openssl/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "OCKVAULT"
#define HEADER_LEN 11
#define ENTRY_MIN (1 + 1 + 32)
#define OCKAM__VAULT_MAX_KEYS 4096
#define MAX_FILE (HEADER_LEN + OCKAM__VAULT_MAX_KEYS * (ENTRY_MIN + OCKAM_VAULT_LABEL_MAX) + 32)

typedef struct file_vault {
    ockam__keyring ring; /* first: the memory ops take a keyring pointer */
    char *path;
    char *tmp;
    char *lock;
    char *dir;
    int lock_fd; /* "<path>.lock", flock'd for the vault's lifetime; -1 when not held */
} file_vault;

/* ---- encoding ----------------------------------------------------------------------- */

ockam_err
ockam__vault_file_encode(const ockam__keyring *kr, uint8_t **out, size_t *len)
{
    if (kr->count > OCKAM__VAULT_MAX_KEYS)
        return OCKAM_EMSGSIZE;
    size_t n = HEADER_LEN + 32;
    for (size_t i = 0; i < kr->count; i++)
        n += ENTRY_MIN + strlen(kr->keys[i].label);
    uint8_t *p = ockam__alloc(n), *w = p;
    if (!p)
        return OCKAM_ENOMEM;
    memcpy(w, MAGIC, 8);
    w[8] = 1;
    ockam__put16be(w + 9, (uint16_t)kr->count);
    w += HEADER_LEN;
    for (size_t i = 0; i < kr->count; i++) {
        const ockam__vkey *k = &kr->keys[i];
        size_t l = strlen(k->label);
        *w++ = k->type;
        *w++ = (uint8_t)l;
        memcpy(w, k->label, l);
        w += l;
        memcpy(w, k->secret, 32);
        w += 32;
    }
    ockam_err err = ockam__sha256(p, n - 32, w);
    if (err) {
        ockam_secure_zero(p, n);
        ockam__free(p);
        return err;
    }
    *out = p;
    *len = n;
    return OCKAM_OK;
}

/* One entry at buf[*pos..end): store it in kr. */
static ockam_err
decode_entry(const uint8_t *buf, size_t end, size_t *pos, ockam__keyring *kr)
{
    char label[OCKAM_VAULT_LABEL_MAX + 1];
    uint8_t pub[32];
    if (end - *pos < ENTRY_MIN)
        return OCKAM_EVAULTFILE;
    uint8_t type = buf[*pos], l = buf[*pos + 1];
    if ((type != OCKAM_KEY_ED25519 && type != OCKAM_KEY_X25519) || l > OCKAM_VAULT_LABEL_MAX
        || end - *pos < (size_t)ENTRY_MIN + l)
        return OCKAM_EVAULTFILE;
    const uint8_t *lp = buf + *pos + 2, *secret = lp + l;
    if (memchr(lp, 0, l))
        return OCKAM_EVAULTFILE;
    memcpy(label, lp, l);
    label[l] = '\0';
    size_t before = kr->count;
    ockam_err err = ockam__keyring_store(kr, type, secret, label, pub);
    if (err)
        return err == OCKAM_ENOMEM ? err : OCKAM_EVAULTFILE;
    if (kr->count == before)
        return OCKAM_EVAULTFILE; /* the same key twice */
    *pos += ENTRY_MIN + l;
    return OCKAM_OK;
}

ockam_err
ockam__vault_file_decode(const uint8_t *buf, size_t len, ockam__keyring *kr)
{
    uint8_t sum[32];
    if (len < HEADER_LEN + 32 || len > MAX_FILE || memcmp(buf, MAGIC, 8) != 0 || buf[8] != 1)
        return OCKAM_EVAULTFILE;
    ockam_err err = ockam__sha256(buf, len - 32, sum);
    if (err)
        return err;
    if (CRYPTO_memcmp(sum, buf + len - 32, 32) != 0)
        return OCKAM_EVAULTFILE;
    size_t count = ockam__get16be(buf + 9), pos = HEADER_LEN, end = len - 32;
    if (count > OCKAM__VAULT_MAX_KEYS)
        return OCKAM_EVAULTFILE;
    for (size_t i = 0; i < count && !err; i++)
        err = decode_entry(buf, end, &pos, kr);
    if (!err && pos != end)
        err = OCKAM_EVAULTFILE;
    if (err)
        ockam__keyring_clear(kr);
    return err;
}

/* ---- files -------------------------------------------------------------------------- */

static ockam_err
sys_err(void)
{
    /* ELOOP: the vault file is a symbolic link, which is never followed. */
    return errno == EACCES || errno == EPERM || errno == ELOOP ? OCKAM_EACCES
        : errno == ENOMEM                                      ? OCKAM_ENOMEM
                                                               : OCKAM_ESYSERR;
}

static bool
private_to_us(const struct stat *st)
{
    return st->st_uid == geteuid() && (st->st_mode & 077) == 0;
}

/* The directory exists (made 0700 when missing, parents included) and only we can use it. */
static ockam_err
ensure_dir(char *dir)
{
    struct stat st;
    for (char *s = dir + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        int rc = mkdir(dir, 0700);
        *s = '/';
        if (rc != 0 && errno != EEXIST)
            return sys_err();
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return sys_err();
    if (lstat(dir, &st) != 0)
        return sys_err();
    if (!S_ISDIR(st.st_mode) || !private_to_us(&st))
        return OCKAM_EACCES;
    return OCKAM_OK;
}

static ockam_err
write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return sys_err();
        p += w;
        n -= (size_t)w;
    }
    return OCKAM_OK;
}

static ockam_err
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sys_err();
    ockam_err err = fsync(fd) == 0 ? OCKAM_OK : sys_err();
    close(fd);
    return err;
}

/* Write the whole key ring: temporary file, fsync, rename over the vault, fsync dir. */
static ockam_err
save(file_vault *fv)
{
    uint8_t *img = NULL;
    size_t len = 0;
    ockam_err err = ockam__vault_file_encode(&fv->ring, &img, &len);
    if (err)
        return err;
    int fd = open(fv->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = sys_err();
    } else {
        err = write_all(fd, img, len);
        if (!err && fsync(fd) != 0)
            err = sys_err();
        if (close(fd) != 0 && !err)
            err = sys_err();
        if (!err && rename(fv->tmp, fv->path) != 0)
            err = sys_err();
        if (err)
            unlink(fv->tmp);
    }
    ockam_secure_zero(img, len);
    ockam__free(img);
    return err ? err : fsync_dir(fv->dir);
}

static ockam_err
read_file(int fd, uint8_t **out, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return sys_err();
    if (!S_ISREG(st.st_mode) || !private_to_us(&st))
        return OCKAM_EACCES;
    if (st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE)
        return OCKAM_EVAULTFILE;
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *p = ockam__alloc(n ? n : 1);
    if (!p)
        return OCKAM_ENOMEM;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got != n) {
        ockam_secure_zero(p, n);
        ockam__free(p);
        return OCKAM_EVAULTFILE;
    }
    *out = p;
    *len = n;
    return OCKAM_OK;
}

/* Load the vault file if it exists (a missing file is an empty vault). */
static ockam_err
load(file_vault *fv)
{
    int fd = open(fv->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? OCKAM_OK : sys_err();
    uint8_t *buf = NULL;
    size_t len = 0;
    ockam_err err = read_file(fd, &buf, &len);
    close(fd);
    if (err)
        return err;
    err = ockam__vault_file_decode(buf, len, &fv->ring);
    ockam_secure_zero(buf, len);
    ockam__free(buf);
    return err;
}

/* ---- ops: the memory vault's, then a save (undone in memory when it fails) ---------- */

static ockam_err
file_store(
    void *state, ockam_key_type type, const uint8_t secret[32], const char *label, uint8_t pub[32])
{
    file_vault *fv = state;
    char old[OCKAM_VAULT_LABEL_MAX + 1];
    ockam_err err = ockam__key_public(type, secret, pub);
    if (err)
        return err;
    ockam__vkey *k = ockam__keyring_get(&fv->ring, type, pub);
    bool existed = k != NULL;
    if (existed)
        memcpy(old, k->label, sizeof(old));
    if ((err = ockam__keyring_store(&fv->ring, type, secret, label, pub)))
        return err;
    if ((err = save(fv)) == OCKAM_OK)
        return OCKAM_OK;
    k = ockam__keyring_get(&fv->ring, type, pub);
    if (existed)
        memcpy(k->label, old, sizeof(old));
    else
        ockam__keyring_drop(&fv->ring, (size_t)(k - fv->ring.keys));
    return err;
}

static ockam_err
file_set_label(void *state, ockam_key_type type, const uint8_t pub[32], const char *label)
{
    file_vault *fv = state;
    ockam__vkey *k = ockam__keyring_get(&fv->ring, type, pub);
    char old[OCKAM_VAULT_LABEL_MAX + 1];
    if (!k)
        return OCKAM_ENOKEY;
    memcpy(old, k->label, sizeof(old));
    snprintf(k->label, sizeof(k->label), "%s", label);
    ockam_err err = save(fv);
    if (err)
        memcpy(k->label, old, sizeof(old));
    return err;
}

static ockam_err
file_remove(void *state, ockam_key_type type, const uint8_t pub[32])
{
    file_vault *fv = state;
    ockam__vkey *k = ockam__keyring_get(&fv->ring, type, pub);
    if (!k)
        return OCKAM_ENOKEY;
    ockam__vkey saved = *k;
    ockam__keyring_drop(&fv->ring, (size_t)(k - fv->ring.keys));
    ockam_err err = save(fv);
    if (err) {
        uint8_t p[32];
        /* Put it back in memory: the file still has it. */
        if (ockam__keyring_store(&fv->ring, saved.type, saved.secret, saved.label, p))
            OCKAM_LOG_W("vault %s: a key could not be restored in memory", fv->path);
    }
    ockam_secure_zero(&saved, sizeof(saved));
    return err;
}

static void
file_destroy(void *state)
{
    file_vault *fv = state;
    if (fv->lock_fd >= 0)
        close(fv->lock_fd); /* releases the flock */
    ockam__keyring_clear(&fv->ring);
    ockam__free(fv->path);
    ockam__free(fv->tmp);
    ockam__free(fv->lock);
    ockam__free(fv->dir);
    ockam__free(fv);
}

static ockam_err
file_has(void *state, ockam_key_type type, const uint8_t pub[32])
{
    return ockam__vault_memory_ops.has(&((file_vault *)state)->ring, type, pub);
}

static ockam_err
file_find(void *state, ockam_key_type type, const char *label, uint8_t pub[32])
{
    return ockam__vault_memory_ops.find(&((file_vault *)state)->ring, type, label, pub);
}

static ockam_err
file_sign(void *state, const uint8_t pub[32], const uint8_t *data, size_t len, uint8_t sig[64])
{
    return ockam__vault_memory_ops.sign(&((file_vault *)state)->ring, pub, data, len, sig);
}

static ockam_err
file_ecdh(void *state, const uint8_t pub[32], const uint8_t peer[32], uint8_t shared[32])
{
    return ockam__vault_memory_ops.ecdh(&((file_vault *)state)->ring, pub, peer, shared);
}

static ockam_err
file_x25519_secret(void *state, const uint8_t pub[32], uint8_t secret[32])
{
    return ockam__vault_memory_ops.x25519_secret(&((file_vault *)state)->ring, pub, secret);
}

static const ockam_vault_ops file_ops = {
    .name = "file",
    .store = file_store,
    .has = file_has,
    .find = file_find,
    .sign = file_sign,
    .ecdh = file_ecdh,
    .x25519_secret = file_x25519_secret,
    .set_label = file_set_label,
    .remove = file_remove,
    .destroy = file_destroy,
};

static ockam_err
file_paths(file_vault *fv, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = strlen(path);
    fv->path = ockam__strdup(path);
    fv->tmp = ockam__alloc(n + 6);
    fv->lock = ockam__alloc(n + 6);
    fv->dir = !slash    ? ockam__strdup(".")
        : slash == path ? ockam__strdup("/")
                        : ockam__strndup(path, (size_t)(slash - path));
    if (!fv->path || !fv->tmp || !fv->lock || !fv->dir)
        return OCKAM_ENOMEM;
    snprintf(fv->tmp, n + 6, "%s.tmp", path);
    snprintf(fv->lock, n + 6, "%s.lock", path);
    return OCKAM_OK;
}

static ockam_err
take_lock(file_vault *fv)
{
    fv->lock_fd = open(fv->lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fv->lock_fd < 0)
        return sys_err();
    if (flock(fv->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? OCKAM_EBUSY : sys_err();
    return OCKAM_OK;
}

ockam_err
ockam_vault_file_open(const char *path, ockam_vault **out)
{
    if (!path || !*path || !out || path[strlen(path) - 1] == '/')
        return OCKAM_EINVAL;
    *out = NULL;
    file_vault *fv = ockam__zalloc(sizeof(*fv));
    if (!fv)
        return OCKAM_ENOMEM;
    fv->lock_fd = -1;
    ockam_err err = file_paths(fv, path);
    if (!err)
        err = ensure_dir(fv->dir);
    if (!err)
        err = take_lock(fv);
    if (!err)
        err = load(fv);
    if (!err)
        err = ockam_vault_new(&file_ops, fv, out);
    if (err)
        file_destroy(fv);
    return err;
}
