/* SPDX-License-Identifier: MIT */
/* spmc-smc: one SMC to Spmc from the command line; prints the 18 answer registers. */
#include "spmc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr,
            "usage: spmc-smc [--url URL] [--system ID] [--as ENDPOINT] [--vcpu N] [--conduit smc|hvc] X0 [X1 ...]\n"
            "  defaults from SPMC_URL, SPMC_SYSTEM, SPMC_CALLER, SPMC_TOKEN; prints x0..x17, one per line\n");
}

int main(int argc, char **argv)
{
    struct spmc_config cfg;
    struct spmc_client *c;
    uint64_t x[SPMC_NREGS] = { 0 };
    char err[256];
    unsigned vcpu = 0;
    enum spmc_conduit conduit = SPMC_CONDUIT_HVC;
    int i, nx = 0;

    if (!spmc_config_from_env(&cfg)) {
        memset(&cfg, 0, sizeof cfg);
        cfg.system = getenv("SPMC_SYSTEM") ? getenv("SPMC_SYSTEM") : "default";
        cfg.token = getenv("SPMC_TOKEN");
        cfg.caller = getenv("SPMC_CALLER") ? (uint16_t)strtoul(getenv("SPMC_CALLER"), NULL, 0) : 0;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--url") && i + 1 < argc) {
            cfg.url = argv[++i];
        } else if (!strcmp(a, "--system") && i + 1 < argc) {
            cfg.system = argv[++i];
        } else if (!strcmp(a, "--as") && i + 1 < argc) {
            cfg.caller = (uint16_t)strtoul(argv[++i], NULL, 0);
        } else if (!strcmp(a, "--vcpu") && i + 1 < argc) {
            vcpu = (unsigned)strtoul(argv[++i], NULL, 0);
        } else if (!strcmp(a, "--conduit") && i + 1 < argc) {
            conduit = !strcmp(argv[++i], "smc") ? SPMC_CONDUIT_SMC : SPMC_CONDUIT_HVC;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        } else if (nx < SPMC_NREGS) {
            char *end;
            x[nx++] = strtoull(a, &end, 0);
            if (*end) {
                fprintf(stderr, "spmc-smc: not a register value: %s\n", a);
                return 2;
            }
        } else {
            usage();
            return 2;
        }
    }
    if (!cfg.url || nx == 0) {
        usage();
        return 2;
    }
    c = spmc_client_new(&cfg, err, sizeof err);
    if (!c) {
        fprintf(stderr, "spmc-smc: %s\n", err);
        return 2;
    }
    if (spmc_smc(c, vcpu, conduit, x, NULL, 0, NULL, 0) < 0) {
        fprintf(stderr, "spmc-smc: %s\n", spmc_client_error(c));
        spmc_client_free(c);
        return 1;
    }
    for (i = 0; i < SPMC_NREGS; i++) {
        printf("x%d 0x%llx\n", i, (unsigned long long)x[i]);
    }
    spmc_client_free(c);
    return 0;
}
