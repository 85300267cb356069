/* namespace.c - see namespace.h.
 *
 * Five tables, all growing while the views build and fixed afterwards:
 *   nodes  indexed by inode; a directory keeps its children's inodes in
 *          insertion order (readdir), a file the range of its segments;
 *   segs   every file's segments, one file's run contiguous, with
 *          cumulative ends so the segment of an offset is a binary search;
 *   slots  open addressing over (parent, name) -> inode, kept at most half
 *          full so a miss ends after a few probes;
 *   made   the made files' makers and, once made, their bytes (this table
 *          alone changes after building, under its lock);
 *   arena  names and literal bytes, in large chunks: a 100k-tensor model
 *          has 300k small strings, and one malloc each would cost more in
 *          headers than in text. Large literals (a safetensors header,
 *          model.json) are taken over from the view instead of copied,
 *          and small ones are interned: NPY headers repeat per shape.
 * A view that knows its size calls ns_reserve() first: at 100k tensors the
 * doublings' copies and rehashes otherwise cost more than the building.
 */
#include "fs/namespace.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (1u << 20)

struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
};

/* An interned literal: NPY headers repeat per shape, and a model has few
 * shapes for many tensors. */
struct lit {
    const char *bytes; /* NULL = empty slot */
    size_t len;
};

#define LIT_INTERN_MAX 512

struct node {
    const char *name; /* in the arena */
    uint64_t parent;
    enum ns_kind kind;
    int64_t tag;
    uint64_t first, n; /* file: segments [first, first + n); dir: children */
    uint64_t cap;      /* dir: children allocated */
    uint64_t *child;   /* dir */
    uint64_t size;     /* file */
    uint64_t src;      /* dynamic: index into ns->src */
    uint64_t made;     /* made file: index into ns->made->file, plus 1; else 0 */
};

enum made_state { MADE_NOT, MADE_OK, MADE_FAILED };

struct made_file {
    struct ns_maker mk;
    _Atomic int state; /* written under the lock, read without it */
    struct ns_seg seg; /* valid once state is MADE_OK */
};

/* Made files: the table is fixed once built; the lock serializes making. */
struct made_table {
    pthread_mutex_t lock;
    struct made_file *file;
    uint64_t n, cap;
};

struct ns {
    struct node *node;
    uint64_t nnode, capnode;
    struct ns_seg *seg;
    uint64_t nseg, capseg;
    uint64_t *slot;
    uint64_t nslot, used;
    struct ns_source *src;
    uint64_t nsrc, capsrc;
    struct lit *lit; /* small literals by content, so equal ones share bytes */
    uint64_t nlit, litslots;
    void **owned; /* large literals taken from the views, not copied */
    uint64_t nowned, capowned;
    struct chunk *arena;
    struct made_table *made; /* NULL until the first made file */
    uint64_t open;           /* the file under construction, or 0 */
    char err[160];
};

/* ------------------------------------------------------------------ storage */

static void fail(struct ns *ns, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct ns *ns, const char *fmt, ...)
{
    va_list ap;
    if (ns->err[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(ns->err, sizeof(ns->err), fmt, ap);
    va_end(ap);
}

static int grow(void **arr, uint64_t *cap, uint64_t want, size_t size)
{
    if (want <= *cap)
        return 0;
    uint64_t n = *cap ? *cap : 16;
    while (n < want)
        n *= 2;
    void *p = realloc(*arr, n * size);
    if (p == NULL)
        return -1;
    *arr = p;
    *cap = n;
    return 0;
}

static char *arena_alloc(struct ns *ns, size_t len)
{
    struct chunk *c = ns->arena;
    if (c == NULL || c->cap - c->used < len) {
        size_t cap = len > ARENA_CHUNK / 16 ? len : ARENA_CHUNK;
        struct chunk *n = malloc(sizeof(*n) + cap);
        if (n == NULL)
            return NULL;
        n->used = 0;
        n->cap = cap;
        /* A big block gets its own chunk behind the current one, so the
         * current one keeps filling. */
        if (c != NULL && cap != ARENA_CHUNK) {
            n->next = c->next;
            c->next = n;
        } else {
            n->next = c;
            ns->arena = n;
        }
        c = n;
    }
    char *p = c->data + c->used;
    c->used += len;
    return p;
}

static const char *arena_copy(struct ns *ns, const void *s, size_t len, bool nul)
{
    char *p = arena_alloc(ns, len + (nul ? 1 : 0));
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    if (nul)
        p[len] = '\0';
    return p;
}

/* ------------------------------------------------------------------ names */

static uint64_t hash_entry(uint64_t parent, const char *s)
{
    uint64_t h = 1469598103934665603ull ^ (parent * 0x9e3779b97f4a7c15ull); /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void slot_put(uint64_t *slot, uint64_t nslot, const struct node *node, uint64_t ino)
{
    uint64_t i = hash_entry(node[ino].parent, node[ino].name) & (nslot - 1);
    while (slot[i] != 0)
        i = (i + 1) & (nslot - 1);
    slot[i] = ino;
}

static int rehash(struct ns *ns)
{
    uint64_t n = ns->nslot ? ns->nslot * 2 : 64;
    uint64_t *slot = calloc(n, sizeof(*slot));
    if (slot == NULL)
        return -1;
    for (uint64_t i = 0; i < ns->nslot; i++)
        if (ns->slot[i] != 0)
            slot_put(slot, n, ns->node, ns->slot[i]);
    free(ns->slot);
    ns->slot = slot;
    ns->nslot = n;
    return 0;
}

uint64_t ns_lookup(const struct ns *ns, uint64_t parent, const char *name)
{
    for (uint64_t i = hash_entry(parent, name) & (ns->nslot - 1);; i = (i + 1) & (ns->nslot - 1)) {
        uint64_t v = ns->slot[i];
        if (v == 0)
            return 0;
        if (ns->node[v].parent == parent && strcmp(ns->node[v].name, name) == 0)
            return v;
    }
}

/* ------------------------------------------------------------------ building */

struct ns *ns_new(void)
{
    struct ns *ns = calloc(1, sizeof(*ns));
    if (ns == NULL)
        return NULL;
    if (rehash(ns) != 0 || grow((void **)&ns->node, &ns->capnode, 2, sizeof(*ns->node)) != 0) {
        ns_free(ns);
        return NULL;
    }
    memset(ns->node, 0, 2 * sizeof(*ns->node));
    ns->node[NS_ROOT].name = "";
    ns->node[NS_ROOT].parent = NS_ROOT;
    ns->node[NS_ROOT].kind = NS_DIR;
    ns->node[NS_ROOT].tag = -1;
    ns->nnode = 2;
    return ns;
}

void ns_free(struct ns *ns)
{
    if (ns == NULL)
        return;
    for (uint64_t i = 1; i < ns->nnode; i++)
        if (ns->node[i].kind == NS_DIR)
            free(ns->node[i].child);
    while (ns->arena != NULL) {
        struct chunk *n = ns->arena->next;
        free(ns->arena);
        ns->arena = n;
    }
    for (uint64_t i = 0; i < ns->nowned; i++)
        free(ns->owned[i]);
    if (ns->made != NULL) {
        for (uint64_t i = 0; i < ns->made->n; i++)
            free((void *)ns->made->file[i].seg.bytes);
        free(ns->made->file);
        pthread_mutex_destroy(&ns->made->lock);
        free(ns->made);
    }
    free(ns->owned);
    free(ns->lit);
    free(ns->node);
    free(ns->src);
    free(ns->seg);
    free(ns->slot);
    free(ns);
}

const char *ns_error(const struct ns *ns)
{
    return ns->err[0] != '\0' ? ns->err : NULL;
}

/* A new node under `parent`, linked into the hash and the parent's list. */
static uint64_t add_node(struct ns *ns, uint64_t parent, const char *name, enum ns_kind kind,
                         int64_t tag)
{
    if (ns->err[0] != '\0')
        return 0;
    if (!ns_valid(ns, parent) || ns->node[parent].kind != NS_DIR) {
        fail(ns, "'%s': parent %llu is not a directory", name, (unsigned long long)parent);
        return 0;
    }
    if (ns_lookup(ns, parent, name) != 0) {
        fail(ns, "'%s': name used twice in one directory", name);
        return 0;
    }
    struct node *p = &ns->node[parent];
    if (grow((void **)&ns->node, &ns->capnode, ns->nnode + 1, sizeof(*ns->node)) != 0 ||
        grow((void **)&ns->node[parent].child, &ns->node[parent].cap, ns->node[parent].n + 1,
             sizeof(uint64_t)) != 0 ||
        (2 * (ns->used + 1) > ns->nslot && rehash(ns) != 0)) {
        fail(ns, "out of memory for the file tree");
        return 0;
    }
    const char *copy = arena_copy(ns, name, strlen(name), true);
    if (copy == NULL) {
        fail(ns, "out of memory for the file tree");
        return 0;
    }
    uint64_t ino = ns->nnode++;
    struct node *n = &ns->node[ino];
    memset(n, 0, sizeof(*n));
    n->name = copy;
    n->parent = parent;
    n->kind = kind;
    n->tag = tag;
    n->first = ns->nseg;
    p = &ns->node[parent];
    p->child[p->n++] = ino;
    slot_put(ns->slot, ns->nslot, ns->node, ino);
    ns->used++;
    return ino;
}

uint64_t ns_add_dir(struct ns *ns, uint64_t parent, const char *name)
{
    return add_node(ns, parent, name, NS_DIR, -1);
}

uint64_t ns_add_dynamic(struct ns *ns, uint64_t parent, const char *name,
                        const struct ns_source *src)
{
    if (grow((void **)&ns->src, &ns->capsrc, ns->nsrc + 1, sizeof(*ns->src)) != 0) {
        fail(ns, "out of memory for the file tree");
        return 0;
    }
    uint64_t ino = add_node(ns, parent, name, NS_DYNAMIC, -1);
    if (ino != 0) {
        ns->node[ino].src = ns->nsrc;
        ns->src[ns->nsrc++] = *src;
    }
    return ino;
}

int ns_reserve(struct ns *ns, uint64_t nodes, uint64_t segs)
{
    uint64_t want = ns->used + nodes;
    if (grow((void **)&ns->node, &ns->capnode, ns->nnode + nodes, sizeof(*ns->node)) != 0 ||
        grow((void **)&ns->seg, &ns->capseg, ns->nseg + segs, sizeof(*ns->seg)) != 0)
        return -1;
    while (2 * want > ns->nslot)
        if (rehash(ns) != 0)
            return -1;
    return 0;
}

void ns_file_begin(struct ns *ns, uint64_t parent, const char *name, int64_t tag)
{
    if (ns->open != 0)
        fail(ns, "'%s': begun inside another file", name);
    ns->open = add_node(ns, parent, name, NS_FILE, tag);
}

/* Append one segment to the open file; sizes saturate at INT64_MAX. */
static void seg_append(struct ns *ns, const struct ns_seg *s)
{
    if (ns->err[0] != '\0')
        return;
    if (ns->open == 0) {
        fail(ns, "segment outside a file");
        return;
    }
    if (s->len == 0)
        return;
    if (grow((void **)&ns->seg, &ns->capseg, ns->nseg + 1, sizeof(*ns->seg)) != 0) {
        fail(ns, "out of memory for file segments");
        return;
    }
    struct node *f = &ns->node[ns->open];
    struct ns_seg *d = &ns->seg[ns->nseg++];
    *d = *s;
    if (__builtin_add_overflow(f->size, s->len, &f->size) || f->size > INT64_MAX)
        f->size = INT64_MAX;
    d->end = f->size;
    f->n++;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ull;
    return h;
}

/* The arena copy of a small literal, shared with an equal one added
 * before; NULL when out of memory. */
static const char *intern(struct ns *ns, const void *bytes, size_t len)
{
    if (2 * (ns->nlit + 1) > ns->litslots) {
        uint64_t n = ns->litslots ? 2 * ns->litslots : 256;
        struct lit *t = calloc(n, sizeof(*t));
        if (t == NULL)
            return NULL;
        for (uint64_t i = 0; i < ns->litslots; i++) {
            if (ns->lit[i].bytes == NULL)
                continue;
            uint64_t j = hash_bytes(ns->lit[i].bytes, ns->lit[i].len) & (n - 1);
            while (t[j].bytes != NULL)
                j = (j + 1) & (n - 1);
            t[j] = ns->lit[i];
        }
        free(ns->lit);
        ns->lit = t;
        ns->litslots = n;
    }
    uint64_t j = hash_bytes(bytes, len) & (ns->litslots - 1);
    for (; ns->lit[j].bytes != NULL; j = (j + 1) & (ns->litslots - 1))
        if (ns->lit[j].len == len && memcmp(ns->lit[j].bytes, bytes, len) == 0)
            return ns->lit[j].bytes;
    const char *copy = arena_copy(ns, bytes, len, false);
    if (copy != NULL) {
        ns->lit[j] = (struct lit){copy, len};
        ns->nlit++;
    }
    return copy;
}

void ns_file_literal(struct ns *ns, const void *bytes, size_t len)
{
    struct ns_seg s = {.kind = SEG_LITERAL, .len = len};
    if (ns->err[0] != '\0' || len == 0)
        return;
    s.bytes = len <= LIT_INTERN_MAX ? intern(ns, bytes, len) : arena_copy(ns, bytes, len, false);
    if (s.bytes == NULL) {
        fail(ns, "out of memory for file headers");
        return;
    }
    seg_append(ns, &s);
}

void ns_file_literal_own(struct ns *ns, void *bytes, size_t len)
{
    struct ns_seg seg = {.kind = SEG_LITERAL, .len = len, .bytes = bytes};
    if (ns->err[0] != '\0' || len == 0 ||
        grow((void **)&ns->owned, &ns->capowned, ns->nowned + 1, sizeof(*ns->owned)) != 0) {
        fail(ns, "out of memory for file headers");
        free(bytes);
        return;
    }
    ns->owned[ns->nowned++] = bytes;
    seg_append(ns, &seg);
}

void ns_file_tensor(struct ns *ns, uint64_t tensor, enum dtype dt, uint64_t off, uint64_t len)
{
    struct ns_seg s = {.kind = SEG_TENSOR, .len = len, .tensor = tensor, .dt = dt, .off = off};
    seg_append(ns, &s);
}

uint64_t ns_file_end(struct ns *ns)
{
    uint64_t ino = ns->open;
    ns->open = 0;
    return ns->err[0] != '\0' ? 0 : ino;
}

uint64_t ns_add_made(struct ns *ns, uint64_t parent, const char *name, const struct ns_maker *mk)
{
    if (ns->err[0] != '\0')
        return 0;
    if (ns->made == NULL) {
        ns->made = calloc(1, sizeof(*ns->made));
        if (ns->made == NULL) {
            fail(ns, "out of memory for the file tree");
            return 0;
        }
        pthread_mutex_init(&ns->made->lock, NULL);
    }
    struct made_table *t = ns->made;
    if (grow((void **)&t->file, &t->cap, t->n + 1, sizeof(*t->file)) != 0) {
        fail(ns, "out of memory for the file tree");
        return 0;
    }
    uint64_t ino = add_node(ns, parent, name, NS_FILE, -1);
    if (ino != 0) {
        t->file[t->n] = (struct made_file){.mk = *mk};
        atomic_init(&t->file[t->n].state, MADE_NOT);
        ns->node[ino].made = ++t->n;
    }
    return ino;
}

/* The made file of a node, made now if it was not yet; NULL for other nodes. */
static struct made_file *made_of(const struct ns *ns, uint64_t ino)
{
    if (ns->node[ino].made == 0)
        return NULL;
    struct made_table *t = ns->made;
    struct made_file *f = &t->file[ns->node[ino].made - 1];
    if (atomic_load_explicit(&f->state, memory_order_acquire) != MADE_NOT)
        return f;
    pthread_mutex_lock(&t->lock);
    if (atomic_load_explicit(&f->state, memory_order_relaxed) == MADE_NOT) {
        struct text tx = {0};
        int rc = f->mk.make(f->mk.arg, f->mk.key, &tx);
        if (rc == 0 && !text_failed(&tx)) {
            f->seg = (struct ns_seg){.kind = SEG_LITERAL, .len = tx.len, .end = tx.len};
            f->seg.bytes = tx.buf;
            if (f->seg.len > INT64_MAX)
                f->seg.len = f->seg.end = INT64_MAX;
            atomic_store_explicit(&f->state, MADE_OK, memory_order_release);
        } else {
            text_free(&tx);
            atomic_store_explicit(&f->state, MADE_FAILED, memory_order_release);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return f;
}

uint64_t ns_add_file(struct ns *ns, uint64_t parent, const char *name, int64_t tag,
                     const struct ns_seg *segs, size_t n)
{
    ns_file_begin(ns, parent, name, tag);
    for (size_t i = 0; i < n; i++) {
        if (segs[i].kind == SEG_LITERAL)
            ns_file_literal(ns, segs[i].bytes, segs[i].len);
        else
            ns_file_tensor(ns, segs[i].tensor, segs[i].dt, segs[i].off, segs[i].len);
    }
    return ns_file_end(ns);
}

/* ------------------------------------------------------------------ queries */

bool ns_valid(const struct ns *ns, uint64_t ino)
{
    return ino >= NS_ROOT && ino < ns->nnode;
}

enum ns_kind ns_kind(const struct ns *ns, uint64_t ino)
{
    return ns->node[ino].kind;
}

uint64_t ns_parent(const struct ns *ns, uint64_t ino)
{
    return ns->node[ino].parent;
}

const char *ns_name(const struct ns *ns, uint64_t ino)
{
    return ns->node[ino].name;
}

int64_t ns_tag(const struct ns *ns, uint64_t ino)
{
    return ns->node[ino].tag;
}

uint64_t ns_count(const struct ns *ns)
{
    return ns->nnode - 1;
}

uint64_t ns_size(const struct ns *ns, uint64_t ino)
{
    const struct made_file *f = made_of(ns, ino);
    if (f != NULL)
        return atomic_load(&f->state) == MADE_OK ? f->seg.len : 0;
    return ns->node[ino].kind == NS_FILE ? ns->node[ino].size : 0;
}

int ns_ready(const struct ns *ns, uint64_t ino)
{
    const struct made_file *f = made_of(ns, ino);
    return f == NULL || atomic_load(&f->state) == MADE_OK ? 0 : -ENOMEM;
}

const struct ns_source *ns_source(const struct ns *ns, uint64_t ino)
{
    return ns->node[ino].kind == NS_DYNAMIC ? &ns->src[ns->node[ino].src] : NULL;
}

uint64_t ns_nchildren(const struct ns *ns, uint64_t dir)
{
    return ns->node[dir].kind == NS_DIR ? ns->node[dir].n : 0;
}

uint64_t ns_child(const struct ns *ns, uint64_t dir, uint64_t k)
{
    return k < ns_nchildren(ns, dir) ? ns->node[dir].child[k] : 0;
}

size_t ns_segments(const struct ns *ns, uint64_t ino, const struct ns_seg **segs)
{
    const struct node *n = &ns->node[ino];
    const struct made_file *f = made_of(ns, ino);
    if (f != NULL) {
        bool ok = atomic_load(&f->state) == MADE_OK && f->seg.len > 0;
        *segs = ok ? &f->seg : NULL;
        return ok ? 1 : 0;
    }
    if (n->kind != NS_FILE) {
        *segs = NULL;
        return 0;
    }
    *segs = ns->seg + n->first;
    return (size_t)n->n;
}

size_t ns_seg_find(const struct ns_seg *segs, size_t n, uint64_t off)
{
    size_t lo = 0, hi = n; /* the first segment whose end is past off */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (segs[mid].end > off)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

uint64_t ns_total_bytes(const struct ns *ns)
{
    uint64_t sum = 0;
    for (uint64_t i = NS_ROOT; i < ns->nnode; i++)
        if (__builtin_add_overflow(sum, ns_size(ns, i), &sum))
            return UINT64_MAX;
    return sum;
}
