/* SPDX-License-Identifier: GPL-2.0-only */
/* Prints the README's metric table from the catalogue, so the two never
 * disagree. `metrics-table` writes it to stdout as Markdown. */
#include <stdio.h>
#include "catalogue.h"

static void print_family(const struct family *f, int per_cgroup)
{
	printf("| `%s%s` | %s | ", f->name, family_sample_suffix(f), family_type_name(f->type));
	if (per_cgroup) {
		printf("`" CGROUP_LABEL "`");
		for (unsigned int i = 0; i < IDENTITY_LABELS; i++)
			printf(", `%s`", identity_labels[i]);
		if (pair_labels[f->rows])
			printf(", `%s`", pair_labels[f->rows]);
	}
	if (f->label) {
		printf("%s`%s` (", per_cgroup ? ", " : "", f->label);
		for (unsigned int i = 0; i < f->values; i++)
			printf("%s`%s`", i ? ", " : "", f->label_values[i]);
		printf(")");
	}
	if (f->hist)
		printf(", `le`");
	for (unsigned int i = 0; f->label_names && f->label_names[i]; i++)
		printf("%s`%s`", i ? ", " : "", f->label_names[i]);
	printf(" | ");
	/* A table cell cannot hold a bare pipe. */
	for (const char *c = f->help; *c; c++)
		printf(*c == '|' ? "\\|" : "%c", *c);
	printf(" |\n");
}

int main(void)
{
	printf("| Metric | Type | Labels | Meaning |\n|---|---|---|---|\n");
	for (size_t i = 0; i < cgroup_families_len; i++)
		print_family(&cgroup_families[i], 1);
	for (size_t i = 0; i < exporter_families_len; i++)
		print_family(&exporter_families[i], 0);
	return 0;
}
