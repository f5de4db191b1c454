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
    const int64_t *ip = indptr.view.buf, *ds = dst.view.buf, *ord = order.held ? order.view.buf : NULL;
    const Py_ssize_t nord = order.held ? order.view.len / 8 : 0;
    const uint8_t *bt = bits.view.buf, *ac = acc.view.buf;
    const int8_t *tb = table.view.buf;
    int32_t *st = stamp.view.buf;
    int64_t *par = parent.view.buf, *q = queue.view.buf;
    uint8_t *pb = pbit.view.buf;
    const int32_t g = (int32_t)gen;
    int64_t *cur = q, *nxt = q + cap * NSTATES;
    Py_ssize_t ncur = 0, nnxt;
    long long work = 0, depth = 0;
    int64_t found = -1;
    int bad = 0;
    int64_t start = v * NSTATES + start_q;
    st[start] = g;
    par[start] = -1;
    pb[start] = 0;
    cur[ncur++] = start;
    Py_BEGIN_ALLOW_THREADS
    while (ncur && found < 0 && !bad) {
        depth++;
        if (limit >= 0 && depth > limit) break;
        work += ncur;
        nnxt = 0;
        for (Py_ssize_t i = 0; i < ncur && found < 0 && !bad; i++) {
            int64_t key = cur[i];
            int64_t node = (key >> 4) + off;
            int base = (int)(key & 15) * NBITS;
            if (ip[node] < 0 || ip[node + 1] > nedges) {
                bad = 1;
                break;
            }
            for (int64_t e = ip[node]; e < ip[node + 1] && found < 0; e++) {
                int64_t b = ds[e] - off; /* the target, numbered within the component */
                if (b < 0 || b >= cap) {
                    bad = 1;
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
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "bfs: an edge leaves the component's node range");
        goto done;
    }
    if (found < 0) {
        result = Py_BuildValue("(OL)", Py_None, work);
        goto done;
    }
    Py_ssize_t len = 0;
    for (int64_t k = found; par[k] >= 0; k = par[k]) len++;
    PyObject *steps = PyList_New(len);
    if (!steps) goto done;
    Py_ssize_t i = len;
    for (int64_t k = found; par[k] >= 0; k = par[k]) {
        PyObject *step = Py_BuildValue("(LLi)", (long long)(par[k] >> 4), (long long)(k >> 4), (int)pb[k]);
        if (!step) {
            Py_DECREF(steps);
            goto done;
        }
        PyList_SET_ITEM(steps, --i, step);
    }
    result = Py_BuildValue("(NL)", steps, work);
done:
    for (int i = 0; i < 10; i++) release(all[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"bfs", bfs, METH_VARARGS, "Shortest accepted path back to an anchor's source (see _bfs.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bfs", NULL, -1, methods};

PyMODINIT_FUNC PyInit__bfs(void) { return PyModule_Create(&module); }
