# SPDX-License-Identifier: GPL-2.0-only
"""Reading and checking what the exporter serves: samples parsed (by
prometheus_client, or by hand where order, duplicates or speed matter),
values and histograms picked out, and the rules of the text 0.0.4 and
OpenMetrics 1.0 formats that no stock linter checks."""

import re
import subprocess

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString

from .constants import MAP_CAPACITY, MAP_ENTRIES, MISSED, OPENED, UNSEEN


def parse_samples(body, openmetrics=False):
    """[(sample name, labels dict, value)] via prometheus_client's parser
    of the text format, or of OpenMetrics."""
    parse = openmetrics_families if openmetrics else text_string_to_metric_families
    return [(s.name, dict(s.labels), s.value)
            for family in parse(body)
            for s in family.samples]


def openmetrics_samples(body):
    """parse_samples() of an OpenMetrics body."""
    return parse_samples(body, openmetrics=True)


def matches(labels, wanted):
    """Whether a series' labels (a dict) include `wanted`; as in Prometheus,
    a label that is not there has the value ""."""
    return all(labels.get(k, "") == want for k, want in wanted.items())


def value(samples, name, **labels):
    """Sum of the samples named `name` whose labels include `labels`.

    A missing series counts as 0. Matching a subset keeps this working
    whatever identity labels (container, pod) a series carries.
    """
    return sum(v for n, l, v in samples if n == name and matches(l, labels))



def counter_samples(body):
    """{series text: value} of every sample of a text-format body whose
    name ends in _total, _count or _bucket: those only ever go up. Cheap (no
    parser), for checking hundreds of scrapes."""
    out = {}
    for line in body.splitlines():
        if not line or line[0] == "#":
            continue
        series, _, v = line.rpartition(" ")
        if series.split("{", 1)[0].endswith(("_total", "_count", "_bucket")):
            out[series] = float(v)
    return out


def decreases(before, after):
    """[(series, before, after)] of the counter_samples() that went down."""
    return [(k, before[k], v) for k, v in after.items() if k in before and v < before[k]]


def opened_series(body):
    """{cgroup label: {direction: (value, ordered labels)}} of the opened
    connections family."""
    out = {}
    for _, labels, v in samples_of(body, OPENED):
        d = dict(labels)
        out.setdefault(d.get("cgroup"), {})[d.get("direction")] = (v, labels)
    return out


def opened_total(body, direction):
    """Sum of the opened connections in `direction` over every series."""
    return sum(v for _, l, v in samples_of(body, OPENED)
               if dict(l).get("direction") == direction)


def scalar(body, name):
    """The first sample of family `name`, or None."""
    values = [v for _, _, v in samples_of(body, name)]
    return values[0] if values else None


def _gauge_by_map(body, name):
    return {dict(l)["map"]: int(v) for _, l, v in samples_of(body, name)}


def map_entries(body):
    """{map name: entries} from the exporter's own map_entries gauge."""
    return _gauge_by_map(body, MAP_ENTRIES)


def map_capacity(body):
    """{map name: capacity} from the exporter's own map_capacity gauge."""
    return _gauge_by_map(body, MAP_CAPACITY)


def has_series(samples, name, **labels):
    return any(n == name and matches(l, labels) for n, l, _ in samples)


_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_UNESCAPE = {"\\": "\\", '"': '"', "n": "\n"}


def parse_sample_line(line):
    """Split a text-format sample line into (name, labels tuple, rest).

    Written by hand (not prometheus_client) so duplicates and ordering can
    be checked on exactly what was sent. Raises ValueError if malformed.
    """
    name, labels, rest = parse_sample_line_ordered(line)
    return name, tuple(sorted(labels)), rest


def parse_sample_line_ordered(line):
    """Like parse_sample_line(), but the labels stay a list of (name, value)
    in the order they were written."""
    m = _NAME.match(line)
    if not m:
        raise ValueError("bad metric name")
    name, i, labels = m.group(), m.end(), []
    if i < len(line) and line[i] == "{":
        i += 1
        while line[i] != "}":
            lm = _LABEL_NAME.match(line, i)
            if not lm or line[lm.end():lm.end() + 2] != '="':
                raise ValueError(f"bad label at column {i}")
            i = lm.end() + 2
            chars = []
            while line[i] != '"':
                if line[i] == "\\":
                    if line[i + 1] not in _UNESCAPE:
                        raise ValueError(f"bad escape at column {i}")
                    chars.append(_UNESCAPE[line[i + 1]])
                    i += 2
                else:
                    chars.append(line[i])
                    i += 1
            labels.append((lm.group(), "".join(chars)))
            i += 1
            if line[i] == ",":
                i += 1
        i += 1
    return name, labels, line[i:].strip()


def samples_of(body, *names):
    """[(sample name, ordered labels list, value)] of the sample lines whose
    name is one of `names`, parsed by hand: much faster than
    parse_samples() on bodies with thousands of series, when only a few
    families matter. Unparsable lines raise ValueError."""
    out, prefixes = [], tuple(n + "{" for n in names) + tuple(n + " " for n in names)
    for line in body.split("\n"):
        if line.startswith(prefixes):
            name, labels, rest = parse_sample_line_ordered(line)
            out.append((name, labels, float(rest.split()[0])))
    return out


def _family_of(sample_name, types):
    if sample_name in types:
        return sample_name
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample_name[: -len(suffix)]
        if sample_name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            return base
    return sample_name


class _Rules:
    """The rules both formats share, fed line by line: HELP and TYPE once
    per family, before its samples; a family's lines contiguous; no series
    twice; no empty label on a per-cgroup series but cgroup="". What breaks
    them goes to `problems`."""

    def __init__(self):
        self.problems, self.types, self.helps = [], {}, set()
        self._seen, self._finished, self._current = set(), set(), None

    def enter(self, family, lineno):
        """A line of `family`: reported when its lines are not contiguous."""
        if family == self._current:
            return
        if family in self._finished:
            self.problems.append(f"line {lineno}: family {family} is not contiguous")
        if self._current is not None:
            self._finished.add(self._current)
        self._current = family

    def declare(self, lineno, kind, family, text=""):
        """A # HELP or # TYPE line (text: the type)."""
        self.enter(family, lineno)
        declared = self.helps if kind == "HELP" else self.types
        if family in declared:
            self.problems.append(f"line {lineno}: second {kind} for {family}")
        if kind == "HELP":
            self.helps.add(family)
        else:
            self.types[family] = text

    def parse(self, lineno, line):
        """(name, labels) of a sample line, or None when it does not parse."""
        try:
            name, labels, _ = parse_sample_line(line)
        except (ValueError, IndexError) as e:
            self.problems.append(f"line {lineno}: unparsable sample ({e}): {line!r}")
            return None
        return name, labels

    def sample(self, lineno, line, name, labels, family, needs_type):
        """A sample of `family`: declared before it, its series new."""
        self.enter(family, lineno)
        if family not in self.helps:
            self.problems.append(f"line {lineno}: {name} has no # HELP before it")
        if needs_type and family not in self.types:
            self.problems.append(f"line {lineno}: {name} has no # TYPE before it")
        key = series_key(name, labels)
        if key in self._seen:
            self.problems.append(f"line {lineno}: duplicate series {line!r}")
        self._seen.add(key)
        empty = empty_label_problem(lineno, labels, line)
        if empty:
            self.problems.append(empty)


def series_key(name, labels):
    """(name, labels) of a parse_sample_line() sample as Prometheus
    identifies the series: a label with the value "" is no label."""
    return name, tuple(l for l in labels if l[1] != "")


def empty_label_problem(lineno, labels, line):
    """A per-cgroup series (one with a `cgroup` label) leaves out the
    labels it has no value for: only cgroup="" (the unattributed series)
    may be empty."""
    empty = [k for k, v in labels if v == "" and k != "cgroup"]
    if empty and any(k == "cgroup" for k, _ in labels):
        return f"line {lineno}: empty {', '.join(empty)} (leave it out): {line!r}"
    return None


def check_exposition(body):
    """Problems with the text 0.0.4 body that no stock linter reports.

    - every family has # HELP and # TYPE, once, before its samples;
    - all lines of a family are contiguous;
    - no series appears twice (Prometheus keeps the first silently), a
      label with an empty value counting as absent;
    - per-cgroup series carry no empty label but cgroup="".
    Returns a list of human-readable problems (empty when clean).
    """
    rules = _Rules()
    for lineno, line in enumerate(body.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(None, 3)
            rules.declare(lineno, parts[1], parts[2],
                          parts[3].strip() if len(parts) > 3 else "")
            continue
        if line.startswith("#"):
            continue
        parsed = rules.parse(lineno, line)
        if parsed:
            name, labels = parsed
            rules.sample(lineno, line, name, labels, _family_of(name, rules.types),
                         needs_type=True)
    return rules.problems


def promtool_check(promtool, body):
    """Run `promtool check metrics` on the body, a str or the bytes as sent
    (only these show bytes that are not UTF-8); (exit code, its output)."""
    raw = body if isinstance(body, bytes) else body.encode()
    proc = subprocess.run([promtool, "check", "metrics"], input=raw,
                          capture_output=True)
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


def histogram(samples, name, **labels):
    """One histogram series from parse_samples() output, for `name` (the
    family name, without _bucket) and labels matched as in value().

    Returns {"buckets": {le (float, inf for +Inf): cumulative count},
    "sum": float, "count": float}; buckets is empty when no series matched.
    Several matching series are added up, like value() does.
    """
    buckets = {}
    for n, l, v in samples:
        if n == name + "_bucket" and matches(l, labels):
            le = float(l["le"])
            buckets[le] = buckets.get(le, 0) + v
    return {"buckets": dict(sorted(buckets.items())),
            "sum": value(samples, name + "_sum", **labels),
            "count": value(samples, name + "_count", **labels)}


def check_histograms(body):
    """Invariants of every histogram, gauge and counter in a text body.

    For each histogram series (family + labels without `le`):
    - it has buckets, `_sum` and `_count`; every `le` parses as a float,
      the buckets come in strictly increasing `le` order and end with +Inf;
    - counts are whole, non-negative and cumulative (non-decreasing);
    - the +Inf bucket equals `_count`;
    - `_sum` is finite and >= 0, and plausible: at least what the buckets
      imply (each sample is above the bound below its bucket), and, unless
      the +Inf bucket holds more than the last finite one, at most
      `_count` * largest finite le * 2;
    - all series of a family use the same `le` set.
    Gauge and counter samples are never negative (or NaN).
    Returns a list of human-readable problems (empty when clean).
    """
    problems, types, series, le_sets = [], {}, {}, {}
    for lineno, line in enumerate(body.split("\n"), 1):
        if line.startswith("# TYPE "):
            parts = line.split()
            types[parts[2]] = parts[3] if len(parts) > 3 else ""
            continue
        if not line.strip() or line.startswith("#"):
            continue
        try:
            name, labels, rest = parse_sample_line(line)
            val = float(rest.split()[0])
        except (ValueError, IndexError):
            continue  # check_exposition() reports unparsable lines
        family = _family_of(name, types)
        kind = types.get(family)
        if kind in ("gauge", "counter"):
            if not val >= 0:
                problems.append(f"line {lineno}: {kind} is {rest}: {line!r}")
            continue
        if kind != "histogram":
            continue
        others = tuple(l for l in labels if l[0] != "le")
        entry = series.setdefault((family, others),
                                  {"buckets": [], "sum": None, "count": None})
        if name == family + "_bucket":
            le_text = dict(labels).get("le")
            try:
                le = float(le_text)
            except (TypeError, ValueError):
                problems.append(f"line {lineno}: le={le_text!r} is not a float")
                continue
            entry["buckets"].append((le, le_text, val))
        elif name == family + "_sum":
            entry["sum"] = val
        elif name == family + "_count":
            entry["count"] = val

    for (family, labels), entry in series.items():
        where = f"{family}{{{','.join(f'{k}={v!r}' for k, v in labels)}}}"
        buckets, total, count = entry["buckets"], entry["sum"], entry["count"]
        if not buckets or total is None or count is None:
            problems.append(f"{where}: needs buckets, _sum and _count")
            continue
        les = [le for le, _, _ in buckets]
        if any(b <= a for a, b in zip(les, les[1:])):
            problems.append(f"{where}: le not strictly increasing: "
                            f"{[t for _, t, _ in buckets]}")
        if les[-1] != float("inf"):
            problems.append(f"{where}: last bucket is le={buckets[-1][1]}, not +Inf")
        counts = [c for _, _, c in buckets]
        if any(not (c >= 0 and float(c).is_integer()) for c in counts + [count]):
            problems.append(f"{where}: counts not whole and >= 0: {counts}, "
                            f"_count {count}")
            continue
        if any(b < a for a, b in zip(counts, counts[1:])):
            problems.append(f"{where}: buckets not cumulative: "
                            + ", ".join(f"{t}:{c:g}" for _, t, c in buckets))
        if counts[-1] != count:
            problems.append(f"{where}: +Inf bucket {counts[-1]:g} != _count {count:g}")
        if not (total >= 0 and total != float("inf")):
            problems.append(f"{where}: _sum is {total}")
            continue
        le_sets.setdefault(family, {}).setdefault(tuple(les), where)
        finite = [(le, c) for le, _, c in buckets if le != float("inf")]
        if not finite:
            continue
        # Samples in (previous le, le] are > previous le.
        lower, prev_le, prev_c = 0.0, 0.0, 0.0
        for le, c in finite + [(float("inf"), counts[-1])]:
            lower += (c - prev_c) * prev_le
            prev_le, prev_c = le, c
        if total < lower * (1 - 1e-9) - 1e-12:
            problems.append(f"{where}: _sum {total:g} below {lower:g}, the least "
                            f"the buckets allow")
        largest, last_finite = finite[-1]
        if counts[-1] == last_finite and total > count * largest * 2:
            problems.append(f"{where}: _sum {total:g} > _count {count:g} * "
                            f"largest le {largest:g} * 2")
    for family, sets in le_sets.items():
        if len(sets) > 1:
            problems.append(f"{family}: series use {len(sets)} different le sets, "
                            f"e.g. {list(sets.values())[:2]}")
    return problems


# --------------------------------------------------------------- OpenMetrics

# Sample names a family of each type may have, as suffixes of its name.
OPENMETRICS_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "gauge": ("",),
    "unknown": ("",),
}
UNITS = ("seconds", "bytes")


def declared_families(body):
    """{family name: type} from the # TYPE lines of either format."""
    families = {}
    for line in body.split("\n"):
        if line.startswith("# TYPE "):
            parts = line.split()
            families[parts[2]] = parts[3] if len(parts) > 3 else ""
    return families


def canonical_le(text):
    """An OpenMetrics le value in canonical form: the OpenMetrics spec's
    target rendering is Go's %g of the float64 with ".0" added when there is
    no dot or exponent (1.0, 0.001, 8e-06, 100000.0, 1e+06, +Inf), which
    prometheus_client's floatToGoString reproduces. Its parser only checks
    +Inf; 1, 0.0010 or 0.000008 fail here."""
    try:
        return text != "NaN" and text == floatToGoString(float(text))
    except ValueError:
        return False


def _canonical_hint(text):
    try:
        return floatToGoString(float(text))
    except (TypeError, ValueError):
        return "a float"


def _openmetrics_family(sample_name, types):
    for family, kind in types.items():
        for suffix in OPENMETRICS_SUFFIXES.get(kind, ("",)):
            if sample_name == family + suffix:
                return family
    return None


def check_openmetrics(body):
    """Problems with an OpenMetrics 1.0 body (empty list when clean).

    - it ends with "# EOF\\n", which appears once; no blank lines;
    - every family has HELP and TYPE once, before its samples, and its lines
      are contiguous; no series twice (an empty label counting as absent);
      per-cgroup series carry no empty label but cgroup="";
    - counters are declared without _total and their samples have it;
    - families named ..._seconds or ..._bytes have the matching # UNIT, and
      a # UNIT is always a suffix of its family's name;
    - histogram le values are canonical numbers (canonical_le);
    - prometheus_client's OpenMetrics parser accepts the body (it drops a
      duplicate series silently, hence the check above).
    """
    rules = _Rules()
    problems, types, units = rules.problems, rules.types, {}
    if not body.endswith("# EOF\n"):
        problems.append(f"does not end with '# EOF\\n': ...{body[-80:]!r}")
    lines = body.split("\n")
    if lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, 1):
        if line == "# EOF":
            if lineno != len(lines):
                problems.append(f"line {lineno}: # EOF before the last line")
            continue
        if not line:
            problems.append(f"line {lineno}: blank line")
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if (len(parts) < 4 or parts[0] != "#"
                    or parts[1] not in ("HELP", "TYPE", "UNIT")):
                problems.append(f"line {lineno}: not HELP, TYPE, UNIT or EOF: {line!r}")
                continue
            kind, family, text = parts[1:]
            if kind == "UNIT":
                rules.enter(family, lineno)
                if family in units:
                    problems.append(f"line {lineno}: second UNIT for {family}")
                units[family] = text
                if not family.endswith("_" + text):
                    problems.append(f"line {lineno}: unit {text!r} is not a suffix "
                                    f"of {family}")
                continue
            rules.declare(lineno, kind, family, text)
            if kind == "TYPE" and text == "counter" and family.endswith("_total"):
                problems.append(f"line {lineno}: counter family declared with "
                                f"_total: {line!r}")
            continue
        parsed = rules.parse(lineno, line)
        if not parsed:
            continue
        name, labels = parsed
        family = _openmetrics_family(name, types)
        if family is None:
            hint = (" (a counter sample needs _total)"
                    if types.get(name) == "counter" else "")
            problems.append(f"line {lineno}: {name} is no sample name of a declared "
                            f"family{hint}: {line!r}")
            continue
        rules.sample(lineno, line, name, labels, family, needs_type=False)
        if types[family] == "histogram" and name == family + "_bucket":
            le = dict(labels).get("le")
            if le is None or not canonical_le(le):
                problems.append(f"line {lineno}: le={le!r} is not canonical (want "
                                f"{_canonical_hint(le)})")
    for family in types:
        want = next((u for u in UNITS if family.endswith("_" + u)), None)
        if want and units.get(family) != want:
            problems.append(f"{family}: no '# UNIT {family} {want}'")
    try:
        for _ in openmetrics_families(body):
            pass
    except Exception as e:  # the parser raises ValueError and others
        problems.append(f"prometheus_client's OpenMetrics parser: "
                        f"{type(e).__name__}: {e}")
    return problems




def state_runs_missed(samples):
    """Runs of the state-change program the kernel skipped and counted
    (README, "Events the kernel skips"), from parsed samples."""
    return sum(v for name, labels, v in samples
               if name == MISSED and "state" in dict(labels).get("program", ""))


def state_changes_unseen(samples):
    """State changes the exporter found it never saw, counted by the kernel
    as skipped or not (README, "Events the kernel skips")."""
    return sum(v for name, _, v in samples if name == UNSEEN)
