/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line flags. Exporter conventions: --flag=value or --flag value,
 * a bad flag or value is one line on stderr and exit status 2. */
#include "flags.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "flag_table.h"
#include "version.h"

/* getopt_long's value for the flag_table entry i is OPT_FIRST + i: past
 * every short flag's. */
#define OPT_FIRST 256

/* --help: the table's flags, their help wrapped at HELP_WIDTH columns and
 * indented to HELP_INDENT. */
#define HELP_INDENT 29
#define HELP_WIDTH  80

static const char usage_head[] =
    "usage: cgroup_tcp_exporter [flags]\n"
    "\n"
    "Serves per-cgroup TCP metrics (connections, failures, resets, retransmits,\n"
    "bytes) counted by eBPF programs, for Prometheus. Needs root at start and\n"
    "drops every capability once started.\n"
    "\n"
    "Flags:\n";
static const char usage_tail[] = "\n"
				 "Example:\n"
				 "  cgroup_tcp_exporter --web.listen-address=127.0.0.1:9437\n";

static int bad(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	return -1;
}

int parse_listen_address(const char *text, struct listen_addr *la, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	char host[256];
	const char *port, *colon;
	char *end;
	long portnum;
	size_t hostlen;
	int rc;

	memset(la, 0, sizeof(*la));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return bad(err, errlen, "bad --web.listen-address '%s': want [ipv6]:port",
				   text);
		hostlen = (size_t)(close - text - 1);
		if (hostlen == 0 || hostlen >= sizeof(host))
			return bad(err, errlen, "bad --web.listen-address '%s': bad IPv6 address",
				   text);
		memcpy(host, text + 1, hostlen);
		port = close + 2;
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return bad(err, errlen,
				   "bad --web.listen-address '%s': want host:port or :port", text);
		hostlen = (size_t)(colon - text);
		if (hostlen >= sizeof(host) || memchr(text, ':', hostlen))
			return bad(
			    err, errlen,
			    "bad --web.listen-address '%s': write IPv6 addresses as [addr]:port",
			    text);
		memcpy(host, text, hostlen);
		port = colon + 1;
	}
	host[hostlen] = '\0';

	errno = 0;
	portnum = strtol(port, &end, 10);
	if (!*port || *end || errno || portnum < 0 || portnum > 65535 ||
	    strspn(port, "0123456789") != strlen(port))
		return bad(err, errlen, "bad --web.listen-address '%s': port must be 0-65535",
			   text);

	if (hostlen == 0) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&la->addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)portnum);
		la->len = sizeof(*sin6);
		la->any_host = true;
		return 0;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc || !res) {
		snprintf(err, errlen, "bad --web.listen-address '%s': %s", text,
			 rc ? gai_strerror(rc) : "no address");
		return -1;
	}
	memcpy(&la->addr, res->ai_addr, res->ai_addrlen);
	la->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int parse_number(const char *text, long min, long max, unsigned int *out)
{
	char *end;
	long n;

	if (!*text || strlen(text) > 9 || strspn(text, "0123456789") != strlen(text))
		return -1;
	n = strtol(text, &end, 10);
	if (n < min || n > max)
		return -1;
	*out = (unsigned int)n;
	return 0;
}

static unsigned int round_up_pow2(unsigned int n)
{
	unsigned int p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static int check_telemetry_path(const char *path, char *err, size_t errlen)
{
	if (path[0] != '/' || !strcmp(path, "/"))
		return bad(err, errlen, "bad --web.telemetry-path '%s': want a path like /metrics",
			   path);
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == '?' || *c == '#')
			return bad(err, errlen,
				   "bad --web.telemetry-path '%s': no spaces, '?' or '#' allowed",
				   path);
	return 0;
}

/* getopt_long takes unique prefixes ("--web.l"); exporters take whole names
 * only, so a typo is an error and not a different flag. */
static bool whole_name(char **argv, const struct option *o)
{
	const char *text = argv[optind - 1];
	size_t len;

	if (o->has_arg == required_argument && optind >= 2 && optarg == argv[optind - 1])
		text = argv[optind - 2];
	text += 2; /* "--" */
	len = strcspn(text, "=");
	return len == strlen(o->name) && !strncmp(text, o->name, len);
}

/* Errors echo the flag or value as given: control bytes in it are written
 * as escapes, so the error stays one line and cannot drive the terminal. */
static void escape_controls(char *err, size_t errlen)
{
	char *given = strdup(err);
	size_t w = 0;

	if (!given) {
		for (char *c = err; *c; c++)
			if ((unsigned char)*c < ' ' || *c == 0x7f)
				*c = '?';
		return;
	}
	for (const char *c = given; *c; c++) {
		unsigned char byte = (unsigned char)*c;
		char escape[5];
		size_t n = 1;

		if (byte == '\n' || byte == '\t')
			n = (size_t)snprintf(escape, sizeof(escape), "\\%c",
					     byte == '\n' ? 'n' : 't');
		else if (byte < ' ' || byte == 0x7f)
			n = (size_t)snprintf(escape, sizeof(escape), "\\x%02x", byte);
		else
			escape[0] = *c;
		if (w + n >= errlen)
			break;
		memcpy(err + w, escape, n);
		w += n;
	}
	err[w] = '\0';
	free(given);
}

static void print_wrapped(FILE *out, const char *text, int col)
{
	int pad = col + 2 <= HELP_INDENT ? HELP_INDENT - col : 2;

	for (bool first = true; *text; first = false) {
		int len = (int)strcspn(text, " ");

		if (!first && col + 1 + len > HELP_WIDTH) {
			fprintf(out, "\n%*s", HELP_INDENT, "");
			col = HELP_INDENT;
		} else {
			fprintf(out, "%*s", first ? pad : 1, "");
			col += first ? pad : 1;
		}
		col += fprintf(out, "%.*s", len, text);
		text += len;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}

static void print_usage(FILE *out)
{
	fputs(usage_head, out);
	for (const struct flag *f = flag_table; f < flag_table + FLAG_COUNT; f++) {
		char help[1024];
		size_t used;
		int col =
		    fprintf(out, "  --%s%s%s", f->name, f->arg ? "=" : "", f->arg ? f->arg : "");

		flag_help(f, false, help, sizeof(help));
		used = strlen(help);
		if (f->def)
			snprintf(help + used, sizeof(help) - used, " (default %s)", f->def);
		print_wrapped(out, help, col);
	}
	fputs(usage_tail, out);
}

/* Sets the flag's field from its value (a default is set the same way). */
static int set_value(const struct flag *f, const char *text, struct config *cfg, char *err,
		     size_t errlen)
{
	void *field = (char *)cfg + f->field;
	char want[128];

	switch (f->kind) {
	case FLAG_NUMBER:
		if (parse_number(text, f->min, f->max, field))
			break;
		if (f->pow2)
			*(unsigned int *)field = round_up_pow2(*(unsigned int *)field);
		return 0;
	case FLAG_CHOICE:
		for (unsigned int i = 0; f->choices[i]; i++) {
			if (!strcmp(text, f->choices[i])) {
				*(unsigned int *)field = f->first + i;
				return 0;
			}
		}
		break;
	case FLAG_TEXT:
		*(const char **)field = f->empty_is_none && !*text ? NULL : text;
		return 0;
	case FLAG_LISTEN:
		if (cfg->nlisten == MAX_LISTEN) {
			snprintf(err, errlen, "too many --%s flags (at most %d)", f->name,
				 MAX_LISTEN);
			return -1;
		}
		((const char **)field)[cfg->nlisten++] = text;
		return 0;
	case FLAG_OFF:
		*(bool *)field = false;
		return 0;
	case FLAG_ON:
		*(bool *)field = true;
		return 0;
	case FLAG_PARSED:
		return f->parse(text, field, err, errlen);
	default:
		return 0;
	}
	flag_values(f, false, want, sizeof(want));
	snprintf(err, errlen, "bad --%s '%s': want %s%s", f->name, text,
		 f->kind == FLAG_NUMBER ? "a number from " : "", want);
	return -1;
}

/* A repeatable flag's default stands only where the flag is not given, so
 * those are set after the command line is read, the others before. */
static int set_defaults(struct config *cfg, bool repeatable, char *err, size_t errlen)
{
	for (const struct flag *f = flag_table; f < flag_table + FLAG_COUNT; f++) {
		if ((f->kind == FLAG_LISTEN) != repeatable)
			continue;
		if (f->kind == FLAG_OFF)
			*(bool *)((char *)cfg + f->field) = true;
		else if (f->def && set_value(f, f->def, cfg, err, errlen))
			return -1;
	}
	return 0;
}

/* What getopt_long returned is a whole flag name of the table, with a value
 * where it takes one; otherwise the error says what the flag was. */
static int check_name(int opt, char **argv, const struct option *options, int index, char *err,
		      size_t errlen)
{
	if (opt == ':')
		return bad(err, errlen, "flag '%s' needs a value (see --help)", argv[optind - 1]);
	if (opt < OPT_FIRST && optopt >= OPT_FIRST) {
		snprintf(err, errlen, "flag '--%s' takes no value (see --help)",
			 flag_table[optopt - OPT_FIRST].name);
		return -1;
	}
	if (opt < OPT_FIRST && optopt > 0) {
		char flag[3] = {'-', (char)optopt, '\0'};

		return bad(err, errlen, "unknown flag '%s' (see --help)", flag);
	}
	if (opt < OPT_FIRST)
		return bad(err, errlen, "unknown flag '%s' (see --help)", argv[optind - 1]);
	if (!whole_name(argv, &options[index])) {
		snprintf(err, errlen, "unknown flag '%s' (did you mean --%s?)",
			 argv[optind - 1 - (optarg && optarg == argv[optind - 1])],
			 options[index].name);
		return -1;
	}
	return 0;
}

static enum flags_result parse_flags(int argc, char **argv, struct config *cfg, FILE *out,
				     char *err, size_t errlen)
{
	struct option options[FLAG_COUNT + 1] = {{0}};
	int opt, index = -1;

	for (int i = 0; i < FLAG_COUNT; i++)
		options[i] = (struct option){flag_table[i].name,
					     flag_table[i].arg ? required_argument : no_argument,
					     NULL, OPT_FIRST + i};
	memset(cfg, 0, sizeof(*cfg));
	if (set_defaults(cfg, false, err, errlen))
		return FLAGS_BAD;

	optind = 0; /* a full reset, so parsing can run more than once */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", options, &index)) != -1) {
		const struct flag *f;

		if (check_name(opt, argv, options, index, err, errlen))
			return FLAGS_BAD;
		f = &flag_table[opt - OPT_FIRST];
		if (f->kind == FLAG_HELP) {
			print_usage(out);
			return FLAGS_EXIT_OK;
		}
		if (f->kind == FLAG_VERSION) {
			fprintf(out, "cgroup_tcp_exporter %s (revision %s)\n", CTCP_VERSION,
				CTCP_REVISION);
			return FLAGS_EXIT_OK;
		}
		if (set_value(f, optarg, cfg, err, errlen))
			return FLAGS_BAD;
	}
	if (optind < argc) {
		bad(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return FLAGS_BAD;
	}
	if (cfg->nlisten == 0 && set_defaults(cfg, true, err, errlen))
		return FLAGS_BAD;
	for (int i = 0; i < cfg->nlisten; i++)
		if (parse_listen_address(cfg->listen_text[i], &cfg->listen[i], err, errlen))
			return FLAGS_BAD;
	if (check_telemetry_path(cfg->telemetry_path, err, errlen) ||
	    filter_init(&cfg->filter, cfg->include, cfg->exclude, err, errlen))
		return FLAGS_BAD;
	return FLAGS_RUN;
}

enum flags_result flags_parse(int argc, char **argv, struct config *cfg, FILE *out, char *err,
			      size_t errlen)
{
	enum flags_result result = parse_flags(argc, argv, cfg, out, err, errlen);

	if (result == FLAGS_BAD && errlen)
		escape_controls(err, errlen);
	return result;
}
