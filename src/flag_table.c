/* SPDX-License-Identifier: GPL-2.0-only */
/* The flags table and its help text. The order here is the order of
 * --help and of the README's table. */
#include "flag_table.h"

#include <stdio.h>
#include <string.h>
#include "flags.h"

static int parse_runas(const char *text, void *field, char *err, size_t errlen)
{
	return runas_parse(text, field, err, errlen);
}

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
/* The step between shown histogram bounds is a power of two: 2^1, 2^2, 2^3. */
static const char *const bucket_factors[] = {"2", "4", "8", NULL};

#define FIELD(name) offsetof(struct config, name)

const struct flag flag_table[] = {
    {.name = "web.listen-address",
     .arg = "ADDR",
     .kind = FLAG_LISTEN,
     .field = FIELD(listen_text),
     .def = ":9437",
     .help = "address to listen on: `host:port`, `:port` (every address, IPv6 and IPv4) or "
	     "`[ipv6]:port`; repeat the flag to listen on several, at most %v"},
    {.name = "web.telemetry-path",
     .arg = "PATH",
     .kind = FLAG_TEXT,
     .field = FIELD(telemetry_path),
     .def = "/metrics",
     .help = "path that serves the metrics; `/` serves a small page linking to it"},
    {.name = "web.max-requests",
     .arg = "N",
     .kind = FLAG_NUMBER,
     .field = FIELD(max_requests),
     .def = "40",
     .min = 1,
     .max = 10000,
     .help = "scrapes served at once (%v); more get `503` with a short explanation"},
    {.name = "web.disable-exporter-metrics",
     .kind = FLAG_OFF,
     .field = FIELD(exporter_metrics),
     .help = "leave out the exporter's own `cgroup_tcp_exporter_*` and `process_*` families"},
    {.name = "web.config.file",
     .arg = "FILE",
     .kind = FLAG_TEXT,
     .field = FIELD(web_config_file),
     /* Empty means none, as in exporter-toolkit. */
     .empty_is_none = true,
     .help = "HTTPS and basic authentication, in the Prometheus exporter-toolkit format (see "
	     "[Web config file](#web-config-file)); empty or absent: plain HTTP, no password"},
    {.name = "cgroup.include",
     .arg = "REGEX",
     .kind = FLAG_TEXT,
     .field = FIELD(include),
     .help = "only cgroups whose whole path matches this POSIX extended regex"},
    {.name = "cgroup.exclude",
     .arg = "REGEX",
     .kind = FLAG_TEXT,
     .field = FIELD(exclude),
     .help = "no cgroups whose whole path matches this POSIX extended regex"},
    {.name = "cgroup.max",
     .arg = "N",
     .kind = FLAG_NUMBER,
     .field = FIELD(max_cgroups),
     .def = "10000",
     .min = 1,
     .max = 1000000,
     .help = "cgroups tracked in the kernel (%v); events of more cgroups go to the "
	     "`cgroup=\"(overflow)\"` series"},
    {.name = "cgroup.max-per-cpu",
     .arg = "N",
     .kind = FLAG_NUMBER,
     .field = FIELD(max_per_cpu),
     .def = "1024",
     .min = 0,
     .max = 1000000,
     .help = "of those, cgroups whose send and receive counters are kept per CPU (the "
	     "fastest, 432 bytes of kernel memory per CPU each; %v); the others share one "
	     "copy, changed with atomic adds; see [Kernel memory](#kernel-memory)"},
    {.name = "socket.max",
     .arg = "N",
     .kind = FLAG_NUMBER,
     .field = FIELD(max_sockets),
     .def = "262144",
     .min = 64,
     .max = 16777216,
     .pow2 = true,
     .help = "TCP sockets followed at once in the kernel's socket table (%v), rounded up to "
	     "a power of two (40 bytes each, see [Kernel memory](#kernel-memory)); sockets "
	     "that find the table full are left out of `cgroup_tcp_connections`, the closed "
	     "counter and the duration histograms, and counted in "
	     "`cgroup_tcp_exporter_socket_table_full_events_total`"},
    {.name = "peer.config",
     .arg = "FILE",
     .kind = FLAG_TEXT,
     .field = FIELD(peer_config_file),
     .empty_is_none = true,
     .help = "named peer groups (CIDRs and remote ports) for the `cgroup_tcp_peer_*` families, "
	     "in YAML (see [Peer groups](#peer-groups)); absent: the built-in groups `loopback`, "
	     "`private` and `public` only"},
    {.name = "peer.max-pairs",
     .arg = "N",
     .kind = FLAG_NUMBER,
     .field = FIELD(max_pairs),
     .def = "4096",
     .min = 0,
     .max = 1000000,
     .help =
	 "(cgroup, peer group) pairs tracked in the kernel (%v; 0: no `cgroup_tcp_peer_*` "
	 "families); events of more pairs go to the `cgroup=\"(overflow)\",peer=\"(overflow)\"` "
	 "series"},
    {.name = "process.attribution",
     .kind = FLAG_ON,
     .field = FIELD(process_attribution),
     .help = "also count connections opened and connects failed per command name (`comm`) of "
	     "the process that connected or listened, in the `cgroup_tcp_process_*` families "
	     "(see [Process attribution](#process-attribution))"},
    {.name = "process.max-per-cgroup",
     .arg = "N",
     .kind = FLAG_NUMBER,
     .field = FIELD(max_per_cgroup),
     .def = "8",
     .min = 1,
     .max = 1000,
     .help = "command names counted apart per cgroup with `--process.attribution` (%v); "
	     "connections of more go to `comm=\"(other)\"`"},
    {.name = "kubelet.log-dir",
     .arg = "DIR",
     .kind = FLAG_TEXT,
     .field = FIELD(kubelet_log_dir),
     .def = "/var/log/containers",
     .help = "the kubelet's log links, for the `namespace`, `pod` and `container` labels"},
    {.name = "runas",
     .arg = "USER[:GROUP]",
     .kind = FLAG_PARSED,
     .field = FIELD(runas),
     .parse = parse_runas,
     .help = "once started, run as this user: `USER` (a name or number, with its primary "
	     "and supplementary groups) or `USER:GROUP` (that group only); root, and group 0 as "
	     "the group or one of the user's, are refused. "
	     "See [Privileges](#privileges)"},
    {.name = "histogram.bucket-factor",
     .arg = "N",
     .kind = FLAG_CHOICE,
     .field = FIELD(bucket_step),
     .def = "2",
     .choices = bucket_factors,
     .first = 1,
     .help = "ratio of adjacent classic histogram bounds: %v; 4 and 8 merge buckets "
	     "(exactly: the bounds are powers of two) for 2x or 3x fewer series; native "
	     "histograms keep every bucket"},
    {.name = "log.level",
     .arg = "LEVEL",
     .kind = FLAG_CHOICE,
     .field = FIELD(log_level),
     .def = "info",
     .choices = log_levels,
     .first = LOG_ERROR,
     .help = "%v; debug shows libbpf's and the verifier's log"},
    {.name = "help", .kind = FLAG_HELP, .help = "print the help and exit 0"},
    {.name = "version", .kind = FLAG_VERSION, .help = "print the version and exit 0"},
};

_Static_assert(sizeof(flag_table) / sizeof(flag_table[0]) == FLAG_COUNT,
	       "FLAG_COUNT is the length of flag_table");
/* FLAG_CHOICE writes an unsigned int. */
_Static_assert(sizeof(enum log_level) == sizeof(unsigned int), "enum log_level is an int");

struct text {
	char *buf;
	size_t len, used;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->used + n >= t->len)
		n = t->len - 1 - t->used;
	memcpy(t->buf + t->used, s, n);
	t->used += n;
	t->buf[t->used] = '\0';
}

static void put_value(struct text *t, bool markdown, const char *value)
{
	if (markdown)
		put(t, "`", 1);
	put(t, value, strlen(value));
	if (markdown)
		put(t, "`", 1);
}

static void put_values(struct text *t, const struct flag *f, bool markdown)
{
	char number[24];

	switch (f->kind) {
	case FLAG_NUMBER:
		snprintf(number, sizeof(number), "%ld", f->min);
		put_value(t, markdown, number);
		put(t, " to ", 4);
		snprintf(number, sizeof(number), "%ld", f->max);
		put_value(t, markdown, number);
		break;
	case FLAG_CHOICE:
		for (size_t i = 0; f->choices[i]; i++) {
			if (i)
				put(t, f->choices[i + 1] ? ", " : " or ",
				    f->choices[i + 1] ? 2 : 4);
			put_value(t, markdown, f->choices[i]);
		}
		break;
	case FLAG_LISTEN:
		snprintf(number, sizeof(number), "%d", MAX_LISTEN);
		put(t, number, strlen(number));
		break;
	default:
		break;
	}
}

void flag_values(const struct flag *f, bool markdown, char *buf, size_t len)
{
	struct text t = {buf, len, 0};

	buf[0] = '\0';
	put_values(&t, f, markdown);
}

void flag_help(const struct flag *f, bool markdown, char *buf, size_t len)
{
	struct text t = {buf, len, 0};

	buf[0] = '\0';
	for (const char *c = f->help; *c; c++) {
		const char *target = markdown || *c != '[' ? NULL : strstr(c, "](#");
		const char *link_end = target ? strchr(target, ')') : NULL;

		if (c[0] == '%' && c[1] == 'v') {
			put_values(&t, f, markdown);
			c++;
		} else if (!markdown && *c == '`') {
			continue;
		} else if (link_end) {
			/* The plain help is read without the README at hand. */
			put(&t, c + 1, (size_t)(target - c - 1));
			put(&t, " in the README", 14);
			c = link_end;
		} else {
			put(&t, c, 1);
		}
	}
}
