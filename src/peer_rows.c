/* SPDX-License-Identifier: GPL-2.0-only */
/* Pair rows: pairs joined to their cgroups' names. */
#include "peer_rows.h"

#include <stdlib.h>
#include <string.h>
#include "scrape.h"

/* Shown for the pairs beyond --peer.max-pairs, in both labels. */
static const char overflow[] = "(overflow)";
/* The command names beyond --process.max-per-cgroup. */
static const char other_comm[] = "(other)";

struct peer_row {
	const struct cgroup_row *row;
	const char *peer;
	size_t pair;
};

static int peer_row_cmp(const void *a, const void *b)
{
	const struct peer_row *x = a, *y = b;
	int d = cgroup_row_cmp(x->row, y->row);

	return d ? d : strcmp(x->peer, y->peer);
}

/* The label value of pair i: its group's name, or its command name. */
static const char *pair_name(const struct pair_values *pairs, const struct pair_kind *kind,
			     size_t i)
{
	const struct ctcp_slot_key *k = &pairs->keys[i];
	struct ctcp_proc *p;

	if (kind->groups)
		return k->id < kind->groups->ngroups ? kind->groups->names[k->id]
						     : kind->groups->names[CTCP_PEER_OTHER];
	p = (struct ctcp_proc *)(void *)(pairs->values + i * pairs->value_size);
	p->comm[CTCP_COMM_LEN - 1] = '\0';
	return k->id == CTCP_COMM_OTHER || !p->comm[0] ? other_comm : p->comm;
}

int pair_rows_snapshot(const struct collector *c, const struct cgroup_row *rows, size_t nrows,
		       const struct pair_values *pairs, const struct pair_kind *kind,
		       struct snapshot *out)
{
	static const struct cgroup_row overflow_row = {.cgroup = overflow};
	struct peer_row *prows = calloc(pairs->n ? pairs->n : 1, sizeof(*prows));
	size_t *row_of = calloc(c->nsamples ? c->nsamples : 1, sizeof(*row_of));
	struct cgroup_values *sum = malloc(sizeof(*sum));
	size_t n = 0, next;
	int rc = -1;

	if (!prows || !row_of || !sum)
		goto out;
	/* Row index + 1 of each sample; 0: not shown (filtered out). */
	for (size_t r = 0; r < nrows; r++)
		row_of[rows[r].sample] = r + 1;
	for (size_t i = 0; i < pairs->n; i++) {
		const struct ctcp_slot_key *k = &pairs->keys[i];
		__u32 sample = k->slot < c->slots_end ? c->sample_of_slot[k->slot] : 0;

		if (k->slot == CTCP_PAIR_OVERFLOW) {
			prows[n++] = (struct peer_row){&overflow_row, overflow, i};
			continue;
		}
		/* A freed slot's pairs wait for its recycling. */
		if (!sample || !row_of[sample - 1])
			continue;
		prows[n++] =
		    (struct peer_row){&rows[row_of[sample - 1] - 1], pair_name(pairs, kind, i), i};
	}
	qsort(prows, n, sizeof(*prows), peer_row_cmp);
	for (size_t i = 0; i < n; i = next) {
		memset(sum, 0, sizeof(*sum));
		for (next = i; next < n && !peer_row_cmp(&prows[next], &prows[i]); next++) {
			const __u64 *v =
			    (const __u64 *)(const void *)(pairs->values +
							  prows[next].pair * pairs->value_size);
			__u64 *to = (__u64 *)(void *)((char *)sum + kind->offset);

			for (size_t w = kind->skip / sizeof(__u64); w < kind->size / sizeof(__u64);
			     w++)
				to[w] += v[w];
		}
		if (snapshot_add_pair(out, prows[i].row->cgroup, &prows[i].row->labels, kind->label,
				      prows[i].peer, sum))
			goto out;
	}
	rc = 0;
out:
	free(prows);
	free(row_of);
	free(sum);
	return rc;
}
