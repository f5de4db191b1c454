/* One EDN op map per line, rewritten as the JSON line of the same value: plain C.
 *
 * Included by the extension (_scan.c) and by the fuzz harness (fuzz/). Jepsen
 * writes history.edn one op map per line; the checker reads such a file through
 * the JSON Lines scanner, each line translated (history/edn_jsonl.py). This
 * translates the usual shape and leaves every other line to the exact reader
 * (edn.py), untouched: it says "not ours" rather than guess.
 *
 * Accepted: a map {key value ...} whose keys are keywords, each once, with values
 * that are keywords, nil, true, false, integers of at most 18 digits (an optional
 * minus, no leading zero), strings of printable ASCII without backslashes, or
 * vectors of those (nested at most MAX_NEST deep). A keyword is a colon and
 * [A-Za-z_][A-Za-z0-9_-]*; it reads as the string of its name, as edn.py reads it.
 * Separators are spaces, tabs and commas; a \r may end the line. Every token must
 * end at a separator or a bracket, as in edn.py's tokenizer (else "not ours").
 */
#ifndef MVCC_EDN_CORE_H
#define MVCC_EDN_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EDN_MAX_NEST 8
#define EDN_MAX_KEYS 32

typedef struct {
    char *p;
    size_t len, cap;
} ebuf_t;

static int eb_put(ebuf_t *b, const char *s, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return 0;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 1;
}

static int e_sep(char c) { return c == ' ' || c == '\t' || c == ',' || c == '\r'; }

/* Where a token may end: a separator, a closing bracket, or the line's end. */
static int e_ends(const char *p, const char *e) {
    return p >= e || e_sep(*p) || *p == ']' || *p == '}';
}

static const char *e_skip(const char *p, const char *e) {
    while (p < e && e_sep(*p)) p++;
    return p;
}

static int e_name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int e_name_char(char c) {
    return e_name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

/* A keyword at p (its colon): the name's span, or 0. */
static int e_keyword(const char **pp, const char *e, const char **name, size_t *n) {
    const char *p = *pp + 1;
    if (p >= e || !e_name_start(*p)) return 0;
    const char *s = p;
    while (p < e && e_name_char(*p)) p++;
    if (!e_ends(p, e)) return 0;
    *name = s;
    *n = (size_t)(p - s);
    *pp = p;
    return 1;
}

/* One value at *pp written to out as JSON; 0: not ours. */
static int e_value(const char **pp, const char *e, ebuf_t *out, int depth) {
    const char *p = *pp;
    if (p >= e) return 0;
    char c = *p;
    if (c == ':') {
        const char *name;
        size_t n;
        if (!e_keyword(&p, e, &name, &n)) return 0;
        if (!eb_put(out, "\"", 1) || !eb_put(out, name, n) || !eb_put(out, "\"", 1)) return 0;
    } else if (c == '"') {
        const char *s = ++p;
        while (p < e && *p != '"') {
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e || *p == '\\') return 0;
            p++;
        }
        if (p >= e) return 0;
        p++;
        if (!e_ends(p, e) || !eb_put(out, s - 1, (size_t)(p - s + 1))) return 0;
    } else if (c == '[') {
        if (depth >= EDN_MAX_NEST || !eb_put(out, "[", 1)) return 0;
        p = e_skip(p + 1, e);
        for (int first = 1; p < e && *p != ']'; first = 0) {
            if (!first && !eb_put(out, ",", 1)) return 0;
            if (!e_value(&p, e, out, depth + 1)) return 0;
            p = e_skip(p, e);
        }
        if (p >= e || !eb_put(out, "]", 1)) return 0;
        p++;
        if (!e_ends(p, e)) return 0;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        const char *s = p;
        if (c == '-') p++;
        const char *d = p;
        while (p < e && *p >= '0' && *p <= '9') p++;
        const size_t digits = (size_t)(p - d);
        if (!digits || digits > 18 || (digits > 1 && *d == '0') || !e_ends(p, e)) return 0;
        if (!eb_put(out, s, (size_t)(p - s))) return 0;
    } else {
        static const char *const words[3] = {"nil", "true", "false"};
        static const char *const json[3] = {"null", "true", "false"};
        int w = 0;
        for (; w < 3; w++) {
            size_t n = strlen(words[w]);
            if ((size_t)(e - p) >= n && memcmp(p, words[w], n) == 0 && e_ends(p + n, e)) break;
        }
        if (w == 3 || !eb_put(out, json[w], strlen(json[w]))) return 0;
        p += strlen(words[w]);
    }
    *pp = p;
    return 1;
}

/* The line [p, e) (no newline in it) as a JSON object appended to out: 1, or 0 when
 * it is not ours (out is then left as it was). */
static int edn_line(const char *p, const char *e, ebuf_t *out) {
    const size_t mark = out->len;
    const char *keys[EDN_MAX_KEYS];
    size_t key_len[EDN_MAX_KEYS];
    int nkeys = 0;
    p = e_skip(p, e);
    if (p >= e || *p != '{' || !eb_put(out, "{", 1)) goto no;
    p = e_skip(p + 1, e);
    while (p < e && *p != '}') {
        const char *name;
        size_t n;
        if (*p != ':' || !e_keyword(&p, e, &name, &n) || nkeys == EDN_MAX_KEYS) goto no;
        for (int i = 0; i < nkeys; i++)
            if (key_len[i] == n && memcmp(keys[i], name, n) == 0) goto no; /* a repeated key */
        keys[nkeys] = name;
        key_len[nkeys++] = n;
        if ((nkeys > 1 && !eb_put(out, ",", 1)) || !eb_put(out, "\"", 1) || !eb_put(out, name, n)
            || !eb_put(out, "\":", 2))
            goto no;
        p = e_skip(p, e);
        if (p >= e || *p == '}' || !e_value(&p, e, out, 1)) goto no; /* (a key needs a value) */
        p = e_skip(p, e);
    }
    if (p >= e || !eb_put(out, "}", 1)) goto no;
    p = e_skip(p + 1, e);
    if (p != e) goto no;
    return 1;
no:
    out->len = mark;
    return 0;
}

#endif
