/* SPDX-License-Identifier: MIT */
/*
 * libspmc: the REST client. HTTP/1.0 over POSIX sockets (one connection per request, "Connection: close",
 * answer read to EOF or Content-Length), a JSON writer for requests and a small JSON reader for answers.
 */
#include "spmc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SPMC_ERRLEN 512
#define SPMC_MAX_RESPONSE (64u * 1024u * 1024u)
#define SPMC_DEFAULT_TIMEOUT_MS 30000

#ifdef __GNUC__
#define SPMC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SPMC_PRINTF(a, b)
#endif

#ifdef MSG_NOSIGNAL
#define SPMC_SEND_FLAGS MSG_NOSIGNAL
#else
#define SPMC_SEND_FLAGS 0
#endif

/* A growable byte buffer; `oom` sticks once an allocation failed. */
struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

struct spmc_client {
    char *host;       /* without brackets */
    char *port;
    char hostport[300]; /* for messages: host:port, IPv6 in brackets */
    char *prefix;     /* path before /api/v1, no trailing slash, may be "" */
    char *system;
    char *token;
    uint16_t caller;
    int timeout_ms;
    char err[SPMC_ERRLEN];
    char refusal[SPMC_ERRLEN];
    struct sbuf req;  /* request being built */
    struct sbuf resp; /* raw answer */
    const char *body; /* into resp after a request */
    size_t body_len;
    int status;
};

/* ---------------------------------------------------------------- small helpers */

static void set_err(struct spmc_client *c, const char *fmt, ...) SPMC_PRINTF(2, 3);
static void set_err(struct spmc_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n + 1);
    }
    return d;
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void sb_reset(struct sbuf *b)
{
    b->len = 0;
    b->oom = false;
}

static bool sb_reserve(struct sbuf *b, size_t more)
{
    size_t need, cap;
    char *p;
    if (b->oom) {
        return false;
    }
    if (more > SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return false;
    }
    need = b->len + more + 1;
    if (need <= b->cap) {
        return true;
    }
    cap = b->cap ? b->cap : 1024;
    while (cap < need) {
        cap *= 2;
    }
    p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void sb_add(struct sbuf *b, const void *s, size_t n)
{
    if (!sb_reserve(b, n)) {
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) SPMC_PRINTF(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    char tmp[128];
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    if (!sb_reserve(b, (size_t)n)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* A JSON string literal with escapes. */
static void sb_json_str(struct sbuf *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            char e[2] = { '\\', (char)ch };
            sb_add(b, e, 2);
        } else if (ch < 0x20) {
            sb_printf(b, "\\u%04x", ch);
        } else {
            sb_add(b, s, 1);
        }
    }
    sb_add(b, "\"", 1);
}

/* ---------------------------------------------------------------- base64 */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void sb_base64(struct sbuf *b, const uint8_t *d, size_t n)
{
    size_t i, o;
    char *out;
    if (!sb_reserve(b, (n + 2) / 3 * 4)) {
        return;
    }
    out = b->p + b->len;
    for (i = 0, o = 0; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)d[i] << 16) | ((uint32_t)d[i + 1] << 8) | d[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n) {
            v |= (uint32_t)d[i + 1] << 8;
        }
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    b->len += o;
    b->p[b->len] = '\0';
}

static int b64_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z') {
        return ch - 'A';
    }
    if (ch >= 'a' && ch <= 'z') {
        return ch - 'a' + 26;
    }
    if (ch >= '0' && ch <= '9') {
        return ch - '0' + 52;
    }
    if (ch == '+' || ch == '-') {
        return 62;
    }
    if (ch == '/' || ch == '_') {
        return 63;
    }
    return -1;
}

/* Decodes s[0..n) into out (capacity cap); returns the decoded length or -1 (bad input or too long). */
static long b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0, i;
    for (i = 0; i < n; i++) {
        int v;
        if (s[i] == '=') {
            break;
        }
        v = b64_value(s[i]);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) {
                return -1;
            }
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

/* ---------------------------------------------------------------- JSON reader */

static const char *j_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

/* p at '"': returns the position after the closing quote, or NULL. */
static const char *j_skip_string(const char *p, const char *e)
{
    if (p >= e || *p != '"') {
        return NULL;
    }
    for (p++; p < e; p++) {
        if (*p == '\\') {
            p++;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* Skips one value (any type); returns the position after it or NULL on malformed input. */
static const char *j_skip(const char *p, const char *e, int depth)
{
    p = j_ws(p, e);
    if (p >= e || depth > 64) {
        return NULL;
    }
    if (*p == '"') {
        return j_skip_string(p, e);
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = j_ws(p + 1, e);
        if (p < e && *p == close) {
            return p + 1;
        }
        for (;;) {
            if (obj) {
                p = j_skip_string(j_ws(p, e), e);
                if (!p) {
                    return NULL;
                }
                p = j_ws(p, e);
                if (p >= e || *p != ':') {
                    return NULL;
                }
                p++;
            }
            p = j_skip(p, e, depth + 1);
            if (!p) {
                return NULL;
            }
            p = j_ws(p, e);
            if (p < e && *p == ',') {
                p++;
                continue;
            }
            if (p < e && *p == close) {
                return p + 1;
            }
            return NULL;
        }
    }
    /* number, true, false, null */
    {
        const char *s = p;
        while (p < e && (strchr("+-.eE", *p) || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'))) {
            p++;
        }
        return p > s ? p : NULL;
    }
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* Decodes the string at p (at '"') into out (NUL-terminated, truncated to cap-1); returns the decoded
 * length or -1 if p is not a string. \u escapes become UTF-8 (surrogate pairs are not joined). */
static long j_string(const char *p, const char *e, char *out, size_t cap)
{
    size_t o = 0;
    const char *end = j_skip_string(p, e);
    if (!end || cap == 0) {
        return -1;
    }
    end--; /* the closing quote */
    for (p++; p < end; p++) {
        char tmp[4];
        size_t n = 1;
        tmp[0] = *p;
        if (*p == '\\' && p + 1 < end) {
            p++;
            switch (*p) {
            case 'n': tmp[0] = '\n'; break;
            case 't': tmp[0] = '\t'; break;
            case 'r': tmp[0] = '\r'; break;
            case 'b': tmp[0] = '\b'; break;
            case 'f': tmp[0] = '\f'; break;
            case 'u': {
                unsigned v = 0;
                int k;
                for (k = 0; k < 4 && p + 1 < end; k++) {
                    int d = hex_digit(p[1]);
                    if (d < 0) {
                        break;
                    }
                    v = v * 16 + (unsigned)d;
                    p++;
                }
                if (v < 0x80) {
                    tmp[0] = (char)v;
                } else if (v < 0x800) {
                    tmp[0] = (char)(0xC0 | (v >> 6));
                    tmp[1] = (char)(0x80 | (v & 0x3F));
                    n = 2;
                } else {
                    tmp[0] = (char)(0xE0 | (v >> 12));
                    tmp[1] = (char)(0x80 | ((v >> 6) & 0x3F));
                    tmp[2] = (char)(0x80 | (v & 0x3F));
                    n = 3;
                }
                break;
            }
            default: tmp[0] = *p; break;
            }
        }
        if (o + n < cap) {
            memcpy(out + o, tmp, n);
            o += n;
        }
    }
    out[o] = '\0';
    return (long)o;
}

/* obj points at (whitespace before) '{': returns the start of the value of `key`, or NULL. */
static const char *j_member(const char *obj, const char *e, const char *key)
{
    const char *p = j_ws(obj, e);
    size_t klen = strlen(key);
    if (p >= e || *p != '{') {
        return NULL;
    }
    p = j_ws(p + 1, e);
    while (p < e && *p == '"') {
        const char *kend = j_skip_string(p, e);
        bool match;
        if (!kend) {
            return NULL;
        }
        match = (size_t)(kend - p) == klen + 2 && memcmp(p + 1, key, klen) == 0;
        p = j_ws(kend, e);
        if (p >= e || *p != ':') {
            return NULL;
        }
        p = j_ws(p + 1, e);
        if (match) {
            return p;
        }
        p = j_skip(p, e, 0);
        if (!p) {
            return NULL;
        }
        p = j_ws(p, e);
        if (p < e && *p == ',') {
            p = j_ws(p + 1, e);
        }
    }
    return NULL;
}

/* Array iteration: j_first(p) at '[' gives the first element (or NULL if empty); j_next gives the next. */
static const char *j_first(const char *p, const char *e)
{
    p = j_ws(p, e);
    if (p >= e || *p != '[') {
        return NULL;
    }
    p = j_ws(p + 1, e);
    return p < e && *p != ']' ? p : NULL;
}

static const char *j_next(const char *elem, const char *e)
{
    const char *p = j_skip(elem, e, 0);
    if (!p) {
        return NULL;
    }
    p = j_ws(p, e);
    if (p < e && *p == ',') {
        return j_ws(p + 1, e);
    }
    return NULL;
}

/* A register or address: "0x..." hex, a decimal string, or a bare number. */
static bool j_u64(const char *p, const char *e, uint64_t *out)
{
    char tmp[40];
    char *endp;
    const char *s;
    size_t n;
    if (p < e && *p == '"') {
        if (j_string(p, e, tmp, sizeof tmp) < 1) {
            return false;
        }
    } else {
        const char *q = j_skip(p, e, 0);
        if (!q || (size_t)(q - p) >= sizeof tmp) {
            return false;
        }
        memcpy(tmp, p, (size_t)(q - p));
        tmp[q - p] = '\0';
    }
    s = tmp;
    n = strlen(s);
    if (n == 0) {
        return false;
    }
    errno = 0;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        *out = strtoull(s + 2, &endp, 16);
    } else {
        *out = strtoull(s, &endp, 10);
    }
    return errno == 0 && *endp == '\0';
}

/* ---------------------------------------------------------------- configuration and URL */

bool spmc_config_from_env(struct spmc_config *cfg)
{
    const char *url = getenv("SPMC_URL");
    const char *system = getenv("SPMC_SYSTEM");
    const char *token = getenv("SPMC_TOKEN");
    const char *caller = getenv("SPMC_CALLER");
    if (!url || !*url) {
        return false;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->url = url;
    cfg->system = system && *system ? system : "default";
    cfg->token = token && *token ? token : NULL;
    cfg->caller = caller && *caller ? (uint16_t)strtoul(caller, NULL, 0) : 0;
    cfg->timeout_ms = getenv("SPMC_TIMEOUT_MS") ? atoi(getenv("SPMC_TIMEOUT_MS")) : 0;
    return true;
}

static void put_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) {
        snprintf(err, errlen, "%s", msg);
    }
}

struct spmc_client *spmc_client_new(const struct spmc_config *cfg, char *err, size_t errlen)
{
    struct spmc_client *c;
    const char *p, *hs, *he, *ps = NULL, *pe = NULL, *path;
    if (!cfg || !cfg->url) {
        put_err(err, errlen, "spmc: no URL");
        return NULL;
    }
    if (strncasecmp(cfg->url, "http://", 7) != 0) {
        put_err(err, errlen, "spmc: URL must start with http:// (https is not supported)");
        return NULL;
    }
    p = cfg->url + 7;
    if (*p == '[') {
        hs = p + 1;
        he = strchr(hs, ']');
        if (!he) {
            put_err(err, errlen, "spmc: URL has '[' without ']'");
            return NULL;
        }
        p = he + 1;
    } else {
        hs = p;
        while (*p && *p != ':' && *p != '/') {
            p++;
        }
        he = p;
    }
    if (he == hs) {
        put_err(err, errlen, "spmc: URL has no host");
        return NULL;
    }
    if (*p == ':') {
        ps = ++p;
        while (*p >= '0' && *p <= '9') {
            p++;
        }
        pe = p;
        if (pe == ps || (*p && *p != '/')) {
            put_err(err, errlen, "spmc: URL has a bad port");
            return NULL;
        }
    } else if (*p && *p != '/') {
        put_err(err, errlen, "spmc: URL is malformed after the host");
        return NULL;
    }
    path = p;
    c = calloc(1, sizeof *c);
    if (!c) {
        put_err(err, errlen, "spmc: out of memory");
        return NULL;
    }
    c->host = dup_range(hs, (size_t)(he - hs));
    c->port = ps ? dup_range(ps, (size_t)(pe - ps)) : dup_str("80");
    c->prefix = dup_str(path);
    c->system = dup_str(cfg->system && *cfg->system ? cfg->system : "default");
    c->token = cfg->token && *cfg->token ? dup_str(cfg->token) : NULL;
    c->caller = cfg->caller;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : SPMC_DEFAULT_TIMEOUT_MS;
    if (!c->host || !c->port || !c->prefix || !c->system || (cfg->token && *cfg->token && !c->token)) {
        spmc_client_free(c);
        put_err(err, errlen, "spmc: out of memory");
        return NULL;
    }
    snprintf(c->hostport, sizeof c->hostport, "%s%s%s:%s", strchr(c->host, ':') ? "[" : "", c->host,
             strchr(c->host, ':') ? "]" : "", c->port);
    {
        size_t n = strlen(c->prefix);
        while (n > 0 && c->prefix[n - 1] == '/') {
            c->prefix[--n] = '\0';
        }
    }
    return c;
}

void spmc_client_free(struct spmc_client *c)
{
    if (!c) {
        return;
    }
    free(c->host);
    free(c->port);
    free(c->prefix);
    free(c->system);
    if (c->token) {
        memset(c->token, 0, strlen(c->token));
        free(c->token);
    }
    free(c->req.p);
    free(c->resp.p);
    free(c);
}

const char *spmc_client_error(const struct spmc_client *c)
{
    return c ? c->err : "spmc: no client";
}

const char *spmc_client_refusal(const struct spmc_client *c)
{
    return c ? c->refusal : "";
}

const char *spmc_client_system(const struct spmc_client *c)
{
    return c ? c->system : "";
}

uint16_t spmc_client_caller(const struct spmc_client *c)
{
    return c ? c->caller : 0;
}

/* ---------------------------------------------------------------- HTTP */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining(long long deadline)
{
    long long left = deadline - now_ms();
    return left > 0 ? (left > 0x7fffffff ? 0x7fffffff : (int)left) : 0;
}

/* Non-blocking connect to one address, bounded by the deadline. Returns the socket or -1 (errno set). */
static int connect_one(const struct addrinfo *ai, long long deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int flags, one = 1;
    if (fd < 0) {
        return -1;
    }
    flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        struct pollfd pfd;
        int r, soerr = 0;
        socklen_t len = sizeof soerr;
        if (errno != EINPROGRESS) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        pfd.fd = fd;
        pfd.events = POLLOUT;
        pfd.revents = 0;
        do {
            r = poll(&pfd, 1, remaining(deadline));
        } while (r < 0 && errno == EINTR);
        if (r == 0) {
            close(fd);
            errno = ETIMEDOUT;
            return -1;
        }
        if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
            int e = r < 0 ? errno : (soerr ? soerr : errno);
            close(fd);
            errno = e;
            return -1;
        }
    }
    return fd;
}

static int http_connect(struct spmc_client *c, long long deadline)
{
    struct addrinfo hints, *res = NULL, *ai;
    int rc, fd = -1, last = ECONNREFUSED;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(c->host, c->port, &hints, &res);
    if (rc != 0) {
        set_err(c, "spmc: cannot resolve %s: %s", c->hostport, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = connect_one(ai, deadline);
        if (fd >= 0) {
            break;
        }
        last = errno;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        set_err(c, "spmc: cannot connect to %s: %s", c->hostport, strerror(last));
    }
    return fd;
}

static int send_all(struct spmc_client *c, int fd, const char *p, size_t n, long long deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, SPMC_SEND_FLAGS);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd;
            int r;
            pfd.fd = fd;
            pfd.events = POLLOUT;
            pfd.revents = 0;
            r = poll(&pfd, 1, remaining(deadline));
            if (r == 0) {
                set_err(c, "spmc: timed out sending to %s", c->hostport);
                return -1;
            }
            if (r < 0 && errno != EINTR) {
                set_err(c, "spmc: poll: %s", strerror(errno));
                return -1;
            }
            continue;
        }
        set_err(c, "spmc: send to %s: %s", c->hostport, strerror(errno));
        return -1;
    }
    return 0;
}

/* Header value (trimmed) of `name` within [h, he), or NULL. */
static const char *find_header(const char *h, const char *he, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *line = h;
    while (line < he) {
        const char *eol = line;
        while (eol < he && *eol != '\n') {
            eol++;
        }
        if ((size_t)(eol - line) > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t')) {
                v++;
            }
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) {
                ve--;
            }
            *vlen = (size_t)(ve - v);
            return v;
        }
        line = eol + 1;
    }
    return NULL;
}

/* Decodes a chunked body in place; returns the decoded length or -1. */
static long dechunk(char *p, size_t n)
{
    size_t in = 0, out = 0;
    for (;;) {
        size_t size = 0;
        int d, digits = 0;
        while (in < n && (d = hex_digit(p[in])) >= 0) {
            if (size > (SIZE_MAX >> 4)) {
                return -1;
            }
            size = size * 16 + (size_t)d;
            in++;
            digits++;
        }
        if (!digits) {
            return -1;
        }
        while (in < n && p[in] != '\n') {
            in++;
        }
        in++;
        if (size == 0) {
            return (long)out;
        }
        if (in > n || size > n - in) {
            return -1;
        }
        memmove(p + out, p + in, size);
        out += size;
        in += size;
        if (in < n && p[in] == '\r') {
            in++;
        }
        if (in < n && p[in] == '\n') {
            in++;
        }
    }
}

/* One request; on return (0) c->status, c->body and c->body_len describe the answer. */
static int http_request(struct spmc_client *c, const char *method, const char *path, const char *body,
                        size_t body_len)
{
    long long deadline = now_ms() + c->timeout_ms;
    struct sbuf *r = &c->resp;
    struct sbuf head = { NULL, 0, 0, false };
    const char *hend, *v;
    size_t vlen, hlen, scan;
    int fd, rc = -1;
    bool host_v6 = strchr(c->host, ':') != NULL;

    c->status = 0;
    c->body = NULL;
    c->body_len = 0;
    sb_printf(&head, "%s ", method);
    sb_str(&head, c->prefix);
    sb_str(&head, path);
    sb_str(&head, " HTTP/1.0\r\nHost: ");
    if (host_v6) {
        sb_str(&head, "[");
    }
    sb_str(&head, c->host);
    sb_printf(&head, "%s:%s\r\nConnection: close\r\nAccept: application/json\r\nUser-Agent: libspmc\r\n",
              host_v6 ? "]" : "", c->port);
    if (c->token) {
        sb_str(&head, "Authorization: Bearer ");
        sb_str(&head, c->token);
        sb_str(&head, "\r\n");
    }
    if (body) {
        sb_printf(&head, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
    } else if (strcmp(method, "GET") != 0) {
        sb_str(&head, "Content-Length: 0\r\n");
    }
    sb_str(&head, "\r\n");
    if (head.oom) {
        set_err(c, "spmc: out of memory building the request");
        free(head.p);
        return -1;
    }

    fd = http_connect(c, deadline);
    if (fd < 0) {
        goto out;
    }
    if (send_all(c, fd, head.p, head.len, deadline) < 0 ||
        (body && send_all(c, fd, body, body_len, deadline) < 0)) {
        goto out;
    }

    /* Read until EOF, or until Content-Length bytes of body have come. */
    sb_reset(r);
    hlen = 0;
    scan = 0;
    for (;;) {
        struct pollfd pfd;
        ssize_t got;
        int pr;
        if (r->len >= SPMC_MAX_RESPONSE) {
            set_err(c, "spmc: answer from %s exceeds %u MiB, refused", c->hostport,
                    SPMC_MAX_RESPONSE >> 20);
            goto out;
        }
        if (!sb_reserve(r, 65536)) {
            set_err(c, "spmc: out of memory reading the answer");
            goto out;
        }
        got = recv(fd, r->p + r->len, 65536, 0);
        if (got > 0) {
            r->len += (size_t)got;
            r->p[r->len] = '\0';
            /* look for the end of the header in the new bytes only (and the 3 before them): a server
             * that never ends its header must not cost a scan of the whole answer per read */
            while (!hlen && scan + 4 <= r->len) {
                if (memcmp(r->p + scan, "\r\n\r\n", 4) == 0) {
                    hlen = scan + 4;
                }
                scan++;
            }
            if (hlen) {
                v = find_header(r->p, r->p + hlen, "Content-Length", &vlen);
                if (v && r->len - hlen >= strtoull(v, NULL, 10)) {
                    break;
                }
            }
            continue;
        }
        if (got == 0) {
            break;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            set_err(c, "spmc: receive from %s: %s", c->hostport, strerror(errno));
            goto out;
        }
        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        pr = poll(&pfd, 1, remaining(deadline));
        if (pr == 0) {
            set_err(c, "spmc: timed out after %d ms waiting for %s", c->timeout_ms, c->hostport);
            goto out;
        }
        if (pr < 0 && errno != EINTR) {
            set_err(c, "spmc: poll: %s", strerror(errno));
            goto out;
        }
    }

    if (r->len < 12 || strncmp(r->p, "HTTP/1.", 7) != 0 || !hlen) {
        set_err(c, "spmc: malformed HTTP answer from %s (%zu bytes)", c->hostport, r->len);
        goto out;
    }
    c->status = atoi(r->p + 9);
    hend = r->p + hlen - 4;
    c->body = r->p + hlen;
    c->body_len = r->len - hlen;
    v = find_header(r->p, hend, "Content-Length", &vlen);
    if (v) {
        unsigned long long cl = strtoull(v, NULL, 10);
        if (cl > c->body_len) {
            set_err(c, "spmc: answer truncated (%zu of %llu bytes)", c->body_len, cl);
            goto out;
        }
        c->body_len = (size_t)cl;
    } else {
        v = find_header(r->p, hend, "Transfer-Encoding", &vlen);
        if (v && vlen >= 7 && strncasecmp(v, "chunked", 7) == 0) {
            long n = dechunk(r->p + hlen, c->body_len);
            if (n < 0) {
                set_err(c, "spmc: malformed chunked answer");
                goto out;
            }
            c->body_len = (size_t)n;
        }
    }
    r->p[hlen + c->body_len] = '\0';
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
    }
    free(head.p);
    return rc;
}

/* Sets the error for a non-2xx answer: status, and the problem's detail (or the start of the body). */
static void status_error(struct spmc_client *c, const char *what)
{
    char excerpt[240];
    const char *e = c->body + c->body_len;
    const char *d = j_member(c->body, e, "detail");
    if (!d || j_string(d, e, excerpt, sizeof excerpt) < 0) {
        d = j_member(c->body, e, "title");
        if (!d || j_string(d, e, excerpt, sizeof excerpt) < 0) {
            size_t n = c->body_len < sizeof excerpt - 1 ? c->body_len : sizeof excerpt - 1;
            size_t i;
            memcpy(excerpt, c->body, n);
            excerpt[n] = '\0';
            for (i = 0; i < n; i++) {
                if (excerpt[i] == '\n' || excerpt[i] == '\r' || excerpt[i] == '\t') {
                    excerpt[i] = ' ';
                }
            }
        }
    }
    set_err(c, "spmc: %s: HTTP %d: %s", what, c->status, excerpt);
}

/* Appends a path segment, percent-encoding anything but unreserved characters. */
static void sb_segment(struct sbuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            sb_add(b, s, 1);
        } else {
            sb_printf(b, "%%%02X", ch);
        }
    }
}

static int system_path(struct spmc_client *c, struct sbuf *p, const char *id, const char *tail)
{
    sb_reset(p);
    sb_str(p, "/api/v1/systems/");
    sb_segment(p, id);
    sb_str(p, tail);
    if (p->oom) {
        set_err(c, "spmc: out of memory");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- SMC */

int spmc_smc(struct spmc_client *c, uint32_t vcpu, enum spmc_conduit conduit, uint64_t x[SPMC_NREGS],
             const struct spmc_range *writes, size_t nwrites, struct spmc_range *reads, size_t nreads)
{
    struct sbuf path = { NULL, 0, 0, false };
    struct sbuf *b = &c->req;
    uint64_t ans[SPMC_NREGS];
    const char *e, *p, *el;
    size_t i;
    int rc = -1;
    uint8_t *scratch = NULL;

    c->refusal[0] = '\0';
    for (i = 0; i < nwrites; i++) {
        if (writes[i].length > (1u << 20)) {
            set_err(c, "spmc: write of %u bytes at 0x%llx exceeds 1 MiB", (unsigned)writes[i].length,
                    (unsigned long long)writes[i].address);
            return -1;
        }
    }
    for (i = 0; i < nreads; i++) {
        if (reads[i].length > (1u << 20)) {
            set_err(c, "spmc: read of %u bytes at 0x%llx exceeds 1 MiB", (unsigned)reads[i].length,
                    (unsigned long long)reads[i].address);
            return -1;
        }
        reads[i].ok = false;
    }
    sb_reset(b);
    sb_printf(b, "{\"caller\":\"0x%x\",\"vcpu\":%u,\"conduit\":\"%s\",\"x\":[", (unsigned)c->caller,
              (unsigned)vcpu, conduit == SPMC_CONDUIT_HVC ? "hvc" : "smc");
    for (i = 0; i < SPMC_NREGS; i++) {
        sb_printf(b, "%s\"0x%llx\"", i ? "," : "", (unsigned long long)x[i]);
    }
    sb_str(b, "]");
    if (nwrites) {
        sb_str(b, ",\"writes\":[");
        for (i = 0; i < nwrites; i++) {
            sb_printf(b, "%s{\"address\":\"0x%llx\",\"data\":\"", i ? "," : "",
                      (unsigned long long)writes[i].address);
            sb_base64(b, writes[i].data, writes[i].length);
            sb_str(b, "\"}");
        }
        sb_str(b, "]");
    }
    if (nreads) {
        sb_str(b, ",\"reads\":[");
        for (i = 0; i < nreads; i++) {
            sb_printf(b, "%s{\"address\":\"0x%llx\",\"length\":%u}", i ? "," : "",
                      (unsigned long long)reads[i].address, (unsigned)reads[i].length);
        }
        sb_str(b, "]");
    }
    sb_str(b, "}");
    if (b->oom || system_path(c, &path, c->system, "/smc") < 0) {
        set_err(c, "spmc: out of memory building the SMC request");
        goto out;
    }
    if (http_request(c, "POST", path.p, b->p, b->len) < 0) {
        goto out;
    }
    if (c->status != 200) {
        status_error(c, "SMC refused");
        goto out;
    }
    e = c->body + c->body_len;
    p = j_member(c->body, e, "x");
    for (i = 0, el = p ? j_first(p, e) : NULL; el && i < SPMC_NREGS; i++, el = j_next(el, e)) {
        if (!j_u64(el, e, &ans[i])) {
            break;
        }
    }
    if (i != SPMC_NREGS) {
        set_err(c, "spmc: answer has no 18 registers in \"x\" (got %zu)", i);
        goto out;
    }
    if (nreads) {
        size_t k = 0;
        p = j_member(c->body, e, "reads");
        for (el = p ? j_first(p, e) : NULL; el; el = j_next(el, e), k++) {
            uint64_t addr;
            const char *a = j_member(el, e, "address");
            const char *d = j_member(el, e, "data");
            size_t idx = k;
            if (!a || !j_u64(a, e, &addr)) {
                continue;
            }
            if (idx >= nreads || reads[idx].address != addr || reads[idx].ok) {
                for (idx = 0; idx < nreads; idx++) {
                    if (reads[idx].address == addr && !reads[idx].ok) {
                        break;
                    }
                }
                if (idx == nreads) {
                    continue;
                }
            }
            if (d && *d == '"') {
                /* a data string cut off or of another length than asked: this read is refused (the
                 * registers still stand: the call ran) */
                const char *dend = j_skip_string(d, e);
                long n = -1;
                if (!dend) {
                    n = -1;
                } else if (memchr(d + 1, '\\', (size_t)(dend - d - 1)) != NULL) {
                    size_t raw = (size_t)(dend - d);
                    free(scratch);
                    scratch = malloc(raw + 1);
                    if (!scratch) {
                        set_err(c, "spmc: out of memory");
                        goto out;
                    }
                    n = j_string(d, e, (char *)scratch, raw + 1);
                    n = n < 0 ? -1 : b64_decode((const char *)scratch, (size_t)n, reads[idx].data,
                                                reads[idx].length);
                } else {
                    n = b64_decode(d + 1, (size_t)(dend - d - 2), reads[idx].data, reads[idx].length);
                }
                if (n == (long)reads[idx].length) {
                    reads[idx].ok = true;
                } else if (!c->refusal[0]) {
                    if (n < 0) {
                        snprintf(c->refusal, sizeof c->refusal, "read at 0x%llx: bad data in the answer",
                                 (unsigned long long)addr);
                    } else {
                        snprintf(c->refusal, sizeof c->refusal, "read at 0x%llx: answer has %ld of %u bytes",
                                 (unsigned long long)addr, n, (unsigned)reads[idx].length);
                    }
                }
            } else if (!c->refusal[0]) {
                const char *er = j_member(el, e, "error");
                if (!er || j_string(er, e, c->refusal, sizeof c->refusal) < 0) {
                    snprintf(c->refusal, sizeof c->refusal, "read at 0x%llx refused",
                             (unsigned long long)addr);
                }
            }
        }
    }
    memcpy(x, ans, sizeof ans);
    rc = 0;
out:
    free(scratch);
    free(path.p);
    return rc;
}

/* ---------------------------------------------------------------- REST helpers */

int spmc_system_create(struct spmc_client *c, const char *id, const char *manifest_json)
{
    struct sbuf body = { NULL, 0, 0, false };
    int rc = -1;
    sb_str(&body, "{\"id\":");
    sb_json_str(&body, id);
    sb_str(&body, ",\"manifest\":");
    sb_str(&body, manifest_json);
    sb_str(&body, "}");
    if (body.oom) {
        set_err(c, "spmc: out of memory");
    } else if (http_request(c, "POST", "/api/v1/systems", body.p, body.len) == 0) {
        if (c->status == 201 || c->status == 200) {
            rc = 0;
        } else {
            status_error(c, "create system");
        }
    }
    free(body.p);
    return rc;
}

int spmc_system_delete(struct spmc_client *c, const char *id)
{
    struct sbuf path = { NULL, 0, 0, false };
    int rc = -1;
    if (system_path(c, &path, id, "") == 0 && http_request(c, "DELETE", path.p, NULL, 0) == 0) {
        if (c->status / 100 == 2) {
            rc = 0;
        } else {
            status_error(c, "delete system");
        }
    }
    free(path.p);
    return rc;
}

int spmc_system_state(struct spmc_client *c, char **json_out)
{
    struct sbuf path = { NULL, 0, 0, false };
    int rc = -1;
    *json_out = NULL;
    if (system_path(c, &path, c->system, "/state") == 0 && http_request(c, "GET", path.p, NULL, 0) == 0) {
        if (c->status == 200) {
            *json_out = dup_range(c->body, c->body_len);
            if (*json_out) {
                rc = 0;
            } else {
                set_err(c, "spmc: out of memory");
            }
        } else {
            status_error(c, "state");
        }
    }
    free(path.p);
    return rc;
}

int spmc_mem_read(struct spmc_client *c, uint16_t as, uint64_t address, void *buf, uint32_t length)
{
    struct sbuf path = { NULL, 0, 0, false };
    char tail[96];
    int rc = -1;
    snprintf(tail, sizeof tail, "/memory/0x%llx?length=%u&as=0x%x", (unsigned long long)address,
             (unsigned)length, (unsigned)as);
    if (system_path(c, &path, c->system, tail) == 0 && http_request(c, "GET", path.p, NULL, 0) == 0) {
        if (c->status == 200) {
            const char *e = c->body + c->body_len;
            const char *d = j_member(c->body, e, "data");
            const char *dend = d ? j_skip_string(d, e) : NULL;
            long n = dend ? b64_decode(d + 1, (size_t)(dend - d - 2), buf, length) : -1;
            if (n == (long)length) {
                rc = 0;
            } else {
                set_err(c, "spmc: memory read at 0x%llx: bad answer", (unsigned long long)address);
            }
        } else {
            status_error(c, "memory read");
        }
    }
    free(path.p);
    return rc;
}

int spmc_mem_write(struct spmc_client *c, uint16_t as, uint64_t address, const void *buf, uint32_t length)
{
    struct sbuf path = { NULL, 0, 0, false };
    struct sbuf body = { NULL, 0, 0, false };
    char tail[96];
    int rc = -1;
    snprintf(tail, sizeof tail, "/memory/0x%llx?as=0x%x", (unsigned long long)address, (unsigned)as);
    sb_str(&body, "{\"data\":\"");
    sb_base64(&body, buf, length);
    sb_str(&body, "\"}");
    if (body.oom) {
        set_err(c, "spmc: out of memory");
    } else if (system_path(c, &path, c->system, tail) == 0 &&
               http_request(c, "PUT", path.p, body.p, body.len) == 0) {
        if (c->status / 100 == 2) {
            rc = 0;
        } else {
            status_error(c, "memory write");
        }
    }
    free(path.p);
    free(body.p);
    return rc;
}
