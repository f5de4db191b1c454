/* Passes of the list-append inference, in C.
 *
 * The first: every transaction's micro-ops split into appends and reads, in
 * history order (transaction by transaction in id order, micro-op by micro-op).
 *
 * count(lo i64, counts i64, kind i8) -> (appends, reads, first write's g or -1)
 * split(lo, counts, kind, key i32, tag i8, value i64, shifts,
 *       a_txn i32, a_pos i32, a_key i32, a_tag i8, a_val i64, a_multi bool,
 *       r_txn, r_pos, r_key, r_tag, r_val, r_multi) -> None
 *
 * Transaction t's micro-ops are the rows lo[t] .. lo[t] + counts[t] of the
 * micro-op columns. `multi` says whether another micro-op of the transaction
 * touches the same key: exact for transactions of up to shifts + 1 micro-ops,
 * true for every micro-op of a longer one (as the numpy pass it replaces,
 * which compared keys at each shift up to `shifts`).
 *
 * The others (committed, longest, positions, within, read_edges, key_firsts, read_flags,
 * first_repeats) are described where
 * they are defined.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { APPEND = 0, READ = 1, WRITE = 2 };
enum { NIL_TAG = 0, INT_TAG = 1, ATOM_TAG = 2, LIST_TAG = 3 }; /* columns' tags */

static int check_ranges(const int64_t *lo, const int64_t *counts, int64_t n, int64_t m) {
    for (int64_t t = 0; t < n; t++)
        if (lo[t] < 0 || counts[t] < 0 || lo[t] > m - counts[t]) {
            PyErr_Format(PyExc_ValueError, "split: txn %lld's micro-ops are out of range",
                         (long long)t);
            return -1;
        }
    return 0;
}

/* Appends and reads among the transactions' micro-ops, and the history position of
 * the first write (-1 if none); the ranges are checked already. */
static void tally(const int64_t *lo, const int64_t *counts, const int8_t *kind, int64_t n,
                  int64_t *appends, int64_t *reads, int64_t *first_write) {
    int64_t g = 0, na = 0, nr = 0, fw = -1; /* (locals: kind's bytes may alias the outputs) */
    for (int64_t t = 0; t < n; t++) {
        const int8_t *k = kind + lo[t];
        const int64_t c = counts[t];
        for (int64_t i = 0; i < c; i++) {
            na += k[i] == APPEND;
            nr += k[i] == READ;
            if (k[i] == WRITE && fw < 0) fw = g + i;
        }
        g += c;
    }
    *appends = na;
    *reads = nr;
    *first_write = fw;
}

static int get(PyObject *o, Py_buffer *v, Py_ssize_t itemsize, int writable, const char *name) {
    if (PyObject_GetBuffer(o, v, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (v->itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "split: %s has %zd-byte items, expected %zd", name,
                     v->itemsize, itemsize);
        PyBuffer_Release(v);
        return -1;
    }
    return 0;
}

static PyObject *count(PyObject *self, PyObject *args) {
    PyObject *o[3];
    if (!PyArg_ParseTuple(args, "OOO", &o[0], &o[1], &o[2])) return NULL;
    Py_buffer v[3];
    const Py_ssize_t size[3] = {8, 8, 1};
    const char *names[3] = {"lo", "counts", "kind"};
    int held = 0;
    PyObject *result = NULL;
    for (; held < 3; held++)
        if (get(o[held], &v[held], size[held], 0, names[held])) goto done;
    const int64_t n = v[0].len / 8, m = v[2].len;
    if (v[1].len / 8 != n) {
        PyErr_SetString(PyExc_ValueError, "split: lo and counts differ in length");
        goto done;
    }
    const int64_t *lo = v[0].buf, *counts = v[1].buf;
    const int8_t *kind = v[2].buf;
    if (check_ranges(lo, counts, n, m)) goto done;
    int64_t appends, reads, first_write;
    tally(lo, counts, kind, n, &appends, &reads, &first_write);
    result = Py_BuildValue("LLL", (long long)appends, (long long)reads, (long long)first_write);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

static PyObject *split(PyObject *self, PyObject *args) {
    PyObject *o[18];
    long long shifts;
    if (!PyArg_ParseTuple(args, "OOOOOOLOOOOOOOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &shifts, &o[6], &o[7], &o[8], &o[9], &o[10], &o[11], &o[12], &o[13],
                          &o[14], &o[15], &o[16], &o[17]))
        return NULL;
    static const Py_ssize_t size[18] = {8, 8, 1, 4, 1, 8, 4, 4, 4, 1, 8, 1, 4, 4, 4, 1, 8, 1};
    static const char *names[18] = {"lo",    "counts", "kind",    "key",   "tag",   "value",
                                    "a_txn", "a_pos",  "a_key",   "a_tag", "a_val", "a_multi",
                                    "r_txn", "r_pos",  "r_key",   "r_tag", "r_val", "r_multi"};
    Py_buffer v[18];
    int held = 0;
    PyObject *result = NULL;
    for (; held < 18; held++)
        if (get(o[held], &v[held], size[held], held >= 6, names[held])) goto done;
    const int64_t n = v[0].len / 8, m = v[2].len;
    if (v[1].len / 8 != n || v[3].len / 4 != m || v[4].len != m || v[5].len / 8 != m) {
        PyErr_SetString(PyExc_ValueError, "split: column lengths disagree");
        goto done;
    }
    const int64_t *lo = v[0].buf, *counts = v[1].buf, *value = v[5].buf;
    const int8_t *kind = v[2].buf, *tag = v[4].buf;
    const int32_t *key = v[3].buf;
    if (check_ranges(lo, counts, n, m)) goto done;
    if (n > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "split: too many transactions for 32-bit ids");
        goto done;
    }
    int64_t na, nr, first_write;
    tally(lo, counts, kind, n, &na, &nr, &first_write);
    for (int j = 6; j < 18; j++) {
        const int64_t need = j < 12 ? na : nr;
        if (v[j].len / size[j] != need) {
            PyErr_Format(PyExc_ValueError, "split: %s holds %zd entries, not %lld", names[j],
                         v[j].len / size[j], (long long)need);
            goto done;
        }
    }
    int32_t *txn_out[2] = {v[6].buf, v[12].buf}, *pos_out[2] = {v[7].buf, v[13].buf};
    int32_t *key_out[2] = {v[8].buf, v[14].buf};
    int8_t *tag_out[2] = {v[9].buf, v[15].buf};
    int64_t *val_out[2] = {v[10].buf, v[16].buf};
    uint8_t *multi_out[2] = {v[11].buf, v[17].buf};
    int64_t at[2] = {0, 0};
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t t = 0; t < n; t++) {
        const int64_t c = counts[t], base = lo[t];
        for (int64_t i = 0; i < c; i++) {
            const int64_t row = base + i;
            const int8_t k = kind[row];
            if (k != APPEND && k != READ) continue;
            const int side = k == READ;
            uint8_t multi = c > shifts + 1;
            for (int64_t j = 0; j < c && !multi; j++)
                if (j != i && key[base + j] == key[row]) multi = 1;
            const int64_t x = at[side]++;
            txn_out[side][x] = (int32_t)t;
            pos_out[side][x] = (int32_t)i;
            key_out[side][x] = key[row];
            tag_out[side][x] = tag[row];
            val_out[side][x] = value[row];
            multi_out[side][x] = multi;
        }
    }
    Py_END_ALLOW_THREADS;
    result = Py_None;
    Py_INCREF(result);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

/* first_repeats(f_app i32, f_key i32, f_j i64, n_apps, out i64) -> None
 *
 * Per key, the first position of its longest read whose append (f_app, -1:
 * unknown, skipped) already wrote an earlier position: out[key] lowered to it.
 * An append belongs to one key, so a repeat is always within its key's read. */
static PyObject *first_repeats(PyObject *self, PyObject *args) {
    PyObject *o[4];
    long long n_apps;
    if (!PyArg_ParseTuple(args, "OOOLO", &o[0], &o[1], &o[2], &n_apps, &o[3])) return NULL;
    static const Py_ssize_t size[4] = {4, 4, 8, 8};
    static const char *names[4] = {"f_app", "f_key", "f_j", "out"};
    Py_buffer v[4];
    int held = 0;
    PyObject *result = NULL;
    uint8_t *seen = NULL;
    for (; held < 4; held++)
        if (get(o[held], &v[held], size[held], held == 3, names[held])) goto done;
    const int64_t f = v[0].len / 4, nk = v[3].len / 8;
    if (v[1].len / 4 != f || v[2].len / 8 != f || n_apps < 0) {
        PyErr_SetString(PyExc_ValueError, "first_repeats: array lengths disagree");
        goto done;
    }
    const int32_t *app = v[0].buf, *key = v[1].buf;
    const int64_t *j = v[2].buf;
    int64_t *out = v[3].buf;
    for (int64_t i = 0; i < f; i++)
        if (app[i] >= n_apps || key[i] < 0 || key[i] >= nk) {
            PyErr_Format(PyExc_ValueError, "first_repeats: position %lld is out of range",
                         (long long)i);
            goto done;
        }
    seen = calloc((size_t)n_apps + 1, 1);
    if (!seen) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t i = 0; i < f; i++) {
        const int32_t a = app[i];
        if (a < 0) continue;
        if (seen[a]) {
            if (j[i] < out[key[i]]) out[key[i]] = j[i];
        } else {
            seen[a] = 1;
        }
    }
    Py_END_ALLOW_THREADS;
    result = Py_None;
    Py_INCREF(result);
done:
    free(seen);
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

/* committed(status i8, ok, r_txn i32, r_pos i32, r_key i32, r_tag i8, r_val i64, el_start i64,
 *           src i64, txn i32, pos i32, key i32, n i64, start i64) -> count
 *
 * The reads of transactions whose status is `ok`, in order: their index among the
 * reads, txn, position and key, and the element rows of what they returned (a list:
 * its first row and length; anything else: 0 and 0). Outputs hold room for every read. */
static PyObject *committed(PyObject *self, PyObject *args) {
    PyObject *o[13];
    int ok;
    if (!PyArg_ParseTuple(args, "OiOOOOOOOOOOOO", &o[0], &ok, &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &o[9], &o[10], &o[11], &o[12]))
        return NULL;
    static const Py_ssize_t size[13] = {1, 4, 4, 4, 1, 8, 8, 8, 4, 4, 4, 8, 8};
    static const char *names[13] = {"status", "r_txn", "r_pos", "r_key", "r_tag", "r_val", "el_start",
                                    "src",    "txn",   "pos",   "key",   "n",     "start"};
    Py_buffer v[13];
    int held = 0;
    PyObject *result = NULL;
    for (; held < 13; held++)
        if (get(o[held], &v[held], size[held], held >= 7, names[held])) goto done;
    const int64_t nt = v[0].len, r = v[1].len / 4, lists = v[6].len / 8 - 1;
    int same = 1;
    for (int j = 2; j < 13; j++)
        if (j != 6 && v[j].len / size[j] != r) same = 0;
    if (!same || lists < 0) {
        PyErr_SetString(PyExc_ValueError, "committed: array lengths disagree");
        goto done;
    }
    const int8_t *status = v[0].buf, *tag = v[4].buf;
    const int32_t *r_txn = v[1].buf, *r_pos = v[2].buf, *r_key = v[3].buf;
    const int64_t *r_val = v[5].buf, *el_start = v[6].buf;
    int64_t *src = v[7].buf, *n = v[11].buf, *start = v[12].buf;
    int32_t *txn = v[8].buf, *pos = v[9].buf, *key = v[10].buf;
    for (int64_t i = 0; i < r; i++) {
        if (r_txn[i] < 0 || r_txn[i] >= nt) {
            PyErr_Format(PyExc_ValueError, "committed: read %lld's txn is out of range", (long long)i);
            goto done;
        }
        if (tag[i] == LIST_TAG && (r_val[i] < 0 || r_val[i] >= lists || el_start[r_val[i]] < 0
                                   || el_start[r_val[i]] > el_start[r_val[i] + 1])) {
            PyErr_Format(PyExc_ValueError, "committed: read %lld's list is out of range", (long long)i);
            goto done;
        }
    }
    int64_t c = 0;
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t i = 0; i < r; i++) {
        if (status[r_txn[i]] != ok) continue;
        src[c] = i;
        txn[c] = r_txn[i];
        pos[c] = r_pos[i];
        key[c] = r_key[i];
        if (tag[i] == LIST_TAG) {
            start[c] = el_start[r_val[i]];
            n[c] = el_start[r_val[i] + 1] - start[c];
        } else {
            start[c] = n[c] = 0;
        }
        c++;
    }
    Py_END_ALLOW_THREADS;
    result = PyLong_FromLongLong(c);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

/* read_edges(txn i32, key i32, n i64, ext u8, bad u8, off i64, length i64, writer i64,
 *            node i64, late_lo i64, late_hi i64, late_txn i64,
 *            wr_src i64, wr_dst i64, rw_src i64, rw_dst i64) -> (wr edges, rw edges)
 *
 * The wr and rw edges of the committed reads that read committed state (ext) and are
 * a prefix of their key's longest read (not bad); read i saw the first n[i] positions
 * of key[i]'s longest read, which start at flat position off[key]:
 *   wr: writer[off + n - 1] -> txn (the last known element's writer), when n > 0;
 *   rw: txn -> node[off + n] (the next element's writer), when n < length[key];
 *   rw: txn -> every late_txn[late_lo[key]:late_hi[key]] (unread appends), when
 *       n == length[key].
 * A node or writer of -1 gives no edge. With the outputs None, only the counts. */
static PyObject *read_edges(PyObject *self, PyObject *args) {
    PyObject *o[16];
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &o[9], &o[10], &o[11], &o[12], &o[13], &o[14],
                          &o[15]))
        return NULL;
    const int fill = o[12] != Py_None;
    const int nin = fill ? 16 : 12;
    static const Py_ssize_t size[16] = {4, 4, 8, 1, 1, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
    static const char *names[16] = {"txn",     "key",     "n",        "ext",    "bad",    "off",
                                    "length",  "writer",  "node",     "late_lo", "late_hi",
                                    "late_txn", "wr_src", "wr_dst",   "rw_src", "rw_dst"};
    Py_buffer v[16];
    int held = 0;
    PyObject *result = NULL;
    for (; held < nin; held++)
        if (get(o[held], &v[held], size[held], held >= 12, names[held])) goto done;
    const int64_t r = v[0].len / 4, nk = v[5].len / 8, f = v[7].len / 8, nl = v[11].len / 8;
    if (v[1].len / 4 != r || v[2].len / 8 != r || v[3].len != r || v[4].len != r
        || v[6].len / 8 != nk || v[8].len / 8 != f || v[9].len / 8 != nk || v[10].len / 8 != nk) {
        PyErr_SetString(PyExc_ValueError, "read_edges: array lengths disagree");
        goto done;
    }
    const int32_t *txn = v[0].buf, *key = v[1].buf;
    const int64_t *n = v[2].buf, *off = v[5].buf, *length = v[6].buf, *writer = v[7].buf;
    const int64_t *node = v[8].buf, *late_lo = v[9].buf, *late_hi = v[10].buf, *late_txn = v[11].buf;
    const uint8_t *ext = v[3].buf, *bad = v[4].buf;
    for (int64_t k = 0; k < nk; k++)
        if (off[k] < 0 || length[k] < 0 || off[k] > f - length[k] || late_lo[k] < 0
            || late_lo[k] > late_hi[k] || late_hi[k] > nl) {
            PyErr_Format(PyExc_ValueError, "read_edges: key %lld's positions are out of range",
                         (long long)k);
            goto done;
        }
    for (int64_t i = 0; i < r; i++)
        if (key[i] < 0 || key[i] >= nk || n[i] < 0 || n[i] > length[key[i]]) {
            PyErr_Format(PyExc_ValueError, "read_edges: read %lld is out of range", (long long)i);
            goto done;
        }
    int64_t nwr = 0, nrw = 0;
    if (fill) {
        const int64_t cap_wr = v[12].len / 8, cap_rw = v[14].len / 8;
        if (v[13].len / 8 != cap_wr || v[15].len / 8 != cap_rw) {
            PyErr_SetString(PyExc_ValueError, "read_edges: output lengths disagree");
            goto done;
        }
        int64_t *wr_src = v[12].buf, *wr_dst = v[13].buf, *rw_src = v[14].buf, *rw_dst = v[15].buf;
        int over = 0;
        Py_BEGIN_ALLOW_THREADS;
        for (int64_t i = 0; i < r && !over; i++) {
            if (!ext[i] || bad[i]) continue;
            const int64_t k = key[i], at = off[k] + n[i];
            if (n[i] > 0 && writer[at - 1] >= 0) {
                if (nwr >= cap_wr) { over = 1; break; }
                wr_src[nwr] = writer[at - 1];
                wr_dst[nwr++] = txn[i];
            }
            if (n[i] < length[k]) {
                if (node[at] >= 0) {
                    if (nrw >= cap_rw) { over = 1; break; }
                    rw_src[nrw] = txn[i];
                    rw_dst[nrw++] = node[at];
                }
            } else {
                for (int64_t j = late_lo[k]; j < late_hi[k]; j++) {
                    if (nrw >= cap_rw) { over = 1; break; }
                    rw_src[nrw] = txn[i];
                    rw_dst[nrw++] = late_txn[j];
                }
            }
        }
        Py_END_ALLOW_THREADS;
        if (over) {
            PyErr_SetString(PyExc_ValueError, "read_edges: the outputs are too short");
            goto done;
        }
    } else {
        Py_BEGIN_ALLOW_THREADS;
        for (int64_t i = 0; i < r; i++) {
            if (!ext[i] || bad[i]) continue;
            const int64_t k = key[i];
            nwr += n[i] > 0;
            nrw += n[i] < length[k] ? 1 : late_hi[k] - late_lo[k];
        }
        Py_END_ALLOW_THREADS;
    }
    result = Py_BuildValue("LL", (long long)nwr, (long long)nrw);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

/* longest(key i32, n i64, start i64, el_value i64, el_tag i8, tags,
 *         length i64, longest i64, lstart i64, read_order i64, bad u8, inconsistent u8)
 *   -> number of keys read
 *
 * Over the committed reads (read i: key[i], its n[i] elements from row start[i]):
 * per key (outputs sized by key), the greatest length (0 if no read), the first read
 * of that length (-1 if none) and its first row (0 if none); the keys in the order
 * of their first read (read_order[:count]); per read, whether its elements differ
 * from its key's longest read's (values, and tags when `tags`); per key, whether
 * some read does. */
static PyObject *longest_reads(PyObject *self, PyObject *args) {
    PyObject *o[11];
    int tags;
    if (!PyArg_ParseTuple(args, "OOOOOpOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &tags, &o[5],
                          &o[6], &o[7], &o[8], &o[9], &o[10]))
        return NULL;
    static const Py_ssize_t size[11] = {4, 8, 8, 8, 1, 8, 8, 8, 8, 1, 1};
    static const char *names[11] = {"key",    "n",       "start",      "el_value",
                                    "el_tag", "length",  "longest",    "lstart",
                                    "read_order", "bad", "inconsistent"};
    Py_buffer v[11];
    int held = 0;
    PyObject *result = NULL;
    for (; held < 11; held++)
        if (get(o[held], &v[held], size[held], held >= 5, names[held])) goto done;
    const int64_t r = v[0].len / 4, e = v[3].len / 8, nk = v[5].len / 8;
    if (v[1].len / 8 != r || v[2].len / 8 != r || v[4].len != e || v[6].len / 8 != nk
        || v[7].len / 8 != nk || v[8].len / 8 != nk || v[9].len != r || v[10].len != nk) {
        PyErr_SetString(PyExc_ValueError, "longest: array lengths disagree");
        goto done;
    }
    const int32_t *key = v[0].buf;
    const int64_t *n = v[1].buf, *start = v[2].buf, *value = v[3].buf;
    const int8_t *tag = v[4].buf;
    int64_t *length = v[5].buf, *longest = v[6].buf, *lstart = v[7].buf, *order = v[8].buf;
    uint8_t *bad = v[9].buf, *inconsistent = v[10].buf;
    for (int64_t i = 0; i < r; i++)
        if (key[i] < 0 || key[i] >= nk || n[i] < 0 || start[i] < 0 || start[i] > e - n[i]) {
            PyErr_Format(PyExc_ValueError, "longest: read %lld is out of range", (long long)i);
            goto done;
        }
    int64_t seen = 0;
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t k = 0; k < nk; k++) {
        length[k] = 0;
        longest[k] = -1;
        lstart[k] = 0;
        inconsistent[k] = 0;
    }
    for (int64_t i = 0; i < r; i++) {
        const int32_t k = key[i];
        if (longest[k] < 0) {
            order[seen++] = k;
            longest[k] = i;
            length[k] = n[i];
        } else if (n[i] > length[k]) {
            longest[k] = i;
            length[k] = n[i];
        }
    }
    for (int64_t k = 0; k < nk; k++)
        if (longest[k] >= 0) lstart[k] = start[longest[k]];
    for (int64_t i = 0; i < r; i++) {
        const int64_t a = start[i], b = lstart[key[i]], len = n[i];
        bad[i] = len && (memcmp(value + a, value + b, (size_t)len * sizeof *value) != 0
                         || (tags && memcmp(tag + a, tag + b, (size_t)len) != 0));
        inconsistent[key[i]] |= bad[i];
    }
    Py_END_ALLOW_THREADS;
    result = PyLong_FromLongLong(seen);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

/* positions(length i64, lstart i64, el_tag i8, el_value i64, table i32 | None, width, vmin,
 *           span, nil_code, a_txn i32, status i8, fail,
 *           off i64, f_key i32, f_j i64, f_app i32, f_writer i64, f_node i64) -> found
 *
 * The flat table of the longest reads' positions: key k's positions j < length[k]
 * at off[k] + j (off: the lengths' exclusive sums), each with its key, j, and the
 * append that wrote its element (the registry's direct table, indexed by
 * key * width + code; code: an integer's offset from vmin when below span, else an
 * atom's span + id, null's nil_code), its writer's txn and that txn unless it
 * failed (status `fail`); -1 where none. With table None only off, f_key and f_j
 * are filled (found: -1) and the caller looks the elements up. */
static PyObject *positions(PyObject *self, PyObject *args) {
    PyObject *o[15];
    long long width, vmin, span, nil_code;
    int fail;
    if (!PyArg_ParseTuple(args, "OOOOOLLLLOOiOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &width,
                          &vmin, &span, &nil_code, &o[5], &o[6], &fail, &o[7], &o[8], &o[9], &o[10],
                          &o[11], &o[12]))
        return NULL;
    static const Py_ssize_t size[13] = {8, 8, 1, 8, 4, 4, 1, 8, 4, 8, 4, 8, 8};
    static const char *names[13] = {"length", "lstart", "el_tag", "el_value", "table", "a_txn", "status",
                                    "off",    "f_key",  "f_j",    "f_app",    "f_writer", "f_node"};
    const int lookup = o[4] != Py_None;
    Py_buffer v[13];
    int held = 0;
    PyObject *result = NULL;
    for (; held < 13; held++) {
        if (held == 4 && !lookup) {
            memset(&v[held], 0, sizeof v[held]);
            continue;
        }
        if (get(o[held], &v[held], size[held], held >= 7, names[held])) goto done;
    }
    const int64_t nk = v[0].len / 8, e = v[3].len / 8, nt = v[4].len / 4, na = v[5].len / 4;
    const int64_t ns = v[6].len;
    if (v[1].len / 8 != nk || v[2].len != e || v[7].len / 8 != nk) {
        PyErr_SetString(PyExc_ValueError, "positions: array lengths disagree");
        goto done;
    }
    const int64_t *length = v[0].buf, *lstart = v[1].buf, *value = v[3].buf;
    const int8_t *tag = v[2].buf, *status = v[6].buf;
    const int32_t *table = v[4].buf, *a_txn = v[5].buf;
    int64_t *off = v[7].buf, *f_j = v[9].buf, *f_writer = v[11].buf, *f_node = v[12].buf;
    int32_t *f_key = v[8].buf, *f_app = v[10].buf;
    int64_t f = 0;
    for (int64_t k = 0; k < nk; k++) {
        if (length[k] < 0 || lstart[k] < 0 || lstart[k] > e - length[k]) {
            PyErr_Format(PyExc_ValueError, "positions: key %lld's longest read is out of range",
                         (long long)k);
            goto done;
        }
        f += length[k];
    }
    if (v[8].len / 4 != f || v[9].len / 8 != f || v[10].len / 4 != f || v[11].len / 8 != f
        || v[12].len / 8 != f) {
        PyErr_SetString(PyExc_ValueError, "positions: outputs do not hold every position");
        goto done;
    }
    if (lookup && (width <= 0 || span < 0 || nk > INT64_MAX / width || nk * width != nt)) {
        PyErr_SetString(PyExc_ValueError, "positions: the table is not keys x width");
        goto done;
    }
    int64_t found = lookup ? 0 : -1, bad_app = -1;
    Py_BEGIN_ALLOW_THREADS;
    int64_t at = 0;
    for (int64_t k = 0; k < nk; k++) {
        off[k] = at;
        for (int64_t j = 0; j < length[k]; j++, at++) {
            f_key[at] = (int32_t)k;
            f_j[at] = j;
            if (!lookup) continue;
            const int64_t row = lstart[k] + j, x = value[row];
            int64_t code = -1;
            if (tag[row] == INT_TAG) /* (unsigned: x - vmin may not fit in int64) */
                code = x >= vmin && (uint64_t)x - (uint64_t)vmin < (uint64_t)span
                           ? (int64_t)((uint64_t)x - (uint64_t)vmin)
                           : -1;
            else if (tag[row] == ATOM_TAG) code = x >= 0 && x < width - span ? span + x : -1;
            else if (tag[row] == NIL_TAG) code = nil_code;
            int32_t app = code >= 0 && code < width ? table[k * width + code] : -1;
            if (app >= na) {
                bad_app = at;
                app = -1;
            }
            f_app[at] = app;
            const int64_t t = app >= 0 ? a_txn[app] : -1;
            if (t >= ns) bad_app = at;
            f_writer[at] = t;
            f_node[at] = t >= 0 && t < ns && status[t] != fail ? t : -1;
            found += app >= 0;
        }
    }
    Py_END_ALLOW_THREADS;
    if (bad_app >= 0) {
        PyErr_Format(PyExc_ValueError, "positions: position %lld names no append or txn",
                     (long long)bad_app);
        goto done;
    }
    result = PyLong_FromLongLong(found);
done:
    for (int i = 0; i < held; i++)
        if (i != 4 || lookup) PyBuffer_Release(&v[i]);
    return result;
}

/* within(a_txn i32, a_pos i32, a_key i32, a_multi u8, r_multi u8, rd_src i64, rd_txn i32,
 *        rd_pos i32, rd_key i32, rd_n i64, rd_bad u8, f_app i32, f_j i64, off i64,
 *        ext u8, lost u8, inter u8, fut i64, fut_pos i64, odd_id i64, odd_read u8,
 *        odd_start u8) -> (futures, odd members)
 *
 * The rules inside one transaction (la_within.py says what each means), over every
 * group of two or more micro-ops of one txn on one key: its appends (a_*, multi) and
 * its committed reads (rd_*, whose r_multi is set), in position order. Per append,
 * inter: a later append in its group. Per committed read (outputs ext, lost: one
 * per read; ext must come in all ones), ext: no append of its group before it;
 * lost: the group's first read, ext, in a group with an append. A group with a read
 * that is no prefix of its key's longest (rd_bad), or with an internal read (one
 * that disagrees with the group's reads and appends before it), is odd: its members
 * go to odd_id (append index, or read id when odd_read), odd_start marking each
 * group's first; the others' future reads (a later append of the group at a
 * position, in the key's longest read, below the read's length) go to fut and
 * fut_pos. Appends are in history order (a_txn ascending), and so are the reads. */
typedef struct {
    int32_t key, pos;
    int64_t id;
    int8_t read;
} member_t;

static int member_cmp(const void *x, const void *y) {
    const member_t *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

static void sort_members(member_t *m, int64_t len) {
    if (len > 16) {
        qsort(m, (size_t)len, sizeof *m, member_cmp);
        return;
    }
    for (int64_t i = 1; i < len; i++) {
        const member_t x = m[i];
        int64_t j = i;
        for (; j > 0 && member_cmp(&m[j - 1], &x) > 0; j--) m[j] = m[j - 1];
        m[j] = x;
    }
}

#define W_NEVER ((int64_t)1 << 62)

static PyObject *within(PyObject *self, PyObject *args) {
    PyObject *o[22];
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOOOOOOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &o[9], &o[10], &o[11], &o[12], &o[13], &o[14],
                          &o[15], &o[16], &o[17], &o[18], &o[19], &o[20], &o[21]))
        return NULL;
    static const Py_ssize_t size[22] = {4, 4, 4, 1, 1, 8, 4, 4, 4, 8, 1, 4, 8, 8,
                                        1, 1, 1, 8, 8, 8, 1, 1};
    static const char *names[22] = {"a_txn", "a_pos",  "a_key",  "a_multi", "r_multi", "rd_src",
                                    "rd_txn", "rd_pos", "rd_key", "rd_n",    "rd_bad",  "f_app",
                                    "f_j",    "off",    "ext",    "lost",    "inter",   "fut",
                                    "fut_pos", "odd_id", "odd_read", "odd_start"};
    Py_buffer v[22];
    int held = 0;
    PyObject *result = NULL;
    int64_t *fpos = NULL;
    member_t *mem = NULL;
    for (; held < 22; held++)
        if (get(o[held], &v[held], size[held], held >= 14, names[held])) goto done;
    const int64_t na = v[0].len / 4, nrm = v[4].len, nr = v[5].len / 8, f = v[11].len / 4;
    const int64_t nk = v[13].len / 8, nodd = v[19].len / 8;
    if (v[1].len / 4 != na || v[2].len / 4 != na || v[3].len != na || v[6].len / 4 != nr
        || v[7].len / 4 != nr || v[8].len / 4 != nr || v[9].len / 8 != nr || v[10].len != nr
        || v[12].len / 8 != f || v[14].len != nr || v[15].len != nr || v[16].len != na
        || v[17].len / 8 != nr || v[18].len / 8 != nr || v[20].len != nodd || v[21].len != nodd
        || nodd < na + nr) {
        PyErr_SetString(PyExc_ValueError, "within: array lengths disagree");
        goto done;
    }
    const int32_t *a_txn = v[0].buf, *a_pos = v[1].buf, *a_key = v[2].buf;
    const uint8_t *a_multi = v[3].buf, *r_multi = v[4].buf, *rd_bad = v[10].buf;
    const int64_t *rd_src = v[5].buf, *rd_n = v[9].buf, *f_j = v[12].buf, *off = v[13].buf;
    const int32_t *rd_txn = v[6].buf, *rd_pos = v[7].buf, *rd_key = v[8].buf, *f_app = v[11].buf;
    uint8_t *ext = v[14].buf, *lost = v[15].buf, *inter = v[16].buf;
    uint8_t *odd_read = v[20].buf, *odd_start = v[21].buf;
    int64_t *fut = v[17].buf, *fut_pos = v[18].buf, *odd_id = v[19].buf;
    for (int64_t i = 0; i < na; i++)
        if (a_key[i] < 0 || a_key[i] >= nk || (i && a_txn[i] < a_txn[i - 1])) {
            PyErr_Format(PyExc_ValueError, "within: append %lld is out of range or order",
                         (long long)i);
            goto done;
        }
    for (int64_t i = 0; i < nr; i++)
        if (rd_src[i] < 0 || rd_src[i] >= nrm || rd_key[i] < 0 || rd_key[i] >= nk || rd_n[i] < 0
            || (i && rd_txn[i] < rd_txn[i - 1])) {
            PyErr_Format(PyExc_ValueError, "within: read %lld is out of range or order",
                         (long long)i);
            goto done;
        }
    for (int64_t p = 0; p < f; p++)
        if (f_app[p] >= na) {
            PyErr_Format(PyExc_ValueError, "within: position %lld names no append", (long long)p);
            goto done;
        }
    fpos = malloc(((size_t)na + 1) * sizeof *fpos);
    mem = malloc(((size_t)na + (size_t)nr + 1) * sizeof *mem);
    if (!fpos || !mem) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t nfut = 0, nodd_used = 0, bad_at = -1;
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t a = 0; a < na; a++) fpos[a] = W_NEVER;
    for (int64_t p = 0; p < f; p++) /* each append's first position in its key's longest read */
        if (f_app[p] >= 0 && f_j[p] < fpos[f_app[p]]) fpos[f_app[p]] = f_j[p];
    int64_t ai = 0, ri = 0;
    while ((ai < na || ri < nr) && bad_at < 0) {
        const int64_t t = ai < na && (ri >= nr || a_txn[ai] <= rd_txn[ri]) ? a_txn[ai] : rd_txn[ri];
        int64_t k = 0;
        for (; ai < na && a_txn[ai] == t; ai++)
            if (a_multi[ai]) mem[k++] = (member_t){a_key[ai], a_pos[ai], ai, 0};
        for (; ri < nr && rd_txn[ri] == t; ri++)
            if (r_multi[rd_src[ri]]) mem[k++] = (member_t){rd_key[ri], rd_pos[ri], ri, 1};
        if (k < 2) continue;
        sort_members(mem, k);
        for (int64_t g0 = 0, g1; g0 < k; g0 = g1) {
            for (g1 = g0 + 1; g1 < k && mem[g1].key == mem[g0].key; g1++);
            if (g1 - g0 < 2) continue;
            const member_t *g = mem + g0;
            const int64_t len = g1 - g0, key = g[0].key;
            int64_t first_app = -1, last_app = -1, first_read = -1;
            int odd = 0;
            for (int64_t i = 0; i < len; i++) {
                if (g[i].read) {
                    if (first_read < 0) first_read = i;
                    if (first_app >= 0) ext[g[i].id] = 0;
                    odd |= rd_bad[g[i].id];
                } else {
                    if (first_app < 0) first_app = i;
                    if (last_app >= 0) inter[g[last_app].id] = 1;
                    last_app = i;
                }
            }
            if (first_read >= 0 && first_app >= 0 && first_read < first_app)
                lost[g[first_read].id] = 1;
            /* internal reads: after a read p and m appends the next read is p then
             * those appends; after m appends and no read, it ends with them */
            for (int64_t i = 0, prev = -1, since = 0; i < len && !odd; i++) {
                if (!g[i].read) continue;
                const int64_t napp = i - since, n = rd_n[g[i].id];
                if (prev >= 0 || napp > 0) {
                    const int64_t base = prev >= 0 ? rd_n[g[prev].id] : n - napp;
                    if (prev >= 0 ? n != base + napp : base < 0) {
                        odd = 1;
                        break;
                    }
                    for (int64_t j = 0; j < napp; j++) {
                        const int64_t at = off[key] + base + j;
                        if (at < 0 || at >= f) { /* (a prefix read: never, unless a bug) */
                            bad_at = g[i].id;
                            break;
                        }
                        if (f_app[at] != g[since + j].id) {
                            odd = 1;
                            break;
                        }
                    }
                    if (bad_at >= 0) break;
                }
                prev = i;
                since = i + 1;
            }
            if (odd) {
                for (int64_t i = 0; i < len; i++, nodd_used++) {
                    odd_id[nodd_used] = g[i].id;
                    odd_read[nodd_used] = g[i].read;
                    odd_start[nodd_used] = i == 0;
                }
                continue;
            }
            int64_t after = W_NEVER; /* the least position of a later append, walking back */
            for (int64_t i = len - 1; i >= 0; i--) {
                if (!g[i].read) {
                    if (fpos[g[i].id] < after) after = fpos[g[i].id];
                } else if (after < rd_n[g[i].id]) {
                    fut[nfut] = g[i].id;
                    fut_pos[nfut++] = after;
                }
            }
        }
    }
    Py_END_ALLOW_THREADS;
    if (bad_at >= 0) {
        PyErr_Format(PyExc_ValueError, "within: read %lld reaches past its key's positions",
                     (long long)bad_at);
        goto done;
    }
    result = Py_BuildValue("LL", (long long)nfut, (long long)nodd_used);
done:
    free(fpos);
    free(mem);
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

/* key_firsts(f_key i32, f_j i64, f_app i32, f_writer i64, status i8, fail, failed i64,
 *            unknown i64) -> None
 *
 * Per key (outputs, filled with NEVER by the caller), the first position of its
 * longest read appended by a failed txn (status `fail`), and the first no txn
 * appended (f_app -1). */
static PyObject *key_firsts(PyObject *self, PyObject *args) {
    PyObject *o[7];
    int fail;
    if (!PyArg_ParseTuple(args, "OOOOOiOO", &o[0], &o[1], &o[2], &o[3], &o[4], &fail, &o[5], &o[6]))
        return NULL;
    static const Py_ssize_t size[7] = {4, 8, 4, 8, 1, 8, 8};
    static const char *names[7] = {"f_key", "f_j", "f_app", "f_writer", "status", "failed", "unknown"};
    Py_buffer v[7];
    int held = 0;
    PyObject *result = NULL;
    for (; held < 7; held++)
        if (get(o[held], &v[held], size[held], held >= 5, names[held])) goto done;
    const int64_t f = v[0].len / 4, nt = v[4].len, nk = v[5].len / 8;
    if (v[1].len / 8 != f || v[2].len / 4 != f || v[3].len / 8 != f || v[6].len / 8 != nk) {
        PyErr_SetString(PyExc_ValueError, "key_firsts: array lengths disagree");
        goto done;
    }
    const int32_t *key = v[0].buf, *app = v[2].buf;
    const int64_t *j = v[1].buf, *writer = v[3].buf;
    const int8_t *status = v[4].buf;
    int64_t *failed = v[5].buf, *unknown = v[6].buf;
    for (int64_t p = 0; p < f; p++)
        if (key[p] < 0 || key[p] >= nk || writer[p] >= nt) {
            PyErr_Format(PyExc_ValueError, "key_firsts: position %lld is out of range", (long long)p);
            goto done;
        }
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t p = 0; p < f; p++) {
        const int32_t k = key[p];
        if (app[p] < 0) {
            if (j[p] < unknown[k]) unknown[k] = j[p];
        } else if (writer[p] >= 0 && status[writer[p]] == fail && j[p] < failed[k]) {
            failed[k] = j[p];
        }
    }
    Py_END_ALLOW_THREADS;
    result = Py_None;
    Py_INCREF(result);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

/* read_flags(key i32, n i64, bad u8, off i64, f_app i32, dup i64, failed i64, unknown i64,
 *            inter u8, dups, g1as, garbage, g1b, g1b_app) -> (dups, g1as, garbage, g1bs)
 *
 * Over the reads that are a prefix of their key's longest (not bad), the ones whose
 * length passes their key's first repeated, failed or unknown position (per key:
 * dup, failed, unknown), and those whose last element was appended by an append
 * followed by another of its txn to the key (inter, per append): read ids written
 * to the outputs (g1b_app: that append), which hold room for every read. */
static PyObject *read_flags(PyObject *self, PyObject *args) {
    PyObject *o[14];
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7], &o[8], &o[9], &o[10], &o[11], &o[12], &o[13]))
        return NULL;
    static const Py_ssize_t size[14] = {4, 8, 1, 8, 4, 8, 8, 8, 1, 8, 8, 8, 8, 8};
    static const char *names[14] = {"key",  "n",    "bad",     "off",  "f_app", "dup",     "failed",
                                    "unknown", "inter", "dups", "g1as", "garbage", "g1b", "g1b_app"};
    Py_buffer v[14];
    int held = 0;
    PyObject *result = NULL;
    for (; held < 14; held++)
        if (get(o[held], &v[held], size[held], held >= 9, names[held])) goto done;
    const int64_t r = v[0].len / 4, nk = v[3].len / 8, f = v[4].len / 4, na = v[8].len;
    int same = v[1].len / 8 == r && v[2].len == r && v[5].len / 8 == nk && v[6].len / 8 == nk
               && v[7].len / 8 == nk;
    for (int j = 9; j < 14; j++) same = same && v[j].len / 8 == r;
    if (!same) {
        PyErr_SetString(PyExc_ValueError, "read_flags: array lengths disagree");
        goto done;
    }
    const int32_t *key = v[0].buf, *f_app = v[4].buf;
    const int64_t *n = v[1].buf, *off = v[3].buf, *dup = v[5].buf, *failed = v[6].buf;
    const int64_t *unknown = v[7].buf;
    const uint8_t *bad = v[2].buf, *inter = v[8].buf;
    int64_t *dups = v[9].buf, *g1as = v[10].buf, *garbage = v[11].buf, *g1b = v[12].buf;
    int64_t *g1b_app = v[13].buf;
    for (int64_t i = 0; i < r; i++)
        if (key[i] < 0 || key[i] >= nk || n[i] < 0
            || (!bad[i] && n[i] > 0 && (off[key[i]] < 0 || off[key[i]] > f - n[i]))) {
            PyErr_Format(PyExc_ValueError, "read_flags: read %lld is out of range", (long long)i);
            goto done;
        }
    for (int64_t p = 0; p < f; p++)
        if (f_app[p] >= na) {
            PyErr_Format(PyExc_ValueError, "read_flags: position %lld names no append", (long long)p);
            goto done;
        }
    int64_t nd = 0, ng = 0, nu = 0, nb = 0;
    Py_BEGIN_ALLOW_THREADS;
    for (int64_t i = 0; i < r; i++) {
        if (bad[i]) continue;
        const int32_t k = key[i];
        if (n[i] > dup[k]) dups[nd++] = i;
        if (n[i] > failed[k]) g1as[ng++] = i;
        if (n[i] > unknown[k]) garbage[nu++] = i;
        if (n[i] > 0) {
            const int32_t last = f_app[off[k] + n[i] - 1];
            if (last >= 0 && inter[last]) {
                g1b[nb] = i;
                g1b_app[nb++] = last;
            }
        }
    }
    Py_END_ALLOW_THREADS;
    result = Py_BuildValue("LLLL", (long long)nd, (long long)ng, (long long)nu, (long long)nb);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&v[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"count", count, METH_VARARGS,
     "count(lo, counts, kind) -> (appends, reads, first write's history position or -1)"},
    {"split", split, METH_VARARGS,
     "split(lo, counts, kind, key, tag, value, shifts, a_* x6, r_* x6): appends and reads apart."},
    {"committed", committed, METH_VARARGS,
     "committed(status, ok, r_txn, r_pos, r_key, r_tag, r_val, el_start, outputs x6) -> count"},
    {"read_edges", read_edges, METH_VARARGS,
     "read_edges(txn, key, n, ext, bad, off, length, writer, node, late_lo, late_hi, late_txn, "
     "wr_src, wr_dst, rw_src, rw_dst) -> (wr, rw) edges of the prefix reads (outputs None: counts)"},
    {"longest", longest_reads, METH_VARARGS,
     "longest(key, n, start, el_value, el_tag, tags, length, longest, lstart, read_order, bad, "
     "inconsistent) -> keys read: each key's longest read, and which reads are no prefix of it"},
    {"positions", positions, METH_VARARGS,
     "positions(length, lstart, el_tag, el_value, table, width, vmin, span, nil_code, a_txn, "
     "status, fail, off, f_key, f_j, f_app, f_writer, f_node) -> found: the longest reads' "
     "positions, their appends and writers"},
    {"within", within, METH_VARARGS,
     "within(a_txn, a_pos, a_key, a_multi, r_multi, rd_src, rd_txn, rd_pos, rd_key, rd_n, rd_bad, "
     "f_app, f_j, off, ext, lost, inter, fut, fut_pos, odd_id, odd_read, odd_start) -> "
     "(futures, odd members): the rules inside one transaction"},
    {"key_firsts", key_firsts, METH_VARARGS,
     "key_firsts(f_key, f_j, f_app, f_writer, status, fail, failed, unknown): per key, its "
     "longest read's first failed and first unknown position"},
    {"read_flags", read_flags, METH_VARARGS,
     "read_flags(key, n, bad, off, f_app, dup, failed, unknown, inter, outputs x5) -> counts: "
     "the prefix reads with duplicates, failed or unknown elements, intermediate last ones"},
    {"first_repeats", first_repeats, METH_VARARGS,
     "first_repeats(f_app, f_key, f_j, n_apps, out): per key, its longest read's first repeat."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_split", NULL, -1, methods};

PyMODINIT_FUNC PyInit__split(void) { return PyModule_Create(&module); }
