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


def render_json(report: Dict[str, Any], indent: Any = None) -> str:
    _validate_report(report)
    if indent is None:
        return json.dumps(report, separators=(",", ":"), sort_keys=False)
    return json.dumps(report, indent=indent, sort_keys=False)


def _ordered_hosts(nodes: Dict[str, Any]) -> List[str]:
    """Worst verdict first, then by name."""
    return sorted(nodes, key=lambda h: (-_RANK.get(nodes[h].get("verdict"), 0), h))


def check_columns(nodes: Dict[str, Any]) -> List[str]:
    """Every check id seen in the fleet, in first-seen order."""
    seen = {}  # type: Dict[str, None]
    for entry in nodes.values():
        for check in entry.get("checks", ()):
            cid = check.get("id")
            if cid not in seen:
                seen[cid] = None
    return [str(c) for c in seen]


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
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
    for host in hosts:
        entry = nodes[host]
        counts = {"fail": 0, "unknown": 0, "warn": 0}
        bad = []
        for check in entry.get("checks", ()):
            status = check.get("status")
            if status in counts:
                counts[status] += 1
                if status == "fail":
                    bad.append(str(check.get("id")))
        add("| %s | %s | %s | %d | %d | %d | %s |" % (
            _md(host), _md(entry.get("verdict")), _md(entry.get("kernel_release")), counts["fail"],
            counts["unknown"], counts["warn"], _md(", ".join(bad)) if bad else ""))
    add("")
    details = [h for h in hosts if nodes[h].get("verdict") != "pass"]
    if details:
        add("## Details")
        for host in details:
            entry = nodes[host]
            add("")
            add("### %s (%s)" % (_md(host), _md(entry.get("verdict"))))
            add("")
            add("| check | group | status | required | found | message |")
            add("| --- | --- | --- | --- | --- | --- |")
            for status in _DETAIL_STATUSES:
                for check in entry.get("checks", ()):
                    if check.get("status") == status:
                        add("| %s | %s | %s | %s | %s | %s |" % (
                            _md(check.get("id")), _md(check.get("group")), status, _md(check.get("required")),
                            _md(check.get("found")), _md(check.get("message"))))
        add("")
    return "\n".join(out)


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
    for host in hosts:
        entry = nodes[host]
        status_of = {}
        for check in entry.get("checks", ()):
            status_of[check.get("id")] = check.get("status")
        verdict = entry.get("verdict")
        row = "".join(cells.get(status_of.get(c), _CELL_NONE) for c in columns)
        add('<tr><td class="h"><a href="#n-%s">%s</a></td>%s%s</tr>' % (
            _e(host), _e(host), cells.get(verdict, _CELL_NONE), row))
    add("</tbody></table></div>")
    add("<h2>Details</h2>")
    any_detail = False
    for host in hosts:
        entry = nodes[host]
        rows = []
        for status in _DETAIL_STATUSES:
            for check in entry.get("checks", ()):
                if check.get("status") == status:
                    rows.append('<tr><td>%s</td><td>%s</td><td class="%s">%s</td><td>%s</td><td>%s</td><td>%s</td></tr>'
                                % (_e(check.get("id")), _e(check.get("group")), status, status,
                                   _e(check.get("required")), _e(check.get("found")), _e(check.get("message"))))
        verdict = _e(entry.get("verdict"))
        add('<h3 id="n-%s">%s <span class="%s">&nbsp;%s&nbsp;</span> <small>kernel %s</small></h3>'
            % (_e(host), _e(host), verdict, verdict, _e(entry.get("kernel_release"))))
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
