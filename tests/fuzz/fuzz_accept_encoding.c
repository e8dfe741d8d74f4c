/* SPDX-License-Identifier: GPL-2.0-only */
/* The Accept-Encoding header: gzip only when the client allows it, and the
 * choice survives rewrites that keep the header's meaning (letter case,
 * spaces, other codings); a later gzip element decides. */
#include <stdlib.h>

#include "header.h"
#include "input.h"
#include "negotiate.h"

static void same_choice(const char *header, char *rewrite, bool want, const char *how)
{
	bool got = negotiate_gzip(rewrite);

	fuzz_assert(got == want, "%s changed gzip from %d to %d: '%s' -> '%s'", how, want, got,
		    header, rewrite);
	free(rewrite);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = fuzz_whole_string(data, size);
	bool gzip = negotiate_gzip(header);

	fuzz_assert(!gzip || header_mentions(header, "gzip") || header_mentions(header, "*"),
		    "gzip for '%s', which does not allow it", header);
	same_choice(header, header_upper(header), gzip, "upper case");
	same_choice(header, header_spaced(header), gzip, "spaces after commas");
	same_choice(header, header_append(header, "identity"), gzip, "identity");
	same_choice(header, header_append(header, "br;q=1"), gzip, "br");
	same_choice(header, header_append(header, "gzip"), true, "a last gzip");
	same_choice(header, header_append(header, "gzip;q=0"), false, "a last gzip;q=0");
	free(header);
	return 0;
}
