# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE to the kubeshift.cilium collection: no API guarantee, may change at any time.
"""Fleet preflight report: build report.json and render it as Markdown or self-contained HTML.

Pure functions, no I/O. The HTML page has inline CSS only (no script, no external URL) and labels every
cell with its status word as well as its colour, so it stays readable in print and without colour.
Everything taken from the input is escaped.
"""

from __future__ import annotations

import html
import json
from typing import Any, Dict, List

from ansible_collections.kubeshift.cilium.plugins.module_utils._preflight import _RANK, fleet_summary
from ansible_collections.kubeshift.cilium.plugins.module_utils._values import type_name

FORMATS = ("json", "markdown", "html")
_DETAIL_STATUSES = ("fail", "unknown", "warn")


def build_report(node_results: Any, cilium_version: Any) -> Dict[str, Any]:
    """Assemble the report.json document from ``{host: node verdict}``."""
    if not isinstance(cilium_version, str) or not cilium_version.strip():
        raise ValueError("report: cilium_version must be a non-empty string, got %s %r"
                         % (type_name(cilium_version), cilium_version))
    summary = fleet_summary(node_results)
    nodes = dict((str(host), node_results[host]) for host in sorted(node_results, key=str))
    return {"cilium_version": cilium_version, "nodes": nodes, "summary": summary}


def _validate_report(report: Any) -> None:
    if not isinstance(report, dict) or not isinstance(report.get("nodes"), dict) \
            or not isinstance(report.get("summary"), dict):
        raise ValueError("report: expected the dict built by build_report (cilium_version, nodes, summary)")


_NODE_KEYS = frozenset(("verdict", "kernel_release", "checks"))


def render_json(report: Dict[str, Any], indent: Any = None) -> str:
    """report.json text; compact unless ``indent`` (spaces per level) is given.

    The text is assembled from per-check fragments: fleets repeat the same check (same id, status, found value
    and message) on many nodes, so each distinct check is encoded once. The result is exactly the document
    ``json.dumps(report, indent=indent)`` (or the compact ``separators=(",", ":")`` form) would produce.
    """
    _validate_report(report)
    if indent is not None and (isinstance(indent, bool) or not isinstance(indent, int) or indent < 0):
        raise ValueError("report: indent must be a non-negative integer, got %r" % (indent,))
    if indent is None:
        key_sep = ":"

        def encode(value: Any, depth: int) -> str:
            return json.dumps(value, separators=(",", ":"))

        def pad(depth: int) -> str:
            return ""
    else:
        key_sep = ": "
        pads = ["\n" + " " * (indent * depth) for depth in range(6)]

        def encode(value: Any, depth: int) -> str:
            return json.dumps(value, indent=indent).replace("\n", pads[depth])

        def pad(depth: int) -> str:
            return pads[depth]
    item_sep = ","

    # One flat list of pieces joined once at the end: the text can be 100 MB for 10,000 nodes, and every
    # intermediate join would copy it again.
    memo = {}  # type: Dict[Any, str]
    out = ["{"]
    add = out.append
    first_key = True
    for top_key, top_value in report.items():
        if not first_key:
            add(item_sep)
        first_key = False
        add("%s%s%s" % (pad(1), json.dumps(str(top_key)), key_sep))
        if top_key != "nodes":
            add(encode(top_value, 1))
            continue
        if not top_value:
            add("{}")
            continue
        add("{")
        first_node = True
        for host, entry in top_value.items():
            add(pad(2) + json.dumps(str(host)) + key_sep if first_node else
                item_sep + pad(2) + json.dumps(str(host)) + key_sep)
            first_node = False
            if not isinstance(entry, dict) or set(entry) != _NODE_KEYS or not isinstance(entry["checks"], list):
                add(encode(entry, 2))
                continue
            add("{%s\"verdict\"%s%s%s%s\"kernel_release\"%s%s%s%s\"checks\"%s" % (
                pad(3), key_sep, json.dumps(entry["verdict"]), item_sep,
                pad(3), key_sep, json.dumps(entry["kernel_release"]), item_sep, pad(3), key_sep))
            if not entry["checks"]:
                add("[]" + pad(2) + "}")
                continue
            add("[")
            first_check = True
            for check in entry["checks"]:
                text = None
                key = None
                if isinstance(check, dict) and len(check) == 6:
                    try:
                        found = check["found"]
                        key = (check["id"], check["group"], check["status"], check["required"], found.__class__,
                               tuple(found) if found.__class__ is list else found, check["message"])
                        text = memo.get(key)
                    except (KeyError, TypeError):  # other keys, or an unhashable found/required value
                        key = None
                if text is None:
                    text = pad(4) + encode(check, 4)
                    if key is not None:
                        memo[key] = text
                if first_check:
                    first_check = False
                else:
                    add(item_sep)
                add(text)
            add(pad(3) + "]" + pad(2) + "}")
        add(pad(1) + "}")
    add(pad(0) + "}" if len(out) > 1 else "}")
    return "".join(out)


def _ordered_hosts(nodes: Dict[str, Any]) -> List[str]:
    """Worst verdict first, then by name."""
    return sorted(nodes, key=lambda h: (-_RANK.get(nodes[h].get("verdict"), 0), h))


def check_columns(nodes: Dict[str, Any]) -> List[Any]:
    """Every check id seen in the fleet, in first-seen order."""
    seen = {}  # type: Dict[Any, None]
    host = None
    try:
        for host, entry in nodes.items():
            seen.update(dict.fromkeys([check["id"] for check in entry["checks"]]))
    except (KeyError, TypeError, AttributeError):
        raise ValueError("report: node %s has a malformed check list" % host)
    return list(seen)


class _RowCache(object):
    """Render each distinct check once: fleets repeat the same failing check on many nodes."""

    def __init__(self, render):
        self.render = render
        self.memo = {}  # type: Dict[Any, str]

    def __call__(self, check: Dict[str, Any]) -> str:
        try:
            found = check.get("found")
            required = check.get("required")
            key = (check.get("id"), check.get("group"), check.get("status"), required.__class__,
                   tuple(required) if required.__class__ is list else required, found.__class__,
                   tuple(found) if found.__class__ is list else found, check.get("message"))
            text = self.memo.get(key)
        except TypeError:  # unhashable values: render without caching
            return self.render(check)
        if text is None:
            text = self.memo[key] = self.render(check)
        return text


def _text(value: Any) -> str:
    """Human form of a required/found value: lists joined with commas, empty or null as "-"."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(str(v) for v in value) if value else "-"
    return json.dumps(value, sort_keys=True)


# ------------------------------------------------------------------------------------------ markdown

def _md(value: Any) -> str:
    text = _text(value)
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
            .replace("<", "&lt;").replace(">", "&gt;"))


def render_markdown(report: Dict[str, Any]) -> str:
    _validate_report(report)
    nodes = report["nodes"]
    summary = report["summary"]
    verdicts = summary.get("verdicts", {})
    out = []
    add = out.append
    add("# Cilium preflight report")
    add("")
    add("Cilium version: **%s** | fleet verdict: **%s** | nodes: %d | ready to install: %s" % (
        _md(report.get("cilium_version")), _md(summary.get("verdict")), len(nodes),
        "yes" if summary.get("ok") else "no"))
    add("")
    add("| verdict | nodes |")
    add("| --- | ---: |")
    for verdict in ("fail", "unknown", "warn", "pass"):
        add("| %s | %d |" % (verdict, verdicts.get(verdict, 0)))
    add("")
    failing = summary.get("checks") or {}
    if failing:
        add("## Checks that did not pass")
        add("")
        add("| check | fail | unknown | warn |")
        add("| --- | ---: | ---: | ---: |")
        for cid in sorted(failing, key=lambda c: (-failing[c].get("fail", 0), -failing[c].get("unknown", 0), c)):
            slot = failing[cid]
            add("| %s | %d | %d | %d |" % (_md(cid), slot.get("fail", 0), slot.get("unknown", 0), slot.get("warn", 0)))
        add("")
    add("## Nodes")
    add("")
    add("| node | verdict | kernel | fail | unknown | warn | failing checks |")
    add("| --- | --- | --- | ---: | ---: | ---: | --- |")
    hosts = _ordered_hosts(nodes)
    details = []
    for host in hosts:
        entry = nodes[host]
        buckets = _problems(entry)
        bad = [str(c.get("id")) for c in buckets["fail"]]
        add("| %s | %s | %s | %d | %d | %d | %s |" % (
            _md(host), _md(entry.get("verdict")), _md(entry.get("kernel_release")), len(buckets["fail"]),
            len(buckets["unknown"]), len(buckets["warn"]), _md(", ".join(bad)) if bad else ""))
        if entry.get("verdict") != "pass":
            details.append((host, entry, buckets))
    add("")
    if details:
        md_row = _RowCache(_md_detail_row)
        add("## Details")
        for host, entry, buckets in details:
            add("")
            add("### %s (%s)" % (_md(host), _md(entry.get("verdict"))))
            add("")
            add("| check | group | status | required | found | message |")
            add("| --- | --- | --- | --- | --- | --- |")
            for status in _DETAIL_STATUSES:
                for check in buckets[status]:
                    add(md_row(check))
        add("")
    return "\n".join(out)


def _md_detail_row(check: Dict[str, Any]) -> str:
    return "| %s | %s | %s | %s | %s | %s |" % (
        _md(check.get("id")), _md(check.get("group")), _md(check.get("status")), _md(check.get("required")),
        _md(check.get("found")), _md(check.get("message")))


def _html_detail_row(check: Dict[str, Any]) -> str:
    status = _e(check.get("status"))
    return '<tr><td>%s</td><td>%s</td><td class="%s">%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
        _e(check.get("id")), _e(check.get("group")), status, status, _e(check.get("required")),
        _e(check.get("found")), _e(check.get("message")))


def _problems(entry: Dict[str, Any]) -> Dict[str, List[Dict[str, Any]]]:
    """The node's fail/unknown/warn checks, by status, in check order."""
    buckets = {"fail": [], "unknown": [], "warn": []}  # type: Dict[str, List[Dict[str, Any]]]
    if entry.get("verdict") == "pass":
        return buckets
    for check in entry.get("checks", ()):
        status = check.get("status")
        if status != "pass" and status in buckets:
            buckets[status].append(check)
    return buckets


# ---------------------------------------------------------------------------------------------- html

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1b1b}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #999;padding:2px 4px;text-align:left;vertical-align:top}
table.matrix th.c{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:normal}
table.matrix td{text-align:center;white-space:nowrap}
table.matrix td.h,table.matrix th.h{text-align:left;position:sticky;left:0;background:#fff}
.pass{background:#c8e6c9}.warn{background:#fff3b0}.fail{background:#f4b6b6;font-weight:bold}
.unknown{background:#d7c8f0}.skipped{background:#eeeeee;color:#555}.none{background:#fff;color:#999}
.legend span{display:inline-block;padding:1px 6px;margin-right:4px;border:1px solid #999}
.scroll{overflow-x:auto}
@media print{.scroll{overflow:visible}body{margin:0}
table.matrix td.h,table.matrix th.h{position:static}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""

_CELLS = dict((s, '<td class="%s">%s</td>' % (s, s)) for s in ("pass", "warn", "fail", "unknown", "skipped"))
_CELL_NONE = '<td class="none">n/a</td>'


def _e(value: Any) -> str:
    return html.escape(_text(value), quote=True)


def render_html(report: Dict[str, Any]) -> str:
    _validate_report(report)
    nodes = report["nodes"]
    summary = report["summary"]
    verdicts = summary.get("verdicts", {})
    columns = check_columns(nodes)
    hosts = _ordered_hosts(nodes)
    version = _e(report.get("cilium_version"))
    out = []
    add = out.append
    add('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">')
    add("<title>Cilium %s preflight report</title><style>%s</style></head><body>" % (version, _CSS))
    add("<h1>Cilium %s preflight report</h1>" % version)
    fleet = _e(summary.get("verdict"))
    add('<p>Fleet verdict: <strong class="%s">&nbsp;%s&nbsp;</strong> &middot; %d nodes &middot; ready to install: '
        "<strong>%s</strong></p>" % (fleet, fleet, len(nodes), "yes" if summary.get("ok") else "no"))
    add('<table class="summary"><tr><th>verdict</th><th>nodes</th></tr>')
    for verdict in ("fail", "unknown", "warn", "pass"):
        add('<tr><td class="%s">%s</td><td>%d</td></tr>' % (verdict, verdict, verdicts.get(verdict, 0)))
    add("</table>")
    failing = summary.get("checks") or {}
    if failing:
        add("<h2>Checks that did not pass</h2>")
        add("<table><tr><th>check</th><th>fail</th><th>unknown</th><th>warn</th></tr>")
        for cid in sorted(failing, key=lambda c: (-failing[c].get("fail", 0), -failing[c].get("unknown", 0), c)):
            slot = failing[cid]
            add("<tr><td>%s</td><td>%d</td><td>%d</td><td>%d</td></tr>"
                % (_e(cid), slot.get("fail", 0), slot.get("unknown", 0), slot.get("warn", 0)))
        add("</table>")
    add('<h2>Fleet &times; check matrix</h2><p class="legend">')
    for status in ("pass", "warn", "fail", "unknown", "skipped"):
        add('<span class="%s">%s</span>' % (status, status))
    add('<span class="none">n/a</span> (check not run on that node)</p>')
    add('<div class="scroll"><table class="matrix"><thead><tr><th class="h">node</th><th>verdict</th>')
    add("".join('<th class="c">%s</th>' % _e(c) for c in columns))
    add("</tr></thead><tbody>")
    cells = _CELLS
    index = dict((c, i) for i, c in enumerate(columns))
    blank = [_CELL_NONE] * len(columns)
    details = []
    html_row = _RowCache(_html_detail_row)
    for host in hosts:
        entry = nodes[host]
        row = list(blank)
        for check in entry["checks"]:
            row[index[check["id"]]] = cells.get(check.get("status"), _CELL_NONE)
        verdict = entry.get("verdict")
        anchor = _e(host)
        add('<tr><td class="h"><a href="#n-%s">%s</a></td>%s%s</tr>' % (
            anchor, anchor, cells.get(verdict, _CELL_NONE), "".join(row)))
        details.append((anchor, entry))
    add("</tbody></table></div>")
    add("<h2>Details</h2>")
    any_detail = False
    for anchor, entry in details:
        verdict = _e(entry.get("verdict"))
        add('<h3 id="n-%s">%s <span class="%s">&nbsp;%s&nbsp;</span> <small>kernel %s</small></h3>'
            % (anchor, anchor, verdict, verdict, _e(entry.get("kernel_release"))))
        if verdict == "pass":
            add("<p>All checks passed or were skipped.</p>")
            continue
        buckets = _problems(entry)
        rows = []
        for status in _DETAIL_STATUSES:
            for check in buckets[status]:
                rows.append(html_row(check))
        if rows:
            any_detail = True
            add("<table><tr><th>check</th><th>group</th><th>status</th><th>required</th><th>found</th>"
                "<th>message</th></tr>%s</table>" % "".join(rows))
        else:
            add("<p>All checks passed or were skipped.</p>")
    if not nodes:
        add("<p>No nodes in this report.</p>")
    elif not any_detail:
        add("<p>No failing, unknown or warning checks.</p>")
    add("</body></html>\n")
    return "\n".join(out)


def render(report: Dict[str, Any], fmt: str, indent: Any = None) -> str:
    if fmt == "json":
        return render_json(report, indent)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    raise ValueError("report: format %r is not one of %s" % (fmt, ", ".join(FORMATS)))
