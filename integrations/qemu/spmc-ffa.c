/*
 * Forward a guest's FF-A calls to Spmc, a simulated Arm secure world.
 *
 * arm_handle_psci_call() asks spmc_ffa_handle_call() first. With SPMC_URL
 * unset nothing changes. With it set, SMCCC_VERSION answers 1.2 (and
 * PSCI_FEATURES(SMCCC_VERSION) answers success) so that Linux's arm_ffa
 * driver accepts the conduit, and every FF-A function ID from an AArch64
 * caller goes to Spmc through libspmc, which also keeps Spmc's copy of the
 * guest memory the call needs (RX/TX buffers, shared pages) in step.
 *
 * The call blocks the vCPU (with the BQL held) for one REST round trip,
 * like a synchronous SMC.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/rcu.h"
#include "exec/memory.h"
#include "exec/address-spaces.h"
#include "cpu.h"
#include "internals.h"
#include "kvm-consts.h"
#include "trace.h"
#include "libspmc/spmc.h"

#define SPMC_FFA_SMCCC_VERSION  0x80000000u
#define SPMC_FFA_LOG_LIMIT      50

static struct {
    bool initialised;
    struct spmc_vmm *vmm;   /* NULL: forwarding is off */
    CPUState *cs;           /* the caller of the call being forwarded */
    unsigned logged;        /* messages in the current window */
    int64_t log_window;     /* when it started (monotonic, us) */
} spmc_ffa;

/* True when [gpa, gpa + len) is guest RAM in one piece. */
static bool spmc_ffa_is_ram(AddressSpace *as, hwaddr gpa, hwaddr len)
{
    MemoryRegion *mr;
    hwaddr xlat, l = len;

    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(as, gpa, &xlat, &l, false,
                                 MEMTXATTRS_UNSPECIFIED);
    return memory_region_is_ram(mr) && l >= len;
}

static int spmc_ffa_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    AddressSpace *as = spmc_ffa.cs->as;

    if (!spmc_ffa_is_ram(as, gpa, len)) {
        return -1;
    }
    return address_space_read(as, gpa, MEMTXATTRS_UNSPECIFIED, buf, len)
           != MEMTX_OK;
}

static int spmc_ffa_write(void *opaque, uint64_t gpa, const void *buf,
                          size_t len)
{
    AddressSpace *as = spmc_ffa.cs->as;

    if (!spmc_ffa_is_ram(as, gpa, len)) {
        return -1;
    }
    return address_space_write(as, gpa, MEMTXATTRS_UNSPECIFIED, buf, len)
           != MEMTX_OK;
}

/*
 * At most SPMC_FFA_LOG_LIMIT messages a minute: a guest that keeps failing
 * cannot flood stderr, and a problem that starts later is still reported.
 */
static void spmc_ffa_log(void *opaque, const char *message)
{
    int64_t now = g_get_monotonic_time();

    if (now - spmc_ffa.log_window >= 60 * G_USEC_PER_SEC) {
        if (spmc_ffa.logged > SPMC_FFA_LOG_LIMIT) {
            warn_report("spmc: %u messages suppressed in the last minute",
                        spmc_ffa.logged - SPMC_FFA_LOG_LIMIT);
        }
        spmc_ffa.log_window = now;
        spmc_ffa.logged = 0;
    }
    if (spmc_ffa.logged < SPMC_FFA_LOG_LIMIT) {
        /* libspmc's messages name it already */
        warn_report("%s%s", g_str_has_prefix(message, "spmc") ? "" : "spmc: ",
                    message);
    } else if (spmc_ffa.logged == SPMC_FFA_LOG_LIMIT) {
        warn_report("spmc: further messages suppressed for a minute");
    }
    spmc_ffa.logged++;
}

static void spmc_ffa_init(void)
{
    struct spmc_config cfg;
    struct spmc_client *client;
    char err[256];

    spmc_ffa.initialised = true;
    if (!spmc_config_from_env(&cfg)) {
        return;
    }
    client = spmc_client_new(&cfg, err, sizeof(err));
    if (!client) {
        error_report("spmc: SPMC_URL '%s': %s; FF-A forwarding is off",
                     cfg.url, err);
        return;
    }
    spmc_ffa.vmm = spmc_vmm_new(client, spmc_ffa_read, spmc_ffa_write,
                                spmc_ffa_log, NULL);
    info_report("spmc: forwarding FF-A calls to %s, system '%s'",
                cfg.url, cfg.system);
}

bool spmc_ffa_handle_call(ARMCPU *cpu)
{
    CPUARMState *env = &cpu->env;
    uint64_t x[SPMC_NREGS];
    int64_t start;
    int i;

    if (!spmc_ffa.initialised) {
        spmc_ffa_init();
    }
    if (!spmc_ffa.vmm || !is_a64(env)) {
        return false;
    }

    /* SMCCC: the function ID is W0; the upper half of X0 does not count. */
    switch ((uint32_t)env->xregs[0]) {
    case SPMC_FFA_SMCCC_VERSION:
        env->xregs[0] = SPMC_SMCCC_VERSION_1_2;
        return true;
    case QEMU_PSCI_1_0_FN_PSCI_FEATURES:
        if ((uint32_t)env->xregs[1] == SPMC_FFA_SMCCC_VERSION) {
            env->xregs[0] = 0;
            return true;
        }
        return false;
    }
    if (!spmc_vmm_is_ffa((uint32_t)env->xregs[0])) {
        return false;
    }

    for (i = 0; i < SPMC_NREGS; i++) {
        x[i] = env->xregs[i];
    }
    x[0] = (uint32_t)x[0];
    spmc_ffa.cs = CPU(cpu);
    start = g_get_monotonic_time();
    spmc_vmm_forward(spmc_ffa.vmm, CPU(cpu)->cpu_index,
                     cpu->psci_conduit == QEMU_PSCI_CONDUIT_SMC ?
                     SPMC_CONDUIT_SMC : SPMC_CONDUIT_HVC, x);
    trace_spmc_ffa_call(CPU(cpu)->cpu_index,
                        env->xregs[0], env->xregs[1], env->xregs[2],
                        env->xregs[3], x[0], x[1], x[2], x[3],
                        g_get_monotonic_time() - start);
    for (i = 0; i < SPMC_NREGS; i++) {
        env->xregs[i] = x[i];
    }
    return true;
}
