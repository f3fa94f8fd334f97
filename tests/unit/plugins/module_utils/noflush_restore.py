# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helper: what ``iptables-restore --noflush`` does to a ``*-save`` text with the scripts netfilter_purge sends.

Used by the module's unit tests (its fake node) and by the planner's tests (script applied == filtered table).
The real binaries are exercised by tests/integration and the lab.
"""

from __future__ import annotations

import re
import shlex

_COUNTERS = re.compile(r"^\[\d+:\d+\] ")


def _words(line):
    return shlex.split(_COUNTERS.sub("", line))


def _in_chain(line, chain):
    return _words(line)[:2] == ["-A", chain]


def _uses(line, chain):
    """True when a rule line is in ``chain`` or jumps/goes to it (quoted text, such as a log prefix, is not)."""
    words = _words(line)
    if words[:2] == ["-A", chain]:
        return True
    return any(words[i] in ("-j", "-g") and words[i + 1] == chain for i in range(len(words) - 1))


def apply_noflush(current, script):
    """Apply ``script`` to the save text ``current``; returns ``(new_text, "")`` or ``(None, error)``.

    ``:CHAIN - [0:0]`` flushes (or creates) a user chain, ``:BUILTIN POLICY [p:b]`` sets a built-in chain's policy and
    counters (``-c``) and keeps its rules, ``-F CHAIN`` flushes an existing chain, ``-D CHAIN spec`` deletes the first rule spelled so (an error when there
    is none), ``-X CHAIN`` deletes an existing, empty, unreferenced chain. All or nothing, as one commit is.
    """
    lines = current.splitlines(True)
    for part in script.split("COMMIT\n"):
        if not part.strip():
            continue
        section = part.splitlines()
        table = section[0][1:]
        if "*%s\n" % table not in lines:
            return None, "table %s does not exist" % table
        start = lines.index("*%s\n" % table)
        end = lines.index("COMMIT\n", start)
        body = lines[start + 1:end]
        for line in section[1:]:
            if line.startswith(":"):
                chain, policy = line[1:].split()[:2]
                if policy != "-":  # a built-in chain: policy and counters set, rules kept
                    body = [line + "\n" if b.startswith(":%s " % chain) else b for b in body]
                    continue
                body = [b for b in body if not _in_chain(b, chain)]
                if not any(b.startswith(":%s " % chain) for b in body):
                    body.append(":%s - [0:0]\n" % chain)
            elif line.startswith("-F "):
                chain = line.split()[1]
                if not any(b.startswith(":%s " % chain) for b in body):
                    return None, "No chain/target/match by that name: %s" % line
                body = [b for b in body if not _in_chain(b, chain)]
            elif line.startswith("-D "):
                spec = "-A" + line[2:] + "\n"
                hits = [i for i, b in enumerate(body) if _COUNTERS.sub("", b) == spec]
                if not hits:
                    return None, "Bad rule (does a matching rule exist in that chain?): %s" % line
                del body[hits[0]]
            elif line.startswith("-X "):
                chain = line.split()[1]
                if not any(b.startswith(":%s " % chain) for b in body):
                    return None, "No chain/target/match by that name: %s" % line
                if any(_uses(b, chain) for b in body):
                    return None, "Too many links / Directory not empty: %s" % line
                body = [b for b in body if not b.startswith(":%s " % chain)]
            else:
                return None, "unexpected line in a purge script: %s" % line
        lines[start + 1:end] = body
    return "".join(lines), ""
