/* Strongly connected components of a directed graph given as edge arrays, in C.
 *
 * scc(n, src i64, dst i64, labels i64 out) -> number of components
 *
 * Edges may come in any order and repeat; self-loops are fine. The edges are
 * bucketed by source (a counting sort into a CSR of 32-bit targets), then
 * Tarjan's algorithm runs iteratively (no recursion: components of millions
 * of nodes). Components are numbered in the order Tarjan completes them,
 * sinks first, so for every edge a -> b, labels[a] >= labels[b], with
 * equality exactly when a and b are in one component: the labels are a
 * reverse topological order of the condensation. Nodes are visited in
 * increasing id and each node's edges in input order, so the labels depend
 * only on the input.
 *
 * reach() answers many "does v reach u?" questions over one CSR, pruned by
 * those labels (the G-single existence pass).
 *
 * scc() replaces scipy's csgraph for the checker's many SCC passes: no float
 * matrix to build, no sorted-index requirement, half the memory, and the
 * topological order the G-single pass prunes with.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int get_buf(PyObject *obj, Py_buffer *view, int writable, const char *name) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (view->itemsize != 8) {
        PyErr_Format(PyExc_TypeError, "%s: expected 8-byte integers, got %zd-byte items", name,
                     view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* Tarjan over the CSR (indptr, adj) of n nodes; labels out. Returns the count. */
static int64_t tarjan(int64_t n, const int64_t *indptr, const int32_t *adj, int64_t *labels,
                      int32_t *index, int32_t *low, int32_t *stack, int32_t *calls,
                      int64_t *pos) {
    int64_t counter = 0, ncomp = 0, top = 0, sp = 0;
    for (int64_t i = 0; i < n; i++) {
        index[i] = -1;
        labels[i] = -1;
    }
    for (int64_t root = 0; root < n; root++) {
        if (index[root] >= 0) continue;
        index[root] = low[root] = (int32_t)counter++;
        stack[top++] = (int32_t)root;
        calls[sp] = (int32_t)root;
        pos[sp++] = indptr[root];
        while (sp > 0) {
            int32_t v = calls[sp - 1];
            int64_t p = pos[sp - 1];
            if (p < indptr[v + 1]) {
                int32_t w = adj[p];
                pos[sp - 1] = p + 1;
                if (index[w] < 0) {
                    index[w] = low[w] = (int32_t)counter++;
                    stack[top++] = w;
                    calls[sp] = w;
                    pos[sp++] = indptr[w];
                } else if (labels[w] < 0 && index[w] < low[v]) {
                    low[v] = index[w]; /* w is still on the stack */
                }
                continue;
            }
            sp--;
            if (sp > 0 && low[v] < low[calls[sp - 1]]) low[calls[sp - 1]] = low[v];
            if (low[v] == index[v]) {
                int32_t x;
                do {
                    x = stack[--top];
                    labels[x] = ncomp;
                } while (x != v);
                ncomp++;
            }
        }
    }
    return ncomp;
}

static PyObject *scc(PyObject *self, PyObject *args) {
    long long n;
    PyObject *o_src, *o_dst, *o_labels;
    if (!PyArg_ParseTuple(args, "LOOO", &n, &o_src, &o_dst, &o_labels)) return NULL;
    if (n < 0 || n >= INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "scc: node count out of range (0 to 2**31 - 2)");
        return NULL;
    }
    Py_buffer src, dst, lab;
    if (get_buf(o_src, &src, 0, "src")) return NULL;
    if (get_buf(o_dst, &dst, 0, "dst")) {
        PyBuffer_Release(&src);
        return NULL;
    }
    if (get_buf(o_labels, &lab, 1, "labels")) {
        PyBuffer_Release(&src);
        PyBuffer_Release(&dst);
        return NULL;
    }
    PyObject *result = NULL;
    int64_t m = src.len / 8;
    const int64_t *s = src.buf, *d = dst.buf;
    int64_t *labels = lab.buf;
    int64_t *indptr = NULL, *fill = NULL, *pos = NULL;
    int32_t *adj = NULL, *index = NULL, *low = NULL, *stack = NULL, *calls = NULL;
    if (dst.len != src.len || lab.len != n * 8) {
        PyErr_SetString(PyExc_ValueError, "scc: src and dst must have one length, labels n");
        goto done;
    }
    for (int64_t e = 0; e < m; e++) {
        if (s[e] < 0 || s[e] >= n || d[e] < 0 || d[e] >= n) {
            PyErr_Format(PyExc_ValueError, "scc: edge %lld has a node out of range", (long long)e);
            goto done;
        }
    }
    indptr = calloc((size_t)n + 1, sizeof *indptr);
    fill = malloc(((size_t)n + 1) * sizeof *fill);
    adj = malloc(((size_t)m + 1) * sizeof *adj);
    index = malloc(((size_t)n + 1) * sizeof *index);
    low = malloc(((size_t)n + 1) * sizeof *low);
    stack = malloc(((size_t)n + 1) * sizeof *stack);
    calls = malloc(((size_t)n + 1) * sizeof *calls);
    pos = malloc(((size_t)n + 1) * sizeof *pos);
    if (!indptr || !fill || !adj || !index || !low || !stack || !calls || !pos) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t ncomp;
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t e = 0; e < m; e++) indptr[s[e] + 1]++;
    for (int64_t i = 0; i < n; i++) indptr[i + 1] += indptr[i];
    for (int64_t i = 0; i <= n; i++) fill[i] = indptr[i];
    for (int64_t e = 0; e < m; e++) adj[fill[s[e]]++] = (int32_t)d[e];
    ncomp = tarjan(n, indptr, adj, labels, index, low, stack, calls, pos);
    Py_END_ALLOW_THREADS;
    result = PyLong_FromLongLong(ncomp);
done:
    free(indptr);
    free(fill);
    free(adj);
    free(index);
    free(low);
    free(stack);
    free(calls);
    free(pos);
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    PyBuffer_Release(&lab);
    return result;
}


/* reach(indptr i64[n+1], dst i64, bits u8, order i64[n], qu i64, qv i64, extra, hit u8 out)
 *   -> work (edges looked at)
 *
 * For each query i: is there a path of one or more edges from qv[i] to qu[i]
 * (through at least one edge whose bits meet `extra`, when extra is not 0)?
 * `order` must be a reverse topological order of the graph's components (the
 * labels scc() gives): a path w ~> u needs order[w] >= order[u], so nodes
 * below qu's order are never entered. Depth first over (node, extra seen)
 * states, with a generation stamp per state instead of clearing.
 */
static PyObject *reach(PyObject *self, PyObject *args) {
    PyObject *objs[8];
    long long extra;
    if (!PyArg_ParseTuple(args, "OOOOOOLO", &objs[0], &objs[1], &objs[2], &objs[3], &objs[4],
                          &objs[5], &extra, &objs[6]))
        return NULL;
    Py_buffer v[7];
    const Py_ssize_t size[7] = {8, 8, 1, 8, 8, 8, 1};
    const char *names[7] = {"indptr", "dst", "bits", "order", "qu", "qv", "hit"};
    int held = 0;
    PyObject *result = NULL;
    int32_t *stamp = NULL;
    int64_t *stack = NULL;
    for (; held < 7; held++) {
        int writable = held == 6;
        if (PyObject_GetBuffer(objs[held], &v[held],
                               PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
            goto done;
        if (v[held].itemsize != size[held]) {
            PyErr_Format(PyExc_TypeError, "reach: %s has %zd-byte items, expected %zd",
                         names[held], v[held].itemsize, size[held]);
            held++;
            goto done;
        }
    }
    const int64_t *indptr = v[0].buf, *dst = v[1].buf, *order = v[3].buf, *qu = v[4].buf,
                  *qv = v[5].buf;
    const uint8_t *bits = v[2].buf;
    uint8_t *hit = v[6].buf;
    int64_t n = v[0].len / 8 - 1, m = v[1].len / 8, q = v[4].len / 8;
    if (n < 0 || n >= INT32_MAX / 2 || v[2].len != m || v[3].len != n * 8 ||
        v[5].len != q * 8 || v[6].len != q || indptr[0] != 0 || indptr[n] != m) {
        PyErr_SetString(PyExc_ValueError, "reach: inconsistent array sizes");
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        if (indptr[i + 1] < indptr[i]) {
            PyErr_SetString(PyExc_ValueError, "reach: indptr must not decrease");
            goto done;
        }
    for (int64_t e = 0; e < m; e++)
        if (dst[e] < 0 || dst[e] >= n) {
            PyErr_SetString(PyExc_ValueError, "reach: an edge target is out of range");
            goto done;
        }
    for (int64_t i = 0; i < q; i++)
        if (qu[i] < 0 || qu[i] >= n || qv[i] < 0 || qv[i] >= n) {
            PyErr_SetString(PyExc_ValueError, "reach: a query node is out of range");
            goto done;
        }
    stamp = calloc(2 * (size_t)n + 1, sizeof *stamp);
    stack = malloc((2 * (size_t)n + 1) * sizeof *stack);
    if (!stamp || !stack) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t work = 0;
    const uint8_t x = (uint8_t)extra;
    Py_BEGIN_ALLOW_THREADS;
    int32_t gen = 0;
    for (int64_t i = 0; i < q; i++) {
        int64_t u = qu[i], floor_ = order[u];
        hit[i] = 0;
        if (!x && qv[i] != u && order[qv[i]] == floor_) { /* one component: v ~> u */
            hit[i] = 1;
            continue;
        }
        if (++gen == INT32_MAX) {
            memset(stamp, 0, 2 * (size_t)n * sizeof *stamp);
            gen = 1;
        }
        int64_t top = 0;
        stack[top++] = qv[i] * 2;
        stamp[qv[i] * 2] = gen;
        while (top > 0 && !hit[i]) {
            int64_t state = stack[--top], w = state >> 1, seen = state & 1;
            for (int64_t e = indptr[w]; e < indptr[w + 1]; e++) {
                int64_t y = dst[e];
                work++;
                if (order[y] < floor_) continue;
                int64_t s2 = seen | (x && (bits[e] & x) ? 1 : 0);
                if (y == u && (s2 || !x)) {
                    hit[i] = 1;
                    break;
                }
                int64_t next = y * 2 + s2;
                if (stamp[next] != gen) {
                    stamp[next] = gen;
                    stack[top++] = next;
                }
            }
        }
    }
    Py_END_ALLOW_THREADS;
    result = PyLong_FromLongLong(work);
done:
    free(stamp);
    free(stack);
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"scc", scc, METH_VARARGS,
     "scc(n, src, dst, labels) -> count: strongly connected components, reverse topological."},
    {"reach", reach, METH_VARARGS,
     "reach(indptr, dst, bits, order, qu, qv, extra, hit) -> work: does qv reach qu?"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scc", NULL, -1, methods};

PyMODINIT_FUNC PyInit__scc(void) { return PyModule_Create(&module); }
