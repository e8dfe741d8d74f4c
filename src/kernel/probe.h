/* SPDX-License-Identifier: GPL-2.0-only */
/* What the running kernel offers that neither BTF nor a version number
 * says, found by loading tiny programs: BPF atomics that return a value,
 * and the kernel's tick rate (HZ), which no file states when the kernel
 * config is not installed. */
#ifndef PROBE_H
#define PROBE_H

#include <stdbool.h>

/* 0 if the verifier takes atomic compare-and-swap and fetch-add, else the
 * negative errno of the refused load (EINVAL before Linux 5.12; an LSM or
 * lockdown can refuse with another). */
int probe_atomics(void);
/* The kernel's HZ, measured against the monotonic clock; 0 if it cannot
 * be measured. */
unsigned int probe_hz(void);

#endif /* PROBE_H */
