# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.kubeshift.cilium.plugins.module_utils import _preflight as pf
from ansible_collections.kubeshift.cilium.plugins.module_utils import _report as rp
from ansible_collections.kubeshift.cilium.tests.unit.plugins.filter.synthetic_facts import make_facts

EVIL = '<script>alert("x")</script>&"\'|'


def fleet():
    req = pf.requirements("1.18.12", {"kubeProxyReplacement": True})
    facts = {
        "good": make_facts(hostname="good"),
        "warned": make_facts(hostname="warned", bpffs_persisted=False),
        "broken": make_facts(hostname="broken", option_overrides={"CONFIG_SCHEDSTATS": "n", "CONFIG_BPF_JIT": "m"}),
        "blind": make_facts(hostname="blind", config_status="unknown", config_reason="no config"),
        EVIL: make_facts(hostname=EVIL, arch=EVIL, firewall_findings=[EVIL + " rule"]),
    }
    return dict((host, pf.node_verdict(f, req, host)) for host, f in facts.items())


def failing_checks(results):
    return [(host, c) for host, entry in results.items() for c in entry["checks"]
            if c["status"] in ("fail", "warn", "unknown")]


def test_build_report_shape():
    results = fleet()
    report = rp.build_report(results, "1.18.12")
    assert set(report) == {"cilium_version", "nodes", "summary"}
    assert report["cilium_version"] == "1.18.12"
    assert set(report["nodes"]) == set(results)
    assert report["summary"]["verdicts"] == {"pass": 1, "warn": 1, "fail": 2, "unknown": 1}
    assert report["summary"]["ok"] is False


def test_json_round_trip():
    report = rp.build_report(fleet(), "1.18.12")
    assert json.loads(rp.render_json(report)) == report
    pretty = rp.render_json(report, indent=2)
    assert json.loads(pretty) == report and "\n  " in pretty


def test_markdown_lists_every_node_and_every_failing_check():
    results = fleet()
    text = rp.render_markdown(rp.build_report(results, "1.18.12"))
    assert text.startswith("# Cilium preflight report")
    assert "fleet verdict: **fail**" in text
    for host in ("good", "warned", "broken", "blind"):
        assert "| %s |" % host in text
    for host, item in failing_checks(results):
        if host == EVIL:
            continue
        assert "| %s | %s | %s |" % (item["id"], item["group"], item["status"]) in text
        assert item["message"].replace("|", "\\|") in text
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert "\\|" in text


def test_markdown_row_ordering_worst_first():
    text = rp.render_markdown(rp.build_report(fleet(), "1.18.12"))
    nodes = text.split("## Nodes", 1)[1]
    assert nodes.index("| broken |") < nodes.index("| blind |") < nodes.index("| warned |") < nodes.index("| good |")


def test_html_is_self_contained_and_escaped():
    results = fleet()
    page = rp.render_html(rp.build_report(results, "1.18.12"))
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&quot;&#x27;|" in page
    assert not re.search(r"(src|href)\s*=\s*\"(https?:|//)", page)
    assert "http://" not in page and "https://" not in page and "@import" not in page
    assert "<style>" in page


def test_html_matrix_has_every_node_every_check_and_labels():
    results = fleet()
    page = rp.render_html(rp.build_report(results, "1.18.12"))
    matrix = page.split('<table class="matrix">', 1)[1].split("</table>", 1)[0]
    rows = matrix.split("<tbody>", 1)[1].count("<tr>")
    assert rows == len(results)
    columns = rp.check_columns(results)
    assert matrix.count('<th class="c">') == len(columns)
    for cid in ("CONFIG_SCHEDSTATS", "kernel_version", "port:udp/8472", "bpffs_persisted"):
        assert '<th class="c">%s</th>' % cid in matrix
    for status in ("pass", "warn", "fail", "unknown", "skipped"):
        assert '<td class="%s">%s</td>' % (status, status) in matrix
    details = page.split("<h2>Details</h2>", 1)[1]
    for host, item in failing_checks(results):
        assert rp._e(item["message"]) in details
        assert rp._e(host) in details


def test_html_every_row_has_one_cell_per_column():
    results = fleet()
    page = rp.render_html(rp.build_report(results, "1.18.12"))
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    columns = rp.check_columns(results)
    for row in body.split("</tr>")[:-1]:
        assert row.count("<td") == len(columns) + 2


def test_na_cell_when_a_node_lacks_a_check():
    results = fleet()
    results["good"]["checks"] = [c for c in results["good"]["checks"] if c["id"] != "CONFIG_SCHEDSTATS"]
    page = rp.render_html(rp.build_report(results, "1.18.12"))
    assert '<td class="none">n/a</td>' in page


def test_empty_fleet_renders():
    report = rp.build_report({}, "1.19.3")
    assert report["summary"]["verdict"] == "unknown"
    assert "No nodes in this report." in rp.render_html(report)
    assert "fleet verdict: **unknown**" in rp.render_markdown(report)


def test_render_dispatch_and_errors():
    report = rp.build_report(fleet(), "1.18.12")
    assert rp.render(report, "markdown") == rp.render_markdown(report)
    with pytest.raises(ValueError) as err:
        rp.render(report, "pdf")
    assert "format 'pdf' is not one of json, markdown, html" in str(err.value)
    with pytest.raises(ValueError):
        rp.render_html({"nodes": []})


@pytest.mark.parametrize("version", [None, "", 1.18, ["1.18"]])
def test_build_report_rejects_bad_version(version):
    with pytest.raises(ValueError) as err:
        rp.build_report({}, version)
    assert "cilium_version must be a non-empty string" in str(err.value)


def test_build_report_rejects_bad_node():
    with pytest.raises(ValueError) as err:
        rp.build_report({"n1": {"verdict": "pass"}}, "1.18.12")
    assert "node n1" in str(err.value)


def test_compact_json_equals_plain_dumps_even_for_odd_entries():
    results = fleet()
    results["odd"] = {"verdict": "pass", "kernel_release": "6.1", "checks": [], "extra": 1}
    results["good"]["checks"].append({"id": "x", "group": "g", "status": "pass", "required": ["a"], "found": {"b": 1},
                                      "message": "m"})
    results["warned"]["checks"].append({"id": "y", "group": "g", "status": "pass", "required": 1, "found": True,
                                        "message": "m"})
    results["broken"]["checks"].append({"id": "y", "group": "g", "status": "pass", "required": 1, "found": 1,
                                        "message": "m"})
    report = rp.build_report(results, "1.18.12")
    assert rp.render_json(report) == json.dumps(report, separators=(",", ":"))
    assert '"found":true' in rp.render_json(report) and '"found":1' in rp.render_json(report)


@pytest.mark.parametrize("indent", [None, 0, 1, 2, 4])
def test_json_matches_json_dumps_for_every_indent(indent):
    results = fleet()
    results["odd"] = {"verdict": "pass", "kernel_release": "6.1", "checks": [], "extra": {"a": [1, 2]}}
    results["empty"] = {"verdict": "unknown", "kernel_release": "unknown", "checks": []}
    report = rp.build_report(results, "1.18.12")
    expected = json.dumps(report, separators=(",", ":")) if indent is None else json.dumps(report, indent=indent)
    assert rp.render_json(report, indent) == expected
    empty = rp.build_report({}, "1.18.12")
    expected = json.dumps(empty, separators=(",", ":")) if indent is None else json.dumps(empty, indent=indent)
    assert rp.render_json(empty, indent) == expected


@pytest.mark.parametrize("indent", [-1, "2", True, 1.5])
def test_json_rejects_bad_indent(indent):
    with pytest.raises(ValueError) as err:
        rp.render_json(rp.build_report({}, "1.18.12"), indent)
    assert "indent must be a non-negative integer" in str(err.value)


@pytest.mark.parametrize("value, text", [(None, "-"), ([], "-"), (["CAP_SYS_RESOURCE", "CAP_BPF"], "CAP_SYS_RESOURCE, CAP_BPF"),
                                         ("y", "y"), (True, "true"), ({"a": 1}, '{"a": 1}'), ([{"a": 1}], '[{"a": 1}]')])
def test_human_values(value, text):
    assert rp._text(value) == text
