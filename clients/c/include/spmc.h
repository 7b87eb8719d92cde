/* SPDX-License-Identifier: MIT */
/*
 * libspmc: a small C client of Spmc's REST API, for VMMs.
 *
 * C99 and POSIX sockets only (no libcurl, no JSON library), so that a VMM such as QEMU can compile the
 * two source files into its own tree without a new dependency. Not thread-safe: one client (and one
 * spmc_vmm) per thread, or serialise calls (QEMU holds the BQL around them).
 *
 * Two layers:
 *  - spmc_client: one REST call per function (POST /api/v1/systems/{id}/smc and friends).
 *  - spmc_vmm:   forwards a guest's FF-A calls, keeping Spmc's copy of guest memory in step with the guest
 *                (RX/TX buffers, memory shares): the VMM gives it the registers and two callbacks that read
 *                and write guest-physical memory. The synchronisation rule is documented in
 *                docs/vmm-integration.md and above spmc_vmm_forward().
 */
#ifndef SPMC_H
#define SPMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPMC_NREGS 18

/* Configuration. spmc_config_from_env() fills it from SPMC_URL (e.g. "http://127.0.0.1:5080"; unset means
 * forwarding is off), SPMC_SYSTEM (default "default"), SPMC_TOKEN (optional; sent as
 * "Authorization: Bearer <token>"), SPMC_CALLER (the endpoint ID the guest calls as, default 0x0) and
 * SPMC_TIMEOUT_MS (per request, default 30000). */
struct spmc_config {
    const char *url;      /* http://host:port, no path; IPv4, IPv6 in brackets, or a host name */
    const char *system;   /* system ID */
    const char *token;    /* NULL or "" for none */
    uint16_t caller;      /* endpoint ID of the guest */
    int timeout_ms;       /* per request; 0 means 30000 */
};

/* Returns false when SPMC_URL is unset or empty (cfg untouched). Strings point into the environment. */
bool spmc_config_from_env(struct spmc_config *cfg);

struct spmc_client;

/* Parses cfg->url; does not connect. NULL on a bad URL (reason in err). cfg strings are copied. */
struct spmc_client *spmc_client_new(const struct spmc_config *cfg, char *err, size_t errlen);
void spmc_client_free(struct spmc_client *c);

/* The last error of this client in words (transport failure, HTTP status and body, parse error). */
const char *spmc_client_error(const struct spmc_client *c);
/* The reason Spmc gave for the first refused read of the last spmc_smc ("" if none was refused). */
const char *spmc_client_refusal(const struct spmc_client *c);
/* The system ID and caller this client was made for. */
const char *spmc_client_system(const struct spmc_client *c);
uint16_t spmc_client_caller(const struct spmc_client *c);

/* A range of memory sent with a call (written as the caller before it) or read back after it. */
struct spmc_range {
    uint64_t address;
    uint32_t length;
    uint8_t *data;        /* writes: the bytes to write; reads: a buffer of `length` bytes to fill */
    bool ok;              /* reads: set true when Spmc returned the data, false when it refused (see error) */
};

enum spmc_conduit { SPMC_CONDUIT_SMC = 0, SPMC_CONDUIT_HVC = 1 };

/* One SMC: POST /api/v1/systems/{system}/smc with caller, vcpu, conduit, x[0..17], writes and reads.
 * On success x[] holds the answer's 18 registers and each read is filled (ok = true) or marked refused;
 * a read whose data is missing, malformed or of another length than asked counts as refused (the call
 * itself ran, so its registers still stand). spmc_client_refusal() gives the first reason.
 * Spmc takes at most 16 writes and 16 reads, each at most 1 MiB (a larger one is refused here).
 * Returns 0, or -1 with spmc_client_error() set (x[] untouched). */
int spmc_smc(struct spmc_client *c, uint32_t vcpu, enum spmc_conduit conduit, uint64_t x[SPMC_NREGS],
             const struct spmc_range *writes, size_t nwrites, struct spmc_range *reads, size_t nreads);

/* REST helpers used by tests and tools. 0 on success, -1 on error. */
int spmc_system_create(struct spmc_client *c, const char *id, const char *manifest_json);
int spmc_system_delete(struct spmc_client *c, const char *id);
/* GET /api/v1/systems/{system}/state into a malloc'd NUL-terminated string (caller frees). */
int spmc_system_state(struct spmc_client *c, char **json_out);
/* Memory as endpoint `as`: GET / PUT /api/v1/systems/{system}/memory/{address}. */
int spmc_mem_read(struct spmc_client *c, uint16_t as, uint64_t address, void *buf, uint32_t length);
int spmc_mem_write(struct spmc_client *c, uint16_t as, uint64_t address, const void *buf, uint32_t length);

/* ---- Forwarding a guest's FF-A calls ---- */

/* Guest-physical memory access supplied by the VMM: 0 on success, non-zero if the range is not guest RAM.
 * The guest names the addresses, so the VMM must check the whole range; libspmc never passes one that
 * reaches 2^64 (gpa + len does not wrap). */
typedef int (*spmc_gpa_read_fn)(void *opaque, uint64_t gpa, void *buf, size_t len);
typedef int (*spmc_gpa_write_fn)(void *opaque, uint64_t gpa, const void *buf, size_t len);
/* Optional: one line of diagnostics (a refused read, a share the VMM could not parse). */
typedef void (*spmc_log_fn)(void *opaque, const char *message);

struct spmc_vmm;

/* Takes ownership of c. */
struct spmc_vmm *spmc_vmm_new(struct spmc_client *c, spmc_gpa_read_fn read, spmc_gpa_write_fn write,
                              spmc_log_fn log, void *opaque);
void spmc_vmm_free(struct spmc_vmm *v);

/* True for the FF-A function ID ranges a VMM forwards: 0x84000060..0x840000FF and 0xC4000060..0xC40000FF
 * (bit 16, the SVE hint, ignored). SMCCC_VERSION and PSCI_FEATURES stay with the VMM: it must answer
 * SMCCC_VERSION with SPMC_SMCCC_VERSION_1_2 (and PSCI_FEATURES(SMCCC_VERSION) with 0) for Linux's
 * arm_ffa driver to probe. */
bool spmc_vmm_is_ffa(uint64_t function_id);
#define SPMC_SMCCC_VERSION_1_2 0x10002u

/* Forwards one FF-A call made by the guest on `vcpu`: x[] in, the answer out. Never fails towards the guest:
 * if Spmc cannot be reached or refuses the request, x[] becomes FFA_ERROR_32 / NOT_SUPPORTED (x2 =
 * 0xFFFFFFFF, the rest zero) and the reason goes to the log callback. Memory synchronisation (the rule):
 *  1. RX/TX: after a successful FFA_RXTX_MAP (32/64) the buffers are remembered (a successful FFA_RXTX_UNMAP
 *     forgets them); every later call carries the TX pages as writes and reads the RX pages back into the
 *     guest.
 *  2. FFA_MEM_SHARE/LEND/DONATE (32/64) and their FFA_MEM_FRAG_TX fragments: the descriptor is collected
 *     from TX (or from the separate buffer named in x3/x4), in the layout of the FF-A version the guest
 *     negotiated (1.0: EMADs at 32; 1.1+: EMAD size at 24, offset at 32); each constituent's pages are
 *     written to Spmc with the call that carries that constituent, before the call runs (for a descriptor
 *     in one fragment: with the call itself).
 *  3. A completed SHARE's pages are written before and read back after every call that can run a
 *     partition (FFA_MSG_SEND_DIRECT_REQ 32/64, REQ2, FFA_MSG_SEND2, FFA_RUN).
 *  4. A successful FFA_MEM_RECLAIM reads the pages of its handle back (SHARE and LEND) and forgets it;
 *     DONATE is forgotten when it completes. A LEND's pages are not synced in between (the lender has no
 *     access to them).
 * Spmc takes at most 16 writes and 16 reads of at most 1 MiB each with one SMC: ranges are cut at 1 MiB and
 * any beyond 16 go through its memory API (PUT before the SMC, GET after it). At most 4096 shared pages are
 * synced per call and 65536 tracked per transaction; beyond that a log line says what is not synced. A read
 * Spmc refuses is logged and the guest's copy left as it was.
 * Returns 0 when Spmc answered, -1 when x[] was set to the local error. */
int spmc_vmm_forward(struct spmc_vmm *v, uint32_t vcpu, enum spmc_conduit conduit, uint64_t x[SPMC_NREGS]);

/* Counters for tests and traces. */
struct spmc_vmm_stats {
    uint64_t calls, failures, bytes_written, bytes_read;
    uint32_t shares_tracked;
};
void spmc_vmm_stats(const struct spmc_vmm *v, struct spmc_vmm_stats *out);

#ifdef __cplusplus
}
#endif
#endif
