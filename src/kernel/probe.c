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

bool probe_atomics(void)
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
		return false;
	close(fd);
	return true;
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

/* Runs until jiffies move: the tick's jiffies and time, to the run's
 * duration. False after 100 ms without a tick. */
static bool next_tick(int fd, int64_t *j, int64_t *t)
{
	int64_t first = jiffies(fd), start = now_ns();

	while (first >= 0 && now_ns() - start < 100000000) {
		*j = jiffies(fd);
		*t = now_ns();
		if (*j < 0)
			return false;
		if (*j != first)
			return true;
	}
	return false;
}

/* The HZ values kernel/Kconfig.hz offers (every architecture this builds
 * for), and the two some ARM boards fix: 20% apart or more, so the few
 * percent that a late timer tick (a busy host, a virtual machine) adds to
 * the measurement cannot pick the wrong one. */
static const unsigned int hz_choices[] = {100, 200, 250, 300, 500, 1000};

/* The choice nearest to a measured rate; *error is how far off, relative. */
static unsigned int nearest_hz(double hz, double *error)
{
	unsigned int best = 0;

	*error = 1e9;
	for (size_t i = 0; i < sizeof(hz_choices) / sizeof(hz_choices[0]); i++) {
		double e = hz > hz_choices[i] ? hz / hz_choices[i] - 1 : hz_choices[i] / hz - 1;

		if (e < *error) {
			*error = e;
			best = hz_choices[i];
		}
	}
	return best;
}

/* From one tick to another at least 40 ms later: both edges are known to
 * the duration of a test run, a few microseconds, unless the tick itself
 * came late; a measurement that lands between two choices is taken again. */
static unsigned int measure_hz(int fd)
{
	const struct timespec pause = {0, 40000000};
	unsigned int hz = 0;

	for (int attempt = 0; attempt < 3; attempt++) {
		int64_t j1, t1, j2, t2;
		double error;

		if (!next_tick(fd, &j1, &t1) || nanosleep(&pause, NULL) || !next_tick(fd, &j2, &t2))
			return 0;
		hz = nearest_hz((double)(uint32_t)(j2 - j1) * 1e9 / (double)(t2 - t1), &error);
		if (error < 0.08)
			break;
	}
	return hz;
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
