/* SPDX-License-Identifier: GPL-2.0-only */
/* Kubelet log link names, <pod>_<namespace>_<container>-<id>.log: a name
 * that parses is rebuilt exactly from its parts, and a name built from
 * valid parts parses back into them. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/identity.h"
#include "input.h"

static bool part_ok(const char *s, size_t max)
{
	return *s && strlen(s) < max && !strchr(s, '_');
}

static void check_parsed_name(const char *name)
{
	struct kube_names k;
	char rebuilt[1024];

	if (identity_parse_log_link(name, &k))
		return;
	fuzz_assert(part_ok(k.pod, sizeof(k.pod)) && part_ok(k.namespace, sizeof(k.namespace)) &&
			part_ok(k.container, sizeof(k.container)),
		    "parts '%s' '%s' '%s' of '%s'", k.pod, k.namespace, k.container, name);
	fuzz_assert(strlen(k.container_id) == CONTAINER_ID_LEN &&
			strspn(k.container_id, "0123456789abcdef") == CONTAINER_ID_LEN,
		    "container id '%s' of '%s'", k.container_id, name);
	snprintf(rebuilt, sizeof(rebuilt), "%s_%s_%s-%s.log", k.pod, k.namespace, k.container,
		 k.container_id);
	fuzz_assert(!strcmp(rebuilt, name), "'%s' rebuilt as '%s'", name, rebuilt);
}

/* Parts from the input, an id from its last bytes. */
static void check_built_name(struct fuzz_input *in)
{
	char *pod = fuzz_take_string(in), *ns = fuzz_take_string(in),
	     *container = fuzz_take_string(in);
	char id[CONTAINER_ID_LEN + 1], name[1024];
	struct kube_names k;

	for (size_t i = 0; i < CONTAINER_ID_LEN; i++)
		id[i] = "0123456789abcdef"[fuzz_take_byte(in) % 16];
	id[CONTAINER_ID_LEN] = '\0';
	if (part_ok(pod, sizeof(k.pod)) && part_ok(ns, sizeof(k.namespace)) &&
	    part_ok(container, sizeof(k.container))) {
		snprintf(name, sizeof(name), "%s_%s_%s-%s.log", pod, ns, container, id);
		fuzz_assert(identity_parse_log_link(name, &k) == 0, "'%s' did not parse", name);
		fuzz_assert(!strcmp(k.pod, pod) && !strcmp(k.namespace, ns) &&
				!strcmp(k.container, container) && !strcmp(k.container_id, id),
			    "'%s' parsed as '%s' '%s' '%s' '%s'", name, k.pod, k.namespace,
			    k.container, k.container_id);
	}
	free(pod);
	free(ns);
	free(container);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	char *name = fuzz_whole_string(data, size);

	check_parsed_name(name);
	free(name);
	check_built_name(&in);
	return 0;
}
