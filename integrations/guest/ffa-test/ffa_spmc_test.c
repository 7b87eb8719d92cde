// SPDX-License-Identifier: GPL-2.0
/*
 * ffa_spmc_test - drives Spmc's default system through the kernel's own FF-A driver.
 *
 * The module binds to the `echo` and `memory` partitions by UUID. Once both are probed, its init runs five
 * steps through the ops the FF-A driver hands to its client drivers (partition info, a direct request, memory
 * share and lend with contents checked on both sides, a share whose descriptor needs several fragments) and
 * prints one line per step:
 *
 *   ffa-spmc-test: <step>: PASS
 *   ffa-spmc-test: <step>: FAIL <reason>
 *   ffa-spmc-test: summary: <n> passed, <m> failed
 *
 * plus lines starting "ffa-spmc-test: info:" that are for people, not for parsers. Every wait is bounded, every
 * share or lend that succeeded is reclaimed before its pages are freed, and a page that cannot be reclaimed is
 * leaked rather than handed back to the allocator.
 *
 * It builds against Linux 6.1 and 6.12 (Debian bookworm and bookworm-backports).
 */

#include <linux/arm_ffa.h>
#include <linux/completion.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uuid.h>
#include <linux/version.h>
#include <generated/utsrelease.h>

#define TAG "ffa-spmc-test: "

/* The default system of examples/manifests/qemu-virt.json. */
#define ECHO_ID 0x8001
#define MEMORY_ID 0x8002
#define UUID_BASE "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a0"

/* The memory partition's direct request: payload [2] type, [3] check, [4] write; answer [0] status, [2] pages. */
#define MEM_TYPE_SHARE 1
#define MEM_TYPE_LEND 2
#define MEM_BYTE(v) (0x100 | (v))

static unsigned int frag_pages = 320;
module_param(frag_pages, uint, 0444);
MODULE_PARM_DESC(frag_pages, "pages in the fragmented share (each its own constituent)");

static unsigned int probe_wait_ms = 5000;
module_param(probe_wait_ms, uint, 0444);
MODULE_PARM_DESC(probe_wait_ms, "how long to wait for both partitions to be probed");

static char *wrong_check = "";
module_param(wrong_check, charp, 0444);
MODULE_PARM_DESC(wrong_check, "a memory step whose check byte is deliberately wrong (tests the failure path)");

static const struct ffa_device_id spmc_test_ids[] = {
	{ .uuid = UUID_INIT(0x7a3f2b1c, 0x5d4e, 0x4f60, 0x8a, 0x9b, 0x0c, 0x1d, 0x2e, 0x3f, 0x4a, 0x01) },
	{ .uuid = UUID_INIT(0x7a3f2b1c, 0x5d4e, 0x4f60, 0x8a, 0x9b, 0x0c, 0x1d, 0x2e, 0x3f, 0x4a, 0x02) },
	{}
};

static DEFINE_MUTEX(spmc_test_lock);
static DECLARE_COMPLETION(spmc_test_ready);
static struct ffa_device *echo_dev, *mem_dev;
static unsigned int passed, failed;
static bool registered;

static void report(const char *step, const char *reason)
{
	if (reason) {
		failed++;
		pr_info(TAG "%s: FAIL %s\n", step, reason);
	} else {
		passed++;
		pr_info(TAG "%s: PASS\n", step);
	}
}

static int spmc_test_probe(struct ffa_device *fdev)
{
	bool null_uuid = uuid_is_null(&fdev->uuid);
	int ret = 0;

	mutex_lock(&spmc_test_lock);
	/* An FF-A 1.0 partition list has no UUIDs: then the partition ID decides. */
	if (uuid_equal(&fdev->uuid, &spmc_test_ids[0].uuid) || (null_uuid && fdev->vm_id == ECHO_ID))
		echo_dev = fdev;
	else if (uuid_equal(&fdev->uuid, &spmc_test_ids[1].uuid) || (null_uuid && fdev->vm_id == MEMORY_ID))
		mem_dev = fdev;
	else
		ret = -ENODEV;
	if (!ret)
		pr_info(TAG "info: probed partition 0x%04x uuid %pUb\n", fdev->vm_id, &fdev->uuid);
	if (echo_dev && mem_dev)
		complete(&spmc_test_ready);
	mutex_unlock(&spmc_test_lock);
	return ret;
}

static void spmc_test_remove(struct ffa_device *fdev)
{
	mutex_lock(&spmc_test_lock);
	if (fdev == echo_dev)
		echo_dev = NULL;
	if (fdev == mem_dev)
		mem_dev = NULL;
	mutex_unlock(&spmc_test_lock);
}

static struct ffa_driver spmc_test_driver = {
	.name = "ffa_spmc_test",
	.probe = spmc_test_probe,
	.remove = spmc_test_remove,
	.id_table = spmc_test_ids,
};

/* Step 1: one partition per UUID, with the manifest's IDs. */
static void step_partition_info(const struct ffa_ops *ops)
{
	static const u16 want[4] = { 0x8001, 0x8002, 0x8003, 0x8003 };
	const unsigned int cap = 16;
	struct ffa_partition_info *buf;
	char uuid[40], reason[160] = "";
	unsigned int i, n, count;
	int rc;

	/* The driver copies as many entries as the SPMC returns: give it room for more than one. */
	buf = kcalloc(cap, sizeof(*buf), GFP_KERNEL);
	if (!buf) {
		report("partition-info", "out of memory");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(want) && !reason[0]; i++) {
		snprintf(uuid, sizeof(uuid), UUID_BASE "%u", i + 1);
		memset(buf, 0, cap * sizeof(*buf));
		rc = ops->info_ops->partition_info_get(uuid, buf);
		if (rc) {
			snprintf(reason, sizeof(reason), "uuid ...4a0%u: rc=%d", i + 1, rc);
			break;
		}
		for (count = 0, n = 0; n < cap; n++)
			count += buf[n].id != 0;
		pr_info(TAG "info: partition-info uuid ...4a0%u: count=%u id=0x%04x exec_ctxt=%u properties=0x%x\n",
			i + 1, count, buf[0].id, buf[0].exec_ctxt, buf[0].properties);
		if (count != 1 || buf[0].id != want[i])
			snprintf(reason, sizeof(reason), "uuid ...4a0%u: count=%u id=0x%04x, want 1 x 0x%04x", i + 1,
				 count, buf[0].id, want[i]);
	}
	kfree(buf);
	report("partition-info", reason[0] ? reason : NULL);
}

/* Step 2: the echo partition answers the payload it was sent; then a few more for the round-trip time. */
static void step_echo(void)
{
	const unsigned int rounds = 20;
	struct ffa_send_direct_data sent, got;
	unsigned long base = echo_dev->mode_32bit ? 0 : 0x53504d4300000000UL; /* "SPMC" in the upper half */
	char reason[200] = "";
	unsigned int r;
	ktime_t t0;
	int rc;

	t0 = ktime_get();
	for (r = 0; r <= rounds && !reason[0]; r++) {
		sent = (struct ffa_send_direct_data){
			.data0 = base | (0xec000010 + r), .data1 = base | (0xec000020 + r),
			.data2 = base | (0xec000030 + r), .data3 = base | (0xec000040 + r),
			.data4 = base | (0xec000050 + r),
		};
		got = sent;
		rc = echo_dev->ops->msg_ops->sync_send_receive(echo_dev, &got);
		if (rc)
			snprintf(reason, sizeof(reason), "round %u: sync_send_receive rc=%d", r, rc);
		else if (memcmp(&sent, &got, sizeof(sent)))
			snprintf(reason, sizeof(reason),
				 "round %u: sent %lx %lx %lx %lx %lx, got %lx %lx %lx %lx %lx", r, sent.data0,
				 sent.data1, sent.data2, sent.data3, sent.data4, got.data0, got.data1, got.data2,
				 got.data3, got.data4);
	}
	if (!reason[0])
		pr_info(TAG "info: echo: %u direct requests (%s), %lld us each on average\n", rounds + 1,
			echo_dev->mode_32bit ? "32-bit" : "64-bit",
			ktime_us_delta(ktime_get(), t0) / (rounds + 1));
	report("echo", reason[0] ? reason : NULL);
}

struct region {
	unsigned int npages;	/* pages lent or shared */
	bool scattered;		/* one constituent per page, none adjacent */
	struct page **blocks;	/* scattered: order-1 blocks, first page used; else one block */
	unsigned int nblocks;
	unsigned int order;
	struct scatterlist *sgl;
};

static void region_free(struct region *r)
{
	unsigned int i;

	for (i = 0; r->blocks && i < r->nblocks; i++)
		if (r->blocks[i])
			__free_pages(r->blocks[i], r->order);
	kfree(r->blocks);
	kfree(r->sgl);
	r->blocks = NULL;
	r->sgl = NULL;
}

static int region_alloc(struct region *r, unsigned int npages, bool scattered)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->npages = npages;
	r->scattered = scattered;
	r->nblocks = scattered ? npages : 1;
	/* Every other page: two used pages never touch, so no two constituents could merge. */
	r->order = scattered ? 1 : get_order(npages * PAGE_SIZE);
	r->blocks = kcalloc(r->nblocks, sizeof(*r->blocks), GFP_KERNEL);
	r->sgl = kcalloc(r->nblocks, sizeof(*r->sgl), GFP_KERNEL);
	if (!r->blocks || !r->sgl)
		goto fail;
	sg_init_table(r->sgl, r->nblocks);
	for (i = 0; i < r->nblocks; i++) {
		r->blocks[i] = alloc_pages(GFP_KERNEL, r->order);
		if (!r->blocks[i])
			goto fail;
		sg_set_page(&r->sgl[i], r->blocks[i], scattered ? PAGE_SIZE : npages * PAGE_SIZE, 0);
	}
	return 0;
fail:
	region_free(r);
	return -ENOMEM;
}

static u8 *region_page(struct region *r, unsigned int i)
{
	return r->scattered ? page_address(r->blocks[i]) : (u8 *)page_address(r->blocks[0]) + i * PAGE_SIZE;
}

static void region_fill(struct region *r, u8 v)
{
	unsigned int i;

	for (i = 0; i < r->npages; i++)
		memset(region_page(r, i), v, PAGE_SIZE);
}

/* Counts the pages that hold anything but v; names the first byte that differs. */
static unsigned int region_check(struct region *r, u8 v, char *why, size_t len)
{
	unsigned int i, j, bad = 0;
	u8 *p;

	for (i = 0; i < r->npages; i++) {
		p = region_page(r, i);
		for (j = 0; j < PAGE_SIZE && p[j] == v; j++)
			;
		if (j < PAGE_SIZE && !bad++)
			snprintf(why, len, "page %u (pa 0x%llx) byte %u is 0x%02x", i,
				 (unsigned long long)page_to_phys(virt_to_page(p)), j, p[j]);
	}
	return bad;
}

/* Steps 3-5: share or lend, let `memory` check and rewrite the pages, reclaim, check here. */
static void step_memory(const char *step, bool lend, unsigned int npages, bool scattered, u8 fill, u8 written,
			bool check_before_reclaim)
{
	const struct ffa_ops *ops = mem_dev->ops;
	struct ffa_mem_region_attributes attr = { .receiver = MEMORY_ID, .attrs = FFA_MEM_RW };
	struct ffa_mem_ops_args args = { .use_txbuf = true, .nattrs = 1, .attrs = &attr, .flags = 0, .tag = 0 };
	struct ffa_send_direct_data d;
	char reason[200] = "", why[96] = "";
	bool outstanding = false;
	struct region r;
	unsigned int bad;
	u64 handle = 0;
	ktime_t t0;
	int rc;

	if (region_alloc(&r, npages, scattered)) {
		report(step, "cannot allocate the pages");
		return;
	}
	region_fill(&r, fill);
	args.sg = r.sgl;

	t0 = ktime_get();
	rc = lend ? ops->mem_ops->memory_lend(&args) : ops->mem_ops->memory_share(&args);
	if (rc) {
		snprintf(reason, sizeof(reason), "memory_%s rc=%d", lend ? "lend" : "share", rc);
		goto out;
	}
	outstanding = true;
	handle = args.g_handle;
	pr_info(TAG "info: %s: %u pages in %u constituents, handle 0x%llx, %lld us\n", step, npages,
		scattered ? npages : 1, handle, ktime_us_delta(ktime_get(), t0));

	d = (struct ffa_send_direct_data){
		.data0 = lower_32_bits(handle), .data1 = upper_32_bits(handle),
		.data2 = lend ? MEM_TYPE_LEND : MEM_TYPE_SHARE, .data3 = MEM_BYTE(fill), .data4 = MEM_BYTE(written),
	};
	if (!strcmp(wrong_check, step))
		d.data3 = MEM_BYTE((u8)~fill);
	rc = mem_dev->ops->msg_ops->sync_send_receive(mem_dev, &d);
	if (rc) {
		snprintf(reason, sizeof(reason), "direct request to memory rc=%d", rc);
		goto out;
	}
	if (d.data0 != 0 || d.data2 != npages) {
		snprintf(reason, sizeof(reason), "memory answered status %lu (function 0x%lx), %lu pages retrieved, want 0 and %u",
			 d.data0, d.data1, d.data2, npages);
		goto out;
	}
	if (check_before_reclaim) {
		bad = region_check(&r, written, why, sizeof(why));
		if (bad) {
			snprintf(reason, sizeof(reason), "before reclaim %u of %u pages not 0x%02x: %s", bad, npages,
				 written, why);
			goto out;
		}
	}
	rc = ops->mem_ops->memory_reclaim(handle, 0);
	if (rc) {
		snprintf(reason, sizeof(reason), "memory_reclaim(0x%llx) rc=%d", handle, rc);
		goto out;
	}
	outstanding = false;
	bad = region_check(&r, written, why, sizeof(why));
	if (bad)
		snprintf(reason, sizeof(reason), "after reclaim %u of %u pages not 0x%02x: %s", bad, npages, written,
			 why);
out:
	if (outstanding) {
		/* Never leave a share behind; if even that fails, the pages stay out of the allocator. */
		rc = ops->mem_ops->memory_reclaim(handle, 0);
		if (rc) {
			pr_info(TAG "info: %s: cleanup reclaim of 0x%llx rc=%d, leaking %u pages\n", step, handle, rc,
				npages);
			kfree(r.blocks);
			kfree(r.sgl);
			report(step, reason);
			return;
		}
	}
	region_free(&r);
	report(step, reason[0] ? reason : NULL);
}

static const char *const steps[] = { "partition-info", "echo", "share", "lend", "share-fragmented" };

static int __init spmc_test_init(void)
{
	const struct ffa_ops *ops;
	char reason[96];
	unsigned int i;
	int rc;

	pr_info(TAG "info: start (built for %s, LINUX_VERSION_CODE 0x%x)\n", UTS_RELEASE, LINUX_VERSION_CODE);
	rc = ffa_register(&spmc_test_driver);
	if (rc) {
		snprintf(reason, sizeof(reason), "ffa_register rc=%d (is the FF-A driver loaded?)", rc);
		for (i = 0; i < ARRAY_SIZE(steps); i++)
			report(steps[i], reason);
		pr_info(TAG "summary: %u passed, %u failed\n", passed, failed);
		/* Stay loaded: an init that fails makes busybox's insmod retry it through init_module(). */
		return 0;
	}
	registered = true;

	if (!wait_for_completion_timeout(&spmc_test_ready, msecs_to_jiffies(probe_wait_ms))) {
		mutex_lock(&spmc_test_lock);
		snprintf(reason, sizeof(reason), "partitions not probed after %u ms: echo %s, memory %s",
			 probe_wait_ms, echo_dev ? "present" : "missing", mem_dev ? "present" : "missing");
		mutex_unlock(&spmc_test_lock);
		for (i = 0; i < ARRAY_SIZE(steps); i++)
			report(steps[i], reason);
		pr_info(TAG "summary: %u passed, %u failed\n", passed, failed);
		return 0;
	}

	ops = echo_dev->ops;
	pr_info(TAG "info: driver FF-A version 0x%x\n", ops->info_ops->api_version_get());
	step_partition_info(ops);
	step_echo();
	step_memory("share", false, 4, false, 0x5a, 0xa5, true);
	step_memory("lend", true, 4, false, 0x3c, 0xc3, false);
	step_memory("share-fragmented", false, frag_pages, true, 0x77, 0x88, false);
	pr_info(TAG "summary: %u passed, %u failed\n", passed, failed);
	return 0;
}

static void __exit spmc_test_exit(void)
{
	if (registered)
		ffa_unregister(&spmc_test_driver);
}

module_init(spmc_test_init);
module_exit(spmc_test_exit);

MODULE_DESCRIPTION("Spmc guest test: the kernel's FF-A ops against Spmc's default system");
MODULE_LICENSE("GPL");
