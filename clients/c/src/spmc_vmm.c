/* SPDX-License-Identifier: MIT */
/*
 * libspmc: forwarding a guest's FF-A calls to Spmc and keeping Spmc's copy of guest memory in step.
 * The rule is documented above spmc_vmm_forward() in spmc.h and in docs/vmm-integration.md.
 */
#include "spmc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __GNUC__
#define SPMC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SPMC_PRINTF(a, b)
#endif

#define PAGE 4096u
#define CHUNK_PAGES 256u          /* 1 MiB: Spmc's limit for one write or read */
#define MAX_SYNC_PAGES 4096u      /* pages pushed + pulled for shares in one call (16 MiB) */
#define MAX_SHARE_PAGES 65536u    /* pages tracked for one transaction (256 MiB) */
#define MAX_DESC_BYTES (1u << 20) /* a memory transaction descriptor, all fragments */
#define MAX_TRACKED 128u          /* transactions tracked (Spmc allows 100 outstanding) */
#define MAX_RANGES 16u            /* writes, and reads, Spmc takes with one SMC */

#define FFA_ERROR 0x84000060u
#define FFA_SUCCESS_32 0x84000061u
#define FFA_SUCCESS_64 0xC4000061u
#define FFA_VERSION 0x84000063u
#define FFA_RXTX_MAP_32 0x84000066u
#define FFA_RXTX_MAP_64 0xC4000066u
#define FFA_RXTX_UNMAP 0x84000067u
#define FFA_RUN 0x8400006Du
#define FFA_DIRECT_REQ_32 0x8400006Fu
#define FFA_DIRECT_REQ_64 0xC400006Fu
#define FFA_DIRECT_REQ2 0xC400008Du
#define FFA_MSG_SEND2 0x84000086u
#define FFA_MEM_DONATE_32 0x84000071u
#define FFA_MEM_LEND_32 0x84000072u
#define FFA_MEM_SHARE_32 0x84000073u
#define FFA_MEM_RECLAIM 0x84000077u
#define FFA_MEM_FRAG_RX 0x8400007Au
#define FFA_MEM_FRAG_TX 0x8400007Bu
#define FFA_NOT_SUPPORTED 0xFFFFFFFFu

enum mem_type { MEM_DONATE = 3, MEM_LEND = 2, MEM_SHARE = 1 };

struct span {
    uint64_t addr;
    uint32_t pages;
};

struct spans {
    struct span *v;
    size_t n, cap;
    size_t sealed; /* spans before this index are not extended (they were pushed already) */
    uint64_t pages;
};

/* A transaction: being sent (fragments still coming) or complete (SHARE and LEND, until reclaimed). */
struct txn {
    uint64_t handle;
    bool have_handle; /* false until the first answer names it */
    bool complete;
    enum mem_type type;
    struct spans pages;
    /* while being sent: */
    uint8_t *desc;
    uint32_t total, got;
    uint64_t buf_addr;  /* 0: the descriptor is in TX; else the separate buffer given in x3 */
    uint32_t buf_pages;
    uint32_t next;      /* next constituent to record */
    uint32_t count;     /* constituents */
    uint32_t first;     /* offset of the first constituent; 0 until the header was parsed */
    bool bad;           /* descriptor could not be parsed: no pages recorded */
};

struct spmc_vmm {
    struct spmc_client *client;
    spmc_gpa_read_fn read;
    spmc_gpa_write_fn write;
    spmc_log_fn log;
    void *opaque;
    uint32_t version; /* FF-A version the guest negotiated (0: none yet, 1.1+ layout assumed) */
    bool mapped;
    uint64_t tx, rx;
    uint32_t rxtx_pages;
    struct txn *txns[MAX_TRACKED];
    size_t ntxns;
    struct spmc_vmm_stats stats;
};

/* The ranges of one call, with their buffers. */
struct call {
    struct spmc_range *w, *r;
    size_t nw, nr, capw, capr;
    /* what each read is for, to route the answer */
    uint8_t *rkind;
    uint32_t synced;   /* share pages synced in this call */
    bool capped;
    bool oom;
};

enum read_kind { RK_RX = 0, RK_SHARE = 1, RK_RECLAIM = 2 };

/* The client's last error without its own "spmc: " prefix, to quote inside a log line that has one. */
static const char *client_reason(const struct spmc_vmm *v)
{
    const char *e = spmc_client_error(v->client);
    return strncmp(e, "spmc: ", 6) == 0 ? e + 6 : e;
}

static void vlog(struct spmc_vmm *v, const char *fmt, ...) SPMC_PRINTF(2, 3);
static void vlog(struct spmc_vmm *v, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    if (!v->log) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    v->log(v->opaque, msg);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

/* True when [addr, addr+len) stays below 2^64: a guest may name any address, and a range that wraps would
 * pass a VMM's `gpa + len <= end` check with a small end. */
static bool range_ok(uint64_t addr, uint64_t len)
{
    return len <= UINT64_MAX - addr;
}

bool spmc_vmm_is_ffa(uint64_t function_id)
{
    uint64_t f = function_id & ~(uint64_t)0x10000u;
    return (f >= 0x84000060u && f <= 0x840000FFu) || (f >= 0xC4000060u && f <= 0xC40000FFu);
}

struct spmc_vmm *spmc_vmm_new(struct spmc_client *c, spmc_gpa_read_fn read, spmc_gpa_write_fn write,
                              spmc_log_fn log, void *opaque)
{
    struct spmc_vmm *v;
    if (!c || !read || !write) {
        return NULL;
    }
    v = calloc(1, sizeof *v);
    if (!v) {
        return NULL;
    }
    v->client = c;
    v->read = read;
    v->write = write;
    v->log = log;
    v->opaque = opaque;
    return v;
}

static void txn_free(struct txn *t)
{
    if (t) {
        free(t->desc);
        free(t->pages.v);
        free(t);
    }
}

void spmc_vmm_free(struct spmc_vmm *v)
{
    size_t i;
    if (!v) {
        return;
    }
    for (i = 0; i < v->ntxns; i++) {
        txn_free(v->txns[i]);
    }
    spmc_client_free(v->client);
    free(v);
}

void spmc_vmm_stats(const struct spmc_vmm *v, struct spmc_vmm_stats *out)
{
    size_t i;
    *out = v->stats;
    out->shares_tracked = 0;
    for (i = 0; i < v->ntxns; i++) {
        if (v->txns[i]->complete) {
            out->shares_tracked++;
        }
    }
}

static void txn_remove(struct spmc_vmm *v, struct txn *t)
{
    size_t i;
    for (i = 0; i < v->ntxns; i++) {
        if (v->txns[i] == t) {
            v->txns[i] = v->txns[--v->ntxns];
            break;
        }
    }
    txn_free(t);
}

static struct txn *txn_find(struct spmc_vmm *v, uint64_t handle, bool complete)
{
    size_t i;
    for (i = 0; i < v->ntxns; i++) {
        struct txn *t = v->txns[i];
        if (t->have_handle && t->handle == handle && t->complete == complete) {
            return t;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- building a call's ranges */

static struct spmc_range *call_add(struct call *c, bool write, uint64_t addr, uint32_t len, uint8_t kind)
{
    struct spmc_range **arr = write ? &c->w : &c->r;
    size_t *n = write ? &c->nw : &c->nr, *cap = write ? &c->capw : &c->capr;
    struct spmc_range *rg;
    if (c->oom || !range_ok(addr, len)) {
        return NULL;
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct spmc_range *na = realloc(*arr, nc * sizeof **arr);
        if (!na) {
            c->oom = true;
            return NULL;
        }
        *arr = na;
        if (!write) {
            uint8_t *nk = realloc(c->rkind, nc);
            if (!nk) {
                c->oom = true;
                return NULL;
            }
            c->rkind = nk;
        }
        *cap = nc;
    }
    rg = &(*arr)[*n];
    rg->address = addr;
    rg->length = len;
    rg->ok = false;
    rg->data = malloc(len ? len : 1);
    if (!rg->data) {
        c->oom = true;
        return NULL;
    }
    if (!write) {
        c->rkind[*n] = kind;
    }
    (*n)++;
    return rg;
}

static void call_free(struct call *c)
{
    size_t i;
    for (i = 0; i < c->nw; i++) {
        free(c->w[i].data);
    }
    for (i = 0; i < c->nr; i++) {
        free(c->r[i].data);
    }
    free(c->w);
    free(c->r);
    free(c->rkind);
}

/* Adds guest memory [addr, addr+len) as a write (len <= 1 MiB). Returns the buffer or NULL. */
static const uint8_t *push(struct spmc_vmm *v, struct call *c, uint64_t addr, uint32_t len)
{
    struct spmc_range *rg = call_add(c, true, addr, len, 0);
    if (!rg) {
        return NULL;
    }
    if (v->read(v->opaque, addr, rg->data, len) != 0) {
        vlog(v, "spmc: guest memory 0x%llx+0x%x is not readable: not sent", (unsigned long long)addr,
             (unsigned)len);
        free(rg->data);
        c->nw--;
        return NULL;
    }
    v->stats.bytes_written += len;
    return rg->data;
}

/* Adds the pages of spans as writes (push) and/or reads (pull), in chunks of at most 1 MiB, within the
 * per-call budget. */
static void sync_spans(struct spmc_vmm *v, struct call *c, const struct spans *s, size_t from, bool do_push,
                       uint8_t pull_kind, bool do_pull)
{
    size_t i;
    for (i = from; i < s->n; i++) {
        uint64_t addr = s->v[i].addr;
        uint32_t left = s->v[i].pages;
        while (left > 0) {
            uint32_t n = left < CHUNK_PAGES ? left : CHUNK_PAGES;
            if (c->synced + n > MAX_SYNC_PAGES) {
                if (!c->capped) {
                    vlog(v, "spmc: more than %u shared pages to sync in one call: the rest is not synced",
                         MAX_SYNC_PAGES);
                }
                c->capped = true;
                return;
            }
            c->synced += n;
            if (do_push) {
                push(v, c, addr, n * PAGE);
            }
            if (do_pull) {
                call_add(c, false, addr, n * PAGE, pull_kind);
            }
            addr += (uint64_t)n * PAGE;
            left -= n;
        }
    }
}

static bool spans_add(struct spans *s, uint64_t addr, uint32_t pages)
{
    if (s->n > s->sealed && s->v[s->n - 1].addr + (uint64_t)s->v[s->n - 1].pages * PAGE == addr &&
        s->v[s->n - 1].pages + pages >= pages && s->v[s->n - 1].pages + pages <= 0x7fffffffu) {
        s->v[s->n - 1].pages += pages;
        s->pages += pages;
        return true;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        struct span *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) {
            return false;
        }
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n].addr = addr;
    s->v[s->n].pages = pages;
    s->n++;
    s->pages += pages;
    return true;
}

/* ---------------------------------------------------------------- memory transaction descriptors */

/* Parses the header once enough bytes are there, then records every complete constituent not yet
 * recorded. New spans start at index *from_span (for the caller to push them). */
static void txn_parse(struct spmc_vmm *v, struct txn *t)
{
    const uint8_t *d = t->desc;
    if (t->bad) {
        return;
    }
    if (!t->first) {
        uint32_t emad, count, comp;
        bool v10 = v->version != 0 && v->version < 0x10001u;
        if (v10) {
            if (t->got < 48) {
                goto bad;
            }
            count = rd32(d + 28);
            emad = 32;
        } else {
            if (t->got < 48) {
                goto bad;
            }
            count = rd32(d + 28);
            emad = rd32(d + 32);
        }
        if (count == 0 || emad > t->got || t->got - emad < 16) {
            goto bad;
        }
        comp = rd32(d + emad + 4);
        if (comp > t->got || t->got - comp < 16) {
            goto bad;
        }
        t->count = rd32(d + comp + 4);
        t->first = comp + 16;
        t->next = 0;
    }
    while (t->next < t->count) {
        uint64_t off = (uint64_t)t->first + (uint64_t)t->next * 16;
        uint64_t addr;
        uint32_t pages;
        if (off + 16 > t->got) {
            break;
        }
        addr = rd64(d + off);
        pages = rd32(d + off + 8);
        t->next++;
        if (pages == 0) {
            continue;
        }
        if (!range_ok(addr, (uint64_t)pages * PAGE)) {
            vlog(v, "spmc: constituent 0x%llx of %u pages reaches 2^64: the transaction's "
                 "pages are not synced", (unsigned long long)addr, (unsigned)pages);
            t->bad = true;
            return;
        }
        if (t->pages.pages + pages > MAX_SHARE_PAGES || t->pages.pages + pages < pages) {
            vlog(v, "spmc: transaction of more than %u pages: the rest is not tracked", MAX_SHARE_PAGES);
            t->next = t->count;
            break;
        }
        if (!spans_add(&t->pages, addr, pages)) {
            vlog(v, "spmc: out of memory tracking a transaction");
            t->bad = true;
            return;
        }
    }
    return;
bad:
    vlog(v, "spmc: cannot parse the memory transaction descriptor (%u bytes, FF-A version 0x%x): its pages are "
         "not synced", (unsigned)t->got, (unsigned)v->version);
    t->bad = true;
}

/* Appends `len` bytes of a fragment to t and pushes the new pages with this call. `src` is the TX copy
 * already in the call (or NULL: read the separate buffer from the guest). */
static void txn_append(struct spmc_vmm *v, struct call *c, struct txn *t, const uint8_t *src, uint32_t len)
{
    size_t before = t->pages.n;
    if (len > t->total - t->got) {
        vlog(v, "spmc: memory descriptor fragment of %u bytes exceeds the %u announced: not parsed",
             (unsigned)len, (unsigned)t->total);
        t->bad = true;
        return;
    }
    if (src) {
        memcpy(t->desc + t->got, src, len);
    } else if (v->read(v->opaque, t->buf_addr, t->desc + t->got, len) != 0) {
        vlog(v, "spmc: memory descriptor buffer 0x%llx not readable", (unsigned long long)t->buf_addr);
        t->bad = true;
        return;
    }
    t->got += len;
    t->pages.sealed = before;
    txn_parse(v, t);
    if (!t->bad) {
        sync_spans(v, c, &t->pages, before, true, 0, false);
    }
}

/* The descriptor bytes for a send or fragment: from the TX copy in the call, or the separate buffer. */
static const uint8_t *fragment_source(struct spmc_vmm *v, const uint8_t *txcopy, uint64_t buf_addr,
                                      uint32_t buf_pages, uint32_t len, bool *use_guest)
{
    *use_guest = false;
    if (buf_addr) {
        if (len > (uint64_t)buf_pages * PAGE || !range_ok(buf_addr, (uint64_t)buf_pages * PAGE)) {
            return NULL;
        }
        *use_guest = true;
        return NULL;
    }
    if (!txcopy || len > v->rxtx_pages * PAGE) {
        return NULL;
    }
    return txcopy;
}

/* ---------------------------------------------------------------- forwarding */

static void set_local_error(uint64_t x[SPMC_NREGS])
{
    memset(x, 0, SPMC_NREGS * sizeof x[0]);
    x[0] = FFA_ERROR;
    x[2] = FFA_NOT_SUPPORTED;
}

static bool is_success(uint64_t x0)
{
    return (uint32_t)x0 == FFA_SUCCESS_32 || (uint32_t)x0 == FFA_SUCCESS_64 || x0 == FFA_SUCCESS_64;
}

static int mem_send_type(uint32_t f)
{
    switch (f & ~0x40000000u) {
    case FFA_MEM_SHARE_32: return MEM_SHARE;
    case FFA_MEM_LEND_32: return MEM_LEND;
    case FFA_MEM_DONATE_32: return MEM_DONATE;
    default: return 0;
    }
}

static bool runs_partition(uint32_t f)
{
    return f == FFA_DIRECT_REQ_32 || f == FFA_DIRECT_REQ_64 || f == FFA_DIRECT_REQ2 || f == FFA_MSG_SEND2 ||
           f == FFA_RUN;
}

int spmc_vmm_forward(struct spmc_vmm *v, uint32_t vcpu, enum spmc_conduit conduit, uint64_t x[SPMC_NREGS])
{
    struct call c;
    uint64_t in[SPMC_NREGS];
    uint32_t f = (uint32_t)x[0] & ~0x10000u;
    const uint8_t *txcopy = NULL;
    struct txn *sending = NULL, *reclaim = NULL;
    bool new_txn = false;
    size_t i;
    int type;

    memset(&c, 0, sizeof c);
    memcpy(in, x, sizeof in);
    v->stats.calls++;

    /* 1. RX/TX: TX goes with every call. */
    if (v->mapped) {
        txcopy = push(v, &c, v->tx, v->rxtx_pages * PAGE);
    }

    /* 2. Memory sends and their fragments. */
    type = mem_send_type(f);
    if (type) {
        uint32_t total = (uint32_t)x[1], len = (uint32_t)x[2];
        uint64_t buf_addr = x[3];
        uint32_t buf_pages = (uint32_t)x[4];
        bool use_guest;
        const uint8_t *src;
        if ((f & 0x40000000u) == 0) {
            buf_addr &= 0xffffffffu;
        }
        if (buf_addr && buf_pages && buf_pages <= 256) {
            push(v, &c, buf_addr, buf_pages * PAGE);
        }
        src = fragment_source(v, txcopy, buf_addr, buf_pages, len, &use_guest);
        if (v->ntxns >= MAX_TRACKED) {
            vlog(v, "spmc: %u memory transactions tracked already: this one's pages are not synced",
                 MAX_TRACKED);
        } else if (total == 0 || total > MAX_DESC_BYTES || len == 0 || len > total || (!src && !use_guest)) {
            vlog(v, "spmc: memory send with total %u, fragment %u bytes not parsed: its pages are not synced",
                 (unsigned)total, (unsigned)len);
        } else {
            sending = calloc(1, sizeof *sending);
            if (sending) {
                sending->desc = malloc(total);
            }
            if (!sending || !sending->desc) {
                txn_free(sending);
                sending = NULL;
                vlog(v, "spmc: out of memory tracking a memory send");
            } else {
                sending->type = (enum mem_type)type;
                sending->total = total;
                sending->buf_addr = buf_addr;
                sending->buf_pages = buf_pages;
                v->txns[v->ntxns++] = sending;
                new_txn = true;
                txn_append(v, &c, sending, src, len);
            }
        }
    } else if (f == FFA_MEM_FRAG_TX) {
        uint64_t handle = (x[1] & 0xffffffffu) | ((x[2] & 0xffffffffu) << 32);
        uint32_t len = (uint32_t)x[3];
        sending = txn_find(v, handle, false);
        if (sending) {
            bool use_guest;
            const uint8_t *src = fragment_source(v, txcopy, sending->buf_addr, sending->buf_pages, len, &use_guest);
            if (sending->buf_addr && sending->buf_pages <= 256) {
                push(v, &c, sending->buf_addr, sending->buf_pages * PAGE);
            }
            if (!src && !use_guest) {
                vlog(v, "spmc: FFA_MEM_FRAG_TX of %u bytes not parsed", (unsigned)len);
                sending->bad = true;
            } else {
                txn_append(v, &c, sending, src, len);
            }
        } else {
            vlog(v, "spmc: FFA_MEM_FRAG_TX for unknown handle 0x%llx: pages not synced",
                 (unsigned long long)handle);
        }
    }

    /* 3. Shared pages around calls that can run a partition. */
    if (runs_partition(f)) {
        for (i = 0; i < v->ntxns; i++) {
            struct txn *t = v->txns[i];
            if (t->complete && t->type == MEM_SHARE) {
                sync_spans(v, &c, &t->pages, 0, true, RK_SHARE, true);
            }
        }
    }

    /* 4. Reclaim: read the pages back with the call. */
    if (f == FFA_MEM_RECLAIM) {
        uint64_t handle = (x[1] & 0xffffffffu) | ((x[2] & 0xffffffffu) << 32);
        reclaim = txn_find(v, handle, true);
        if (reclaim) {
            sync_spans(v, &c, &reclaim->pages, 0, false, RK_RECLAIM, true);
        }
    }

    /* RX comes back after every call. */
    if (v->mapped) {
        call_add(&c, false, v->rx, v->rxtx_pages * PAGE, RK_RX);
    }

    if (c.oom) {
        vlog(v, "spmc: out of memory preparing function 0x%x", (unsigned)f);
        goto fail;
    }
    /* Spmc takes at most 16 writes and 16 reads with one SMC: the rest go through its memory API, the
     * writes before the SMC and the reads after it, which is the same for the guest (its vCPU is stopped). */
    for (i = MAX_RANGES; i < c.nw; i++) {
        if (spmc_mem_write(v->client, spmc_client_caller(v->client), c.w[i].address, c.w[i].data,
                           c.w[i].length) < 0) {
            vlog(v, "spmc: write of 0x%llx+0x%x before function 0x%x failed: %s",
                 (unsigned long long)c.w[i].address, (unsigned)c.w[i].length, (unsigned)f,
                 client_reason(v));
        }
    }
    if (spmc_smc(v->client, vcpu, conduit, x, c.w, c.nw < MAX_RANGES ? c.nw : MAX_RANGES, c.r,
                 c.nr < MAX_RANGES ? c.nr : MAX_RANGES) < 0) {
        vlog(v, "spmc: function 0x%x not forwarded: %s", (unsigned)f, client_reason(v));
        goto fail;
    }
    for (i = MAX_RANGES; i < c.nr; i++) {
        if (c.rkind[i] == RK_RECLAIM && !is_success(x[0])) {
            continue;
        }
        if (spmc_mem_read(v->client, spmc_client_caller(v->client), c.r[i].address, c.r[i].data,
                          c.r[i].length) == 0) {
            c.r[i].ok = true;
        } else {
            vlog(v, "spmc: read of 0x%llx+0x%x after function 0x%x failed: %s", (unsigned long long)c.r[i].address,
                 (unsigned)c.r[i].length, (unsigned)f, client_reason(v));
            c.r[i].ok = true; /* logged already: length 0 tells the copy-back below to skip it */
            c.r[i].length = 0;
        }
    }

    /* Copy the reads back. */
    for (i = 0; i < c.nr; i++) {
        struct spmc_range *rg = &c.r[i];
        if (c.rkind[i] == RK_RECLAIM && !is_success(x[0])) {
            continue;
        }
        if (rg->ok && rg->length == 0) {
            continue;
        }
        if (!rg->ok) {
            const char *why = spmc_client_refusal(v->client);
            vlog(v, "spmc: read of 0x%llx+0x%x after function 0x%x refused: %s", (unsigned long long)rg->address,
                 (unsigned)rg->length, (unsigned)f, why[0] ? why : "no reason given");
            continue;
        }
        if (v->write(v->opaque, rg->address, rg->data, rg->length) != 0) {
            vlog(v, "spmc: guest memory 0x%llx+0x%x not writable", (unsigned long long)rg->address,
                 (unsigned)rg->length);
            continue;
        }
        v->stats.bytes_read += rg->length;
    }

    /* Bookkeeping from the answer. */
    if (f == FFA_VERSION && !((uint32_t)x[0] & 0x80000000u)) {
        v->version = (uint32_t)in[1];
    } else if ((f == FFA_RXTX_MAP_64 || f == FFA_RXTX_MAP_32) && is_success(x[0])) {
        uint64_t tx = in[1], rx = in[2];
        uint32_t pages = (uint32_t)in[3] & 0x3f;
        if (f == FFA_RXTX_MAP_32) {
            tx &= 0xffffffffu;
            rx &= 0xffffffffu;
        }
        if (tx && rx && pages && range_ok(tx, pages * PAGE) && range_ok(rx, pages * PAGE)) {
            v->mapped = true;
            v->tx = tx;
            v->rx = rx;
            v->rxtx_pages = pages;
        }
    } else if (f == FFA_RXTX_UNMAP && is_success(x[0])) {
        v->mapped = false;
    }
    if (sending) {
        uint32_t a = (uint32_t)x[0];
        if (a == FFA_MEM_FRAG_RX) {
            sending->handle = (x[1] & 0xffffffffu) | ((x[2] & 0xffffffffu) << 32);
            sending->have_handle = true;
        } else if (is_success(x[0])) {
            sending->handle = (x[2] & 0xffffffffu) | ((x[3] & 0xffffffffu) << 32);
            sending->have_handle = true;
            if (sending->type == MEM_DONATE || sending->bad) {
                txn_remove(v, sending);
            } else {
                if (sending->next < sending->count) {
                    vlog(v, "spmc: transaction 0x%llx completed with %u of %u constituents seen",
                         (unsigned long long)sending->handle, (unsigned)sending->next, (unsigned)sending->count);
                }
                sending->complete = true;
                free(sending->desc);
                sending->desc = NULL;
            }
        } else {
            /* refused, or an answer we do not follow: forget the send */
            txn_remove(v, sending);
        }
        sending = NULL;
    }
    if (reclaim && is_success(x[0])) {
        txn_remove(v, reclaim);
    }
    call_free(&c);
    return 0;

fail:
    if (sending) {
        /* Spmc did not take this fragment: the guest sees an error, and the send is not followed further */
        if (!new_txn) {
            vlog(v, "spmc: memory transaction 0x%llx dropped after a failed fragment",
                 (unsigned long long)sending->handle);
        }
        txn_remove(v, sending);
    }
    call_free(&c);
    set_local_error(x);
    v->stats.failures++;
    return -1;
}
