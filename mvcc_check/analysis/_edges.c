/* A dependency graph's edge arrays in C: realtime edges made, edges coalesced and grouped.
 *
 * coalesce(n, parts, out_src i64, out_dst i64, out_rel i8) -> count (and select, group,
 * realtime: see each function)
 *
 * The unique (src, dst) pairs of the edges of every part, a (src i64, dst i64,
 * rel i8) triple of arrays, sorted by src then dst, each with the OR of its
 * relation bits; self-loops (src == dst) are dropped. Outputs must hold as many
 * entries as the parts together; the count says how many are used. The parts
 * are read where they are: the edges are never concatenated first.
 *
 * A counting sort by source puts each edge in its source's bucket of out_dst,
 * packed as dst << 8 | rel; each bucket (a handful of edges, typically) is then
 * sorted, its repeats merged and moved down. Linear apart from the buckets'
 * sorts, and no temporaries beyond one count per node: the numpy version this
 * replaces sorted a packed int64 key and made five edge-sized temporaries.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b) {
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void sort_bucket(int64_t *v, int64_t len) {
    if (len > 24) {
        qsort(v, (size_t)len, sizeof *v, cmp_i64);
        return;
    }
    for (int64_t i = 1; i < len; i++) {
        const int64_t x = v[i];
        int64_t j = i;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
        v[j] = x;
    }
}

static int part_buffers(PyObject *part, Py_buffer *v, int64_t *len) {
    /* One part: (src i64, dst i64, rel i8) of equal lengths. Buffers held on success. */
    PyObject *seq = PySequence_Fast(part, "coalesce: each part is (src, dst, rel)");
    if (!seq) return -1;
    int held = 0, ok = 0;
    static const Py_ssize_t size[3] = {8, 8, 1};
    if (PySequence_Fast_GET_SIZE(seq) != 3) {
        PyErr_SetString(PyExc_ValueError, "coalesce: each part is (src, dst, rel)");
        goto out;
    }
    for (; held < 3; held++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, held), &v[held], PyBUF_C_CONTIGUOUS) < 0)
            goto out;
        if (v[held].itemsize != size[held]) {
            PyErr_Format(PyExc_TypeError, "coalesce: a part's array has %zd-byte items, expected %zd",
                         v[held].itemsize, size[held]);
            held++;
            goto out;
        }
    }
    *len = v[0].len / 8;
    if (v[1].len / 8 != *len || v[2].len != *len) {
        PyErr_SetString(PyExc_ValueError, "coalesce: a part's array lengths disagree");
        goto out;
    }
    ok = 1;
out:
    if (!ok)
        for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    Py_DECREF(seq);
    return ok ? 0 : -1;
}

/* One thread's share of coalesce: the edges whose source is in [lo, hi). Each step
 * waits for the other thread where it needs its counts (`sync`). */
typedef struct {
    int64_t lo, hi, n;
    Py_ssize_t n_parts;
    Py_buffer *pv;
    const int64_t *plen;
    int64_t *start, *out_src, *out_dst;
    int8_t *out_rel;
    int64_t count; /* unique edges written from start[lo] on */
} share_t;

static void count_share(share_t *c) {
    if (c->lo >= c->hi) return;
    for (Py_ssize_t p = 0; p < c->n_parts; p++) {
        const int64_t *src = c->pv[3 * p].buf, *dst = c->pv[3 * p + 1].buf;
        for (int64_t i = 0; i < c->plen[p]; i++) {
            const int64_t u = src[i];
            if (u >= c->lo && u < c->hi && u != dst[i]) c->start[u + 1]++;
        }
    }
}

static void fill_share(share_t *c) {
    if (c->lo >= c->hi) return;
    int64_t *fill = c->start; /* reuse: fill[u] runs from start[u] to start[u + 1] */
    for (Py_ssize_t p = 0; p < c->n_parts; p++) {
        const int64_t *src = c->pv[3 * p].buf, *dst = c->pv[3 * p + 1].buf;
        const int8_t *rel = c->pv[3 * p + 2].buf;
        for (int64_t i = 0; i < c->plen[p]; i++) {
            const int64_t u = src[i];
            if (u < c->lo || u >= c->hi || u == dst[i]) continue;
            c->out_dst[fill[u]++] = dst[i] << 8 | (uint8_t)rel[i];
        }
    }
}

/* Sort each bucket, merge its repeats and move them down, from start[lo] on. Runs after
 * fill_share: fill[u] is the end of bucket u; bucket lo starts at `first`. */
static void merge_share(share_t *c, int64_t first) {
    int64_t lo = first, count = first;
    for (int64_t u = c->lo; u < c->hi; u++) {
        const int64_t hi = c->start[u];
        sort_bucket(c->out_dst + lo, hi - lo);
        for (int64_t k = lo; k < hi;) {
            const int64_t d = c->out_dst[k] >> 8;
            uint8_t bits = 0;
            for (; k < hi && c->out_dst[k] >> 8 == d; k++) bits |= (uint8_t)(c->out_dst[k] & 0xff);
            c->out_dst[count] = d; /* count <= k: the write never passes the read */
            c->out_rel[count] = (int8_t)bits;
            c->out_src[count++] = u;
        }
        lo = hi;
    }
    c->count = count - first;
}

static void *count_job(void *arg) {
    count_share(arg);
    return NULL;
}

typedef struct {
    share_t *c;
    int64_t first;
} merge_arg_t;

static void *fill_merge_job(void *arg) {
    merge_arg_t *m = arg;
    fill_share(m->c);
    merge_share(m->c, m->first);
    return NULL;
}

/* coalesce's work on two threads, split at the middle node (on one when no second
 * thread can start, or for small graphs): counts, prefix sums, buckets filled,
 * sorted and merged per half, the second half's edges then moved down after the
 * first's. Returns the unique edges' count. */
static int64_t coalesce_in_two(int64_t n, Py_ssize_t n_parts, Py_buffer *pv, const int64_t *plen,
                               int64_t *start, int64_t *out_src, int64_t *out_dst, int8_t *out_rel) {
    int64_t e = 0;
    for (Py_ssize_t p = 0; p < n_parts; p++) e += plen[p];
    const int64_t mid = e >= ((int64_t)1 << 20) ? n / 2 : n;
    share_t a = {0, mid, n, n_parts, pv, plen, start, out_src, out_dst, out_rel, 0};
    share_t b = {mid, n, n, n_parts, pv, plen, start, out_src, out_dst, out_rel, 0};
    pthread_t thread;
    int two = mid < n && pthread_create(&thread, NULL, count_job, &b) == 0;
    count_share(&a);
    if (two) pthread_join(thread, NULL);
    else count_share(&b);
    for (int64_t u = 0; u < n; u++) start[u + 1] += start[u];
    const int64_t b_first = start[mid];
    merge_arg_t mb = {&b, b_first};
    two = mid < n && pthread_create(&thread, NULL, fill_merge_job, &mb) == 0;
    fill_share(&a);
    merge_share(&a, 0);
    if (two) pthread_join(thread, NULL);
    else fill_merge_job(&mb);
    if (b.count && a.count != b_first) { /* the second half's edges, moved down after the first's */
        memmove(out_src + a.count, out_src + b_first, (size_t)b.count * sizeof *out_src);
        memmove(out_dst + a.count, out_dst + b_first, (size_t)b.count * sizeof *out_dst);
        memmove(out_rel + a.count, out_rel + b_first, (size_t)b.count * sizeof *out_rel);
    }
    return a.count + b.count;
}

static PyObject *coalesce(PyObject *self, PyObject *args) {
    long long n;
    PyObject *parts_obj, *objs[3];
    if (!PyArg_ParseTuple(args, "LOOOO", &n, &parts_obj, &objs[0], &objs[1], &objs[2]))
        return NULL;
    static const Py_ssize_t size[3] = {8, 8, 1};
    static const char *names[3] = {"out_src", "out_dst", "out_rel"};
    Py_buffer out[3], *pv = NULL;
    int64_t *plen = NULL, *start = NULL;
    Py_ssize_t n_parts = 0, parts_held = 0;
    int held = 0;
    PyObject *result = NULL, *parts = PySequence_Fast(parts_obj, "coalesce: parts is a sequence");
    if (!parts) return NULL;
    for (; held < 3; held++) {
        if (PyObject_GetBuffer(objs[held], &out[held], PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0)
            goto done;
        if (out[held].itemsize != size[held]) {
            PyErr_Format(PyExc_TypeError, "coalesce: %s has %zd-byte items, expected %zd",
                         names[held], out[held].itemsize, size[held]);
            held++;
            goto done;
        }
    }
    if (n < 0 || n >= ((int64_t)1 << 55)) {
        PyErr_SetString(PyExc_ValueError, "coalesce: node count out of range");
        goto done;
    }
    n_parts = PySequence_Fast_GET_SIZE(parts);
    pv = calloc((size_t)n_parts * 3 + 1, sizeof *pv);
    plen = calloc((size_t)n_parts + 1, sizeof *plen);
    if (!pv || !plen) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t e = 0;
    for (; parts_held < n_parts; parts_held++) {
        if (part_buffers(PySequence_Fast_GET_ITEM(parts, parts_held), pv + 3 * parts_held,
                         plen + parts_held) < 0)
            goto done;
        e += plen[parts_held];
    }
    if (out[0].len / 8 < e || out[1].len / 8 < e || out[2].len < e) {
        PyErr_SetString(PyExc_ValueError, "coalesce: the outputs are shorter than the edges");
        goto done;
    }
    for (Py_ssize_t p = 0; p < n_parts; p++) {
        const int64_t *src = pv[3 * p].buf, *dst = pv[3 * p + 1].buf;
        for (int64_t i = 0; i < plen[p]; i++)
            if (src[i] < 0 || src[i] >= n || dst[i] < 0 || dst[i] >= n) {
                PyErr_Format(PyExc_ValueError, "coalesce: edge %lld of part %zd has a node out of "
                             "range", (long long)i, p);
                goto done;
            }
    }
    start = calloc((size_t)n + 1, sizeof *start);
    if (!start) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t *out_src = out[0].buf, *out_dst = out[1].buf, count = 0;
    int8_t *out_rel = out[2].buf;
    Py_BEGIN_ALLOW_THREADS;
    count = coalesce_in_two(n, n_parts, pv, plen, start, out_src, out_dst, out_rel);
    Py_END_ALLOW_THREADS;
    result = PyLong_FromLongLong(count);
done:
    free(start);
    for (Py_ssize_t p = 0; p < parts_held; p++)
        for (int i = 0; i < 3; i++) PyBuffer_Release(&pv[3 * p + i]);
    free(pv);
    free(plen);
    for (int i = 0; i < held; i++) PyBuffer_Release(&out[i]);
    Py_DECREF(parts);
    return result;
}

/* group(comp_of i64[n], compact i64[n], src, dst, rel, n_comps, out_src, out_dst, out_rel,
 *       edge_comp i64 out, bounds i64[n_comps + 1] out) -> count
 *
 * The edges inside components (both ends in the same one; comp_of is -1 outside
 * every component), grouped by component and in input order within each (a
 * stable counting sort), with their ends renumbered by `compact`. */
static PyObject *group(PyObject *self, PyObject *args) {
    PyObject *objs[10];
    long long n_comps;
    if (!PyArg_ParseTuple(args, "OOOOOLOOOOO", &objs[0], &objs[1], &objs[2], &objs[3], &objs[4],
                          &n_comps, &objs[5], &objs[6], &objs[7], &objs[8], &objs[9]))
        return NULL;
    static const Py_ssize_t size[10] = {8, 8, 8, 8, 1, 8, 8, 1, 8, 8};
    static const char *names[10] = {"comp_of", "compact", "src",     "dst",       "rel",
                                    "out_src", "out_dst", "out_rel", "edge_comp", "bounds"};
    Py_buffer v[10];
    int held = 0;
    PyObject *result = NULL;
    for (; held < 10; held++) {
        if (PyObject_GetBuffer(objs[held], &v[held],
                               PyBUF_C_CONTIGUOUS | (held >= 5 ? PyBUF_WRITABLE : 0)) < 0)
            goto done;
        if (v[held].itemsize != size[held]) {
            PyErr_Format(PyExc_TypeError, "group: %s has %zd-byte items, expected %zd",
                         names[held], v[held].itemsize, size[held]);
            held++;
            goto done;
        }
    }
    const int64_t n = v[0].len / 8, e = v[2].len / 8;
    if (v[1].len / 8 != n || v[3].len / 8 != e || v[4].len != e || n_comps < 0 ||
        v[9].len / 8 != n_comps + 1 || v[5].len / 8 < e || v[6].len / 8 < e || v[7].len < e ||
        v[8].len / 8 < e) {
        PyErr_SetString(PyExc_ValueError, "group: array lengths disagree");
        goto done;
    }
    const int64_t *comp_of = v[0].buf, *compact = v[1].buf, *src = v[2].buf, *dst = v[3].buf;
    const int8_t *rel = v[4].buf;
    int64_t *out_src = v[5].buf, *out_dst = v[6].buf, *edge_comp = v[8].buf, *bounds = v[9].buf;
    int8_t *out_rel = v[7].buf;
    for (int64_t i = 0; i < n; i++)
        if (comp_of[i] < -1 || comp_of[i] >= n_comps || (comp_of[i] >= 0 && compact[i] < 0)) {
            PyErr_SetString(PyExc_ValueError, "group: a component id is out of range");
            goto done;
        }
    for (int64_t i = 0; i < e; i++)
        if (src[i] < 0 || src[i] >= n || dst[i] < 0 || dst[i] >= n) {
            PyErr_SetString(PyExc_ValueError, "group: an edge's node is out of range");
            goto done;
        }
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t c = 0; c <= n_comps; c++) bounds[c] = 0;
    for (int64_t i = 0; i < e; i++) {
        const int64_t c = comp_of[src[i]];
        if (c >= 0 && c == comp_of[dst[i]]) bounds[c + 1]++;
    }
    for (int64_t c = 0; c < n_comps; c++) bounds[c + 1] += bounds[c];
    for (int64_t i = 0; i < e; i++) {
        const int64_t c = comp_of[src[i]];
        if (c < 0 || c != comp_of[dst[i]]) continue;
        const int64_t at = bounds[c]++;
        out_src[at] = compact[src[i]];
        out_dst[at] = compact[dst[i]];
        out_rel[at] = rel[i];
        edge_comp[at] = c;
    }
    for (int64_t c = n_comps; c > 0; c--) bounds[c] = bounds[c - 1]; /* back to starts */
    bounds[0] = 0;
    Py_END_ALLOW_THREADS;
    result = PyLong_FromLongLong(bounds[n_comps]);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

/* The first index in sorted a[0..n) whose value exceeds x, searched from `from`
 * outwards (galloping): the queries come nearly in order, so each takes a few steps. */
static int64_t upper_from(const int64_t *a, int64_t n, int64_t x, int64_t from) {
    int64_t lo, hi;
    if (from < 0) from = 0;
    if (from > n) from = n;
    if (from < n && a[from] <= x) { /* the answer is after from: gallop right */
        int64_t step = 1;
        lo = from + 1;
        hi = from + 1;
        while (hi < n && a[hi] <= x) {
            lo = hi + 1;
            hi = from + (step <<= 1);
        }
        if (hi > n) hi = n;
    } else { /* at or before from: gallop left */
        int64_t step = 1;
        hi = from;
        lo = from;
        while (lo > 0 && a[lo - 1] > x) {
            hi = lo - 1;
            lo = from - (step <<= 1);
            if (lo < 0) lo = 0;
        }
    }
    while (lo < hi) { /* first index in [lo, hi) with a[i] > x; a[hi] > x or hi == n */
        const int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* realtime(k_ids, k_inv, d_ids, d_inv, d_at, first_after, src, dst) -> count
 *
 * Elle's realtime frontier as edge arrays: for each completed transaction i (in
 * invocation order: d_ids, d_inv, its completion row d_at), an edge to every
 * kept transaction invoked after i completed and no later than the first
 * completion among the transactions invoked after i completed (first_after,
 * the suffix minimum of d_at, with a sentinel at the end). k_ids and k_inv:
 * the kept transactions by invocation row. With src and dst None, only counts;
 * else fills them (each as long as the count). */
static PyObject *realtime(PyObject *self, PyObject *args) {
    PyObject *o[8];
    if (!PyArg_ParseTuple(args, "OOOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7]))
        return NULL;
    const int fill = o[6] != Py_None && o[7] != Py_None;
    const int n_bufs = fill ? 8 : 6;
    static const char *names[8] = {"k_ids", "k_inv", "d_ids", "d_inv",
                                   "d_at",  "first_after", "src", "dst"};
    Py_buffer v[8];
    int held = 0;
    PyObject *result = NULL;
    for (; held < n_bufs; held++) {
        if (PyObject_GetBuffer(o[held], &v[held], PyBUF_C_CONTIGUOUS | (held >= 6 ? PyBUF_WRITABLE : 0)) < 0)
            goto done;
        if (v[held].itemsize != 8) {
            PyErr_Format(PyExc_TypeError, "realtime: %s has %zd-byte items, expected 8",
                         names[held], v[held].itemsize);
            held++;
            goto done;
        }
    }
    const int64_t nk = v[0].len / 8, nd = v[2].len / 8;
    if (v[1].len / 8 != nk || v[3].len / 8 != nd || v[4].len / 8 != nd || v[5].len / 8 != nd + 1) {
        PyErr_SetString(PyExc_ValueError, "realtime: array lengths disagree");
        goto done;
    }
    const int64_t *k_ids = v[0].buf, *k_inv = v[1].buf, *d_ids = v[2].buf, *d_inv = v[3].buf;
    const int64_t *d_at = v[4].buf, *first_after = v[5].buf;
    int64_t *src = fill ? v[6].buf : NULL, *dst = fill ? v[7].buf : NULL;
    const int64_t cap = fill ? (v[6].len / 8 < v[7].len / 8 ? v[6].len / 8 : v[7].len / 8) : 0;
    int64_t count = 0, lo = 0, hi = 0, at = 0;
    int overflow = 0;
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t i = 0; i < nd && !overflow; i++) {
        at = upper_from(d_inv, nd, d_at[i], at);
        const int64_t until = first_after[at];
        lo = upper_from(k_inv, nk, d_at[i], lo);
        hi = upper_from(k_inv, nk, until, hi > lo ? hi : lo);
        if (hi <= lo) continue;
        if (fill) {
            if (count + (hi - lo) > cap) {
                overflow = 1;
                break;
            }
            for (int64_t j = lo; j < hi; j++) {
                src[count] = d_ids[i];
                dst[count++] = k_ids[j];
            }
        } else {
            count += hi - lo;
        }
    }
    Py_END_ALLOW_THREADS;
    if (overflow) {
        PyErr_SetString(PyExc_ValueError, "realtime: the outputs are shorter than the edges");
        goto done;
    }
    result = PyLong_FromLongLong(count);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

/* select(src i64, dst i64, rel i8, mask, out_src, out_dst, out_rel) -> count
 *
 * The edges carrying any relation in mask, in order, with their bits cut to mask
 * (one pass: numpy's version made a mask and three gathers). Outputs must hold as
 * many entries as the inputs. */
static PyObject *select_edges(PyObject *self, PyObject *args) {
    PyObject *objs[6];
    int mask;
    if (!PyArg_ParseTuple(args, "OOOiOOO", &objs[0], &objs[1], &objs[2], &mask, &objs[3], &objs[4],
                          &objs[5]))
        return NULL;
    static const Py_ssize_t size[6] = {8, 8, 1, 8, 8, 1};
    static const char *names[6] = {"src", "dst", "rel", "out_src", "out_dst", "out_rel"};
    Py_buffer v[6];
    int held = 0;
    PyObject *result = NULL;
    for (; held < 6; held++) {
        if (PyObject_GetBuffer(objs[held], &v[held],
                               PyBUF_C_CONTIGUOUS | (held >= 3 ? PyBUF_WRITABLE : 0)) < 0)
            goto done;
        if (v[held].itemsize != size[held]) {
            PyErr_Format(PyExc_TypeError, "select: %s has %zd-byte items, expected %zd",
                         names[held], v[held].itemsize, size[held]);
            held++;
            goto done;
        }
    }
    const int64_t e = v[0].len / 8;
    if (v[1].len / 8 != e || v[2].len != e || v[3].len / 8 < e || v[4].len / 8 < e || v[5].len < e) {
        PyErr_SetString(PyExc_ValueError, "select: array lengths disagree");
        goto done;
    }
    const int64_t *src = v[0].buf, *dst = v[1].buf;
    const int8_t *rel = v[2].buf;
    int64_t *out_src = v[3].buf, *out_dst = v[4].buf, count = 0;
    int8_t *out_rel = v[5].buf;
    const int8_t m = (int8_t)mask;
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t i = 0; i < e; i++) {
        const int8_t bits = rel[i] & m;
        out_src[count] = src[i];
        out_dst[count] = dst[i];
        out_rel[count] = bits;
        count += bits != 0;
    }
    Py_END_ALLOW_THREADS;
    result = PyLong_FromLongLong(count);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"coalesce", coalesce, METH_VARARGS,
     "coalesce(n, parts, out_src, out_dst, out_rel) -> count: unique sorted edges, "
     "relation bits OR-ed, self-loops dropped."},
    {"realtime", realtime, METH_VARARGS,
     "realtime(k_ids, k_inv, d_ids, d_inv, d_at, first_after, src, dst) -> count: Elle's "
     "realtime frontier as edges (src and dst None: count only)."},
    {"select", select_edges, METH_VARARGS,
     "select(src, dst, rel, mask, out_src, out_dst, out_rel) -> count: the edges with a "
     "relation in mask, bits cut to it."},
    {"group", group, METH_VARARGS,
     "group(comp_of, compact, src, dst, rel, n_comps, out_src, out_dst, out_rel, edge_comp, "
     "bounds) -> count: the edges inside components, grouped by component."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_edges", NULL, -1, methods};

PyMODINIT_FUNC PyInit__edges(void) { return PyModule_Create(&module); }
