/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel feature probes by loading tiny programs (see probe.h). */
#include "probe.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV64_IMM(d, i)	    INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s)	    INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD64_IMM(d, i)	    INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define STX_DW(d, s, o)	    INSN(BPF_STX | BPF_MEM | BPF_DW, d, s, o, 0)
#define ATOMIC_DW(d, s, op) INSN(BPF_STX | BPF_ATOMIC | BPF_DW, d, s, 0, op)
#define CALL(f)		    INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()		    INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* 10 (r10) is the frame pointer. */
#define FP 10

static int load(enum bpf_prog_type type, const struct bpf_insn *insns, size_t n)
{
	return bpf_prog_load(type, NULL, "GPL", insns, n, NULL);
}

int probe_atomics(void)
{
	/* A stack slot, then r0 = cmpxchg(slot, r0, r2) and r2 = fetch_add(slot, r2):
	 * kernels before 5.12 reject both encodings. */
	const struct bpf_insn insns[] = {
	    MOV64_IMM(1, 0),
	    STX_DW(FP, 1, -8),
	    MOV64_REG(1, FP),
	    ADD64_IMM(1, -8),
	    MOV64_IMM(0, 0),
	    MOV64_IMM(2, 1),
	    ATOMIC_DW(1, 2, BPF_CMPXCHG),
	    ATOMIC_DW(1, 2, BPF_ADD | BPF_FETCH),
	    MOV64_IMM(0, 0),
	    EXIT(),
	};
	int fd = load(BPF_PROG_TYPE_SOCKET_FILTER, insns, sizeof(insns) / sizeof(insns[0]));

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The low 32 bits of jiffies, from a test run of a program that returns
 * them; -1 on failure. */
static int64_t jiffies(int fd)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);

	if (bpf_prog_test_run_opts(fd, &run))
		return -1;
	return run.retval;
}

/* The HZ values kernel/Kconfig.hz offers (every architecture this builds
 * for), and the two some ARM boards fix: 16% apart or more. */
static const unsigned int hz_choices[] = {100, 200, 250, 300, 500, 1000};
#define CHOICES (sizeof(hz_choices) / sizeof(hz_choices[0]))

/* The kernel sets jiffies from its clock, floor((now - base) / tick), at
 * ticks that may come late (a busy host, a virtual machine) but never
 * early: so t - jiffies * tick >= base at any time t after they were read,
 * and it is close to base right after a tick that came on time. With the
 * right tick length that lower bound is the same in the first and the last
 * third of 150 ms of samples; with another it drifts by 16% or more of the
 * 100 ms between them, as long as one tick in each third came within a few
 * ms of its time. The runs go on without a pause, so that the CPU never
 * idles, when its jiffies could lag. */
static unsigned int measure_hz(int fd)
{
	const int64_t span = 150000000;
	double early[CHOICES], late[CHOICES], best_drift = 1e18;
	int64_t start = now_ns(), j0 = jiffies(fd), t;
	unsigned int best = 0;

	for (size_t i = 0; i < CHOICES; i++)
		early[i] = late[i] = 1e18;
	while (j0 >= 0 && now_ns() - start < span) {
		int64_t j = jiffies(fd);
		double *lower;

		/* After the run: jiffies were read before t, so their bound holds
		 * whatever delayed the run or the clock read. */
		t = now_ns();
		lower = t - start < span / 3 ? early : t - start > 2 * span / 3 ? late : NULL;

		if (j < 0)
			return 0;
		for (size_t i = 0; lower && i < CHOICES; i++) {
			double phase =
			    (double)(t - start) - (double)(uint32_t)(j - j0) * 1e9 / hz_choices[i];

			if (phase < lower[i])
				lower[i] = phase;
		}
	}
	for (size_t i = 0; i < CHOICES; i++) {
		double drift = late[i] > early[i] ? late[i] - early[i] : early[i] - late[i];

		if (early[i] < 1e18 && late[i] < 1e18 && drift < best_drift) {
			best_drift = drift;
			best = hz_choices[i];
		}
	}
	return best;
}

unsigned int probe_hz(void)
{
	const struct bpf_insn insns[] = {CALL(BPF_FUNC_jiffies64), EXIT()};
	int fd = load(BPF_PROG_TYPE_RAW_TRACEPOINT, insns, sizeof(insns) / sizeof(insns[0]));
	unsigned int hz;

	if (fd < 0)
		return 0;
	hz = measure_hz(fd);
	close(fd);
	return hz;
}
