/* SPDX-License-Identifier: GPL-2.0-only */
/* Loads the --web.config.file: the file, then the certificate, key and CA
 * files it names, all read into memory at start and checked as the server
 * will use them. */
#include "webconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "small_file.h"
#include "tls.h"

/* Relative paths are relative to the web config file's directory, as in
 * exporter-toolkit. */
static char *relative_to(const char *config_path, const char *file)
{
	const char *slash = strrchr(config_path, '/');
	char *joined;

	if (file[0] == '/' || !slash)
		return strdup(file);
	if (asprintf(&joined, "%.*s/%s", (int)(slash - config_path), config_path, file) < 0)
		return NULL;
	return joined;
}

/* Resolves *file and reads it into *pem. */
static int read_pem(const char *config_path, const char *key, char **file, char **pem, char *why,
		    size_t whylen)
{
	char *resolved = relative_to(config_path, *file);
	char reason[256];
	size_t len;

	if (!resolved) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	free(*file);
	*file = resolved;
	*pem = small_file_read(resolved, WEBCONFIG_MAX_BYTES, &len, reason, sizeof(reason));
	if (!*pem) {
		snprintf(why, whylen, "cannot read tls_server_config.%s %s: %s", key, resolved,
			 reason);
		return -1;
	}
	if (strlen(*pem) != len) {
		snprintf(why, whylen, "tls_server_config.%s %s holds a NUL byte: want PEM text",
			 key, resolved);
		return -1;
	}
	return 0;
}

int webconfig_load(const char *path, struct webconfig *out, char *err, size_t errlen)
{
	char why[768];
	size_t len;
	char *text = small_file_read(path, WEBCONFIG_MAX_BYTES, &len, why, sizeof(why));
	int rc;

	memset(out, 0, sizeof(*out));
	if (!text) {
		snprintf(err, errlen, "web config file %s: %s", path, why);
		return -1;
	}
	rc = webconfig_parse(text, len, out, why, sizeof(why));
	free(text);
	if (!rc && out->tls)
		rc = read_pem(path, "cert_file", &out->cert_file, &out->cert_pem, why,
			      sizeof(why)) ||
		     read_pem(path, "key_file", &out->key_file, &out->key_pem, why, sizeof(why)) ||
		     (out->client_ca_file && read_pem(path, "client_ca_file", &out->client_ca_file,
						      &out->client_ca_pem, why, sizeof(why))) ||
		     tls_check(out, why, sizeof(why));
	if (rc) {
		webconfig_free(out);
		snprintf(err, errlen, "web config file %s: %s", path, why);
		return -1;
	}
	return 0;
}
