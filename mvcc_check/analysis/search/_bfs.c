/* The inner loop of the shortest-cycle search (analysis/search/shortest.py), in C.
 *
 * One breadth-first search over (node, automaton state) pairs of one strongly
 * connected component, from the target of an anchor edge back to its source,
 * accepting only paths the cycle type's automaton accepts. It does exactly
 * what CycleFinder._bfs did in Python (same visiting order, same first path
 * found, same work count), about fifty times faster: the search calls it
 * hundreds of thousands of times on a million-transaction history.
 *
 * Inputs are buffers the caller owns (numpy arrays): the component's edges
 * as CSR (indptr, dst, relation bits already cut to the spec's relations),
 * the automaton's transition table [state * 32 + relation bit] and its
 * accepting states, and scratch space reused across calls (a generation
 * stamp per search state marks what this call has visited). The CSR comes
 * from the checker's own arrays and is validated once when it is built
 * (shortest.py); here only sizes and node ids are checked.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Py_buffer view;
    int held;
} Buf;

static int get_buf(PyObject *obj, Buf *b, Py_ssize_t itemsize, int writable, const char *name) {
    b->held = 0;
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    b->held = 1;
    if (b->view.itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: expected items of %zd bytes, got %zd", name, itemsize,
                     b->view.itemsize);
        return -1;
    }
    return 0;
}

static void release(Buf *b) {
    if (b->held) PyBuffer_Release(&b->view);
    b->held = 0;
}

#define NSTATES 16
#define NBITS 32

typedef struct {
    const int64_t *ip, *ds;
    const uint8_t *bt;
    const int8_t *tb;
    const uint8_t *ac;
    const int64_t *ord;
    Py_ssize_t nord;
    int32_t *st;   /* scratch: generation stamps, */
    int64_t *par;  /* parents, */
    uint8_t *pb;   /* the relation bit taken, */
    int64_t *q;    /* and the two frontiers */
    Py_ssize_t n, nedges, cap;
    int64_t off;
} Search;

/* One breadth-first search (see bfs below): the found state, or -1; work added to
 * *work; *bad set when an edge leaves the component's range. No Python calls. */
static int64_t search_one(const Search *S, int start_q, int64_t u, int64_t v, long long limit,
                          long long floor_, int32_t g, long long *work, int *bad) {
    const int64_t *ip = S->ip, *ds = S->ds, *ord = S->ord;
    const Py_ssize_t nord = S->nord, nedges = S->nedges, cap = S->cap;
    const int64_t off = S->off;
    const uint8_t *bt = S->bt, *ac = S->ac;
    const int8_t *tb = S->tb;
    int32_t *st = S->st;
    int64_t *par = S->par;
    uint8_t *pb = S->pb;
    int64_t *cur = S->q, *nxt = S->q + cap * NSTATES;
    Py_ssize_t ncur = 0, nnxt;
    long long depth = 0;
    int64_t found = -1;
    int64_t start = v * NSTATES + start_q;
    st[start] = g;
    par[start] = -1;
    pb[start] = 0;
    cur[ncur++] = start;
    while (ncur && found < 0 && !*bad) {
        depth++;
        if (limit >= 0 && depth > limit) break;
        *work += ncur;
        nnxt = 0;
        for (Py_ssize_t i = 0; i < ncur && found < 0 && !*bad; i++) {
            int64_t key = cur[i];
            int64_t node = (key >> 4) + off;
            int base = (int)(key & 15) * NBITS;
            if (ip[node] < 0 || ip[node + 1] > nedges) {
                *bad = 1;
                break;
            }
            for (int64_t e = ip[node]; e < ip[node + 1] && found < 0; e++) {
                int64_t b = ds[e] - off; /* the target, numbered within the component */
                if (b < 0 || b >= cap) {
                    *bad = 1;
                    break;
                }
                if (ord && (b >= nord || ord[b] < floor_)) continue;
                unsigned r = bt[e];
                for (int k = 0; k < 5; k++) {
                    unsigned bit = 1u << k;
                    if (!(r & bit)) continue;
                    int q2 = tb[base + bit];
                    if (q2 < 0 || q2 >= NSTATES) continue;
                    int64_t k2 = b * NSTATES + q2;
                    if (st[k2] == g) continue;
                    st[k2] = g;
                    par[k2] = key;
                    pb[k2] = (uint8_t)bit;
                    if (b == u && ac[q2]) {
                        found = k2;
                        break;
                    }
                    nxt[nnxt++] = k2;
                }
            }
        }
        int64_t *t = cur;
        cur = nxt;
        nxt = t;
        ncur = nnxt;
    }
    return found;
}

/* The steps [(from, to, bit), ...] back from state `found` (a new list). */
static PyObject *path_of(const int64_t *par, const uint8_t *pb, int64_t found) {
    Py_ssize_t len = 0;
    for (int64_t k = found; par[k] >= 0; k = par[k]) len++;
    PyObject *steps = PyList_New(len);
    if (!steps) return NULL;
    Py_ssize_t i = len;
    for (int64_t k = found; par[k] >= 0; k = par[k]) {
        PyObject *step =
            Py_BuildValue("(LLi)", (long long)(par[k] >> 4), (long long)(k >> 4), (int)pb[k]);
        if (!step) {
            Py_DECREF(steps);
            return NULL;
        }
        PyList_SET_ITEM(steps, --i, step);
    }
    return steps;
}

/* bfs(indptr i64, dst i64, bits u8, table i8[512], accepting u8[16], start_q, u, v,
 *     limit (-1: none), order i64 or None, floor, stamp i32[n*16], parent i64[n*16],
 *     pbit u8[n*16], queue i64[2*n*16], gen, offset) -> (steps or None, work)
 *
 * The CSR may hold many components, each a contiguous range of node ids; u and
 * v are numbered within their component, which starts at `offset`, and so are
 * the returned steps, the entries of `order` and the scratch space (sized for
 * the largest component: every edge must stay inside it, or ValueError).
 */
static PyObject *bfs(PyObject *self, PyObject *args) {
    PyObject *o_indptr, *o_dst, *o_bits, *o_table, *o_acc, *o_order, *o_stamp, *o_parent, *o_pbit,
        *o_queue;
    long long start_q, u, v, limit, floor_, gen, off;
    if (!PyArg_ParseTuple(args, "OOOOOLLLLOLOOOOLL", &o_indptr, &o_dst, &o_bits, &o_table, &o_acc,
                          &start_q, &u, &v, &limit, &o_order, &floor_, &o_stamp, &o_parent, &o_pbit,
                          &o_queue, &gen, &off))
        return NULL;
    Buf indptr, dst, bits, table, acc, order, stamp, parent, pbit, queue;
    Buf *all[] = {&indptr, &dst, &bits, &table, &acc, &order, &stamp, &parent, &pbit, &queue};
    for (int i = 0; i < 10; i++) all[i]->held = 0;
    PyObject *result = NULL;
    if (get_buf(o_indptr, &indptr, 8, 0, "indptr") || get_buf(o_dst, &dst, 8, 0, "dst") ||
        get_buf(o_bits, &bits, 1, 0, "bits") || get_buf(o_table, &table, 1, 0, "table") ||
        get_buf(o_acc, &acc, 1, 0, "accepting") || get_buf(o_stamp, &stamp, 4, 1, "stamp") ||
        get_buf(o_parent, &parent, 8, 1, "parent") || get_buf(o_pbit, &pbit, 1, 1, "pbit") ||
        get_buf(o_queue, &queue, 8, 1, "queue"))
        goto done;
    if (o_order != Py_None && get_buf(o_order, &order, 8, 0, "order")) goto done;
    Py_ssize_t n = indptr.view.len / 8 - 1;
    Py_ssize_t nedges = dst.view.len / 8;
    /* Search states are numbered within the component: (node - offset) * 16 + state,
     * so the scratch space need only hold the largest component (cap nodes). */
    Py_ssize_t cap = stamp.view.len / 4 / NSTATES;
    if (n < 0 || bits.view.len != nedges || table.view.len != NSTATES * NBITS ||
        acc.view.len != NSTATES || parent.view.len / 8 < cap * NSTATES ||
        pbit.view.len < cap * NSTATES || queue.view.len / 8 < 2 * cap * NSTATES || off < 0 ||
        u < 0 || u >= cap || v < 0 || v >= cap || off + u >= n || off + v >= n || start_q < 0 ||
        start_q >= NSTATES) {
        PyErr_SetString(PyExc_ValueError, "bfs: inconsistent buffer sizes or node ids");
        goto done;
    }
    Search S = {indptr.view.buf, dst.view.buf, bits.view.buf, table.view.buf, acc.view.buf,
                order.held ? order.view.buf : NULL, order.held ? order.view.len / 8 : 0,
                stamp.view.buf, parent.view.buf, pbit.view.buf, queue.view.buf, n, nedges, cap, off};
    long long work = 0;
    int bad = 0;
    int64_t found;
    Py_BEGIN_ALLOW_THREADS
    found = search_one(&S, (int)start_q, u, v, limit, floor_, (int32_t)gen, &work, &bad);
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "bfs: an edge leaves the component's node range");
        goto done;
    }
    if (found < 0) {
        result = Py_BuildValue("(OL)", Py_None, work);
        goto done;
    }
    PyObject *steps = path_of(S.par, S.pb, found);
    if (!steps) goto done;
    result = Py_BuildValue("(NL)", steps, work);
done:
    for (int i = 0; i < 10; i++) release(all[i]);
    return result;
}


/* deepen(indptr, dst, bits, table, accepting, start_q, us i64[k], vs i64[k], budget,
 *        max_limit, stamp, parent, pbit, queue, gen, offset)
 *   -> (anchor or -1, steps or None, work, limit, gen)
 *
 * The search's iterative deepening, as CycleFinder.shortest wrote it in Python:
 * for limit = 1, 2, ... (while the work stays within budget and limit < max_limit),
 * a bounded search from every anchor (us[j] -> vs[j]) in turn; the first path found
 * wins. Returns the anchor and its steps (or -1 and None: then `limit` is where the
 * budget or max_limit stopped it), the work done and the last generation used.
 */
static PyObject *deepen(PyObject *self, PyObject *args) {
    PyObject *o_indptr, *o_dst, *o_bits, *o_table, *o_acc, *o_us, *o_vs, *o_stamp, *o_parent,
        *o_pbit, *o_queue;
    long long start_q, budget, max_limit, gen, off;
    if (!PyArg_ParseTuple(args, "OOOOOLOOLLOOOOLL", &o_indptr, &o_dst, &o_bits, &o_table, &o_acc,
                          &start_q, &o_us, &o_vs, &budget, &max_limit, &o_stamp, &o_parent,
                          &o_pbit, &o_queue, &gen, &off))
        return NULL;
    Buf indptr, dst, bits, table, acc, us, vs, stamp, parent, pbit, queue;
    Buf *all[] = {&indptr, &dst, &bits, &table, &acc, &us, &vs, &stamp, &parent, &pbit, &queue};
    for (int i = 0; i < 11; i++) all[i]->held = 0;
    PyObject *result = NULL;
    if (get_buf(o_indptr, &indptr, 8, 0, "indptr") || get_buf(o_dst, &dst, 8, 0, "dst") ||
        get_buf(o_bits, &bits, 1, 0, "bits") || get_buf(o_table, &table, 1, 0, "table") ||
        get_buf(o_acc, &acc, 1, 0, "accepting") || get_buf(o_us, &us, 8, 0, "us") ||
        get_buf(o_vs, &vs, 8, 0, "vs") || get_buf(o_stamp, &stamp, 4, 1, "stamp") ||
        get_buf(o_parent, &parent, 8, 1, "parent") || get_buf(o_pbit, &pbit, 1, 1, "pbit") ||
        get_buf(o_queue, &queue, 8, 1, "queue"))
        goto done;
    Py_ssize_t n = indptr.view.len / 8 - 1;
    Py_ssize_t nedges = dst.view.len / 8;
    Py_ssize_t cap = stamp.view.len / 4 / NSTATES;
    Py_ssize_t k = us.view.len / 8;
    const int64_t *u_at = us.view.buf, *v_at = vs.view.buf;
    int ok = n >= 0 && bits.view.len == nedges && table.view.len == NSTATES * NBITS &&
             acc.view.len == NSTATES && parent.view.len / 8 >= cap * NSTATES &&
             pbit.view.len >= cap * NSTATES && queue.view.len / 8 >= 2 * cap * NSTATES &&
             off >= 0 && start_q >= 0 && start_q < NSTATES && vs.view.len == us.view.len &&
             gen >= 0 && gen < INT32_MAX;
    for (Py_ssize_t j = 0; ok && j < k; j++)
        ok = u_at[j] >= 0 && u_at[j] < cap && v_at[j] >= 0 && v_at[j] < cap &&
             off + u_at[j] < n && off + v_at[j] < n;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "deepen: inconsistent buffer sizes or node ids");
        goto done;
    }
    Search S = {indptr.view.buf, dst.view.buf, bits.view.buf, table.view.buf, acc.view.buf,
                NULL, 0, stamp.view.buf, parent.view.buf, pbit.view.buf, queue.view.buf,
                n, nedges, cap, off};
    long long work = 0, limit = 1;
    int bad = 0;
    int64_t found = -1;
    Py_ssize_t hit = -1;
    int32_t g = (int32_t)gen;
    Py_BEGIN_ALLOW_THREADS
    while (work <= budget && limit < max_limit && hit < 0 && !bad) {
        for (Py_ssize_t j = 0; j < k; j++) {
            if (g >= INT32_MAX - 1) { /* stamps run out: clear them, as generation() does */
                memset(S.st, 0, (size_t)cap * NSTATES * sizeof *S.st);
                g = 0;
            }
            g++;
            found = search_one(&S, (int)start_q, u_at[j], v_at[j], limit, 0, g, &work, &bad);
            if (bad) break;
            if (found >= 0) {
                hit = j;
                break;
            }
            if (work > budget) break;
        }
        if (hit < 0 && !bad) limit++;
    }
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "deepen: an edge leaves the component's node range");
        goto done;
    }
    if (hit < 0) {
        result = Py_BuildValue("(nOLLi)", (Py_ssize_t)-1, Py_None, work, limit, (int)g);
        goto done;
    }
    PyObject *steps = path_of(S.par, S.pb, found);
    if (!steps) goto done;
    result = Py_BuildValue("(nNLLi)", hit, steps, work, limit, (int)g);
done:
    for (int i = 0; i < 11; i++) release(all[i]);
    return result;
}

/* exhaustive(indptr, dst, bits, table, accepting, start_q, us i64[m], vs i64[m], rels u8[m],
 *            anchor, stamp, parent, pbit, queue, gen, offset)
 *   -> (u, v, steps or None, work, gen)
 *
 * CycleFinder._exhaustive for a tiny component: an unbounded search from every edge
 * us[j] -> vs[j] (the component's own, numbered within it, in order) whose relations
 * rels[j] hold the anchor relation, each later one bounded by the best so far; the
 * first shortest wins. Returns its anchor and steps (None: no cycle of the type). */
static PyObject *exhaustive(PyObject *self, PyObject *args) {
    PyObject *o_indptr, *o_dst, *o_bits, *o_table, *o_acc, *o_us, *o_vs, *o_rels, *o_stamp,
        *o_parent, *o_pbit, *o_queue;
    long long start_q, anchor, gen, off;
    if (!PyArg_ParseTuple(args, "OOOOOLOOOLOOOOLL", &o_indptr, &o_dst, &o_bits, &o_table, &o_acc,
                          &start_q, &o_us, &o_vs, &o_rels, &anchor, &o_stamp, &o_parent, &o_pbit,
                          &o_queue, &gen, &off))
        return NULL;
    Buf indptr, dst, bits, table, acc, us, vs, rels, stamp, parent, pbit, queue;
    Buf *all[] = {&indptr, &dst, &bits, &table, &acc, &us, &vs, &rels, &stamp, &parent, &pbit, &queue};
    for (int i = 0; i < 12; i++) all[i]->held = 0;
    PyObject *result = NULL;
    int64_t *best = NULL; /* the best path's states, the anchor's target first */
    uint8_t *best_bit = NULL;
    if (get_buf(o_indptr, &indptr, 8, 0, "indptr") || get_buf(o_dst, &dst, 8, 0, "dst") ||
        get_buf(o_bits, &bits, 1, 0, "bits") || get_buf(o_table, &table, 1, 0, "table") ||
        get_buf(o_acc, &acc, 1, 0, "accepting") || get_buf(o_us, &us, 8, 0, "us") ||
        get_buf(o_vs, &vs, 8, 0, "vs") || get_buf(o_rels, &rels, 1, 0, "rels") ||
        get_buf(o_stamp, &stamp, 4, 1, "stamp") || get_buf(o_parent, &parent, 8, 1, "parent") ||
        get_buf(o_pbit, &pbit, 1, 1, "pbit") || get_buf(o_queue, &queue, 8, 1, "queue"))
        goto done;
    Py_ssize_t n = indptr.view.len / 8 - 1;
    Py_ssize_t nedges = dst.view.len / 8;
    Py_ssize_t cap = stamp.view.len / 4 / NSTATES;
    Py_ssize_t m = us.view.len / 8;
    const int64_t *u_at = us.view.buf, *v_at = vs.view.buf;
    const uint8_t *rel = rels.view.buf;
    int ok = n >= 0 && bits.view.len == nedges && table.view.len == NSTATES * NBITS &&
             acc.view.len == NSTATES && parent.view.len / 8 >= cap * NSTATES &&
             pbit.view.len >= cap * NSTATES && queue.view.len / 8 >= 2 * cap * NSTATES &&
             off >= 0 && start_q >= 0 && start_q < NSTATES && vs.view.len == us.view.len &&
             rels.view.len == m && gen >= 0 && gen < INT32_MAX;
    for (Py_ssize_t j = 0; ok && j < m; j++)
        ok = u_at[j] >= 0 && u_at[j] < cap && v_at[j] >= 0 && v_at[j] < cap &&
             off + u_at[j] < n && off + v_at[j] < n;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "exhaustive: inconsistent buffer sizes or node ids");
        goto done;
    }
    best = malloc(((size_t)cap * NSTATES + 1) * sizeof *best);
    best_bit = malloc((size_t)cap * NSTATES + 1);
    if (!best || !best_bit) {
        PyErr_NoMemory();
        goto done;
    }
    Search S = {indptr.view.buf, dst.view.buf, bits.view.buf, table.view.buf, acc.view.buf,
                NULL, 0, stamp.view.buf, parent.view.buf, pbit.view.buf, queue.view.buf,
                n, nedges, cap, off};
    long long work = 0;
    int bad = 0;
    Py_ssize_t best_j = -1, best_len = 0; /* steps, the anchor included */
    int32_t g = (int32_t)gen;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t j = 0; j < m && !bad; j++) {
        if (!(rel[j] & anchor)) continue;
        long long limit = best_j < 0 ? -1 : (long long)best_len - 2;
        if (best_j >= 0 && limit < 1) break; /* no cycle is shorter than two steps */
        if (g >= INT32_MAX - 1) { /* stamps run out: clear them, as generation() does */
            memset(S.st, 0, (size_t)cap * NSTATES * sizeof *S.st);
            g = 0;
        }
        g++;
        const int64_t found = search_one(&S, (int)start_q, u_at[j], v_at[j], limit, 0, g, &work, &bad);
        if (found < 0) continue;
        Py_ssize_t len = 0;
        for (int64_t k = found; S.par[k] >= 0; k = S.par[k]) len++;
        if (best_j >= 0 && len + 1 >= best_len) continue;
        best_j = j;
        best_len = len + 1;
        Py_ssize_t i = len; /* the path's states and bits, kept before the next search */
        for (int64_t k = found;; k = S.par[k]) {
            best[i] = k;
            best_bit[i] = S.pb[k];
            if (S.par[k] < 0 || i == 0) break;
            i--;
        }
    }
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "exhaustive: an edge leaves the component's node range");
        goto done;
    }
    if (best_j < 0) {
        result = Py_BuildValue("(iiOLi)", -1, -1, Py_None, work, (int)g);
        goto done;
    }
    PyObject *steps = PyList_New(best_len - 1);
    for (Py_ssize_t i = 1; steps && i < best_len; i++) {
        const int64_t k = best[i];
        PyObject *step = Py_BuildValue("(LLi)", (long long)(best[i - 1] >> 4), (long long)(k >> 4),
                                       (int)best_bit[i]);
        if (!step) Py_CLEAR(steps);
        else PyList_SET_ITEM(steps, i - 1, step);
    }
    if (!steps) goto done;
    result = Py_BuildValue("(LLNLi)", (long long)u_at[best_j], (long long)v_at[best_j], steps, work,
                           (int)g);
done:
    free(best);
    free(best_bit);
    for (int i = 0; i < 12; i++) release(all[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"bfs", bfs, METH_VARARGS, "Shortest accepted path back to an anchor's source (see _bfs.c)."},
    {"deepen", deepen, METH_VARARGS, "Iterative deepening over many anchors (see _bfs.c)."},
    {"exhaustive", exhaustive, METH_VARARGS, "Every anchor of a tiny component (see _bfs.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bfs", NULL, -1, methods};

PyMODINIT_FUNC PyInit__bfs(void) { return PyModule_Create(&module); }
