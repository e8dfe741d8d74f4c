/* SPDX-License-Identifier: GPL-2.0-only */
/* Cutting one fuzz input into the pieces a harness needs: C strings (NUL
 * separates them, as in argv and in the kernel's names) and raw bytes. */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_input {
	const uint8_t *data;
	size_t size;
};

/* The whole input as one C string (it ends at the first NUL); free() it. */
char *fuzz_whole_string(const uint8_t *data, size_t size);
/* The bytes up to the next NUL or the end, as a C string; free() it. */
char *fuzz_take_string(struct fuzz_input *in);
/* n bytes, zeros past the end of the input. */
void fuzz_take_bytes(struct fuzz_input *in, void *out, size_t n);
uint8_t fuzz_take_byte(struct fuzz_input *in);

/* A property failed: says which on stderr and aborts, so libFuzzer keeps
 * the input as a crash. */
#define fuzz_assert(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                         \
	} while (0)
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

#endif /* FUZZ_INPUT_H */
