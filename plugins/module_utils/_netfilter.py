# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsing and purge planning for iptables-save, nft, ipvsadm and ipset output (kubeshift.cilium.netfilter_purge).

This is a private module_utils file: no API guarantee, it may change at any time.

Everything here is pure: text in, data out.  Malformed input raises ``NetfilterParseError`` (a ``ValueError``)
whose message names the source (e.g. ``iptables-legacy-save (IPv4)``) and the problem.

Ownership model (data-driven, see ``OWNERS``)
---------------------------------------------
Each owner lists the iptables chains it creates (exact names, name prefixes, and table-specific names), the
``--comment`` texts it marks its rules with, its native nftables tables and its ipsets.  A purge removes, per
table, every non-built-in chain owned by a selected owner, every rule inside those chains, every rule anywhere that
jumps (``-j``) or goes (``-g``) to one of them, and every rule whose comment marks a selected owner.  All other
lines are kept byte for byte: the planner drops lines from the ``*-save`` text, it never regenerates it.

Decisions worth knowing:

* ``KUBE-MARK-MASQ``, ``KUBE-MARK-DROP`` and ``KUBE-POSTROUTING`` belong to **kube-proxy**.  kubelet created copies
  of them up to Kubernetes 1.27 (KEP-3178 "iptables chain ownership clean-up" removed them from kubelet in 1.28);
  an old kubelet simply recreates its copies on its next sync, so purging them with kube-proxy is harmless.
* ``KUBE-FIREWALL`` is **kubelet**'s in the ``filter`` table, but **kube-proxy**'s (IPVS mode, older releases) in
  the ``nat`` table.  ``KUBE-KUBELET-CANARY`` is kubelet's.  kubelet is not in the default owner set.
* ``CNI-*`` chains (portmap ``CNI-HOSTPORT-*``/``CNI-DN-*``/``CNI-SN-*``, the bridge plugin's per-container
  ``CNI-<hash>`` chains, the firewall plugin's ``CNI-FORWARD``/``CNI-ADMIN``) belong to **cni-portmap**.
* Chains that look like Kubernetes/CNI chains (``KUBE-``, ``FLANNEL``, ``CNI-``, ``CILIUM_``) but belong to no
  selected owner are reported (with their owner, or ``None`` when unknown) and never touched.
* kube-proxy's ipsets are destroyed only when no remaining rule of any backend references them (``--match-set``).
"""

from __future__ import annotations

import array
import contextlib
import gc
import re

# --------------------------------------------------------------------------------------------------------------
# Ownership data
# --------------------------------------------------------------------------------------------------------------

OWNER_NAMES = ("kube-proxy", "flannel", "cni-portmap", "kube-router", "kubelet", "cilium")
DEFAULT_OWNERS = ("kube-proxy", "flannel", "cni-portmap")

_KUBE_PROXY_IPSETS = (
    "KUBE-CLUSTER-IP", "KUBE-LOOP-BACK", "KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL", "KUBE-LOAD-BALANCER",
    "KUBE-LOAD-BALANCER-LOCAL", "KUBE-LOAD-BALANCER-FW", "KUBE-LOAD-BALANCER-SOURCE-IP",
    "KUBE-LOAD-BALANCER-SOURCE-CIDR", "KUBE-NODE-PORT-TCP", "KUBE-NODE-PORT-LOCAL-TCP", "KUBE-NODE-PORT-UDP",
    "KUBE-NODE-PORT-LOCAL-UDP", "KUBE-NODE-PORT-SCTP-HASH", "KUBE-NODE-PORT-LOCAL-SCTP-HASH",
    "KUBE-HEALTH-CHECK-NODE-PORT", "KUBE-IPVS-IPS",
)

OWNERS = {
    "kube-proxy": {
        "chains": (
            "KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ", "KUBE-MARK-DROP",
            "KUBE-FORWARD", "KUBE-PROXY-FIREWALL", "KUBE-PROXY-CANARY", "KUBE-EXTERNAL-SERVICES",
            "KUBE-LOAD-BALANCER", "KUBE-NODE-PORT", "KUBE-SOURCE-RANGES-FIREWALL", "KUBE-IPVS-FILTER",
            "KUBE-IPVS-OUT-FILTER", "KUBE-PORTALS-CONTAINER", "KUBE-PORTALS-HOST", "KUBE-NODEPORT-CONTAINER",
            "KUBE-NODEPORT-HOST",
        ),
        "table_chains": (("nat", "KUBE-FIREWALL"),),
        "prefixes": ("KUBE-SVC-", "KUBE-SEP-", "KUBE-FW-", "KUBE-XLB-", "KUBE-EXT-", "KUBE-SVL-", "KUBE-IPVS-"),
        "comments": (
            "kubernetes service portals", "kubernetes postrouting rules", "kubernetes forwarding rules",
            "kubernetes externally-visible service portals", "kubernetes externally visible service portals",
            "kubernetes health check service ports", "kubernetes load balancer firewall",
            "kubernetes service nodeports; NOTE: this must be the last rule in this chain",
            "kube-proxy firewall rules", "kubernetes ipvs access filter", "kubernetes ipvs outbound filter",
        ),
        "comment_prefixes": (),
        "nft_tables": (("ip", "kube-proxy"), ("ip6", "kube-proxy")),
        "ipsets": _KUBE_PROXY_IPSETS + tuple("KUBE-6-" + name[5:] for name in _KUBE_PROXY_IPSETS),
        "ipset_prefixes": (),
    },
    "kubelet": {
        "chains": ("KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT"),
        "table_chains": (("filter", "KUBE-FIREWALL"),),
        "prefixes": (),
        "comments": ("kubernetes firewall for dropping marked packets", "block incoming localnet connections"),
        "comment_prefixes": (),
        "nft_tables": (),
        "ipsets": (),
        "ipset_prefixes": (),
    },
    "flannel": {
        "chains": ("FLANNEL-POSTRTG", "FLANNEL-FWD"),
        "table_chains": (),
        "prefixes": ("FLANNEL-",),
        "comments": ("flanneld masq", "flanneld forward"),
        "comment_prefixes": (),
        "nft_tables": (("ip", "flannel-ipv4"), ("ip6", "flannel-ipv6")),
        "ipsets": (),
        "ipset_prefixes": (),
    },
    "cni-portmap": {
        "chains": (),
        "table_chains": (),
        "prefixes": ("CNI-",),
        "comments": (),
        "comment_prefixes": ("CNI portfwd", "CNI firewall plugin"),
        "nft_tables": (),
        "ipsets": (),
        "ipset_prefixes": (),
    },
    "kube-router": {
        "chains": ("KUBE-ROUTER-INPUT", "KUBE-ROUTER-FORWARD", "KUBE-ROUTER-OUTPUT", "KUBE-ROUTER-SERVICES"),
        "table_chains": (),
        "prefixes": ("KUBE-ROUTER-", "KUBE-NWPLCY-", "KUBE-POD-FW-"),
        "comments": (),
        "comment_prefixes": ("kube-router netpol",),
        "nft_tables": (),
        "ipsets": ("kube-router-local-ips", "kube-router-pod-subnets", "kube-router-node-ips",
                   "kube-router-svip", "kube-router-svip-prt"),
        "ipset_prefixes": ("KUBE-SRC-", "KUBE-DST-", "inet6:KUBE-SRC-", "inet6:KUBE-DST-"),
    },
    "cilium": {
        "chains": (),
        "table_chains": (),
        "prefixes": ("CILIUM_", "OLD_CILIUM_"),
        "comments": (),
        "comment_prefixes": ("cilium-feeder:", "cilium:"),
        "nft_tables": (),
        "ipsets": ("cilium_node_set_v4", "cilium_node_set_v6"),
        "ipset_prefixes": (),
    },
}

# Chain name prefixes that "look like" Kubernetes/CNI state: reported when left in place.
LOOKALIKE_PREFIXES = ("KUBE-", "FLANNEL", "CNI-", "CILIUM_", "OLD_CILIUM_")

BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "raw": ("PREROUTING", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}


class NetfilterParseError(ValueError):
    """Malformed or unexpected command output."""


def validate_owners(owners):
    """Return the owner list (order kept, duplicates dropped) or raise ValueError for unknown names."""
    result = []
    for owner in owners:
        if owner not in OWNERS:
            raise ValueError("unknown owner %r; known owners: %s" % (owner, ", ".join(OWNER_NAMES)))
        if owner not in result:
            result.append(owner)
    return result


class _Classifier:
    """Chain/comment/ipset ownership lookups.

    Chain prefixes are matched by one compiled alternation, longest prefix first (``KUBE-ROUTER-`` before any
    shorter ``KUBE-`` prefix), whose matching group names the owner: one C-level match per chain name, which matters
    on a node with 70,000 kube-proxy chains.
    """

    def __init__(self):
        self._table_chain = {}
        self._exact = {}
        self._comments = {}
        self._comment_prefixes = []
        prefixes = []
        for owner in OWNER_NAMES:
            spec = OWNERS[owner]
            for table, chain in spec["table_chains"]:
                self._table_chain.setdefault(chain, {})[table] = owner
            for chain in spec["chains"]:
                self._exact[chain] = owner
            for prefix in spec["prefixes"]:
                prefixes.append((prefix, owner))
            for comment in spec["comments"]:
                self._comments[comment] = owner
            for prefix in spec["comment_prefixes"]:
                self._comment_prefixes.append((prefix, owner))
        prefixes.sort(key=lambda item: -len(item[0]))
        self._group_owner = {"p%d" % i: owner for i, (dummy, owner) in enumerate(prefixes)}
        self._prefix_re = re.compile("|".join("(?P<p%d>%s)" % (i, re.escape(prefix))
                                              for i, (prefix, dummy) in enumerate(prefixes)))

    def chain_owner(self, table, chain):
        by_table = self._table_chain.get(chain)
        if by_table is not None and table in by_table:
            return by_table[table]
        owner = self._exact.get(chain)
        if owner is None:
            match = self._prefix_re.match(chain)
            if match is not None:
                owner = self._group_owner[match.lastgroup]
        return owner

    def comment_owner(self, comment):
        owner = self._comments.get(comment)
        if owner is None:
            for prefix, candidate in self._comment_prefixes:
                if comment.startswith(prefix):
                    return candidate
        return owner


CLASSIFIER = _Classifier()


def ipset_owner(name):
    """Owner of an ipset by name, or None."""
    for owner in OWNER_NAMES:
        spec = OWNERS[owner]
        if name in spec["ipsets"]:
            return owner
        for prefix in spec["ipset_prefixes"]:
            if name.startswith(prefix):
                return owner
    return None


def nft_table_owner(family, name):
    for owner in OWNER_NAMES:
        if (family, name) in OWNERS[owner]["nft_tables"]:
            return owner
    return None


# --------------------------------------------------------------------------------------------------------------
# iptables-save text
# --------------------------------------------------------------------------------------------------------------

_QUOTED_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_COMMENT_RE = re.compile(r'--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))')
_TARGET_RE = re.compile(r" (?:-j|--jump|-g|--goto) (\S+)")
_MATCHSET_RE = re.compile(r" --match-set (\S+)")
_COUNTERS_RE = re.compile(r"^\[\d+:\d+\] ")
_UNESCAPE_RE = re.compile(r"\\(.)")


# libiptc's chain index: one entry per this many user-defined chains, in name order (CHAIN_INDEX_BUCKET_LEN).
_LIBIPTC_BUCKET = 40


class Rule:
    """One ``-A`` line. Targets, comments and match-sets are parsed on first use. Tables do not keep these objects
    for every rule (see ``Table``): the planner makes them only for the rules of kept chains."""

    __slots__ = ("index", "chain", "body", "_targets", "_comments", "_match_sets")

    def __init__(self, index, chain, body):
        self.index = index
        self.chain = chain
        self.body = body
        self._targets = None
        self._comments = None
        self._match_sets = None

    def _scan(self):
        body = self.body
        if '"' in body:
            self._comments = tuple(_UNESCAPE_RE.sub(r"\1", m.group(1) if m.group(1) is not None else m.group(2))
                                   for m in _COMMENT_RE.finditer(body))
            body = _QUOTED_RE.sub('""', body)
        elif "--comment" in body:
            self._comments = tuple(m.group(2) or m.group(1) for m in _COMMENT_RE.finditer(body))
        else:
            self._comments = ()
        self._targets = tuple(_TARGET_RE.findall(body))
        self._match_sets = tuple(_MATCHSET_RE.findall(body)) if "--match-set" in body else ()

    @property
    def targets(self):
        if self._targets is None:
            self._scan()
        return self._targets

    @property
    def comments(self):
        if self._comments is None:
            self._scan()
        return self._comments

    @property
    def match_sets(self):
        if self._match_sets is None:
            self._scan()
        return self._match_sets


class Table:
    """One ``*name … COMMIT`` section of a save dump; line indexes point into ``SaveDump.lines``."""

    def __init__(self, name, start, lines):
        self.name = name
        self.start = start
        self.end = -1
        self.lines = lines  # the whole dump's lines (shared, not copied)
        self.chains = {}  # name -> (line index, policy)
        # One entry per rule, in dump order: its line index (a machine integer) and its chain's name (the declared
        # string itself, shared). No object per rule keeps a 200,000-rule dump small and its parse linear.
        self.rule_index = array.array("l")
        self.rule_chain = []

    @property
    def builtin(self):
        return BUILTIN_CHAINS[self.name]

    @property
    def rules(self):
        """Every rule as a ``Rule`` (made on each call; the planner uses ``rules_outside``)."""
        return self.rules_outside(())

    def rules_outside(self, chains):
        """``Rule`` objects for the rules whose chain is not in the set ``chains``, in dump order."""
        lines = self.lines
        return [Rule(index, chain, lines[index]) for index, chain in zip(self.rule_index, self.rule_chain)
                if chain not in chains]


class SaveDump:
    def __init__(self, source, lines, tables):
        self.source = source
        self.lines = lines
        self.tables = tables

    def table(self, name):
        for table in self.tables:
            if table.name == name:
                return table
        return None

    def section(self, table, drop=None):
        """The table's text from ``*name`` to ``COMMIT``, without the line indexes in ``drop``."""
        lines = self.lines[table.start:table.end + 1]
        if not drop:
            text = "".join(lines)
        else:
            start = table.start
            text = "".join(line for offset, line in enumerate(lines) if (offset + start) not in drop)
        if not text.endswith("\n"):
            text += "\n"
        return text

    def purge_script(self, plan):
        """The ``*-restore --noflush`` input that applies ``plan`` to its table in one atomic commit.

        Instead of re-sending the whole filtered table (which makes ``iptables-restore`` flush and delete every
        chain of the table and recreate the kept ones), the script names only what goes:

        * the built-in chains' own lines as saved (``:INPUT DROP [p:b]``): iptables-legacy-restore zeroes the policy
          counters of every table it commits in ``--noflush`` mode unless they are restated (with ``-c``),
        * ``-F CHAIN`` for each removed chain (``:CHAIN - [0:0]``, kube-proxy's spelling, would also flush it, but
          iptables-legacy-restore then announces every chain name to libxtables, which grows with the square of
          the chain count; a chain that vanished since the save makes ``-F`` fail the whole commit, cleanly),
        * ``-D CHAIN spec`` for each removed rule of a kept chain, spelled exactly as ``*-save`` printed it,
        * ``-X CHAIN`` for each removed chain, once nothing refers to it any more.

        The kernel still gets one new table per commit, so the change stays atomic; kept rules are never
        re-parsed, keep their counters and can not be reordered; a rule another tool added since the save stays.
        The ``-X`` lines come in an order that is cheap for libiptc (iptables-legacy): it indexes user chains in
        buckets of 40 by name and rebuilds the whole index whenever a bucket's first chain is deleted and the
        next chain lies in another bucket; deleting the other chains first keeps those rebuilds few and small,
        where name order makes the commit quadratic in the number of chains. iptables-nft ignores the order.
        """
        table = plan.table
        lines = self.lines
        removed = plan.removed_chains
        out = ["*%s\n" % table.name]
        out.extend(lines[table.chains[chain][0]] for chain in table.builtin if chain in table.chains)
        out.extend("-F %s\n" % chain for chain in removed)
        for index in plan.deleted_rules:
            line = lines[index]
            spec = line[line.find("-A "):] if line.startswith("[") else line
            out.append("-D" + spec[2:].rstrip("\n") + "\n")
        user = sorted(chain for chain in table.chains if chain not in table.builtin)
        heads = set(user[::_LIBIPTC_BUCKET])
        out.extend("-X %s\n" % chain for chain in removed if chain not in heads)
        out.extend("-X %s\n" % chain for chain in removed if chain in heads)
        out.append("COMMIT\n")
        return "".join(out)

    @property
    def has_rules(self):
        """True when any table holds a rule, a user chain or a non-ACCEPT built-in policy."""
        for table in self.tables:
            if table.rule_index:
                return True
            for chain, (dummy, policy) in table.chains.items():
                if chain not in table.builtin or policy not in ("ACCEPT", "-"):
                    return True
        return False


def _parse_rule(line, source, lineno, table):
    """The chain name of a rule line that missed the parser's fast path, or a NetfilterParseError."""
    body = line
    if line.startswith("["):
        close = line.find("] ")
        if close < 0 or not _COUNTERS_RE.match(line):
            raise NetfilterParseError("%s: line %d: malformed counters in %r" % (source, lineno, line.rstrip("\n")[:120]))
        body = line[close + 2:]
    if not body.startswith("-A "):
        raise NetfilterParseError("%s: line %d: expected '-A CHAIN ...' in table %s, got %r"
                                  % (source, lineno, table.name, line.rstrip("\n")[:120]))
    end = body.find(" ", 3)
    chain = (body[3:] if end < 0 else body[3:end]).rstrip("\n")
    if not chain:
        raise NetfilterParseError("%s: line %d: rule without a chain name" % (source, lineno))
    if chain not in table.chains:
        raise NetfilterParseError("%s: line %d: rule for chain %s, which table %s does not declare"
                                  % (source, lineno, chain, table.name))
    return chain


def parse_save(text, source="iptables-save"):
    """Parse ``iptables-save``/``ip6tables-save`` output (with or without ``-c``) into a ``SaveDump``.

    Raises NetfilterParseError for unknown tables, lines outside a table, undeclared chains, a missing
    ``COMMIT`` (truncated dump) and built-in chains with a ``-`` policy.
    One pass, constant work per line: rules are only split at their chain name here.
    """
    if not isinstance(text, str):
        raise NetfilterParseError("%s: expected text, got %s" % (source, type(text).__name__))
    # The parse allocates one small object per rule and creates no reference cycles: with the cyclic garbage
    # collector running, its full passes over a growing heap would make a 200,000-rule dump more than twice as
    # slow as a 100,000-rule one.
    with _no_cyclic_gc():
        return _parse_save(text, source)


@contextlib.contextmanager
def _no_cyclic_gc():
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _parse_save(text, source):
    lines = text.splitlines(True)
    tables = []
    seen = set()
    current = None
    chains = names = builtin = rule_index = rule_chain = None
    for index, line in enumerate(lines):
        first = line[:1]
        if current is not None:
            if first == "[" or first == "-":
                # Fast path for well-formed "[p:b] -A CHAIN ..." / "-A CHAIN ..." lines; anything else goes
                # through _parse_rule, which also produces the error messages. The rule is kept as its line index
                # and its chain's declared name (the sliced copy is dropped at once).
                start = 3 if line.startswith("-A ") else -1
                if first == "[":
                    close = line.find("] -A ")
                    if close > 0 and line[1:close].replace(":", "", 1).isdigit():
                        start = close + 5
                name = None
                if start > 0:
                    end = line.find(" ", start)
                    name = names.get(line[start:end] if end > 0 else line[start:].rstrip("\n"))
                if name is None:
                    name = names[_parse_rule(line, source, index + 1, current)]
                rule_index.append(index)
                rule_chain.append(name)
                continue
            if first == ":":
                # Fast path for a well-formed user chain ":NAME - [0:0]" (how every saver prints one); anything else,
                # built-in chains included, goes through _declare_chain's checks.
                if line.endswith(" - [0:0]\n"):
                    chain = line[1:-9]
                    if (chain and chain not in chains and chain not in builtin and len(chain) <= 64
                            and " " not in chain and '"' not in chain and "'" not in chain):
                        chains[chain] = (index, "-")
                        names[chain] = chain
                        continue
                chain = _declare_chain(current, line, index, source)
                names[chain] = chain
                continue
            stripped = line.strip()
            if stripped == "COMMIT":
                current.end = index
                tables.append(current)
                current = None
            elif stripped and not stripped.startswith("#"):
                raise NetfilterParseError("%s: line %d: unexpected line %r in table %s"
                                          % (source, index + 1, stripped[:120], current.name))
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("*"):
            name = stripped[1:]
            if name not in BUILTIN_CHAINS:
                raise NetfilterParseError("%s: line %d: unknown table %r (known: %s)"
                                          % (source, index + 1, name, ", ".join(sorted(BUILTIN_CHAINS))))
            if name in seen:
                raise NetfilterParseError("%s: line %d: table %s appears twice" % (source, index + 1, name))
            seen.add(name)
            current = Table(name, index, lines)
            chains, builtin = current.chains, current.builtin
            rule_index, rule_chain, names = current.rule_index, current.rule_chain, {}
            continue
        raise NetfilterParseError("%s: line %d: %r outside a table (expected '*table')"
                                  % (source, index + 1, stripped[:120]))
    if current is not None:
        raise NetfilterParseError("%s: table %s has no COMMIT line: the dump is truncated"
                                  % (source, current.name))
    return SaveDump(source, lines, tables)


def _declare_chain(table, line, index, source):
    """``:NAME POLICY [p:b]`` → table.chains[NAME] = (index, POLICY), with validation; returns NAME."""
    lineno = index + 1
    parts = line.split()
    counters = parts[2] if len(parts) == 3 else ""
    if (len(parts) != 3 or len(counters) < 5 or counters[0] != "[" or counters[-1] != "]"
            or not counters[1:-1].replace(":", "", 1).isdigit() or ":" not in counters):
        raise NetfilterParseError("%s: line %d: malformed chain declaration %r"
                                  % (source, lineno, line.strip()[:120]))
    chain, policy = parts[0][1:], parts[1]
    if not chain or '"' in chain or "'" in chain or len(chain) > 64:
        raise NetfilterParseError("%s: line %d: invalid chain name %r" % (source, lineno, chain))
    if chain in table.chains:
        raise NetfilterParseError("%s: line %d: chain %s declared twice in table %s"
                                  % (source, lineno, chain, table.name))
    builtin = chain in table.builtin
    if builtin and policy == "-":
        raise NetfilterParseError("%s: line %d: built-in chain %s without a policy" % (source, lineno, chain))
    if not builtin and policy != "-":
        raise NetfilterParseError("%s: line %d: user chain %s with policy %s" % (source, lineno, chain, policy))
    table.chains[chain] = (index, policy)
    return chain


def looks_kube(chain):
    return chain.startswith(LOOKALIKE_PREFIXES)


class TablePlan:
    def __init__(self, table):
        self.table = table
        self.removed_chains = []
        self.removed_rules = []  # line indexes of removed rules, ascending
        self.deleted_rules = []  # the ones among them in kept chains (deleted one by one), ascending
        self.unowned = []  # (chain, owner or None)
        self.drop = set()

    @property
    def changed(self):
        return bool(self.drop)


def plan_table(table, owners):
    """Plan the purge of one table for the selected owners (an iterable of owner names). Linear in its size."""
    selected = set(owners)
    plan = TablePlan(table)
    classify = CLASSIFIER.chain_owner
    builtin = table.builtin
    removed = set()
    for chain, (index, dummy) in table.chains.items():
        if chain in builtin:
            continue
        owner = classify(table.name, chain)
        if owner in selected:
            removed.add(chain)
            plan.removed_chains.append(chain)
            plan.drop.add(index)
        elif owner is not None or looks_kube(chain):
            plan.unowned.append((chain, owner))
    comment_owner = CLASSIFIER.comment_owner
    # Rules inside removed chains go with their chain, unread; only the rules of kept chains are scanned.
    deleted = plan.deleted_rules
    for rule in table.rules_outside(removed):
        for target in rule.targets:
            if target in removed:
                deleted.append(rule.index)
                break
        else:
            for comment in rule.comments:
                if comment_owner(comment) in selected:
                    deleted.append(rule.index)
                    break
    gone = [index for index, chain in zip(table.rule_index, table.rule_chain) if chain in removed]
    gone.extend(deleted)
    gone.sort()
    plan.removed_rules = gone
    plan.drop.update(gone)
    return plan


def plan_dump(dump, owners):
    """Plan every table of a dump; returns a list of TablePlan (one per table, in dump order)."""
    with _no_cyclic_gc():
        return [plan_table(table, owners) for table in dump.tables]


def remaining_match_sets(dump, plans):
    """Set names referenced by ``--match-set`` in the rules a plan keeps."""
    names = set()
    for plan in plans:
        drop, lines = plan.drop, plan.table.lines
        for index, chain in zip(plan.table.rule_index, plan.table.rule_chain):
            if index not in drop and "--match-set" in lines[index]:
                names.update(Rule(index, chain, lines[index]).match_sets)
    return names


def dangling_references(dump, plan):
    """Rules kept by ``plan`` that jump to a chain the plan removes (must be empty; used by tests and asserts)."""
    removed = set(plan.removed_chains)
    return [dump.lines[r.index] for r in plan.table.rules
            if r.index not in plan.drop and any(t in removed for t in r.targets)]


def removed_text(dump, plan):
    """The removed lines of one table, for --diff."""
    return "".join(dump.lines[i] for i in sorted(plan.drop))


def strip_counters(text):
    """Canonical form for comparisons: counters ``[p:b]`` zeroed, ``#`` comment lines dropped."""
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        line = re.sub(r"\[\d+:\d+\]", "[0:0]", line)
        out.append(line)
    return "\n".join(out) + ("\n" if out else "")


# --------------------------------------------------------------------------------------------------------------
# nft
# --------------------------------------------------------------------------------------------------------------

_NFT_FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")


def parse_nft_tables(text, source="nft list tables"):
    """``nft list tables`` → list of (family, name)."""
    result = []
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split()
        if len(parts) != 3 or parts[0] != "table":
            raise NetfilterParseError("%s: line %d: expected 'table FAMILY NAME', got %r"
                                      % (source, lineno, stripped[:120]))
        if parts[1] not in _NFT_FAMILIES:
            raise NetfilterParseError("%s: line %d: unknown nftables family %r" % (source, lineno, parts[1]))
        result.append((parts[1], parts[2]))
    return result


def plan_nft_tables(tables, owners):
    """Owned native nftables tables to delete, in listing order."""
    selected = set(owners)
    return [t for t in tables if nft_table_owner(t[0], t[1]) in selected]


def nft_restore_script(family, name, listing):
    """A one-transaction nft script that (re)creates a table exactly as listed (``nft list table F N`` output)."""
    if not listing.endswith("\n"):
        listing += "\n"
    return "table %s %s\ndelete table %s %s\n%s" % (family, name, family, name, listing)


def check_nft_listing(text, family, name, source):
    """Sanity check of ``nft list table`` output: starts with the table header, braces balance."""
    header = "table %s %s {" % (family, name)
    body = text.strip()
    if not body.startswith(header):
        raise NetfilterParseError("%s: expected a listing starting with %r" % (source, header))
    depth = 0
    for char in _strip_nft_strings(body):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                break
    if depth != 0:
        raise NetfilterParseError("%s: unbalanced braces: the listing of table %s %s is truncated"
                                  % (source, family, name))


def _strip_nft_strings(text):
    return _QUOTED_RE.sub('""', text)


# --------------------------------------------------------------------------------------------------------------
# IPVS
# --------------------------------------------------------------------------------------------------------------

_IPVS_PROTO = {"-t": "tcp", "--tcp-service": "tcp", "-u": "udp", "--udp-service": "udp",
               "--sctp-service": "sctp", "-f": "fwmark", "--fwmark-service": "fwmark"}


def _split_hostport(value, source, lineno):
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or value[end + 1:end + 2] != ":":
            raise NetfilterParseError("%s: line %d: malformed address %r" % (source, lineno, value))
        return value[1:end], value[end + 2:]
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise NetfilterParseError("%s: line %d: malformed address %r" % (source, lineno, value))
    return host, port


def parse_ipvsadm_save(text, source="ipvsadm -Sn"):
    """``ipvsadm -Sn`` → ordered list of services: {proto, address, port, key, lines}.

    ``key`` is the ``-t ADDR:PORT`` / ``-f MARK`` argument pair used by ``ipvsadm -D``; ``lines`` holds the ``-A``
    line and its ``-a`` real-server lines, verbatim, for backups and restores.
    """
    services = []
    by_key = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split()
        if parts[0] not in ("-A", "-a") or len(parts) < 3 or parts[1] not in _IPVS_PROTO:
            raise NetfilterParseError("%s: line %d: unexpected line %r" % (source, lineno, stripped[:120]))
        proto = _IPVS_PROTO[parts[1]]
        key = (parts[1], parts[2])
        if parts[0] == "-A":
            if proto == "fwmark":
                address, port = None, None
            else:
                address, port = _split_hostport(parts[2], source, lineno)
            if key in by_key:
                raise NetfilterParseError("%s: line %d: virtual service %s %s listed twice"
                                          % (source, lineno, parts[1], parts[2]))
            service = {"proto": proto, "address": address, "port": port, "key": list(key), "lines": [stripped]}
            services.append(service)
            by_key[key] = service
        else:
            service = by_key.get(key)
            if service is None:
                raise NetfilterParseError("%s: line %d: real server for unknown virtual service %s %s"
                                          % (source, lineno, parts[1], parts[2]))
            service["lines"].append(stripped)
    return services


_IP_ADDR_RE = re.compile(r"\binet6? ([0-9a-fA-F.:]+)/\d+")


def parse_ip_addr_show(text):
    """Addresses (without prefix length) from ``ip -o addr show dev DEV`` output."""
    return [m.group(1) for m in _IP_ADDR_RE.finditer(text)]


def _norm_addr(address):
    return address.lower()


def plan_ipvs(services, bound_addresses):
    """Services whose virtual address is bound on kube-ipvs0 (kube-proxy's), in listing order."""
    bound = set(_norm_addr(a) for a in bound_addresses)
    return [s for s in services if s["address"] is not None and _norm_addr(s["address"]) in bound]


# --------------------------------------------------------------------------------------------------------------
# ipset
# --------------------------------------------------------------------------------------------------------------

def parse_ipset_names(text, source="ipset list -n"):
    names = []
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        if len(stripped.split()) != 1:
            raise NetfilterParseError("%s: line %d: expected one set name, got %r" % (source, lineno, stripped[:120]))
        names.append(stripped)
    return names


def plan_ipsets(names, owners, referenced):
    """(to_destroy, kept) for the owned sets; kept entries carry the reason."""
    selected = set(owners)
    destroy = []
    kept = []
    for name in names:
        owner = ipset_owner(name)
        if owner not in selected:
            continue
        if name in referenced:
            kept.append({"name": name, "owner": owner, "reason": "still referenced by a remaining rule"})
        else:
            destroy.append(name)
    return destroy, kept


def ipset_save_subset(text, names):
    """Lines of ``ipset save`` output that create or fill the given sets (for a partial restore)."""
    wanted = set(names)
    out = []
    for line in text.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] in ("create", "add") and parts[1] in wanted:
            out.append(line)
    return "\n".join(out) + ("\n" if out else "")
