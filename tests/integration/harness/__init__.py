# SPDX-License-Identifier: GPL-2.0-only
"""The exporter's integration-test harness.

A test "container" here is a cgroup2 child plus a network namespace. The
modules, each with one job:

  cleanup      the one registry every resource below registers with; main()
               releases it whatever happened, a test class or test its share
  constants    metric names, content types, workload ports and firewall
  system       commands, polling, free ports, host facts
  cgroups      cgroup2: find, make, place commands, kill, remove
  netns        network namespaces, /proc/net/snmp, a delay line between two
  workloads    workload*.py processes in a cgroup and a namespace, and the
               workload_identity.py roles and exporters of a test class
  roles        what the workload*.py scripts themselves share
  exporter     the exporter process: start, scrape (also over one kept-alive
               connection), stop
  web          single HTTP requests and raw exchanges
  bpf          BPF objects the kernel lists or a process holds
  exposition   parsing a scrape, and the text and OpenMetrics format checks
  protobuf     the protobuf format read with protoc --decode_raw
  prometheus   a real Prometheus scraping the exporter
  runner       require_root() (skip, or fail when CI=true), main()

Every public name is also available as harness.NAME. Standard library
only, plus prometheus_client's parsers, for Debian's /usr/bin/python3.
"""

from . import cleanup  # noqa: F401
from .bpf import *  # noqa: F401,F403
from .cgroups import *  # noqa: F401,F403
from .constants import *  # noqa: F401,F403
from .exporter import *  # noqa: F401,F403
from .exposition import *  # noqa: F401,F403
from .netns import *  # noqa: F401,F403
from .prometheus import *  # noqa: F401,F403
from .protobuf import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
from .system import *  # noqa: F401,F403
from .web import *  # noqa: F401,F403
from .workloads import *  # noqa: F401,F403
