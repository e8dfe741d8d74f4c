/* SPDX-License-Identifier: GPL-2.0-only */
/* The Accept header: OpenMetrics or protobuf only when the client asks for
 * it, and the choice survives rewrites that keep the header's meaning
 * (letter case, spaces, element order, an element of q=0 more, of any of
 * the three formats). */
#include <stdlib.h>

#include "header.h"
#include "input.h"
#include "negotiate.h"

static void same_choice(const char *header, char *rewrite, enum exposition_format want,
			const char *how)
{
	enum exposition_format got = negotiate_format(rewrite);

	fuzz_assert(got == want, "%s changed the format from %d to %d: '%s' -> '%s'", how, want,
		    got, header, rewrite);
	free(rewrite);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = fuzz_whole_string(data, size);
	enum exposition_format format = negotiate_format(header);

	fuzz_assert(format == FORMAT_TEXT || format == FORMAT_OPENMETRICS ||
			format == FORMAT_PROTOBUF,
		    "format %d", format);
	fuzz_assert(format != FORMAT_OPENMETRICS || header_mentions(header, "openmetrics-text"),
		    "OpenMetrics for '%s', which does not ask for it", header);
	fuzz_assert(format != FORMAT_PROTOBUF ||
			(header_mentions(header, "application/vnd.google.protobuf") &&
			 header_mentions(header, "io.prometheus.client.MetricFamily") &&
			 header_mentions(header, "delimited")),
		    "protobuf for '%s', which does not ask for it", header);
	same_choice(header, header_upper(header), format, "upper case");
	same_choice(header, header_spaced(header), format, "spaces after commas");
	same_choice(header, header_reversed(header), format, "reversing the elements");
	same_choice(header, header_append(header, "text/plain;q=0"), format, "text at q=0");
	same_choice(header, header_append(header, "application/openmetrics-text;q=0"), format,
		    "OpenMetrics at q=0");
	same_choice(header,
		    header_append(header, "application/vnd.google.protobuf;"
					  "proto=io.prometheus.client.MetricFamily;"
					  "encoding=delimited;q=0"),
		    format, "protobuf at q=0");
	free(header);
	return 0;
}
