/* Command-line flags. Exporter conventions: --flag=value or --flag value,
 * a bad flag or value is one line on stderr and exit status 2. */
#include "flags.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "version.h"

#define DEFAULT_LISTEN	  ":9437"
#define DEFAULT_TELEMETRY "/metrics"

enum {
	OPT_LISTEN = 256,
	OPT_TELEMETRY,
	OPT_LOG_LEVEL,
	OPT_BUCKET_FACTOR,
	OPT_MAX_REQUESTS,
	OPT_NO_SELF,
	OPT_KUBELET_DIR,
	OPT_INCLUDE,
	OPT_EXCLUDE,
	OPT_MAX_CGROUPS,
	OPT_MAX_PER_CPU,
	OPT_MAX_SOCKETS,
	OPT_RUNAS,
	OPT_WEB_CONFIG,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option options[] = {
    {"web.listen-address", required_argument, NULL, OPT_LISTEN},
    {"web.telemetry-path", required_argument, NULL, OPT_TELEMETRY},
    {"log.level", required_argument, NULL, OPT_LOG_LEVEL},
    {"histogram.bucket-factor", required_argument, NULL, OPT_BUCKET_FACTOR},
    {"web.max-requests", required_argument, NULL, OPT_MAX_REQUESTS},
    {"web.disable-exporter-metrics", no_argument, NULL, OPT_NO_SELF},
    {"kubelet.log-dir", required_argument, NULL, OPT_KUBELET_DIR},
    {"cgroup.include", required_argument, NULL, OPT_INCLUDE},
    {"cgroup.exclude", required_argument, NULL, OPT_EXCLUDE},
    {"cgroup.max", required_argument, NULL, OPT_MAX_CGROUPS},
    {"cgroup.max-per-cpu", required_argument, NULL, OPT_MAX_PER_CPU},
    {"socket.max", required_argument, NULL, OPT_MAX_SOCKETS},
    {"runas", required_argument, NULL, OPT_RUNAS},
    {"web.config.file", required_argument, NULL, OPT_WEB_CONFIG},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char usage[] =
    "usage: cgroup_tcp_exporter [flags]\n"
    "\n"
    "Serves per-cgroup TCP metrics (connections, failures, resets, retransmits,\n"
    "bytes) counted by eBPF programs, for Prometheus. Needs root at start and\n"
    "drops every capability once started.\n"
    "\n"
    "Flags:\n"
    "  --web.listen-address=ADDR  address to listen on, repeatable: host:port, :port (every\n"
    "                             address) or [ipv6]:port (default " DEFAULT_LISTEN ")\n"
    "  --web.telemetry-path=PATH  path that serves the metrics (default " DEFAULT_TELEMETRY ")\n"
    "  --web.max-requests=N       scrapes served at once; more get 503 (default 40)\n"
    "  --web.disable-exporter-metrics  leave out cgroup_tcp_exporter_* and process_*\n"
    "  --web.config.file=FILE     TLS and basic authentication, in the Prometheus\n"
    "                             exporter-toolkit format (default: plain HTTP, open)\n"
    "  --cgroup.include=REGEX     only cgroups whose whole path matches (POSIX ERE)\n"
    "  --cgroup.exclude=REGEX     no cgroups whose whole path matches\n"
    "  --cgroup.max=N             cgroups tracked; events of more go to the\n"
    "                             cgroup=\"(overflow)\" series (default 10000)\n"
    "  --cgroup.max-per-cpu=N     of those, cgroups whose send and receive counters are\n"
    "                             per CPU (fastest; 432 bytes of kernel memory per CPU\n"
    "                             each); the others share one copy (default 1024)\n"
    "  --socket.max=N             TCP sockets followed at once, rounded up to a power\n"
    "                             of two (24 bytes of kernel memory each); more are\n"
    "                             left out of the state gauge (default 262144)\n"
    "  --kubelet.log-dir=DIR      kubelet log links, for namespace, pod and container\n"
    "                             names (default /var/log/containers)\n"
    "  --histogram.bucket-factor=N  ratio of adjacent histogram bounds: 2, 4 or 8;\n"
    "                             4 and 8 merge buckets for fewer series (default 2)\n"
    "  --runas=USER[:GROUP]       once started, run as this user (name or number) and\n"
    "                             its groups, or this group only\n"
    "  --log.level=LEVEL          error, warn, info or debug (default info)\n"
    "  --help                     show this help and exit\n"
    "  --version                  show the version and exit\n"
    "\n"
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

static int parse_log_level(const char *text, enum log_level *level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(text, names[i])) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
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

static int parse_count(const char *text, long max, unsigned int *out)
{
	return parse_number(text, 1, max, out);
}

static int parse_bucket_factor(const char *text, unsigned int *step)
{
	static const char *const factors[] = {"2", "4", "8"};

	for (unsigned int i = 0; i < 3; i++) {
		if (!strcmp(text, factors[i])) {
			*step = i + 1;
			return 0;
		}
	}
	return -1;
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
static bool whole_name(char **argv, int index)
{
	const struct option *o = &options[index];
	const char *text = argv[optind - 1];
	size_t len;

	if (o->has_arg == required_argument && optind >= 2 && optarg == argv[optind - 1])
		text = argv[optind - 2];
	text += 2; /* "--" */
	len = strcspn(text, "=");
	return len == strlen(o->name) && !strncmp(text, o->name, len);
}

static const char *name_of(int val)
{
	for (const struct option *o = options; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
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

static enum flags_result parse_flags(int argc, char **argv, struct config *cfg, FILE *out,
				     char *err, size_t errlen)
{
	const char *include = NULL, *exclude = NULL;
	int opt, index = -1;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_requests = 40;
	cfg->kubelet_log_dir = "/var/log/containers";
	cfg->max_cgroups = 10000;
	cfg->max_per_cpu = 1024;
	cfg->max_sockets = 262144;
	cfg->exporter_metrics = true;
	cfg->telemetry_path = DEFAULT_TELEMETRY;
	cfg->log_level = LOG_INFO;
	cfg->bucket_step = 1;

	optind = 0; /* a full reset, so parsing can run more than once */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", options, &index)) != -1) {
		if (opt >= OPT_LISTEN && !whole_name(argv, index)) {
			snprintf(err, errlen, "unknown flag '%s' (did you mean --%s?)",
				 argv[optind - 1 - (optarg && optarg == argv[optind - 1])],
				 options[index].name);
			return FLAGS_BAD;
		}
		switch (opt) {
		case OPT_LISTEN:
			if (cfg->nlisten == MAX_LISTEN) {
				snprintf(err, errlen,
					 "too many --web.listen-address flags (at most %d)",
					 MAX_LISTEN);
				return FLAGS_BAD;
			}
			cfg->listen_text[cfg->nlisten++] = optarg;
			break;
		case OPT_MAX_REQUESTS:
			if (parse_count(optarg, 10000, &cfg->max_requests)) {
				bad(err, errlen,
				    "bad --web.max-requests '%s': want a number from 1 to 10000",
				    optarg);
				return FLAGS_BAD;
			}
			break;
		case OPT_NO_SELF:
			cfg->exporter_metrics = false;
			break;
		case OPT_KUBELET_DIR:
			cfg->kubelet_log_dir = optarg;
			break;
		case OPT_INCLUDE:
			include = optarg;
			break;
		case OPT_EXCLUDE:
			exclude = optarg;
			break;
		case OPT_MAX_CGROUPS:
			if (parse_count(optarg, 1000000, &cfg->max_cgroups)) {
				bad(err, errlen,
				    "bad --cgroup.max '%s': want a number from 1 to 1000000",
				    optarg);
				return FLAGS_BAD;
			}
			break;
		case OPT_MAX_PER_CPU:
			if (parse_number(optarg, 0, 1000000, &cfg->max_per_cpu)) {
				bad(err, errlen,
				    "bad --cgroup.max-per-cpu '%s': want a number from 0 to "
				    "1000000",
				    optarg);
				return FLAGS_BAD;
			}
			break;
		case OPT_MAX_SOCKETS:
			if (parse_number(optarg, 64, 16777216, &cfg->max_sockets)) {
				bad(err, errlen,
				    "bad --socket.max '%s': want a number from 64 to 16777216",
				    optarg);
				return FLAGS_BAD;
			}
			cfg->max_sockets = round_up_pow2(cfg->max_sockets);
			break;
		case OPT_RUNAS:
			if (runas_parse(optarg, &cfg->runas, err, errlen))
				return FLAGS_BAD;
			break;
		case OPT_WEB_CONFIG:
			/* Empty means none, as in exporter-toolkit. */
			cfg->web_config_file = *optarg ? optarg : NULL;
			break;
		case OPT_TELEMETRY:
			cfg->telemetry_path = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (parse_log_level(optarg, &cfg->log_level)) {
				bad(err, errlen,
				    "bad --log.level '%s': want error, warn, info or debug",
				    optarg);
				return FLAGS_BAD;
			}
			break;
		case OPT_BUCKET_FACTOR:
			if (parse_bucket_factor(optarg, &cfg->bucket_step)) {
				bad(err, errlen,
				    "bad --histogram.bucket-factor '%s': want 2, 4 or 8", optarg);
				return FLAGS_BAD;
			}
			break;
		case OPT_HELP:
			fputs(usage, out);
			return FLAGS_EXIT_OK;
		case OPT_VERSION:
			fprintf(out, "cgroup_tcp_exporter %s (revision %s)\n", CTCP_VERSION,
				CTCP_REVISION);
			return FLAGS_EXIT_OK;
		case ':':
			bad(err, errlen, "flag '%s' needs a value (see --help)", argv[optind - 1]);
			return FLAGS_BAD;
		default:
			if (optopt >= OPT_LISTEN) {
				snprintf(err, errlen, "flag '--%s' takes no value (see --help)",
					 name_of(optopt));
			} else if (optopt > 0 && optopt < 256) {
				char flag[3] = {'-', (char)optopt, '\0'};

				bad(err, errlen, "unknown flag '%s' (see --help)", flag);
			} else {
				bad(err, errlen, "unknown flag '%s' (see --help)",
				    argv[optind - 1]);
			}
			return FLAGS_BAD;
		}
	}
	if (optind < argc) {
		bad(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return FLAGS_BAD;
	}
	if (cfg->nlisten == 0)
		cfg->listen_text[cfg->nlisten++] = DEFAULT_LISTEN;
	for (int i = 0; i < cfg->nlisten; i++)
		if (parse_listen_address(cfg->listen_text[i], &cfg->listen[i], err, errlen))
			return FLAGS_BAD;
	if (check_telemetry_path(cfg->telemetry_path, err, errlen) ||
	    filter_init(&cfg->filter, include, exclude, err, errlen))
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
