/* Fuzz target for the JSON Lines scanner (mvcc_check/history/scan_core.h).
 *
 * libFuzzer entry point (the EDN line rewrite of edn_core.h too), and a plain main()
 * (-DSCAN_MAIN) that runs the same
 * checks over files, for sanitizer builds without libFuzzer and for timing.
 * Each input is scanned whole (lines the scanner leaves are skipped, as the
 * exact reader would take them), and again in two parts at a line boundary
 * that are then merged: the columns and tables must be identical, and every
 * id in range. Any failed check aborts. */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>

#include "../mvcc_check/history/edn_core.h"
#include "../mvcc_check/history/scan_core.h"

#define CHECK(c)                                                           \
    do {                                                                   \
        if (!(c)) {                                                        \
            fprintf(stderr, "check failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                       \
        }                                                                  \
    } while (0)

/* Scan [lo, hi) of data, skipping the lines the scanner leaves. */
static void scan_all(scan_t *s, const char *data, size_t lo, size_t hi) {
    size_t pos = lo;
    while (pos < hi) {
        int oom;
        pos = scan_lines(s, data, pos, hi, 0, &oom);
        CHECK(!oom);
        if (pos >= hi) break;
        const char *nl = memchr(data + pos, '\n', hi - pos);
        pos = nl ? (size_t)(nl - data) + 1 : hi;
        s->line++;
        s->position++;
    }
}

static void check_ids(const scan_t *s) {
    const col_t *c = s->col;
    size_t n = c[C_OP_TYPE].len, m = c[C_MOP_KIND].len, e = c[C_EL_TAG].len;
    size_t lists = c[C_EL_START].len - 1;
    CHECK(c[C_OP_MOP].len == n + 1 && COL(c[C_OP_MOP], int64_t)[n] == (int64_t)m);
    CHECK(COL(c[C_EL_START], int64_t)[lists] == (int64_t)e);
    for (size_t i = 0; i < n; i++) {
        CHECK(COL(c[C_OP_MOP], int64_t)[i] <= COL(c[C_OP_MOP], int64_t)[i + 1]);
        CHECK(COL(c[C_OP_TYPE], int8_t)[i] >= 0 && COL(c[C_OP_TYPE], int8_t)[i] <= 3);
        CHECK((size_t)COL(c[C_OP_PROCESS], int32_t)[i] < s->tab[T_PROCS].n);
    }
    for (size_t j = 0; j < m; j++) {
        int8_t tag = COL(c[C_MOP_TAG], int8_t)[j];
        int64_t v = COL(c[C_MOP_VALUE], int64_t)[j];
        CHECK((size_t)COL(c[C_MOP_KEY], int32_t)[j] < s->tab[T_KEYS].n);
        CHECK(COL(c[C_MOP_KIND], int8_t)[j] >= 0 && COL(c[C_MOP_KIND], int8_t)[j] <= 2);
        if (tag == TAG_ATOM) CHECK(v >= 0 && (size_t)v < s->tab[T_ATOMS].n);
        else if (tag == TAG_LIST) CHECK(v >= 0 && (size_t)v < lists);
        else CHECK(tag == TAG_INT || (tag == TAG_NIL && v == 0));
    }
    for (size_t k = 0; k < e; k++) {
        int8_t tag = COL(c[C_EL_TAG], int8_t)[k];
        CHECK(tag == TAG_INT || tag == TAG_ATOM);
        if (tag == TAG_ATOM)
            CHECK((size_t)COL(c[C_EL_VALUE], int64_t)[k] < s->tab[T_ATOMS].n);
    }
}

static void check_same(const scan_t *a, const scan_t *b) {
    for (int i = 0; i < N_COLS; i++) {
        CHECK(a->col[i].len == b->col[i].len);
        CHECK(a->col[i].len == 0 || memcmp(a->col[i].p, b->col[i].p, a->col[i].len * a->col[i].size) == 0);
    }
    for (int t = 0; t < N_TABLES; t++) {
        CHECK(a->tab[t].n == b->tab[t].n && a->tab[t].alen == b->tab[t].alen);
        CHECK(a->tab[t].alen == 0 || memcmp(a->tab[t].arena, b->tab[t].arena, a->tab[t].alen) == 0);
    }
}

static void merge(scan_t *a, scan_t *b) {
    int64_t *remap[N_TABLES];
    for (int t = 0; t < N_TABLES; t++) {
        size_t first_new;
        remap[t] = malloc((b->tab[t].n + 1) * sizeof(int64_t));
        CHECK(remap[t] && merge_table(&a->tab[t], &b->tab[t], remap[t], &first_new) == 0);
    }
    const shifts_t sh = append_shifts(a, a->line - 1);
    CHECK(append_columns(a, b, remap, &sh, ALL_COLUMNS & ~(1u << C_EL_VALUE)) == 0);
    CHECK(append_columns(a, b, remap, &sh, 1u << C_EL_VALUE) == 0); /* as _scan.c splits it */
    for (int t = 0; t < N_TABLES; t++) free(remap[t]);
}

/* Every line through the EDN rewrite: a line it takes comes out as one JSON object
 * of printable ASCII on one line; one it leaves leaves the output as it was. */
static void edn_all(const char *d, size_t size) {
    ebuf_t out = {NULL, 0, 0};
    for (const char *p = d, *e = d + size; p <= e;) {
        const char *nl = p < e ? memchr(p, '\n', (size_t)(e - p)) : NULL;
        const char *le = nl ? nl : e;
        const size_t before = out.len;
        if (edn_line(p, le, &out)) {
            CHECK(out.len > before + 1 && out.p[before] == '{' && out.p[out.len - 1] == '}');
            for (size_t i = before; i < out.len; i++)
                CHECK((unsigned char)out.p[i] >= 0x20 && (unsigned char)out.p[i] < 0x7f);
        } else {
            CHECK(out.len == before);
        }
        if (!nl) break;
        p = nl + 1;
    }
    free(out.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *d = (const char *)data;
    edn_all(d, size);
    scan_t whole, a, b;
    CHECK(scan_init(&whole) == 0 && scan_init(&a) == 0 && scan_init(&b) == 0);
    scan_all(&whole, d, 0, size);
    check_ids(&whole);
    const char *nl = size ? memchr(d + size / 2, '\n', size - size / 2) : NULL;
    size_t cut = nl ? (size_t)(nl - d) + 1 : size;
    scan_all(&a, d, 0, cut);
    scan_all(&b, d, cut, size);
    merge(&a, &b);
    check_ids(&a);
    check_same(&whole, &a);
    scan_free(&whole);
    scan_free(&a);
    scan_free(&b);
    return 0;
}

#ifdef SCAN_MAIN
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc(n ? (size_t)n : 1);
        CHECK(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
        fclose(f);
        clock_t t0 = clock();
        LLVMFuzzerTestOneInput((const uint8_t *)buf, (size_t)n);
        double dt = (double)(clock() - t0) / CLOCKS_PER_SEC;
        if (getenv("SCAN_TIME")) fprintf(stderr, "%s: %ld bytes, %.3f s cpu\n", argv[i], n, dt);
        free(buf);
    }
    return 0;
}
#endif
