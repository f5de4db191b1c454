/* The JSON Lines op scanner: plain C, no Python, no dependencies.
 *
 * Included by the extension (_scan.c) and by the fuzz harness (fuzz/). It reads
 * lines of the usual op shape into growable columns (the layout of
 * mvcc_check.history.columns.Columns) and interns keys, atoms and processes in
 * first-appearance order. A line it cannot read exactly is left to the caller
 * (the exact reader), untouched: a line is parsed whole first and only then
 * committed, so a rejected line changes nothing.
 *
 * Accepted: {"type", "process", "index", "value"} required, "time" and "f"
 * optional, in any order, each once, nothing else; type one of
 * invoke/ok/fail/info; process, index and time int64; f a plain string, int64
 * or null; value a list of [kind, key, v] with kind append/r/w, key an int64 or
 * a plain string, v an int64, plain string, null, true, false or a list of
 * those. A plain string is printable ASCII without escapes. Whitespace is space
 * and tab, and a \r just before the line's end. Anything else: not ours.
 */
#ifndef MVCC_SCAN_CORE_H
#define MVCC_SCAN_CORE_H

#include "scan_table.h"

/* ---- the scanner ---- */

enum {
    C_OP_TYPE, C_OP_PROCESS, C_OP_INDEX, C_OP_TIME, C_OP_LINE, C_OP_OFFSET, C_OP_MOP,
    C_MOP_KIND, C_MOP_KEY, C_MOP_TAG, C_MOP_VALUE, C_EL_START, C_EL_TAG, C_EL_VALUE, N_COLS
};
static const size_t col_sizes[N_COLS] = {1, 4, 8, 8, 8, 8, 8, 1, 4, 1, 8, 8, 1, 8};
enum { T_KEYS, T_ATOMS, T_PROCS, N_TABLES };

typedef struct {
    int8_t tag; /* TAG_INT, TAG_NIL, TAG_STR, TAG_LIST; TAG_BOOL (v 0 or 1: an int in the columns) */
    int64_t v;  /* the int; for a list, its first element in the temp elements */
    const char *s;
    size_t n; /* string length; for a list, its element count */
} tval_t;

typedef struct {
    int8_t kind;
    tval_t key, val;
} tmop_t;

typedef struct {
    col_t col[N_COLS];
    table_t tab[N_TABLES];
    int64_t line;     /* the number of the next line (1-based) */
    int64_t position; /* non-blank lines seen so far */
    int64_t blanks;   /* blank lines seen so far */
    tmop_t *tm;       /* one line's micro-ops and elements, before commit */
    size_t tm_cap;
    tval_t *te;
    size_t te_cap;
} scan_t;

static int scan_init(scan_t *s) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < N_COLS; i++) s->col[i].size = col_sizes[i];
    s->line = 1;
    if (col_reserve(&s->col[C_OP_MOP], 1) < 0 || col_reserve(&s->col[C_EL_START], 1) < 0) return -1;
    PUSH(s->col[C_OP_MOP], int64_t, 0);
    PUSH(s->col[C_EL_START], int64_t, 0);
    return 0;
}

static void scan_free(scan_t *s) {
    for (int i = 0; i < N_COLS; i++) col_release(s->col[i].p, s->col[i].mapped);
    for (int i = 0; i < N_TABLES; i++) tab_free(&s->tab[i]);
    free(s->tm);
    free(s->te);
    memset(s, 0, sizeof *s);
}

/* ---- parsing one line: every function returns 1 on success, 0 for "not ours" ---- */

#define SKIP_WS(p, e) \
    while ((p) < (e) && (*(p) == ' ' || *(p) == '\t')) (p)++

/* After an item of a list or map: 1, past the comma and the blanks after it, when
 * another item follows; 0, on the closer, when the list ends; -1 for anything else. */
static inline __attribute__((always_inline)) int p_more(const char **pp, const char *e, char close) {
    const char *p = *pp;
    SKIP_WS(p, e);
    if (p < e && *p == ',') {
        p++;
        SKIP_WS(p, e);
        *pp = p;
        return 1;
    }
    *pp = p;
    return p < e && *p == close ? 0 : -1;
}

static int p_lit(const char **pp, const char *e, const char *lit, size_t n) {
    if ((size_t)(e - *pp) < n || memcmp(*pp, lit, n) != 0) return 0;
    *pp += n;
    return 1;
}

static inline __attribute__((always_inline)) int p_int(const char **pp, const char *e, int64_t *out) {
    const char *p = *pp;
    int neg = 0;
    if (p < e && *p == '-') {
        neg = 1;
        p++;
    }
    if (p >= e || *p < '0' || *p > '9') return 0;
    uint64_t v = 0;
    if (*p == '0') {
        p++;
    } else {
        const char *lim = e - p > 18 ? p + 18 : e; /* 18 digits fit */
        while (p < lim && *p >= '0' && *p <= '9') v = v * 10 + (uint64_t)(*p++ - '0');
        if (p < e && *p >= '0' && *p <= '9') { /* a 19th digit: the last that may fit */
            uint64_t limit = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
            uint64_t d = (uint64_t)(*p - '0');
            if (v > (limit - d) / 10) return 0;
            v = v * 10 + d;
            p++;
        }
    }
    /* a fraction or exponent makes it a float, a 20th digit too big: not ours */
    if (p < e && (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))) return 0;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    *pp = p;
    return 1;
}

/* Bytes of a plain string: printable ASCII but the quote and the backslash. */
static const unsigned char plain_byte[256] = {
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    R16(0), R16(0), /* controls */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' at 0x22 */
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' at 0x5c */
    R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x7f: DEL */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), /* not ASCII */
#undef R16
};

static inline __attribute__((always_inline)) int p_str(const char **pp, const char *e, const char **s, size_t *n) {
    const char *p = *pp;
    if (p >= e || *p != '"') return 0;
    const char *start = ++p;
    while (p < e && plain_byte[(unsigned char)*p]) p++;
    if (p >= e || *p != '"') return 0;
    *s = start;
    *n = (size_t)(p - start);
    *pp = p + 1;
    return 1;
}

/* A scalar: int64, plain string, null, true or false. */
static inline __attribute__((always_inline)) int p_scalar(const char **pp, const char *e, tval_t *v) {
    const char *p = *pp;
    if (p >= e) return 0;
    switch (*p) {
    case '"':
        v->tag = TAG_STR;
        return p_str(pp, e, &v->s, &v->n);
    case 'n':
        v->tag = TAG_NIL;
        v->v = 0;
        return p_lit(pp, e, "null", 4);
    case 't':
        v->tag = TAG_BOOL;
        v->v = 1;
        return p_lit(pp, e, "true", 4);
    case 'f':
        v->tag = TAG_BOOL;
        v->v = 0;
        return p_lit(pp, e, "false", 5);
    default:
        v->tag = TAG_INT;
        return p_int(pp, e, &v->v);
    }
}

static int grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * size);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
}

/* A micro-op value: a scalar or a list of scalars (into s->te from *ne on). */
static int p_value(scan_t *s, const char **pp, const char *e, tval_t *v, size_t *ne) {
    const char *p = *pp;
    if (p < e && *p == '[') {
        p++;
        SKIP_WS(p, e);
        v->tag = TAG_LIST;
        v->v = (int64_t)*ne;
        v->n = 0;
        if (p < e && *p == ']') {
            *pp = p + 1;
            return 1;
        }
        for (;;) {
            if (*ne >= s->te_cap && !grow((void **)&s->te, &s->te_cap, *ne + 1, sizeof *s->te))
                return 0;
            if (!p_scalar(&p, e, &s->te[*ne])) return 0;
            (*ne)++;
            v->n++;
            if (p < e && *p == ',' && p + 1 < e && p[1] != ' ' && p[1] != '\t') {
                p++; /* the usual separator, without blanks */
                continue;
            }
            int more = p_more(&p, e, ']');
            if (more < 0) return 0;
            if (!more) break;
        }
        *pp = p + 1;
        return 1;
    }
    return p_scalar(pp, e, v);
}

static int p_kind(const char **pp, const char *e, int8_t *kind) {
    const char *s;
    size_t n;
    if (!p_str(pp, e, &s, &n)) return 0;
    if (n == 6 && memcmp(s, "append", 6) == 0) *kind = 0;
    else if (n == 1 && s[0] == 'r') *kind = 1;
    else if (n == 1 && s[0] == 'w') *kind = 2;
    else return 0;
    return 1;
}

/* "value": [[kind, key, v], ...] into s->tm[0:*nm], elements into s->te[0:*ne]. */
static int p_mops(scan_t *s, const char **pp, const char *e, size_t *nm, size_t *ne) {
    const char *p = *pp;
    if (p >= e || *p != '[') return 0;
    p++;
    SKIP_WS(p, e);
    if (p < e && *p == ']') {
        *pp = p + 1;
        return 1;
    }
    for (;;) {
        if (!grow((void **)&s->tm, &s->tm_cap, *nm + 1, sizeof *s->tm)) return 0;
        tmop_t *m = &s->tm[*nm];
        if (p >= e || *p != '[') return 0;
        p++;
        SKIP_WS(p, e);
        if (!p_kind(&p, e, &m->kind)) return 0;
        SKIP_WS(p, e);
        if (p >= e || *p != ',') return 0;
        p++;
        SKIP_WS(p, e);
        if (p < e && *p == '"') {
            m->key.tag = TAG_STR;
            if (!p_str(&p, e, &m->key.s, &m->key.n)) return 0;
        } else {
            m->key.tag = TAG_INT;
            if (!p_int(&p, e, &m->key.v)) return 0;
        }
        SKIP_WS(p, e);
        if (p >= e || *p != ',') return 0;
        p++;
        SKIP_WS(p, e);
        if (!p_value(s, &p, e, &m->val, ne)) return 0;
        SKIP_WS(p, e);
        if (p >= e || *p != ']') return 0;
        p++;
        (*nm)++;
        int more = p_more(&p, e, ']');
        if (more < 0) return 0;
        if (!more) break;
    }
    *pp = p + 1;
    return 1;
}

typedef struct {
    int8_t type;
    int64_t process, index, time;
    tval_t f; /* null when absent (it is not kept in the columns; quotes show it) */
    size_t nm, ne;
} tline_t;

enum { F_TYPE = 1, F_PROCESS = 2, F_INDEX = 4, F_TIME = 8, F_F = 16, F_VALUE = 32 };

static int p_field(scan_t *s, const char **pp, const char *e, tline_t *L, int *seen) {
    const char *name, *p = *pp;
    size_t n;
    if (!p_str(&p, e, &name, &n)) return 0;
    SKIP_WS(p, e);
    if (p >= e || *p != ':') return 0;
    p++;
    SKIP_WS(p, e);
    int f;
    if (n == 4 && memcmp(name, "type", 4) == 0) f = F_TYPE;
    else if (n == 7 && memcmp(name, "process", 7) == 0) f = F_PROCESS;
    else if (n == 5 && memcmp(name, "index", 5) == 0) f = F_INDEX;
    else if (n == 4 && memcmp(name, "time", 4) == 0) f = F_TIME;
    else if (n == 1 && name[0] == 'f') f = F_F;
    else if (n == 5 && memcmp(name, "value", 5) == 0) f = F_VALUE;
    else return 0;
    if (*seen & f) return 0; /* a repeated field: the exact reader decides */
    *seen |= f;
    const char *t;
    size_t tn;
    switch (f) {
    case F_TYPE:
        if (!p_str(&p, e, &t, &tn)) return 0;
        if (tn == 6 && memcmp(t, "invoke", 6) == 0) L->type = 0;
        else if (tn == 2 && memcmp(t, "ok", 2) == 0) L->type = 1;
        else if (tn == 4 && memcmp(t, "fail", 4) == 0) L->type = 2;
        else if (tn == 4 && memcmp(t, "info", 4) == 0) L->type = 3;
        else return 0;
        break;
    case F_PROCESS:
        if (!p_int(&p, e, &L->process)) return 0;
        break;
    case F_INDEX:
        if (!p_int(&p, e, &L->index)) return 0;
        break;
    case F_TIME:
        if (!p_int(&p, e, &L->time)) return 0;
        break;
    case F_F:
        if (!p_scalar(&p, e, &L->f)) return 0;
        break;
    default:
        if (!p_mops(s, &p, e, &L->nm, &L->ne)) return 0;
    }
    *pp = p;
    return 1;
}

/* Parse one line from p (e: the buffer's end); 1 if it is an op we read
 * exactly, with *le at its end (its newline, or e). */
static int parse_line(scan_t *s, const char *p, const char *e, tline_t *L, const char **le) {
    int seen = 0;
    memset(L, 0, sizeof *L);
    L->time = -1;
    SKIP_WS(p, e);
    if (p >= e || *p != '{') return 0;
    p++;
    SKIP_WS(p, e);
    for (;;) {
        if (!p_field(s, &p, e, L, &seen)) return 0;
        int more = p_more(&p, e, '}');
        if (more < 0) return 0;
        if (!more) break;
    }
    p++;
    SKIP_WS(p, e);
    if (p < e && *p == '\r' && p + 1 < e && p[1] == '\n') p++;
    if (p < e && *p != '\n') return 0;
    *le = p;
    int need = F_TYPE | F_PROCESS | F_INDEX | F_VALUE;
    return (seen & need) == need;
}

static int64_t intern_val(scan_t *s, const tval_t *v, int8_t *tag, int element) {
    switch (v->tag) {
    case TAG_INT:
    case TAG_BOOL:
        *tag = TAG_INT;
        return v->v;
    case TAG_STR:
        *tag = TAG_ATOM;
        return tab_intern(&s->tab[T_ATOMS], CANON_STR, v->s, v->n, NULL, NULL);
    default: /* nil: an element is an atom of its own kind */
        if (!element) {
            *tag = TAG_NIL;
            return 0;
        }
        *tag = TAG_ATOM;
        return tab_intern(&s->tab[T_ATOMS], CANON_NIL_ELEMENT, "", 0, NULL, NULL);
    }
}

/* Write a parsed line into the columns; -1 when out of memory. */
static int commit_line(scan_t *s, const tline_t *L, int64_t offset) {
    col_t *c = s->col;
    size_t nlist = 0;
    for (size_t i = 0; i < L->nm; i++) nlist += s->tm[i].val.tag == TAG_LIST;
    for (int i = C_OP_TYPE; i <= C_OP_MOP; i++)
        if (col_reserve(&c[i], 1) < 0) return -1;
    for (int i = C_MOP_KIND; i <= C_MOP_VALUE; i++)
        if (col_reserve(&c[i], L->nm) < 0) return -1;
    if (col_reserve(&c[C_EL_START], nlist) < 0 || col_reserve(&c[C_EL_TAG], L->ne) < 0
        || col_reserve(&c[C_EL_VALUE], L->ne) < 0)
        return -1;
    int64_t pid = tab_int(&s->tab[T_PROCS], L->process);
    if (pid < 0) return -1;
    PUSH(c[C_OP_TYPE], int8_t, L->type);
    PUSH(c[C_OP_PROCESS], int32_t, pid);
    PUSH(c[C_OP_INDEX], int64_t, L->index);
    PUSH(c[C_OP_TIME], int64_t, L->time);
    PUSH(c[C_OP_LINE], int64_t, s->line);
    PUSH(c[C_OP_OFFSET], int64_t, offset);
    for (size_t i = 0; i < L->nm; i++) {
        const tmop_t *m = &s->tm[i];
        int64_t kid = m->key.tag == TAG_STR
                          ? tab_intern(&s->tab[T_KEYS], CANON_STR, m->key.s, m->key.n, NULL, NULL)
                          : tab_int(&s->tab[T_KEYS], m->key.v);
        if (kid < 0) return -1;
        PUSH(c[C_MOP_KIND], int8_t, m->kind);
        PUSH(c[C_MOP_KEY], int32_t, kid);
        if (m->val.tag == TAG_LIST) {
            PUSH(c[C_MOP_TAG], int8_t, TAG_LIST);
            PUSH(c[C_MOP_VALUE], int64_t, c[C_EL_START].len - 1);
            for (size_t j = 0; j < m->val.n; j++) {
                int8_t tag;
                int64_t x = intern_val(s, &s->te[(size_t)m->val.v + j], &tag, 1);
                if (tag == TAG_ATOM && x < 0) return -1;
                PUSH(c[C_EL_TAG], int8_t, tag);
                PUSH(c[C_EL_VALUE], int64_t, x);
            }
            PUSH(c[C_EL_START], int64_t, c[C_EL_TAG].len);
        } else {
            int8_t tag;
            int64_t x = intern_val(s, &m->val, &tag, 0);
            if (tag == TAG_ATOM && x < 0) return -1;
            PUSH(c[C_MOP_TAG], int8_t, tag);
            PUSH(c[C_MOP_VALUE], int64_t, x);
        }
    }
    PUSH(c[C_OP_MOP], int64_t, c[C_MOP_KIND].len);
    return 0;
}

static int is_blank(const char *p, const char *e) {
    for (; p < e; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\x0b' && *p != '\x0c') return 0;
    return 1;
}

/* Scan buf[pos:end] line by line (file_offset: the file offset of buf[0]).
 * Returns the offset in buf of the first line not read (end when all were);
 * *oom is set when memory ran out. Blank lines are counted and skipped. */
static size_t scan_lines(scan_t *s, const char *buf, size_t pos, size_t end, int64_t file_offset,
                         int *oom) {
    tline_t L;
    *oom = 0;
    while (pos < end) {
        const char *ls = buf + pos, *le;
        /* No token of ours contains a newline: parse up to the buffer's end,
         * and look for the line's end only for a line we leave. */
        if (!parse_line(s, ls, buf + end, &L, &le)) {
            const char *nl = memchr(ls, '\n', end - pos);
            le = nl ? nl : buf + end;
            if (!is_blank(ls, le)) return pos;
            s->line++;
            s->blanks++;
            pos = (size_t)(le - buf) + (nl ? 1 : 0);
            continue;
        }
        size_t next = (size_t)(le - buf) + (le < buf + end);
        if (commit_line(s, &L, file_offset + (int64_t)pos) < 0) {
            *oom = 1;
            return pos;
        }
        s->line++;
        s->position++;
        pos = next;
    }
    return end;
}

/* ---- merging: append scanner b (the later part of the file) to a ---- */

/* Map b's table onto a's (first appearance order: a's ids first, then b's new
 * ones in b's order); remap[i] is a's id for b's id i; *first_new the first new
 * id in a. New entries keep b's original pointers (the caller owns their refs). */
static int merge_table(table_t *a, const table_t *b, int64_t *remap, size_t *first_new) {
    *first_new = a->n;
    for (size_t i = 0; i < b->n; i++) {
        const char *p = b->arena + b->off[i];
        size_t n = b->off[i + 1] - b->off[i];
        int64_t id;
        if (n == 0) { /* fresh */
            id = tab_add(a, 0, NULL, 0, 0, b->orig[i], 1);
        } else {
            id = tab_find(a, p[0], p + 1, n - 1, b->hash[i]);
            if (id < 0) id = tab_add(a, p[0], p + 1, n - 1, b->hash[i], b->orig[i], 0);
        }
        if (id < 0) return -1;
        remap[i] = id;
    }
    return 0;
}

/* What b's references into a's columns are shifted by when b is appended to a
 * (taken before any column is appended: append_columns may run in parts). */
typedef struct {
    int64_t v[N_COLS];
} shifts_t;

static shifts_t append_shifts(const scan_t *a, int64_t line_base) {
    shifts_t sh = {{0}};
    sh.v[C_OP_MOP] = (int64_t)a->col[C_MOP_KIND].len;
    sh.v[C_EL_START] = (int64_t)a->col[C_EL_TAG].len;
    sh.v[C_MOP_VALUE] = (int64_t)a->col[C_EL_START].len - 1; /* list ids */
    sh.v[C_OP_LINE] = line_base;
    return sh;
}

#define ALL_COLUMNS ((1u << N_COLS) - 1)

/* Append b's columns in `which` (a bit per column) to a's, with b's ids mapped
 * (remaps from merge_table) and shifted by sh (append_shifts, taken first); each of
 * b's columns is freed once copied (the tags once every part is done: the values
 * read them). Parts with disjoint columns may run on threads of their own. */
static int append_columns(scan_t *a, scan_t *b, int64_t *const remap[N_TABLES],
                          const shifts_t *sh, unsigned which) {
    col_t *bc = b->col, *ac = a->col;
    const int64_t *base = sh->v;
    for (int i = 0; i < N_COLS; i++) {
        if (!(which >> i & 1)) continue;
        int skip_first = i == C_OP_MOP || i == C_EL_START; /* both start with a 0 of their own */
        size_t n = bc[i].len - (size_t)skip_first;
        if (col_reserve(&ac[i], n) < 0) return -1;
        if (n == 0) continue;
        const char *src = bc[i].p + (size_t)skip_first * bc[i].size;
        char *dst = ac[i].p + ac[i].len * ac[i].size;
        switch (i) {
        case C_OP_PROCESS:
        case C_MOP_KEY: {
            const int64_t *m = remap[i == C_OP_PROCESS ? T_PROCS : T_KEYS];
            for (size_t k = 0; k < n; k++) ((int32_t *)dst)[k] = (int32_t)m[((const int32_t *)src)[k]];
            break;
        }
        case C_OP_MOP:
        case C_EL_START:
        case C_OP_LINE:
            for (size_t k = 0; k < n; k++) ((int64_t *)dst)[k] = ((const int64_t *)src)[k] + base[i];
            break;
        case C_MOP_VALUE:
        case C_EL_VALUE: {
            const int8_t *tag = COL(i == C_MOP_VALUE ? bc[C_MOP_TAG] : bc[C_EL_TAG], int8_t);
            for (size_t k = 0; k < n; k++) {
                int64_t v = ((const int64_t *)src)[k];
                ((int64_t *)dst)[k] = tag[k] == TAG_ATOM   ? remap[T_ATOMS][v]
                                      : tag[k] == TAG_LIST ? v + base[C_MOP_VALUE]
                                                           : v;
            }
            break;
        }
        default:
            if (n) memcpy(dst, src, n * bc[i].size);
        }
        ac[i].len += n;
        if (i != C_MOP_TAG && i != C_EL_TAG) { /* the tags are read by the values, later */
            col_release(bc[i].p, bc[i].mapped);
            bc[i].p = NULL;
            bc[i].len = bc[i].cap = bc[i].mapped = 0;
        }
    }
    return 0;
}

#endif
