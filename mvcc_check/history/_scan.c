/* mvcc_check.history._scan: the JSON Lines scanner as a Python extension.
 *
 * A Scanner holds growable columns and intern tables (scan_core.h). Python
 * drives it: scan() reads lines with the GIL released until one it cannot read
 * exactly; Python reads that one with the exact reader and adds it with
 * intern() and add_op(), so ids are assigned in one order whoever read the
 * line. extend() appends a scanner of the file's later part (another thread's),
 * take() hands a column over as a buffer (no copy), values() the interned
 * originals. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <sys/random.h>

#include "edn_core.h"
#include "scan_core.h"

/* ---- Buffer: owns one column's memory, exports it by the buffer protocol ---- */

typedef struct {
    PyObject_HEAD char *p;
    Py_ssize_t nbytes;
    size_t mapped; /* see col_t */
} BufferObject;

static char empty_buffer[8];

static void buffer_dealloc(BufferObject *self) {
    col_release(self->p, self->mapped);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int buffer_getbuffer(BufferObject *self, Py_buffer *view, int flags) {
    return PyBuffer_FillInfo(view, (PyObject *)self, self->p ? self->p : empty_buffer,
                             self->nbytes, 0, flags);
}

static PyBufferProcs buffer_as_buffer = {(getbufferproc)buffer_getbuffer, NULL};

static PyTypeObject BufferType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mvcc_check.history._scan.Buffer",
    .tp_basicsize = sizeof(BufferObject),
    .tp_dealloc = (destructor)buffer_dealloc,
    .tp_as_buffer = &buffer_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One column's memory, exported by the buffer protocol.",
};

/* ---- Scanner ---- */

typedef struct {
    PyObject_HEAD scan_t s;
    int busy; /* scan() or extend() running without the GIL */
} ScannerObject;

static void drop_origs(scan_t *s) {
    for (int t = 0; t < N_TABLES; t++)
        for (size_t i = 0; i < s->tab[t].n; i++) Py_CLEAR(s->tab[t].orig[i]);
}

static PyObject *scanner_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    ScannerObject *self = (ScannerObject *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    if (scan_init(&self->s) < 0) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static void scanner_dealloc(ScannerObject *self) {
    drop_origs(&self->s);
    scan_free(&self->s);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int check_idle(ScannerObject *self) {
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "scanner is in use by another thread");
        return -1;
    }
    return 0;
}

static PyObject *scanner_scan(ScannerObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t pos, end;
    long long file_offset;
    if (!PyArg_ParseTuple(args, "y*nnL", &buf, &pos, &end, &file_offset)) return NULL;
    if (check_idle(self) < 0 || pos < 0 || end < pos || end > buf.len) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "scan range out of bounds");
        PyBuffer_Release(&buf);
        return NULL;
    }
    int oom;
    size_t stop;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS stop =
        scan_lines(&self->s, buf.buf, (size_t)pos, (size_t)end, file_offset, &oom);
    Py_END_ALLOW_THREADS self->busy = 0;
    PyBuffer_Release(&buf);
    if (oom) return PyErr_NoMemory();
    return PyLong_FromSize_t(stop);
}

static int get_buf(PyObject *o, Py_buffer *b, Py_ssize_t itemsize, const char *what) {
    if (PyObject_GetBuffer(o, b, PyBUF_C_CONTIGUOUS) < 0) return -1;
    if (b->len % itemsize) {
        PyBuffer_Release(b);
        PyErr_Format(PyExc_ValueError, "%s: not items of %zd bytes", what, itemsize);
        return -1;
    }
    return 0;
}

/* add_op(type, pid, index, time, line, offset, kinds, keys, tags, values, lens,
 * el_tags, el_values): one op read by the exact reader, ids already interned.
 * kinds/tags/el_tags are int8 buffers, the rest int64; lens[j] is micro-op j's
 * element count (its tag LIST) or -1. Returns the op's row. */
static PyObject *scanner_add_op(ScannerObject *self, PyObject *args) {
    int type;
    long long pid, index, time, line, offset;
    PyObject *o[7];
    if (!PyArg_ParseTuple(args, "iLLLLLOOOOOOO", &type, &pid, &index, &time, &line, &offset, &o[0],
                          &o[1], &o[2], &o[3], &o[4], &o[5], &o[6]))
        return NULL;
    if (check_idle(self) < 0) return NULL;
    static const Py_ssize_t sizes[7] = {1, 8, 1, 8, 8, 1, 8};
    Py_buffer b[7];
    int got = 0;
    PyObject *result = NULL;
    for (; got < 7; got++)
        if (get_buf(o[got], &b[got], sizes[got], "add_op") < 0) goto done;
    size_t nm = (size_t)b[0].len, ne = (size_t)b[5].len;
    const int8_t *kinds = b[0].buf, *tags = b[2].buf, *etags = b[5].buf;
    const int64_t *keys = b[1].buf, *values = b[3].buf, *lens = b[4].buf, *evals = b[6].buf;
    size_t total = 0, nlist = 0;
    int bad = b[1].len / 8 != (Py_ssize_t)nm || b[2].len != (Py_ssize_t)nm
              || b[3].len / 8 != (Py_ssize_t)nm || b[4].len / 8 != (Py_ssize_t)nm
              || b[6].len / 8 != (Py_ssize_t)ne || type < 0 || type > 3;
    for (size_t j = 0; !bad && j < nm; j++) {
        if (tags[j] == TAG_LIST) {
            bad |= lens[j] < 0;
            total += (size_t)lens[j];
            nlist++;
        }
    }
    if (bad || total != ne) {
        PyErr_SetString(PyExc_ValueError, "add_op: inconsistent micro-op buffers");
        goto done;
    }
    scan_t *s = &self->s;
    col_t *c = s->col;
    for (int i = C_OP_TYPE; i <= C_OP_MOP; i++)
        if (col_reserve(&c[i], 1) < 0) goto oom;
    for (int i = C_MOP_KIND; i <= C_MOP_VALUE; i++)
        if (col_reserve(&c[i], nm) < 0) goto oom;
    if (col_reserve(&c[C_EL_START], nlist) < 0 || col_reserve(&c[C_EL_TAG], ne) < 0
        || col_reserve(&c[C_EL_VALUE], ne) < 0)
        goto oom;
    size_t row = c[C_OP_TYPE].len;
    PUSH(c[C_OP_TYPE], int8_t, type);
    PUSH(c[C_OP_PROCESS], int32_t, pid);
    PUSH(c[C_OP_INDEX], int64_t, index);
    PUSH(c[C_OP_TIME], int64_t, time);
    PUSH(c[C_OP_LINE], int64_t, line);
    PUSH(c[C_OP_OFFSET], int64_t, offset);
    size_t e = 0;
    for (size_t j = 0; j < nm; j++) {
        PUSH(c[C_MOP_KIND], int8_t, kinds[j]);
        PUSH(c[C_MOP_KEY], int32_t, keys[j]);
        PUSH(c[C_MOP_TAG], int8_t, tags[j]);
        if (tags[j] == TAG_LIST) {
            PUSH(c[C_MOP_VALUE], int64_t, c[C_EL_START].len - 1);
            for (int64_t k = 0; k < lens[j]; k++, e++) {
                PUSH(c[C_EL_TAG], int8_t, etags[e]);
                PUSH(c[C_EL_VALUE], int64_t, evals[e]);
            }
            PUSH(c[C_EL_START], int64_t, c[C_EL_TAG].len);
        } else {
            PUSH(c[C_MOP_VALUE], int64_t, values[j]);
        }
    }
    PUSH(c[C_OP_MOP], int64_t, c[C_MOP_KIND].len);
    result = PyLong_FromSize_t(row);
    goto done;
oom:
    PyErr_NoMemory();
done:
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return result;
}

/* intern(table, canon, orig): the id of canonical bytes (tag byte + payload),
 * remembering orig for a new entry; canon None: a fresh id (equal to nothing). */
static PyObject *scanner_intern(ScannerObject *self, PyObject *args) {
    int t;
    PyObject *canon, *orig;
    if (!PyArg_ParseTuple(args, "iOO", &t, &canon, &orig)) return NULL;
    if (check_idle(self) < 0) return NULL;
    if (t < 0 || t >= N_TABLES) {
        PyErr_SetString(PyExc_ValueError, "no such table");
        return NULL;
    }
    table_t *tab = &self->s.tab[t];
    int64_t id;
    int added = 1;
    if (canon == Py_None) {
        id = tab_add(tab, 0, NULL, 0, 0, NULL, 1);
    } else {
        char *p;
        Py_ssize_t n;
        if (PyBytes_AsStringAndSize(canon, &p, &n) < 0) return NULL;
        if (n < 1) {
            PyErr_SetString(PyExc_ValueError, "empty canonical value");
            return NULL;
        }
        id = tab_intern(tab, p[0], p + 1, (size_t)n - 1, NULL, &added);
    }
    if (id < 0) return PyErr_NoMemory();
    if (added) {
        Py_INCREF(orig);
        tab->orig[id] = orig;
    }
    return PyLong_FromLongLong(id);
}

/* The element values (half the bytes) on a thread of their own, the other columns
 * here; on one thread if none can be started. */
typedef struct {
    scan_t *a, *b;
    int64_t *const *remap;
    const shifts_t *sh;
    int result;
} part_job_t;

static void *append_part(void *arg) {
    part_job_t *job = arg;
    job->result = append_columns(job->a, job->b, job->remap, job->sh, 1u << C_EL_VALUE);
    return NULL;
}

static int append_in_two(scan_t *a, scan_t *b, int64_t *const remap[N_TABLES], int64_t line_base) {
    const shifts_t sh = append_shifts(a, line_base);
    part_job_t job = {a, b, remap, &sh, 0};
    pthread_t thread;
    const int spawned = pthread_create(&thread, NULL, append_part, &job) == 0;
    int rest = append_columns(a, b, remap, &sh, ALL_COLUMNS & ~(1u << C_EL_VALUE));
    if (spawned) pthread_join(thread, NULL);
    else append_part(&job);
    return rest < 0 || job.result < 0 ? -1 : 0;
}

static PyObject *scanner_extend(ScannerObject *self, PyObject *args) {
    ScannerObject *other;
    long long line_base;
    if (!PyArg_ParseTuple(args, "OL", &other, &line_base)) return NULL;
    if (!PyObject_TypeCheck((PyObject *)other, Py_TYPE(self)) || other == self) {
        PyErr_SetString(PyExc_TypeError, "extend() takes another Scanner");
        return NULL;
    }
    if (check_idle(self) < 0 || check_idle(other) < 0) return NULL;
    int64_t *remap[N_TABLES] = {NULL, NULL, NULL};
    int failed = 0;
    for (int t = 0; t < N_TABLES && !failed; t++) {
        table_t *a = &self->s.tab[t];
        const table_t *b = &other->s.tab[t];
        size_t first_new;
        remap[t] = malloc((b->n ? b->n : 1) * sizeof(int64_t));
        if (!remap[t] || merge_table(a, b, remap[t], &first_new) < 0) {
            failed = 1;
            break;
        }
        for (size_t i = first_new; i < a->n; i++) Py_XINCREF((PyObject *)a->orig[i]);
    }
    if (!failed) {
        self->busy = other->busy = 1;
        Py_BEGIN_ALLOW_THREADS failed = append_in_two(&self->s, &other->s, remap, line_base) < 0;
        Py_END_ALLOW_THREADS self->busy = other->busy = 0;
    }
    for (int t = 0; t < N_TABLES; t++) free(remap[t]);
    if (failed) return PyErr_NoMemory();
    drop_origs(&other->s);
    scan_free(&other->s);
    if (scan_init(&other->s) < 0) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* take(column): the column's memory as a Buffer; the scanner's column is emptied. */
static PyObject *scanner_take(ScannerObject *self, PyObject *args) {
    int i;
    if (!PyArg_ParseTuple(args, "i", &i)) return NULL;
    if (check_idle(self) < 0) return NULL;
    if (i < 0 || i >= N_COLS) {
        PyErr_SetString(PyExc_ValueError, "no such column");
        return NULL;
    }
    BufferObject *b = PyObject_New(BufferObject, &BufferType);
    if (!b) return NULL;
    col_t *c = &self->s.col[i];
    b->nbytes = (Py_ssize_t)(c->len * c->size);
    b->p = c->p;
    b->mapped = c->mapped;
    if (b->p && b->nbytes && !b->mapped) {
        char *q = realloc(b->p, (size_t)b->nbytes); /* give back the unused capacity */
        if (q) b->p = q;
    }
    c->p = NULL;
    c->len = c->cap = c->mapped = 0;
    return (PyObject *)b;
}

static PyObject *decode_canon(const char *p, size_t n) {
    if (n == 9 && p[0] == CANON_INT) {
        int64_t v;
        memcpy(&v, p + 1, 8);
        return PyLong_FromLongLong(v);
    }
    if (n >= 1 && p[0] == CANON_STR) return PyUnicode_DecodeUTF8(p + 1, (Py_ssize_t)n - 1, "surrogatepass");
    if (n == 1 && p[0] == CANON_NIL_ELEMENT) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize(p, (Py_ssize_t)n);
}

/* values(table): the originals, by id. */
static PyObject *scanner_values(ScannerObject *self, PyObject *args) {
    int t;
    if (!PyArg_ParseTuple(args, "i", &t)) return NULL;
    if (t < 0 || t >= N_TABLES) {
        PyErr_SetString(PyExc_ValueError, "no such table");
        return NULL;
    }
    const table_t *tab = &self->s.tab[t];
    PyObject *out = PyList_New((Py_ssize_t)tab->n);
    if (!out) return NULL;
    for (size_t i = 0; i < tab->n; i++) {
        PyObject *v = tab->orig[i];
        if (v) {
            Py_INCREF(v);
        } else {
            v = decode_canon(tab->arena + tab->off[i], tab->off[i + 1] - tab->off[i]);
            if (!v) {
                Py_DECREF(out);
                return NULL;
            }
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, v);
    }
    return out;
}

static PyObject *scanner_counts(ScannerObject *self, PyObject *unused) {
    const col_t *c = self->s.col;
    return Py_BuildValue("nnn", (Py_ssize_t)c[C_OP_TYPE].len, (Py_ssize_t)c[C_MOP_KIND].len,
                         (Py_ssize_t)c[C_EL_TAG].len);
}

static PyObject *get_i64(ScannerObject *self, void *field) {
    return PyLong_FromLongLong(*(int64_t *)((char *)&self->s + (size_t)field));
}

static int set_i64(ScannerObject *self, PyObject *v, void *field) {
    if (!v) {
        PyErr_SetString(PyExc_TypeError, "cannot delete");
        return -1;
    }
    long long x = PyLong_AsLongLong(v);
    if (x == -1 && PyErr_Occurred()) return -1;
    *(int64_t *)((char *)&self->s + (size_t)field) = x;
    return 0;
}

static PyGetSetDef scanner_getset[] = {
    {"line", (getter)get_i64, (setter)set_i64, "the number of the next line",
     (void *)offsetof(scan_t, line)},
    {"position", (getter)get_i64, (setter)set_i64, "non-blank lines so far",
     (void *)offsetof(scan_t, position)},
    {"blanks", (getter)get_i64, (setter)set_i64, "blank lines so far",
     (void *)offsetof(scan_t, blanks)},
    {NULL}};

static PyMethodDef scanner_methods[] = {
    {"scan", (PyCFunction)scanner_scan, METH_VARARGS,
     "scan(buffer, pos, end, file_offset) -> offset of the first line not read"},
    {"add_op", (PyCFunction)scanner_add_op, METH_VARARGS, "append one op read elsewhere"},
    {"intern", (PyCFunction)scanner_intern, METH_VARARGS, "intern(table, canon, orig) -> id"},
    {"extend", (PyCFunction)scanner_extend, METH_VARARGS,
     "extend(other, line_base): append the later part's scanner"},
    {"take", (PyCFunction)scanner_take, METH_VARARGS, "take(column) -> Buffer"},
    {"values", (PyCFunction)scanner_values, METH_VARARGS, "values(table) -> originals by id"},
    {"counts", (PyCFunction)scanner_counts, METH_NOARGS, "(ops, micro-ops, elements)"},
    {NULL}};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mvcc_check.history._scan.Scanner",
    .tp_basicsize = sizeof(ScannerObject),
    .tp_dealloc = (destructor)scanner_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Columns and intern tables of one part of a JSON Lines history.",
    .tp_methods = scanner_methods,
    .tp_getset = scanner_getset,
    .tp_new = scanner_new,
};

/* ---- quote(buffer, offsets): lines of ours as their ops' JSON objects ---- */

/* The names an op's JSON object is made of (Op.to_json's keys, in its order). */
enum { N_INDEX, N_TIME, N_TYPE, N_PROCESS, N_F, N_VALUE, N_INVOKE, N_OK, N_FAIL, N_INFO,
       N_APPEND, N_R, N_W, N_NAMES };
static const char *const name_text[N_NAMES] = {"index", "time",   "type", "process", "f",
                                               "value", "invoke", "ok",   "fail",    "info",
                                               "append", "r",     "w"};
static PyObject *names[N_NAMES];
static scan_t quote_scratch; /* micro-ops and elements of the line being quoted (GIL held) */

static PyObject *scalar_object(const tval_t *v) {
    switch (v->tag) {
    case TAG_INT:
        return PyLong_FromLongLong(v->v);
    case TAG_BOOL:
        return PyBool_FromLong((long)v->v);
    case TAG_STR: /* printable ASCII: p_str took nothing else */
        return PyUnicode_FromStringAndSize(v->s, (Py_ssize_t)v->n);
    default:
        Py_RETURN_NONE;
    }
}

static PyObject *mop_object(const scan_t *s, const tmop_t *m) {
    PyObject *value;
    if (m->val.tag == TAG_LIST) {
        value = PyList_New((Py_ssize_t)m->val.n);
        for (size_t j = 0; value && j < m->val.n; j++) {
            PyObject *e = scalar_object(&s->te[(size_t)m->val.v + j]);
            if (!e) Py_CLEAR(value);
            else PyList_SET_ITEM(value, (Py_ssize_t)j, e);
        }
    } else {
        value = scalar_object(&m->val);
    }
    PyObject *key = scalar_object(&m->key);
    PyObject *mop = value && key ? PyList_New(3) : NULL;
    if (!mop) {
        Py_XDECREF(value);
        Py_XDECREF(key);
        return NULL;
    }
    PyObject *kind = names[N_APPEND + m->kind];
    Py_INCREF(kind);
    PyList_SET_ITEM(mop, 0, kind);
    PyList_SET_ITEM(mop, 1, key);
    PyList_SET_ITEM(mop, 2, value);
    return mop;
}

/* The op's JSON object as Op.to_json makes it from what the exact reader reads
 * on the line at start ({index, time (-1 if none), type, process, f, value}), or
 * None when the line is not of the shape the scanner reads; NULL on error. */
static PyObject *quote_line(const char *start, const char *end) {
    tline_t L;
    const char *le;
    scan_t *s = &quote_scratch;
    if (!parse_line(s, start, end, &L, &le)) Py_RETURN_NONE;
    PyObject *value = PyList_New((Py_ssize_t)L.nm);
    for (size_t i = 0; value && i < L.nm; i++) {
        PyObject *mop = mop_object(s, &s->tm[i]);
        if (!mop) Py_CLEAR(value);
        else PyList_SET_ITEM(value, (Py_ssize_t)i, mop);
    }
    PyObject *fields[6] = {PyLong_FromLongLong(L.index), PyLong_FromLongLong(L.time),
                           names[N_INVOKE + L.type], PyLong_FromLongLong(L.process),
                           scalar_object(&L.f), value};
    Py_INCREF(fields[2]);
    PyObject *out = PyDict_New();
    for (int i = 0; i < 6; i++) {
        if (out && (!fields[i] || PyDict_SetItem(out, names[N_INDEX + i], fields[i]) < 0))
            Py_CLEAR(out);
        Py_XDECREF(fields[i]);
    }
    return out;
}

/* quote(buffer, offsets i64) -> a list: quote_line of the line at each offset. */
static PyObject *quote(PyObject *self, PyObject *args) {
    Py_buffer buf, offs;
    if (!PyArg_ParseTuple(args, "y*y*", &buf, &offs)) return NULL;
    PyObject *out = NULL;
    const int64_t *off = offs.buf;
    const Py_ssize_t n = offs.len / 8;
    if (offs.len % 8) {
        PyErr_SetString(PyExc_ValueError, "quote: offsets are not int64");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (off[i] < 0 || off[i] > buf.len) {
            PyErr_SetString(PyExc_ValueError, "quote: offset out of bounds");
            goto done;
        }
    out = PyList_New(n);
    const char *base = buf.buf, *end = base + buf.len;
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *q = quote_line(base + off[i], end);
        if (!q) Py_CLEAR(out);
        else PyList_SET_ITEM(out, i, q);
    }
done:
    PyBuffer_Release(&offs);
    PyBuffer_Release(&buf);
    return out;
}

/* edn_lines(data, start, end) -> (json, misses)
 *
 * The lines of data[start:end] as bytes.split(b"\n") makes them, each EDN op map of
 * the usual shape (edn_core.h) rewritten as its JSON object: json holds one line per
 * input line, each ended by a newline, empty where the line is not ours; misses
 * lists those as (line number from 0, start, end), for the exact reader. */
static PyObject *edn_lines(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t start, end;
    if (!PyArg_ParseTuple(args, "y*nn", &buf, &start, &end)) return NULL;
    PyObject *result = NULL, *misses = NULL;
    ebuf_t out = {NULL, 0, 0};
    if (start < 0 || end < start || end > buf.len) {
        PyErr_SetString(PyExc_ValueError, "edn_lines: range out of bounds");
        goto done;
    }
    misses = PyList_New(0);
    if (!misses) goto done;
    const char *base = buf.buf, *p = base + start, *e = base + end;
    int oom = 0;
    for (Py_ssize_t line = 0;; line++) { /* the lines as bytes.split(b"\n") makes them */
        const char *nl = p < e ? memchr(p, '\n', (size_t)(e - p)) : NULL;
        const char *le = nl ? nl : e;
        if (!edn_line(p, le, &out)) {
            PyObject *t = Py_BuildValue("(nnn)", line, (Py_ssize_t)(p - base), (Py_ssize_t)(le - base));
            if (!t || PyList_Append(misses, t) < 0) {
                Py_XDECREF(t);
                goto done;
            }
            Py_DECREF(t);
        }
        if (!eb_put(&out, "\n", 1)) {
            oom = 1;
            break;
        }
        if (!nl) break;
        p = nl + 1;
    }
    if (oom) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject *json = PyBytes_FromStringAndSize(out.p ? out.p : "", (Py_ssize_t)out.len);
    if (json) result = Py_BuildValue("(NO)", json, misses);
done:
    Py_XDECREF(misses);
    free(out.p);
    PyBuffer_Release(&buf);
    return result;
}

static PyMethodDef module_methods[] = {
    {"edn_lines", edn_lines, METH_VARARGS,
     "edn_lines(data, start, end) -> (json lines, misses): EDN op maps as JSON, line for line"},
    {"quote", quote, METH_VARARGS,
     "quote(buffer, offsets) -> per offset, the op JSON of the line there, or None if not ours"},
    {NULL}};

static struct PyModuleDef scan_module = {
    PyModuleDef_HEAD_INIT, "_scan", "The JSON Lines op scanner.", -1, module_methods,
};

PyMODINIT_FUNC PyInit__scan(void) {
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed) scan_seed ^= seed;
    if (PyType_Ready(&BufferType) < 0 || PyType_Ready(&ScannerType) < 0) return NULL;
    for (int i = 0; i < N_NAMES; i++)
        if (!names[i] && !(names[i] = PyUnicode_InternFromString(name_text[i]))) return NULL;
    PyObject *m = PyModule_Create(&scan_module);
    if (!m) return NULL;
    Py_INCREF(&ScannerType);
    Py_INCREF(&BufferType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0
        || PyModule_AddObject(m, "Buffer", (PyObject *)&BufferType) < 0
        || PyModule_AddIntConstant(m, "N_COLS", N_COLS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
