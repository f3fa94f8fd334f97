# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.kubeshift.cilium.plugins.action.preflight_report import (
    parse_args, render_files, size_diff, sync_report,
)
from ansible_collections.kubeshift.cilium.plugins.filter.cilium_fleet_report import cilium_fleet_report
from ansible_collections.kubeshift.cilium.plugins.filter.cilium_node_verdict import cilium_node_verdict
from ansible_collections.kubeshift.cilium.plugins.filter.cilium_requirements import cilium_requirements
from ansible_collections.kubeshift.cilium.tests.unit.plugins.filter.synthetic_facts import make_facts


def results():
    req = cilium_requirements("1.18.12")
    return {
        "n1": cilium_node_verdict(make_facts(hostname="n1"), req),
        "n2": cilium_node_verdict(make_facts(hostname="n2", option_overrides={"CONFIG_SCHEDSTATS": "n"}), req),
    }


def args(**extra):
    base = {"results": results(), "cilium_version": "1.18.12", "dest": "/tmp/x"}
    base.update(extra)
    return base


def test_parse_args_defaults_and_json_text():
    data, version, dest, formats, mode = parse_args(args(results=json.dumps(results())))
    assert data == results() and version == "1.18.12" and dest == "/tmp/x"
    assert formats == ["json", "markdown", "html"] and mode == 0o644
    assert parse_args(args(formats=["html", "json", "html"], mode="0600"))[3:] == (["html", "json"], 0o600)
    assert parse_args(args(cilium_version=1.18))[1] == "1.18"


@pytest.mark.parametrize("extra, message", [
    ({"results": "{not json"}, "results: not valid JSON"),
    ({"results": ["n1"]}, "results: expected a mapping"),
    ({"dest": ""}, "dest: expected a directory path"),
    ({"formats": ["pdf"]}, "formats: 'pdf' is not one of json, markdown, html"),
    ({"formats": {"json": 1}}, "formats: expected a list"),
    ({"mode": "rw"}, "mode: expected an octal string"),
    ({"mode": "77777"}, "mode: out of range"),
    ({"colour": True}, "unsupported parameter(s): colour"),
    ({"cilium_version": None}, "missing required argument: cilium_version"),
])
def test_parse_args_rejects(extra, message):
    with pytest.raises(ValueError, match=None) as info:
        parse_args(args(**extra))
    assert message in str(info.value)


def test_render_matches_filter():
    report, texts = render_files(results(), "1.18.12", ["json", "markdown", "html"])
    assert report["summary"]["blocking_nodes"] == ["n2"] and report["summary"]["ok"] is False
    assert texts["json"] == cilium_fleet_report(results(), "1.18.12", format="json", indent=2)
    assert texts["markdown"] == cilium_fleet_report(results(), "1.18.12", format="markdown")
    assert texts["html"] == cilium_fleet_report(results(), "1.18.12", format="html")


def test_render_bad_results_names_node():
    with pytest.raises(ValueError) as info:
        render_files({"n9": {"verdict": "pass", "checks": [{"status": "bogus"}]}}, "1.18.12", ["json"])
    assert "n9" in str(info.value)


def test_sync_creates_writes_then_idempotent(tmp_path):
    dest = str(tmp_path / "a" / "b")
    _report, texts = render_files(results(), "1.18.12", ["json", "html"])
    first = sync_report(dest, texts, 0o644)
    assert first["changed"] is True and len(first["changed_files"]) == 2
    assert sorted(os.listdir(dest)) == ["report.html", "report.json"]
    assert oct(os.stat(os.path.join(dest, "report.json")).st_mode & 0o777) == "0o644"
    with open(os.path.join(dest, "report.json")) as handle:
        assert handle.read() == texts["json"]
    second = sync_report(dest, texts, 0o644, want_diff=True)
    assert second["changed"] is False and second["changed_files"] == [] and "diff" not in second
    # one file changes: only that one is rewritten
    texts["html"] += "<!-- x -->\n"
    third = sync_report(dest, texts, 0o644, want_diff=True)
    assert third["changed_files"] == [os.path.join(dest, "report.html")]
    assert third["diff"][0]["after_header"].endswith("bytes)") and "<" not in third["diff"][0]["after"]
    # mode alone differs
    os.chmod(os.path.join(dest, "report.json"), 0o600)
    assert sync_report(dest, texts, 0o644)["changed_files"] == [os.path.join(dest, "report.json")]
    assert os.stat(os.path.join(dest, "report.json")).st_mode & 0o777 == 0o644
    assert not [name for name in os.listdir(dest) if name.startswith(".")]


def test_sync_check_mode_writes_nothing(tmp_path):
    dest = str(tmp_path / "r")
    _report, texts = render_files(results(), "1.18.12", ["markdown"])
    result = sync_report(dest, texts, 0o644, check_mode=True, want_diff=True)
    assert result["changed"] is True and not os.path.exists(dest)
    assert result["diff"][0]["after"] == "%s: directory\n" % dest
    assert "absent" in result["diff"][1]["before_header"]


def test_sync_dest_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ValueError) as info:
        sync_report(str(target), {"json": "{}"}, 0o644)
    assert "exists and is not a directory" in str(info.value) and target.read_text() == "x"


def test_size_diff_is_short():
    entry = size_diff("/r/report.json", b"x" * 10, b"y" * 100000)
    assert entry["before"] == "report.json: 10 bytes\n" and entry["after"] == "report.json: 100000 bytes\n"
    assert size_diff("/r/report.json", None, b"")["before_header"] == "/r/report.json (absent)"
