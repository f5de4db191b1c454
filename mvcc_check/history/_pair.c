/* Pairing invocations with completions, in one pass over the op columns.
 *
 * pair(op_type i8, op_process i32, op_mop i64[n+1], mop_kind i8, mop_key i32,
 *      n_processes, limit, invoke_row i64 out, complete_row i64 out,
 *      status i8 out, mop_row i64 out) -> (txns, problem_row, problem, problem_prev)
 *
 * Each process runs one op at a time: an invocation opens its process, the
 * next op of that process (a completion) closes it. An invocation while the
 * process is open, or a completion whose micro-ops differ from its
 * invocation's in number, kind or key, is a problem; the first one among rows
 * below `limit` is returned (problem 1: invoked while open, 2: shapes differ;
 * problem_prev is the open invocation's row) and the pass stops there.
 * Otherwise every invocation, and every completion with no open invocation,
 * starts a transaction, numbered in row order: its invocation row, its
 * completion row (-1 if it never completed; its own row for a lone
 * completion), its status (the completion's type, INFO if none), and the row
 * whose micro-ops are its own (the completion's, unless it is info).
 *
 * This replaces a dozen numpy passes (a stable argsort by process among them)
 * that cost 0.4 s at a million transactions and 6 s at ten million.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

enum { INVOKE = 0, INFO = 3 };
enum { NONE = 0, REINVOKED = 1, SHAPE = 2 };

static int shapes_differ(const int64_t *om, const int8_t *kind, const int32_t *key, int64_t a,
                         int64_t b) {
    int64_t na = om[a + 1] - om[a], nb = om[b + 1] - om[b];
    if (na != nb) return 1;
    const int64_t x = om[a], y = om[b];
    for (int64_t i = 0; i < na; i++)
        if (kind[x + i] != kind[y + i] || key[x + i] != key[y + i]) return 1;
    return 0;
}

static PyObject *pair(PyObject *self, PyObject *args) {
    PyObject *objs[9];
    long long n_proc, limit;
    if (!PyArg_ParseTuple(args, "OOOOOLLOOOO", &objs[0], &objs[1], &objs[2], &objs[3], &objs[4],
                          &n_proc, &limit, &objs[5], &objs[6], &objs[7], &objs[8]))
        return NULL;
    static const Py_ssize_t size[9] = {1, 4, 8, 1, 4, 8, 8, 1, 8};
    static const char *names[9] = {"op_type",    "op_process",   "op_mop",
                                   "mop_kind",   "mop_key",      "invoke_row",
                                   "complete_row", "status",     "mop_row"};
    Py_buffer v[9];
    int held = 0;
    PyObject *result = NULL;
    int64_t *open_row = NULL;
    int64_t *open_txn = NULL;
    for (; held < 9; held++) {
        int writable = held >= 5;
        if (PyObject_GetBuffer(objs[held], &v[held],
                               PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
            goto done;
        if (v[held].itemsize != size[held]) {
            PyErr_Format(PyExc_TypeError, "pair: %s has %zd-byte items, expected %zd",
                         names[held], v[held].itemsize, size[held]);
            held++;
            goto done;
        }
    }
    const int64_t n = v[0].len, m = v[3].len;
    if (v[1].len / 4 != n || v[2].len / 8 != n + 1 || v[4].len / 4 != m) {
        PyErr_SetString(PyExc_ValueError, "pair: column lengths disagree");
        goto done;
    }
    for (int i = 5; i < 9; i++)
        if (v[i].len / size[i] < n) {
            PyErr_Format(PyExc_ValueError, "pair: %s is shorter than the ops", names[i]);
            goto done;
        }
    if (n_proc < 0 || n_proc > INT32_MAX || limit < 0) {
        PyErr_SetString(PyExc_ValueError, "pair: process count or limit out of range");
        goto done;
    }
    const int8_t *typ = v[0].buf, *kind = v[3].buf;
    const int32_t *proc = v[1].buf, *key = v[4].buf;
    const int64_t *om = v[2].buf;
    int64_t *inv = v[5].buf, *comp = v[6].buf, *mop_row = v[8].buf;
    int8_t *status = v[7].buf;
    for (int64_t r = 0; r < n; r++)
        if (proc[r] < 0 || proc[r] >= n_proc || om[r] < 0 || om[r] > om[r + 1] || om[r + 1] > m) {
            PyErr_Format(PyExc_ValueError, "pair: row %lld has a process or micro-op range out "
                         "of range", (long long)r);
            goto done;
        }
    open_row = malloc(((size_t)n_proc + 1) * sizeof *open_row);
    open_txn = malloc(((size_t)n_proc + 1) * sizeof *open_txn);
    if (!open_row || !open_txn) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t t = 0, problem_row = -1, problem_prev = -1;
    int problem = NONE;
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t p = 0; p < n_proc; p++) open_row[p] = -1;
    for (int64_t r = 0; r < n; r++) {
        const int32_t p = proc[r];
        const int64_t o = open_row[p];
        if (typ[r] == INVOKE) {
            if (o >= 0 && r < limit) {
                problem = REINVOKED;
                problem_row = r;
                problem_prev = o;
                break;
            }
            inv[t] = r;
            comp[t] = -1;
            open_row[p] = r;
            open_txn[p] = t++;
            continue;
        }
        if (o >= 0) {
            if (r < limit && shapes_differ(om, kind, key, o, r)) {
                problem = SHAPE;
                problem_row = r;
                problem_prev = o;
                break;
            }
            comp[open_txn[p]] = r;
        } else {
            inv[t] = r;
            comp[t++] = r;
        }
        open_row[p] = -1;
    }
    if (problem == NONE)
        for (int64_t i = 0; i < t; i++) {
            const int64_t c = comp[i];
            status[i] = c >= 0 ? typ[c] : INFO;
            mop_row[i] = c >= 0 && status[i] != INFO ? c : inv[i];
        }
    Py_END_ALLOW_THREADS;
    result = Py_BuildValue("LLiL", (long long)t, (long long)problem_row, problem,
                           (long long)problem_prev);
done:
    free(open_row);
    free(open_txn);
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

/* mop_rows(op_mop i64[n+1], mop_row i64[T], txns i64 or None, rows, txn) -> count
 *
 * The micro-op rows of every transaction (or of `txns`), transaction by
 * transaction and in order within each, with the transaction of each row. With
 * rows and txn None, only counts; else fills them (each as long as the count).
 * TxnColumns.mop_txn: at ten million transactions its numpy form made a dozen
 * temporaries of the micro-ops' size. */
static PyObject *mop_rows(PyObject *self, PyObject *args) {
    PyObject *o[5];
    if (!PyArg_ParseTuple(args, "OOOOO", &o[0], &o[1], &o[2], &o[3], &o[4])) return NULL;
    const int has_ids = o[2] != Py_None, fill = o[3] != Py_None && o[4] != Py_None;
    Py_buffer v[5];
    int used[5] = {1, 1, has_ids, fill, fill}, held[5] = {0};
    static const char *names[5] = {"op_mop", "mop_row", "txns", "rows", "txn"};
    PyObject *result = NULL;
    for (int i = 0; i < 5; i++) {
        if (!used[i]) continue;
        if (PyObject_GetBuffer(o[i], &v[i], PyBUF_C_CONTIGUOUS | (i >= 3 ? PyBUF_WRITABLE : 0)) < 0)
            goto done;
        held[i] = 1;
        if (v[i].itemsize != 8) {
            PyErr_Format(PyExc_TypeError, "mop_rows: %s has %zd-byte items, expected 8", names[i],
                         v[i].itemsize);
            goto done;
        }
    }
    const int64_t n1 = v[0].len / 8, t_count = v[1].len / 8;
    const int64_t *om = v[0].buf, *mop_row = v[1].buf, *ids = has_ids ? v[2].buf : NULL;
    const int64_t k = has_ids ? v[2].len / 8 : t_count;
    for (int64_t j = 0; j < k; j++) {
        const int64_t t = ids ? ids[j] : j;
        if (t < 0 || t >= t_count || mop_row[t] < 0 || mop_row[t] + 1 >= n1 ||
            om[mop_row[t]] > om[mop_row[t] + 1]) {
            PyErr_Format(PyExc_ValueError, "mop_rows: txn %lld is out of range", (long long)t);
            goto done;
        }
    }
    int64_t count = 0;
    for (int64_t j = 0; j < k; j++) {
        const int64_t t = ids ? ids[j] : j;
        count += om[mop_row[t] + 1] - om[mop_row[t]];
    }
    if (fill) {
        if (v[3].len / 8 < count || v[4].len / 8 < count) {
            PyErr_SetString(PyExc_ValueError, "mop_rows: the outputs are shorter than the rows");
            goto done;
        }
        int64_t *rows = v[3].buf, *txn = v[4].buf, at = 0;
        Py_BEGIN_ALLOW_THREADS;
        for (int64_t j = 0; j < k; j++) {
            const int64_t t = ids ? ids[j] : j;
            for (int64_t r = om[mop_row[t]]; r < om[mop_row[t] + 1]; r++) {
                rows[at] = r;
                txn[at++] = t;
            }
        }
        Py_END_ALLOW_THREADS;
    }
    result = PyLong_FromLongLong(count);
done:
    for (int i = 0; i < 5; i++)
        if (held[i]) PyBuffer_Release(&v[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"pair", pair, METH_VARARGS,
     "pair(op_type, op_process, op_mop, mop_kind, mop_key, n_processes, limit, invoke_row, "
     "complete_row, status, mop_row) -> (txns, problem_row, problem, problem_prev)"},
    {"mop_rows", mop_rows, METH_VARARGS,
     "mop_rows(op_mop, mop_row, txns or None, rows or None, txn or None) -> count: the "
     "transactions' micro-op rows."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pair", NULL, -1, methods};

PyMODINIT_FUNC PyInit__pair(void) { return PyModule_Create(&module); }
