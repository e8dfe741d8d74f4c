/* SPDX-License-Identifier: GPL-2.0-only */
/* Prints the README's flags table from the flags table, so the two never
 * disagree. `flags-table` writes it to stdout as Markdown. */
#include <stdio.h>
#include "flag_table.h"

int main(void)
{
	printf("| Flag | Default | Meaning |\n|---|---|---|\n");
	for (const struct flag *f = flag_table; f < flag_table + FLAG_COUNT; f++) {
		char help[1024];

		flag_help(f, true, help, sizeof(help));
		printf("| `--%s` | ", f->name);
		if (f->def)
			printf("`%s` ", f->def);
		printf("| ");
		/* A table cell cannot hold a bare pipe. */
		for (const char *c = help; *c; c++)
			printf(*c == '|' ? "\\|" : "%c", *c);
		printf(" |\n");
	}
	return 0;
}
