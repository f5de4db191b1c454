/* Growable columns and intern tables for the JSON Lines scanner: plain C.
 *
 * A column is an array that doubles as it fills (big ones in their own
 * mappings, grown by mremap). An intern table maps canonical bytes (a tag byte
 * and a payload, the same bytes mvcc_check.history.scan.canon builds) to dense
 * ids in first-appearance order, and keeps each id's original value (a Python
 * object, opaque here) when the caller gives one. */
#ifndef MVCC_SCAN_TABLE_H
#define MVCC_SCAN_TABLE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mremap */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Tags (columns.py). */
enum { TAG_NIL = 0, TAG_INT = 1, TAG_ATOM = 2, TAG_LIST = 3, TAG_STR = 4, TAG_BOOL = 5 /* temp only */ };

/* Canonical tags of interned values: the same bytes the Python side builds. */
#define CANON_INT 'i'
#define CANON_STR 's'
#define CANON_NIL_ELEMENT 'n'

/* ---- growable columns ---- */

typedef struct {
    char *p;
    size_t len, cap, size; /* elements, element size in bytes */
    size_t mapped;         /* bytes mapped with mmap (big columns), 0 when malloc'd */
} col_t;

#define MAP_FROM ((size_t)4 << 20)
#define MAP_STEP ((size_t)2 << 20)

/* Big columns live in their own mappings, grown by mremap: no copy as they
 * double. (Huge pages were tried: compaction cost more than the faults saved.) */
static char *map_grow(char *old, size_t old_mapped, size_t used, size_t bytes) {
    bytes = (bytes + MAP_STEP - 1) & ~(MAP_STEP - 1);
    char *p;
    if (old_mapped) {
        p = mremap(old, old_mapped, bytes, MREMAP_MAYMOVE);
        if (p == MAP_FAILED) return NULL;
    } else {
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return NULL;
        if (used) memcpy(p, old, used);
        free(old);
    }
    return p;
}

static void col_release(char *p, size_t mapped) {
    if (mapped) munmap(p, mapped);
    else free(p);
}

static int col_reserve(col_t *c, size_t extra) {
    if (c->len + extra <= c->cap) return 0;
    size_t cap = c->cap ? c->cap : 256;
    while (cap < c->len + extra) {
        if (cap > ((size_t)1 << 60) / c->size) return -1;
        cap *= 2;
    }
    size_t bytes = cap * c->size;
    if (bytes >= MAP_FROM) {
        char *p = map_grow(c->p, c->mapped, c->len * c->size, bytes);
        if (!p) return -1;
        c->p = p;
        c->mapped = (bytes + MAP_STEP - 1) & ~(MAP_STEP - 1);
        c->cap = c->mapped / c->size;
        return 0;
    }
    char *p = realloc(c->p, bytes);
    if (!p) return -1;
    c->p = p;
    c->cap = cap;
    return 0;
}

#define COL(c, T) ((T *)(c).p)
#define PUSH(c, T, v) (COL(c, T)[(c).len++] = (T)(v))

/* ---- intern tables: canonical bytes (a tag byte and a payload) -> dense id ---- */

typedef struct {
    char *arena;
    size_t alen, acap;
    uint64_t *off;  /* n + 1 offsets into arena */
    uint64_t *hash; /* n */
    void **orig;    /* n: the caller's original value, or NULL (decode the bytes) */
    size_t n, cap;
    int64_t *slots; /* id + 1, 0 empty; size mask + 1, a power of two */
    size_t mask;
    int64_t *small; /* id + 1 of the ints 0 .. SMALL_INTS-1 (a cache of the slots) */
} table_t;

#define SMALL_INTS 65536

static uint64_t scan_seed = 0x9E3779B97F4A7C15ULL;

static uint64_t hash_bytes(char tag, const char *p, size_t n) {
    uint64_t h = scan_seed ^ ((uint64_t)(unsigned char)tag << 56) ^ (n * 0x9E3779B97F4A7C15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h;
}

static int tab_equal(const table_t *t, size_t id, char tag, const char *p, size_t n) {
    const char *a = t->arena + t->off[id];
    size_t an = t->off[id + 1] - t->off[id];
    return an == n + 1 && a[0] == tag && memcmp(a + 1, p, n) == 0;
}

static int64_t tab_find(const table_t *t, char tag, const char *p, size_t n, uint64_t h) {
    if (!t->slots) return -1;
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        int64_t s = t->slots[i];
        if (s == 0) return -1;
        if (t->hash[s - 1] == h && tab_equal(t, (size_t)(s - 1), tag, p, n)) return s - 1;
    }
}

static int tab_rehash(table_t *t) {
    size_t size = t->slots ? (t->mask + 1) * 2 : 1024;
    int64_t *slots = calloc(size, sizeof *slots);
    if (!slots) return -1;
    for (size_t id = 0; id < t->n; id++) {
        if (t->hash[id] == 0 && t->off[id + 1] == t->off[id]) continue; /* fresh: no slot */
        size_t i = t->hash[id] & (size - 1);
        while (slots[i]) i = (i + 1) & (size - 1);
        slots[i] = (int64_t)id + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->mask = size - 1;
    return 0;
}

/* Append a new entry; `fresh` entries (values equal to nothing) get no slot. */
static int64_t tab_add(table_t *t, char tag, const char *p, size_t n, uint64_t h, void *orig,
                       int fresh) {
    if (t->n + 1 >= t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        uint64_t *off = realloc(t->off, (cap + 1) * sizeof *off);
        if (!off) return -2;
        t->off = off;
        uint64_t *hash = realloc(t->hash, cap * sizeof *hash);
        if (!hash) return -2;
        t->hash = hash;
        void **o = realloc(t->orig, cap * sizeof *o);
        if (!o) return -2;
        t->orig = o;
        t->cap = cap;
    }
    size_t need = fresh ? 0 : n + 1;
    if (t->alen + need > t->acap) {
        size_t cap = t->acap ? t->acap : 4096;
        while (cap < t->alen + need) cap *= 2;
        char *a = realloc(t->arena, cap);
        if (!a) return -2;
        t->arena = a;
        t->acap = cap;
    }
    if (t->n == 0) t->off[0] = 0;
    size_t id = t->n++;
    if (!fresh) {
        t->arena[t->alen] = tag;
        memcpy(t->arena + t->alen + 1, p, n);
        t->alen += n + 1;
    }
    t->off[id + 1] = t->alen;
    t->hash[id] = fresh ? 0 : (h ? h : 1);
    t->orig[id] = orig;
    if (fresh) return (int64_t)id;
    if (tag == CANON_INT && n == 8) {
        int64_t v;
        memcpy(&v, p, 8);
        if (v >= 0 && v < SMALL_INTS) {
            if (!t->small && !(t->small = calloc(SMALL_INTS, sizeof *t->small))) return -2;
            t->small[v] = (int64_t)id + 1;
        }
    }
    if (!t->slots || t->n * 2 > t->mask + 1) {
        if (tab_rehash(t) < 0) return -2;
        return (int64_t)id;
    }
    size_t i = t->hash[id] & t->mask;
    while (t->slots[i]) i = (i + 1) & t->mask;
    t->slots[i] = (int64_t)id + 1;
    return (int64_t)id;
}

/* The id of (tag, payload), added if new; -2 when out of memory. */
static int64_t tab_intern(table_t *t, char tag, const char *p, size_t n, void *orig, int *added) {
    uint64_t h = hash_bytes(tag, p, n);
    if (!h) h = 1;
    int64_t id = tab_find(t, tag, p, n, h);
    if (added) *added = id < 0;
    if (id >= 0) return id;
    return tab_add(t, tag, p, n, h, orig, 0);
}

static int64_t tab_int(table_t *t, int64_t v) {
    if (v >= 0 && v < SMALL_INTS && t->small && t->small[v]) return t->small[v] - 1;
    char b[8];
    memcpy(b, &v, 8);
    return tab_intern(t, CANON_INT, b, 8, NULL, NULL);
}

static void tab_free(table_t *t) {
    free(t->arena);
    free(t->off);
    free(t->hash);
    free(t->orig);
    free(t->slots);
    free(t->small);
    memset(t, 0, sizeof *t);
}

#endif
