# Spmc's device set for aarch64-softmmu: the virt machine; V7M and semihosting only because target/arm in 7.2
# does not link without them; GICv3 so that guests can boot with -M virt,gic-version=3 (Linux 6.12's FF-A
# driver maps the schedule receiver interrupt only on a GICv3).
CONFIG_ARM_VIRT=y
CONFIG_ARM_V7M=y
CONFIG_ARM_COMPATIBLE_SEMIHOSTING=y
CONFIG_ARM_GICV3_TCG=y
