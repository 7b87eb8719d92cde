/* SPDX-License-Identifier: MIT */
/*
 * test_spmc: drives libspmc against a running Spmc as a guest's FF-A driver would, with a fake guest RAM.
 *   test_spmc --url URL --manifest PATH [--list] [--case NAME] [--verbose] [--bench N]
 * Each case creates its own system(s) from the manifest (unique IDs, deleted at the end), checks that no
 * share is left in the system's state, and prints "PASS name" or "FAIL name: reason". Exit 1 if any failed.
 */
#include "spmc.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (16u << 20)
#define TX_ADDR 0x40010000ull
#define RX_ADDR 0x40011000ull
#define SHARE_BASE 0x40100000ull
#define FRAG_BASE 0x40200000ull
#define PAGE 4096u

#define FFA_ERROR 0x84000060u
#define FFA_SUCCESS_32 0x84000061u
#define FFA_VERSION 0x84000063u
#define FFA_RX_RELEASE 0x84000065u
#define FFA_RXTX_MAP_64 0xC4000066u
#define FFA_RXTX_UNMAP 0x84000067u
#define FFA_PARTITION_INFO_GET 0x84000068u
#define FFA_DIRECT_REQ_64 0xC400006Fu
#define FFA_DIRECT_RESP_64 0xC4000070u
#define FFA_MEM_LEND_32 0x84000072u
#define FFA_MEM_SHARE_32 0x84000073u
#define FFA_MEM_RECLAIM 0x84000077u
#define FFA_MEM_FRAG_RX 0x8400007Au
#define FFA_MEM_FRAG_TX 0x8400007Bu

#define ECHO_ID 0x8001u
#define MEMORY_ID 0x8002u

struct test {
    const char *url;
    char *manifest;
    bool verbose;
    char sysid[80];
    struct spmc_client *admin; /* for create/delete/state */
    struct spmc_vmm *vmm;
    uint8_t *ram;
    uint64_t x[SPMC_NREGS];
    char why[600];
    char lastlog[400];
    bool wrapped; /* a callback got a range that runs past 2^64 */
};

static int g_seq;

static int ram_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    struct test *t = opaque;
    if (len > UINT64_MAX - gpa) {
        t->wrapped = true; /* a VMM checking gpa + len <= end would be fooled */
    }
    if (gpa < RAM_BASE || gpa - RAM_BASE > RAM_SIZE || len > RAM_SIZE - (gpa - RAM_BASE)) {
        return -1;
    }
    memcpy(buf, t->ram + (gpa - RAM_BASE), len);
    return 0;
}

static int ram_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
    struct test *t = opaque;
    if (len > UINT64_MAX - gpa) {
        t->wrapped = true; /* a VMM checking gpa + len <= end would be fooled */
    }
    if (gpa < RAM_BASE || gpa - RAM_BASE > RAM_SIZE || len > RAM_SIZE - (gpa - RAM_BASE)) {
        return -1;
    }
    memcpy(t->ram + (gpa - RAM_BASE), buf, len);
    return 0;
}

static void log_line(void *opaque, const char *msg)
{
    struct test *t = opaque;
    snprintf(t->lastlog, sizeof t->lastlog, "%s", msg);
    if (t->verbose) {
        fprintf(stderr, "  log: %s\n", msg);
    }
}

static uint8_t *gpa(struct test *t, uint64_t a)
{
    return t->ram + (a - RAM_BASE);
}

#define FAIL(...)                                                                                          \
    do {                                                                                                   \
        snprintf(t->why, sizeof t->why, __VA_ARGS__);                                                      \
        return -1;                                                                                         \
    } while (0)

static char *replace_proxy(const char *manifest, const char *proxy)
{
    const char *needle = "\"pkvm-7.4\"";
    const char *hit = strstr(manifest, needle);
    size_t n = strlen(manifest), pl = strlen(proxy) + 2;
    char *out = malloc(n + pl + 1);
    if (!out) {
        return NULL;
    }
    if (!hit) {
        memcpy(out, manifest, n + 1);
        return out;
    }
    memcpy(out, manifest, (size_t)(hit - manifest));
    sprintf(out + (hit - manifest), "\"%s\"%s", proxy, hit + strlen(needle));
    return out;
}

static struct spmc_client *client_for(struct test *t, const char *system, char *err, size_t errlen)
{
    struct spmc_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.url = t->url;
    cfg.system = system;
    cfg.token = getenv("SPMC_TOKEN");
    cfg.caller = 0;
    cfg.timeout_ms = 60000;
    return spmc_client_new(&cfg, err, errlen);
}

/* Creates a system with this proxy ("passthrough" or "pkvm-7.4") and a vmm for its host. */
static int sys_up(struct test *t, const char *proxy)
{
    char err[256];
    char *m = replace_proxy(t->manifest, proxy);
    struct spmc_client *c;
    snprintf(t->sysid, sizeof t->sysid, "libspmc-test-%ld-%d-%ld", (long)getpid(), ++g_seq, (long)time(NULL));
    t->admin = client_for(t, t->sysid, err, sizeof err);
    if (!m || !t->admin) {
        free(m);
        FAIL("client: %s", err);
    }
    if (spmc_system_create(t->admin, t->sysid, m) < 0) {
        free(m);
        t->sysid[0] = '\0';
        FAIL("create system: %s", spmc_client_error(t->admin));
    }
    free(m);
    c = client_for(t, t->sysid, err, sizeof err);
    t->wrapped = false;
    t->vmm = c ? spmc_vmm_new(c, ram_read, ram_write, log_line, t) : NULL;
    if (!t->vmm) {
        FAIL("vmm: %s", err);
    }
    memset(t->ram, 0, RAM_SIZE);
    return 0;
}

/* Checks the state has no share left (when the case passed), deletes the system. */
static int sys_down(struct test *t, int rc)
{
    char *state = NULL;
    if (t->sysid[0] && t->admin) {
        if (rc == 0) {
            if (spmc_system_state(t->admin, &state) < 0) {
                snprintf(t->why, sizeof t->why, "state: %s", spmc_client_error(t->admin));
                rc = -1;
            } else {
                const char *p = strstr(state, "\"shares\"");
                if (p) {
                    p += 8;
                    while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\r' || *p == '\t') {
                        p++;
                    }
                    if (*p == '[') {
                        p++;
                    }
                    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
                        p++;
                    }
                }
                if (!p || *p != ']') {
                    snprintf(t->why, sizeof t->why, "a share is left in the state: %.200s", p ? p : "(no shares)");
                    rc = -1;
                }
                free(state);
            }
        }
        if (spmc_system_delete(t->admin, t->sysid) < 0 && rc == 0) {
            snprintf(t->why, sizeof t->why, "delete: %s", spmc_client_error(t->admin));
            rc = -1;
        }
    }
    spmc_vmm_free(t->vmm);
    spmc_client_free(t->admin);
    t->vmm = NULL;
    t->admin = NULL;
    t->sysid[0] = '\0';
    return rc;
}

/* One FF-A call through the forwarding core; the answer is in t->x, x0 returned. */
static uint64_t ffa(struct test *t, uint64_t x0, uint64_t x1, uint64_t x2, uint64_t x3, uint64_t x4, uint64_t x5,
                    uint64_t x6, uint64_t x7)
{
    memset(t->x, 0, sizeof t->x);
    t->x[0] = x0;
    t->x[1] = x1;
    t->x[2] = x2;
    t->x[3] = x3;
    t->x[4] = x4;
    t->x[5] = x5;
    t->x[6] = x6;
    t->x[7] = x7;
    if (spmc_vmm_forward(t->vmm, 0, SPMC_CONDUIT_HVC, t->x) < 0) {
        fprintf(stderr, "  forward failed: %s\n", t->lastlog);
    }
    return t->x[0];
}

static int ffa_init(struct test *t, uint32_t version)
{
    uint64_t r = ffa(t, FFA_VERSION, version, 0, 0, 0, 0, 0, 0);
    if (r & 0x80000000u) {
        FAIL("FFA_VERSION(0x%x) answered 0x%llx", version, (unsigned long long)r);
    }
    r = ffa(t, FFA_RXTX_MAP_64, TX_ADDR, RX_ADDR, 1, 0, 0, 0, 0);
    if (r != FFA_SUCCESS_32) {
        FAIL("FFA_RXTX_MAP_64 answered 0x%llx w2=0x%llx", (unsigned long long)r, (unsigned long long)t->x[2]);
    }
    return 0;
}

static int ffa_fini(struct test *t)
{
    uint64_t r = ffa(t, FFA_RXTX_UNMAP, 0, 0, 0, 0, 0, 0, 0);
    if (r != FFA_SUCCESS_32) {
        FAIL("FFA_RXTX_UNMAP answered 0x%llx", (unsigned long long)r);
    }
    return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* A memory transaction descriptor in the layout of `version`, one receiver, n constituents. */
static uint32_t build_desc(uint8_t *d, uint32_t version, bool lend, uint16_t receiver, const uint64_t *addr,
                           const uint32_t *pages, uint32_t n)
{
    uint32_t emad, emad_size, comp, i, total = 0;
    uint8_t attrs = lend ? 0 : 0x2F;
    if (version < 0x10001u) {
        emad = 32;
        emad_size = 16;
        memset(d, 0, 64 + 16 * n);
        put16(d, 0);
        d[2] = attrs;
        put32(d + 28, 1);
    } else {
        emad = 48;
        emad_size = version >= 0x10002u ? 32 : 16;
        memset(d, 0, 48 + emad_size + 16 + 16 * n);
        put16(d, 0);
        put16(d + 2, attrs);
        put32(d + 24, emad_size);
        put32(d + 28, 1);
        put32(d + 32, emad);
    }
    comp = emad + emad_size;
    put16(d + emad, receiver);
    d[emad + 2] = 0x2; /* RW */
    put32(d + emad + 4, comp);
    for (i = 0; i < n; i++) {
        put64(d + comp + 16 + 16 * i, addr[i]);
        put32(d + comp + 16 + 16 * i + 8, pages[i]);
        total += pages[i];
    }
    put32(d + comp, total);
    put32(d + comp + 4, n);
    return comp + 16 + 16 * n;
}

/* Sends a descriptor (in fragments of at most frag bytes, multiples of 16) through TX. */
static int mem_send(struct test *t, bool lend, const uint8_t *d, uint32_t total, uint32_t frag, uint64_t *handle)
{
    uint32_t sent = frag < total ? frag : total;
    uint64_t r;
    memcpy(gpa(t, TX_ADDR), d, sent);
    r = ffa(t, lend ? FFA_MEM_LEND_32 : FFA_MEM_SHARE_32, total, sent, 0, 0, 0, 0, 0);
    while (r == FFA_MEM_FRAG_RX) {
        uint64_t h = (t->x[1] & 0xffffffffu) | ((t->x[2] & 0xffffffffu) << 32);
        uint32_t off = (uint32_t)t->x[3];
        uint32_t len;
        if (off != sent) {
            FAIL("FFA_MEM_FRAG_RX offset %u, sent %u", off, sent);
        }
        len = total - sent < frag ? total - sent : frag;
        memcpy(gpa(t, TX_ADDR), d + sent, len);
        sent += len;
        r = ffa(t, FFA_MEM_FRAG_TX, h & 0xffffffffu, h >> 32, len, 0, 0, 0, 0);
    }
    if (r != FFA_SUCCESS_32) {
        FAIL("memory send answered 0x%llx w2=0x%llx", (unsigned long long)r, (unsigned long long)t->x[2]);
    }
    *handle = (t->x[2] & 0xffffffffu) | ((t->x[3] & 0xffffffffu) << 32);
    return 0;
}

static int reclaim(struct test *t, uint64_t handle)
{
    uint64_t r = ffa(t, FFA_MEM_RECLAIM, handle & 0xffffffffu, handle >> 32, 0, 0, 0, 0, 0);
    if (r != FFA_SUCCESS_32) {
        FAIL("FFA_MEM_RECLAIM answered 0x%llx w2=0x%llx", (unsigned long long)r, (unsigned long long)t->x[2]);
    }
    return 0;
}

/* Asks the memory partition to retrieve `handle`, check every byte == check, fill with `fill`. */
static int memory_sp(struct test *t, uint64_t handle, uint32_t type, uint8_t check, uint8_t fill,
                     uint32_t want_pages)
{
    uint64_t r = ffa(t, FFA_DIRECT_REQ_64, MEMORY_ID, 0, handle & 0xffffffffu, handle >> 32, type,
                     0x100u | check, 0x100u | fill);
    if (r != FFA_DIRECT_RESP_64) {
        FAIL("direct request to memory answered 0x%llx w2=0x%llx", (unsigned long long)r,
             (unsigned long long)t->x[2]);
    }
    if ((uint32_t)t->x[3] != 0 || (uint32_t)t->x[5] != want_pages) {
        FAIL("memory partition: status %llu (function 0x%llx), %llu pages retrieved, wanted %u",
             (unsigned long long)t->x[3], (unsigned long long)t->x[4], (unsigned long long)t->x[5], want_pages);
    }
    return 0;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i] != v) {
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- cases */

static int case_smc_version(struct test *t, const char *proxy, uint32_t version)
{
    struct spmc_client *c;
    char err[256];
    uint64_t x[SPMC_NREGS] = { FFA_VERSION, version };
    int rc;
    if (sys_up(t, proxy) < 0) {
        return -1;
    }
    c = client_for(t, t->sysid, err, sizeof err);
    if (!c) {
        FAIL("client: %s", err);
    }
    rc = spmc_smc(c, 0, SPMC_CONDUIT_HVC, x, NULL, 0, NULL, 0);
    if (rc < 0) {
        snprintf(t->why, sizeof t->why, "spmc_smc: %s", spmc_client_error(c));
    } else if (x[0] & 0x80000000u || x[0] < 0x10000u) {
        snprintf(t->why, sizeof t->why, "FFA_VERSION answered 0x%llx", (unsigned long long)x[0]);
        rc = -1;
    }
    spmc_client_free(c);
    return rc;
}

static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000001u);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static int case_unreachable(struct test *t, const char *proxy, uint32_t version)
{
    char url[64], err[256];
    struct spmc_config cfg;
    struct spmc_client *c;
    struct spmc_vmm *v;
    uint64_t x[SPMC_NREGS] = { FFA_VERSION, 0x10001 };
    (void)proxy;
    (void)version;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    memset(&cfg, 0, sizeof cfg);
    cfg.url = url;
    cfg.system = "default";
    cfg.timeout_ms = 5000;
    c = spmc_client_new(&cfg, err, sizeof err);
    if (!c) {
        FAIL("client: %s", err);
    }
    if (spmc_smc(c, 0, SPMC_CONDUIT_HVC, x, NULL, 0, NULL, 0) == 0) {
        spmc_client_free(c);
        FAIL("spmc_smc to a closed port succeeded");
    }
    if (!strstr(spmc_client_error(c), "connect") || !strstr(spmc_client_error(c), "refused")) {
        snprintf(t->why, sizeof t->why, "error does not name the connection failure: %s", spmc_client_error(c));
        spmc_client_free(c);
        return -1;
    }
    if (x[0] != FFA_VERSION) {
        spmc_client_free(c);
        FAIL("x[] changed on failure");
    }
    v = spmc_vmm_new(c, ram_read, ram_write, log_line, t);
    t->lastlog[0] = '\0';
    if (spmc_vmm_forward(v, 0, SPMC_CONDUIT_HVC, x) != -1 || x[0] != FFA_ERROR || x[2] != 0xFFFFFFFFu || x[1] ||
        x[3] || x[17]) {
        snprintf(t->why, sizeof t->why, "forward: x0=0x%llx x2=0x%llx", (unsigned long long)x[0],
                 (unsigned long long)x[2]);
        spmc_vmm_free(v);
        return -1;
    }
    if (!strstr(t->lastlog, "refused")) {
        snprintf(t->why, sizeof t->why, "log does not give the reason: %s", t->lastlog);
        spmc_vmm_free(v);
        return -1;
    }
    spmc_vmm_free(v);
    return 0;
}

static int case_unknown_system(struct test *t, const char *proxy, uint32_t version)
{
    char err[256];
    struct spmc_client *c = client_for(t, "libspmc-no-such-system", err, sizeof err);
    struct spmc_vmm *v;
    uint64_t x[SPMC_NREGS] = { FFA_VERSION, 0x10001 };
    (void)proxy;
    (void)version;
    if (!c) {
        FAIL("client: %s", err);
    }
    if (spmc_smc(c, 0, SPMC_CONDUIT_HVC, x, NULL, 0, NULL, 0) == 0 || !strstr(spmc_client_error(c), "404")) {
        snprintf(t->why, sizeof t->why, "want a 404 error, got: %s", spmc_client_error(c));
        spmc_client_free(c);
        return -1;
    }
    v = spmc_vmm_new(c, ram_read, ram_write, log_line, t);
    if (spmc_vmm_forward(v, 0, SPMC_CONDUIT_HVC, x) != -1 || x[0] != FFA_ERROR || x[2] != 0xFFFFFFFFu) {
        spmc_vmm_free(v);
        FAIL("forward did not answer FFA_ERROR/NOT_SUPPORTED");
    }
    spmc_vmm_free(v);
    return 0;
}

static int case_partition_info(struct test *t, const char *proxy, uint32_t version)
{
    uint64_t r;
    uint32_t n, size, i;
    bool seen[4] = { false, false, false, false };
    if (sys_up(t, proxy) < 0 || ffa_init(t, version) < 0) {
        return -1;
    }
    memset(gpa(t, RX_ADDR), 0xEE, PAGE);
    r = ffa(t, FFA_PARTITION_INFO_GET, 0, 0, 0, 0, 0, 0, 0);
    if (r != FFA_SUCCESS_32) {
        FAIL("FFA_PARTITION_INFO_GET answered 0x%llx w2=0x%llx", (unsigned long long)r,
             (unsigned long long)t->x[2]);
    }
    n = (uint32_t)t->x[2];
    size = version < 0x10001u ? 8 : (uint32_t)t->x[3];
    if (n < 3 || n > 4 || size < 8 || n * size > PAGE) {
        FAIL("count %u, size %u", n, size);
    }
    for (i = 0; i < n; i++) {
        uint16_t id = get16(gpa(t, RX_ADDR) + i * size);
        if (id >= ECHO_ID && id <= ECHO_ID + 2) {
            seen[id - ECHO_ID] = true;
        } else {
            FAIL("descriptor %u in guest RX names 0x%x", i, id);
        }
    }
    if (!seen[0] || !seen[1] || !seen[2]) {
        FAIL("guest RX lacks a partition");
    }
    if (ffa(t, FFA_RX_RELEASE, 0, 0, 0, 0, 0, 0, 0) != FFA_SUCCESS_32) {
        FAIL("FFA_RX_RELEASE answered 0x%llx", (unsigned long long)t->x[0]);
    }
    return ffa_fini(t);
}

static int case_echo(struct test *t, const char *proxy, uint32_t version)
{
    uint64_t r;
    if (sys_up(t, proxy) < 0 || ffa_init(t, version) < 0) {
        return -1;
    }
    r = ffa(t, FFA_DIRECT_REQ_64, ECHO_ID, 0, 0x1111, 0x2222, 0x3333, 0x4444, 0x5555);
    if (r != FFA_DIRECT_RESP_64 || t->x[1] != ((uint64_t)ECHO_ID << 16) || t->x[3] != 0x1111 ||
        t->x[4] != 0x2222 || t->x[5] != 0x3333 || t->x[6] != 0x4444 || t->x[7] != 0x5555) {
        FAIL("echo answered x0=0x%llx x1=0x%llx x3=0x%llx x7=0x%llx", (unsigned long long)r,
             (unsigned long long)t->x[1], (unsigned long long)t->x[3], (unsigned long long)t->x[7]);
    }
    return ffa_fini(t);
}

static int case_share(struct test *t, const char *proxy, uint32_t version)
{
    uint8_t d[512];
    uint64_t addr[1] = { SHARE_BASE }, handle;
    uint32_t pages[1] = { 4 }, len;
    if (sys_up(t, proxy) < 0 || ffa_init(t, version) < 0) {
        return -1;
    }
    memset(gpa(t, SHARE_BASE), 0xA5, 4 * PAGE);
    len = build_desc(d, version, false, MEMORY_ID, addr, pages, 1);
    if (mem_send(t, false, d, len, PAGE, &handle) < 0) {
        return -1;
    }
    /* the guest changes the pattern after sharing: the direct request must carry the new bytes */
    memset(gpa(t, SHARE_BASE), 0xA6, 4 * PAGE);
    if (memory_sp(t, handle, 1, 0xA6, 0x5A, 4) < 0) {
        return -1;
    }
    if (!all_bytes(gpa(t, SHARE_BASE), 4 * PAGE, 0x5A)) {
        FAIL("guest RAM does not show the partition's 0x5A after the direct request");
    }
    if (reclaim(t, handle) < 0) {
        return -1;
    }
    if (!all_bytes(gpa(t, SHARE_BASE), 4 * PAGE, 0x5A)) {
        FAIL("guest RAM lost the pattern at reclaim");
    }
    return ffa_fini(t);
}

static int case_lend(struct test *t, const char *proxy, uint32_t version)
{
    uint8_t d[512];
    uint64_t addr[2] = { SHARE_BASE, SHARE_BASE + 0x10000 }, handle;
    uint32_t pages[2] = { 2, 2 }, len;
    if (sys_up(t, proxy) < 0 || ffa_init(t, version) < 0) {
        return -1;
    }
    memset(gpa(t, addr[0]), 0x11, 2 * PAGE);
    memset(gpa(t, addr[1]), 0x11, 2 * PAGE);
    len = build_desc(d, version, true, MEMORY_ID, addr, pages, 2);
    if (mem_send(t, true, d, len, PAGE, &handle) < 0) {
        return -1;
    }
    if (memory_sp(t, handle, 2, 0x11, 0x77, 4) < 0) {
        return -1;
    }
    if (!all_bytes(gpa(t, addr[0]), 2 * PAGE, 0x11) || !all_bytes(gpa(t, addr[1]), 2 * PAGE, 0x11)) {
        FAIL("guest RAM changed before the reclaim of a lend");
    }
    if (reclaim(t, handle) < 0) {
        return -1;
    }
    if (!all_bytes(gpa(t, addr[0]), 2 * PAGE, 0x77) || !all_bytes(gpa(t, addr[1]), 2 * PAGE, 0x77)) {
        FAIL("guest RAM does not show the partition's 0x77 after the reclaim");
    }
    return ffa_fini(t);
}

#define FRAG_MAX 600u

static int frag_send(struct test *t, const char *proxy, uint32_t version, bool lend, uint32_t nconst, uint32_t stride)
{
    static uint64_t addr[FRAG_MAX];
    static uint32_t pages[FRAG_MAX];
    uint8_t *d = malloc(128 + 16 * FRAG_MAX);
    uint64_t handle;
    uint32_t len, i;
    struct spmc_vmm_stats st;
    int rc;
    if (!d) {
        FAIL("out of memory");
    }
    if (sys_up(t, proxy) < 0 || ffa_init(t, version) < 0) {
        free(d);
        return -1;
    }
    for (i = 0; i < nconst; i++) {
        addr[i] = FRAG_BASE + (uint64_t)i * stride * PAGE; /* stride 2: no two are contiguous */
        pages[i] = 1;
        memset(gpa(t, addr[i]), 0x3C, PAGE);
    }
    len = build_desc(d, version, lend, MEMORY_ID, addr, pages, nconst);
    rc = mem_send(t, lend, d, len, PAGE, &handle);
    free(d);
    if (rc < 0) {
        return -1;
    }
    spmc_vmm_stats(t->vmm, &st);
    if (st.shares_tracked != 1) {
        FAIL("%u shares tracked, want 1", st.shares_tracked);
    }
    if (lend) {
        if (memory_sp(t, handle, 2, 0x3C, 0xC3, nconst) < 0) {
            return -1;
        }
        for (i = 0; i < nconst; i++) {
            if (!all_bytes(gpa(t, addr[i]), PAGE, 0x3C)) {
                FAIL("lent page 0x%llx changed before the reclaim", (unsigned long long)addr[i]);
            }
        }
    } else {
        /* the guest changes every page after the share: all must be pushed before the direct request */
        for (i = 0; i < nconst; i++) {
            memset(gpa(t, addr[i]), 0x3D, PAGE);
        }
        if (memory_sp(t, handle, 1, 0x3D, 0xC3, nconst) < 0) {
            return -1;
        }
        for (i = 0; i < nconst; i++) {
            if (!all_bytes(gpa(t, addr[i]), PAGE, 0xC3)) {
                FAIL("shared page 0x%llx does not show 0xC3 after the direct request", (unsigned long long)addr[i]);
            }
        }
    }
    if (reclaim(t, handle) < 0) {
        return -1;
    }
    for (i = 0; i < nconst; i++) {
        if (!all_bytes(gpa(t, addr[i]), PAGE, 0xC3)) {
            FAIL("page 0x%llx does not show the partition's 0xC3", (unsigned long long)addr[i]);
        }
        if (stride > 1 && gpa(t, addr[i] + PAGE)[0] != 0) {
            FAIL("page 0x%llx (not sent) was written", (unsigned long long)addr[i] + PAGE);
        }
    }
    spmc_vmm_stats(t->vmm, &st);
    if (st.shares_tracked != 0) {
        FAIL("%u shares still tracked after the reclaim", st.shares_tracked);
    }
    return ffa_fini(t);
}

/* A hostile guest: constituents and a descriptor buffer that run past 2^64 (none may reach the VMM's
 * callbacks as a wrapping range), offsets and counts out of the descriptor, fragments longer than TX.
 * Spmc refuses each; the VMM must pass the answers through, track nothing and keep working. */
static int case_hostile_guest(struct test *t, const char *proxy, uint32_t version)
{
    uint8_t d[512];
    uint64_t addr[3] = { 0xFFFFFFFFFFFFF000ull, 0, 0xFFFFFFFFFFFFE000ull };
    uint32_t pages[3] = { 1, 1, 4 }, len;
    struct spmc_vmm_stats st;
    uint64_t r;
    if (sys_up(t, proxy) < 0 || ffa_init(t, version) < 0) {
        return -1;
    }
    len = build_desc(d, version, false, MEMORY_ID, addr, pages, 3);
    memcpy(gpa(t, TX_ADDR), d, len);
    ffa(t, FFA_MEM_SHARE_32, len, len, 0, 0, 0, 0, 0);
    /* the descriptor in a buffer at the top of the address space */
    ffa(t, FFA_MEM_SHARE_32 | 0x40000000u, len, len, 0xFFFFFFFFFFFFF000ull, 2, 0, 0, 0);
    /* EMAD and composite offsets far out, a huge constituent count */
    len = build_desc(d, version, false, MEMORY_ID, addr, pages, 1);
    memcpy(gpa(t, TX_ADDR), d, len);
    put32(gpa(t, TX_ADDR) + 32, 0xFFFFFFF0u);
    ffa(t, FFA_MEM_SHARE_32, len, len, 0, 0, 0, 0, 0);
    memcpy(gpa(t, TX_ADDR), d, len);
    put32(gpa(t, TX_ADDR) + 48 + 4, 0xFFFFFFF0u);
    ffa(t, FFA_MEM_SHARE_32, len, len, 0, 0, 0, 0, 0);
    memcpy(gpa(t, TX_ADDR), d, len);
    put32(gpa(t, TX_ADDR) + 64 + 4, 0xFFFFFFFFu); /* composite at 64: its count */
    ffa(t, FFA_MEM_SHARE_32, len, len, 0, 0, 0, 0, 0);
    /* a fragment longer than TX, a total beyond any descriptor, a FRAG_TX for no transaction */
    ffa(t, FFA_MEM_SHARE_32, 8192, 8192, 0, 0, 0, 0, 0);
    ffa(t, FFA_MEM_SHARE_32, 0xFFFFFFFFu, len, 0, 0, 0, 0, 0);
    ffa(t, FFA_MEM_FRAG_TX, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0, 0, 0, 0);
    if (t->wrapped) {
        FAIL("a guest-memory callback got a range running past 2^64");
    }
    spmc_vmm_stats(t->vmm, &st);
    if (st.shares_tracked != 0) {
        FAIL("%u shares tracked after refused sends", st.shares_tracked);
    }
    r = ffa(t, FFA_DIRECT_REQ_64, ECHO_ID, 0, 0x1111, 0x2222, 0x3333, 0x4444, 0x5555);
    if (r != FFA_DIRECT_RESP_64 || t->x[3] != 0x1111) {
        FAIL("echo after the hostile calls answered 0x%llx", (unsigned long long)r);
    }
    return ffa_fini(t);
}

/* A descriptor in a separate buffer (x3/x4): Spmc refuses it (INVALID_PARAMETERS, as Hafnium); the VMM
 * must pass the answer through and track nothing. */
static int case_separate_buffer(struct test *t, const char *proxy, uint32_t version)
{
    uint8_t d[512];
    uint64_t addr[1] = { SHARE_BASE }, buf = 0x40020000ull;
    uint32_t pages[1] = { 1 }, len;
    struct spmc_vmm_stats st;
    uint64_t r;
    if (sys_up(t, proxy) < 0 || ffa_init(t, version) < 0) {
        return -1;
    }
    len = build_desc(d, version, false, MEMORY_ID, addr, pages, 1);
    memcpy(gpa(t, buf), d, len);
    r = ffa(t, FFA_MEM_SHARE_32, len, len, buf, 1, 0, 0, 0);
    if (r != FFA_ERROR || (uint32_t)t->x[2] != 0xFFFFFFFEu) {
        FAIL("answered 0x%llx w2=0x%llx, want FFA_ERROR/INVALID_PARAMETERS", (unsigned long long)r,
             (unsigned long long)t->x[2]);
    }
    spmc_vmm_stats(t->vmm, &st);
    if (st.shares_tracked != 0) {
        FAIL("%u shares tracked after a refused send", st.shares_tracked);
    }
    return ffa_fini(t);
}

/* A read the caller may not make comes back refused with a reason; the call itself succeeds. */
static int case_refused_read(struct test *t, const char *proxy, uint32_t version)
{
    struct spmc_client *c;
    char err[256];
    uint8_t buf[16];
    uint64_t x[SPMC_NREGS] = { FFA_VERSION, version };
    struct spmc_range rd = { 0x60000000ull, sizeof buf, buf, true };
    int rc = 0;
    if (sys_up(t, proxy) < 0) {
        return -1;
    }
    c = client_for(t, t->sysid, err, sizeof err);
    if (!c) {
        FAIL("client: %s", err);
    }
    if (spmc_smc(c, 0, SPMC_CONDUIT_HVC, x, NULL, 0, &rd, 1) < 0) {
        snprintf(t->why, sizeof t->why, "spmc_smc: %s", spmc_client_error(c));
        rc = -1;
    } else if (rd.ok || !spmc_client_refusal(c)[0]) {
        snprintf(t->why, sizeof t->why, "read of the echo partition's memory not refused");
        rc = -1;
    }
    spmc_client_free(c);
    return rc;
}

/* A one-shot HTTP server in a child process: answers the first request with `answer` (or never, if NULL). */
static pid_t fake_server(const char *answer, int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    pid_t pid;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000001u);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        return -1;
    }
    *port = ntohs(a.sin_port);
    pid = fork();
    if (pid == 0) {
        char buf[8192];
        size_t got = 0;
        int cfd = accept(fd, NULL, NULL);
        while (cfd >= 0 && got < sizeof buf - 1) {
            ssize_t n = read(cfd, buf + got, sizeof buf - 1 - got);
            if (n <= 0) {
                break;
            }
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n") && strstr(strstr(buf, "\r\n\r\n"), "}")) {
                break;
            }
        }
        if (answer && cfd >= 0) {
            size_t off = 0, n = strlen(answer);
            while (off < n) {
                ssize_t w = write(cfd, answer + off, n - off);
                if (w <= 0) {
                    break;
                }
                off += (size_t)w;
            }
        } else {
            sleep(5);
        }
        _exit(0);
    }
    close(fd);
    return pid;
}

/* Drives the HTTP and JSON layers against canned answers (no Spmc needed). */
static int case_http_edge_cases(struct test *t, const char *proxy, uint32_t version)
{
    static const char *const part1 = "{\"x\":[\"0x84000061\",";
    static const char *const part2 =
        " \"1\",\"0x2\",\"0x3\",\"0x4\",\"0x5\",\"0x6\",\"0x7\",\"0x8\",\"0x9\",\"0xa\",\"0xb\",\"0xc\","
        "\"0xd\",\"0xe\",\"0xf\",\"0x10\",\"0x11\"],\"reads\":[{\"address\":\"0x40000000\",\"data\":\"\\u002B/8=\"}],"
        "\"decoded\":{\"a\":[1,2,{\"b\":null}],\"c\":true,\"s\":\"q\\\"}\"}}";
    char chunked[1024];
    static const char *const garbage = "HTTP/1.0 200 OK\r\nContent-Length: 8\r\n\r\n{\"x\":[1,";
    static const char *const truncated = "HTTP/1.0 200 OK\r\nContent-Length: 90\r\n\r\n{\"x\":[1,";
    static const char *const busy = "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nbusy now";
    struct {
        const char *answer;
        const char *want; /* NULL: success */
    } steps[] = { { chunked, NULL }, { garbage, "18 registers" }, { truncated, "truncated" }, { busy, "503" }, { NULL, "timed out" } };
    size_t k;
    (void)proxy;
    (void)version;
    snprintf(chunked, sizeof chunked,
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
             "%zx\r\n%s\r\n%zX;ext=1\r\n%s\r\n0\r\n\r\n", strlen(part1), part1, strlen(part2), part2);
    for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        int port = 0, rc, status;
        char url[64], err[256];
        uint8_t data[2] = { 0, 0 };
        struct spmc_range rd = { 0x40000000ull, 2, data, false };
        uint64_t x[SPMC_NREGS] = { FFA_VERSION };
        struct spmc_config cfg;
        struct spmc_client *c;
        pid_t pid = fake_server(steps[k].answer, &port);
        if (pid < 0) {
            FAIL("fake server: cannot listen");
        }
        snprintf(url, sizeof url, "http://localhost:%d", port);
        memset(&cfg, 0, sizeof cfg);
        cfg.url = url;
        cfg.system = "s";
        cfg.timeout_ms = 400;
        c = spmc_client_new(&cfg, err, sizeof err);
        rc = c ? spmc_smc(c, 0, SPMC_CONDUIT_HVC, x, NULL, 0, &rd, 1) : -1;
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (!c) {
            FAIL("client: %s", err);
        }
        if (!steps[k].want && (rc != 0 || x[0] != 0x84000061u || x[1] != 1 || x[17] != 0x11 || !rd.ok ||
                               data[0] != 0xFB || data[1] != 0xFF)) {
            snprintf(t->why, sizeof t->why, "step %zu: rc %d x0 0x%llx x17 0x%llx read %d %02x%02x: %s", k, rc,
                     (unsigned long long)x[0], (unsigned long long)x[17], rd.ok, data[0], data[1],
                     spmc_client_error(c));
            spmc_client_free(c);
            return -1;
        }
        if (steps[k].want && (rc == 0 || !strstr(spmc_client_error(c), steps[k].want))) {
            snprintf(t->why, sizeof t->why, "step %zu: want an error with '%s', got rc %d: %s", k, steps[k].want, rc,
                     spmc_client_error(c));
            spmc_client_free(c);
            return -1;
        }
        spmc_client_free(c);
    }
    return 0;
}

/* A hostile or broken server: a read whose data string is cut off, a read with fewer bytes than asked
 * (the call's registers still count: the read is refused, not the call) and JSON nested too deep. */
static int case_http_hostile_answers(struct test *t, const char *proxy, uint32_t version)
{
    static const char *const regs =
        "{\"x\":[\"0x84000061\",\"0x1\",\"0x2\",\"0x3\",\"0x4\",\"0x5\",\"0x6\",\"0x7\",\"0x8\",\"0x9\",\"0xa\","
        "\"0xb\",\"0xc\",\"0xd\",\"0xe\",\"0xf\",\"0x10\",\"0x11\"]";
    char bodies[3][4096], answers[3][4200];
    struct {
        const char *want_refusal; /* rc 0, the read refused with this in the reason; NULL: rc -1 */
        const char *want_error;
    } steps[] = { { "0x40000000", NULL }, { "1 of 2", NULL }, { NULL, "18 registers" } };
    size_t k;
    (void)proxy;
    (void)version;
    snprintf(bodies[0], sizeof bodies[0], "%s,\"reads\":[{\"address\":\"0x40000000\",\"data\":\"+/8=", regs);
    snprintf(bodies[1], sizeof bodies[1], "%s,\"reads\":[{\"address\":\"0x40000000\",\"data\":\"+w==\"}]}", regs);
    {
        size_t n = 0, i;
        n += (size_t)snprintf(bodies[2], sizeof bodies[2], "{\"decoded\":");
        for (i = 0; i < 1000; i++) {
            bodies[2][n++] = '[';
        }
        for (i = 0; i < 1000; i++) {
            bodies[2][n++] = ']';
        }
        snprintf(bodies[2] + n, sizeof bodies[2] - n, ",%s}", regs + 1);
    }
    for (k = 0; k < 3; k++) {
        snprintf(answers[k], sizeof answers[k], "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
                 strlen(bodies[k]), bodies[k]);
    }
    for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        int port = 0, rc, status;
        char url[64], err[256];
        uint8_t data[2] = { 0, 0 };
        struct spmc_range rd = { 0x40000000ull, 2, data, false };
        uint64_t x[SPMC_NREGS] = { FFA_VERSION };
        struct spmc_config cfg;
        struct spmc_client *c;
        pid_t pid = fake_server(answers[k], &port);
        if (pid < 0) {
            FAIL("fake server: cannot listen");
        }
        snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
        memset(&cfg, 0, sizeof cfg);
        cfg.url = url;
        cfg.system = "s";
        cfg.timeout_ms = 2000;
        c = spmc_client_new(&cfg, err, sizeof err);
        rc = c ? spmc_smc(c, 0, SPMC_CONDUIT_HVC, x, NULL, 0, &rd, 1) : -1;
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (!c) {
            FAIL("client: %s", err);
        }
        if (steps[k].want_refusal &&
            (rc != 0 || x[0] != 0x84000061u || x[17] != 0x11 || rd.ok ||
             !strstr(spmc_client_refusal(c), steps[k].want_refusal))) {
            snprintf(t->why, sizeof t->why, "step %zu: rc %d x0 0x%llx read ok %d, refusal '%s': %s", k, rc,
                     (unsigned long long)x[0], rd.ok, spmc_client_refusal(c), spmc_client_error(c));
            spmc_client_free(c);
            return -1;
        }
        if (steps[k].want_error && (rc == 0 || !strstr(spmc_client_error(c), steps[k].want_error))) {
            snprintf(t->why, sizeof t->why, "step %zu: want an error with '%s', got rc %d: %s", k,
                     steps[k].want_error, rc, spmc_client_error(c));
            spmc_client_free(c);
            return -1;
        }
        spmc_client_free(c);
    }
    return 0;
}

static int case_bad_urls(struct test *t, const char *proxy, uint32_t version)
{
    static const char *const bad[] = { "https://127.0.0.1:1", "127.0.0.1:80", "http://", "http://[::1", "http://h:x" };
    static const char *const good[] = { "http://127.0.0.1:5080", "http://[::1]:5080/", "http://localhost",
                                        "http://spmc.example:80/prefix" };
    struct spmc_config cfg;
    char err[256];
    size_t k;
    (void)proxy;
    (void)version;
    memset(&cfg, 0, sizeof cfg);
    cfg.system = "default";
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct spmc_client *c;
        cfg.url = bad[k];
        err[0] = '\0';
        c = spmc_client_new(&cfg, err, sizeof err);
        if (c || !err[0]) {
            spmc_client_free(c);
            FAIL("URL %s accepted", bad[k]);
        }
    }
    for (k = 0; k < sizeof good / sizeof good[0]; k++) {
        struct spmc_client *c;
        cfg.url = good[k];
        c = spmc_client_new(&cfg, err, sizeof err);
        if (!c) {
            FAIL("URL %s refused: %s", good[k], err);
        }
        spmc_client_free(c);
    }
    return 0;
}

static int case_frag_share(struct test *t, const char *proxy, uint32_t version)
{
    return frag_send(t, proxy, version, false, 300, 2);
}

/* 600 adjacent single-page constituents in three fragments: merged into ranges, cut at 1 MiB */
static int case_frag_share_contiguous(struct test *t, const char *proxy, uint32_t version)
{
    return frag_send(t, proxy, version, false, 600, 1);
}

static int case_frag_lend(struct test *t, const char *proxy, uint32_t version)
{
    return frag_send(t, proxy, version, true, 300, 2);
}

struct tcase {
    const char *name;
    int (*fn)(struct test *t, const char *proxy, uint32_t version);
    const char *proxy;
    uint32_t version;
};

static const struct tcase cases[] = {
    { "smc_version_passthrough", case_smc_version, "passthrough", 0x10001 },
    { "smc_version_pkvm", case_smc_version, "pkvm-7.4", 0x10001 },
    { "bad_urls", case_bad_urls, NULL, 0 },
    { "http_edge_cases", case_http_edge_cases, NULL, 0 },
    { "http_hostile_answers", case_http_hostile_answers, NULL, 0 },
    { "hostile_guest_passthrough", case_hostile_guest, "passthrough", 0x10001 },
    { "unreachable_server", case_unreachable, NULL, 0 },
    { "unknown_system", case_unknown_system, NULL, 0 },
    { "refused_read", case_refused_read, "passthrough", 0x10001 },
    { "separate_buffer_refused", case_separate_buffer, "passthrough", 0x10001 },
    { "partition_info_v10_passthrough", case_partition_info, "passthrough", 0x10000 },
    { "partition_info_v10_pkvm", case_partition_info, "pkvm-7.4", 0x10000 },
    { "partition_info_v11_passthrough", case_partition_info, "passthrough", 0x10001 },
    { "partition_info_v11_pkvm", case_partition_info, "pkvm-7.4", 0x10001 },
    { "echo_passthrough", case_echo, "passthrough", 0x10001 },
    { "echo_pkvm", case_echo, "pkvm-7.4", 0x10001 },
    { "share_v10_passthrough", case_share, "passthrough", 0x10000 },
    { "share_v10_pkvm", case_share, "pkvm-7.4", 0x10000 },
    { "share_v11_passthrough", case_share, "passthrough", 0x10001 },
    { "share_v11_pkvm", case_share, "pkvm-7.4", 0x10001 },
    { "share_v12_passthrough", case_share, "passthrough", 0x10002 },
    { "share_v12_pkvm", case_share, "pkvm-7.4", 0x10002 },
    { "lend_v10_passthrough", case_lend, "passthrough", 0x10000 },
    { "lend_v10_pkvm", case_lend, "pkvm-7.4", 0x10000 },
    { "lend_v11_passthrough", case_lend, "passthrough", 0x10001 },
    { "lend_v11_pkvm", case_lend, "pkvm-7.4", 0x10001 },
    { "frag_share_v10_passthrough", case_frag_share, "passthrough", 0x10000 },
    { "frag_share_v10_pkvm", case_frag_share, "pkvm-7.4", 0x10000 },
    { "frag_share_v11_passthrough", case_frag_share, "passthrough", 0x10001 },
    { "frag_share_v11_pkvm", case_frag_share, "pkvm-7.4", 0x10001 },
    { "frag_share_contiguous_v11_passthrough", case_frag_share_contiguous, "passthrough", 0x10001 },
    { "frag_share_contiguous_v11_pkvm", case_frag_share_contiguous, "pkvm-7.4", 0x10001 },
    { "frag_lend_v11_passthrough", case_frag_lend, "passthrough", 0x10001 },
    { "frag_lend_v11_pkvm", case_frag_lend, "pkvm-7.4", 0x10001 },
};

#define NCASES (sizeof cases / sizeof cases[0])

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Timings: n FFA_VERSION through spmc_smc, then n/10 direct requests with a 4-page share synced. */
static int bench(struct test *t, int n, const char *proxy)
{
    uint8_t d[512];
    uint64_t addr[1] = { SHARE_BASE }, handle, x[SPMC_NREGS];
    uint32_t pages[1] = { 4 }, len;
    double t0;
    int i, m = n / 10 > 0 ? n / 10 : 1;
    struct spmc_client *c;
    char err[256];
    if (sys_up(t, proxy) < 0) {
        return -1;
    }
    c = client_for(t, t->sysid, err, sizeof err);
    t0 = now_s();
    for (i = 0; i < n; i++) {
        memset(x, 0, sizeof x);
        x[0] = FFA_VERSION;
        x[1] = 0x10001;
        if (spmc_smc(c, 0, SPMC_CONDUIT_HVC, x, NULL, 0, NULL, 0) < 0) {
            FAIL("%s", spmc_client_error(c));
        }
    }
    printf("bench %s: FFA_VERSION via spmc_smc: %d calls, %.3f ms per call\n", proxy, n,
           (now_s() - t0) * 1000 / n);
    spmc_client_free(c);
    if (ffa_init(t, 0x10001) < 0) {
        return -1;
    }
    t0 = now_s();
    for (i = 0; i < m; i++) {
        ffa(t, FFA_DIRECT_REQ_64, ECHO_ID, 0, 1, 2, 3, 4, 5);
    }
    printf("bench %s: echo direct request via spmc_vmm_forward (TX+RX synced): %d calls, %.3f ms per call\n", proxy,
           m, (now_s() - t0) * 1000 / m);
    memset(gpa(t, SHARE_BASE), 0x42, 4 * PAGE);
    len = build_desc(d, 0x10001, false, MEMORY_ID, addr, pages, 1);
    if (mem_send(t, false, d, len, PAGE, &handle) < 0) {
        return -1;
    }
    t0 = now_s();
    for (i = 0; i < m; i++) {
        if (memory_sp(t, handle, 1, (uint8_t)(0x42 + i), (uint8_t)(0x43 + i), 4) < 0) {
            return -1;
        }
    }
    printf("bench %s: direct request to memory with a 4-page share synced (retrieve, check, write, "
           "relinquish): %d calls, %.3f ms per call\n", proxy, m, (now_s() - t0) * 1000 / m);
    if (reclaim(t, handle) < 0) {
        return -1;
    }
    return ffa_fini(t);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (!f) {
        return NULL;
    }
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            char *nb = realloc(buf, cap + 65536);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap += 65536;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    struct test t;
    const char *only = NULL, *manifest_path = NULL;
    bool list = false;
    int i, failed = 0, ran = 0, bench_n = 0;
    size_t k;

    memset(&t, 0, sizeof t);
    t.url = getenv("SPMC_URL");
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--url") && i + 1 < argc) {
            t.url = argv[++i];
        } else if (!strcmp(argv[i], "--manifest") && i + 1 < argc) {
            manifest_path = argv[++i];
        } else if (!strcmp(argv[i], "--case") && i + 1 < argc) {
            only = argv[++i];
        } else if (!strcmp(argv[i], "--bench") && i + 1 < argc) {
            bench_n = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--list")) {
            list = true;
        } else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
            t.verbose = true;
        } else {
            fprintf(stderr, "usage: test_spmc --url URL --manifest PATH [--list] [--case NAME] [--verbose] "
                            "[--bench N]\n");
            return 2;
        }
    }
    if (list) {
        for (k = 0; k < NCASES; k++) {
            printf("%s\n", cases[k].name);
        }
        return 0;
    }
    if (!t.url || !manifest_path) {
        fprintf(stderr, "test_spmc: --url and --manifest are required\n");
        return 2;
    }
    t.manifest = slurp(manifest_path);
    t.ram = calloc(1, RAM_SIZE);
    if (!t.manifest || !t.ram) {
        fprintf(stderr, "test_spmc: cannot read %s\n", manifest_path);
        return 2;
    }
    if (bench_n > 0) {
        int rc = bench(&t, bench_n, "passthrough");
        rc = sys_down(&t, rc);
        if (rc == 0) {
            rc = bench(&t, bench_n, "pkvm-7.4");
            rc = sys_down(&t, rc);
        }
        if (rc < 0) {
            printf("FAIL bench: %s\n", t.why);
        }
        return rc < 0;
    }
    for (k = 0; k < NCASES; k++) {
        int rc;
        if (only && strcmp(only, cases[k].name) != 0) {
            continue;
        }
        ran++;
        t.why[0] = '\0';
        rc = cases[k].fn(&t, cases[k].proxy, cases[k].version);
        rc = sys_down(&t, rc);
        if (rc == 0) {
            printf("PASS %s\n", cases[k].name);
        } else {
            printf("FAIL %s: %s\n", cases[k].name, t.why);
            failed++;
        }
        fflush(stdout);
    }
    if (only && !ran) {
        printf("FAIL %s: no such case\n", only);
        failed++;
    }
    free(t.manifest);
    free(t.ram);
    return failed ? 1 : 0;
}
