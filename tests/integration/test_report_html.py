# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight playbook end to end on the controller: offline audits of captured kernel configs rendered as
report.html and opened in headless Chromium, and the live localhost audit that must fail honestly here.

Run: `. tests/utils/env.sh && python -m pytest tests/integration/test_report_html.py -q`
The screenshot is written to the test's tmp dir; KUBESHIFT_UPDATE_SCREENSHOT=1 (or a missing file) also copies it
to docs/images/preflight-report.png, the image the docs show.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK = os.path.join(REPO, "playbooks", "preflight.yml")
FIXTURES = os.path.join(REPO, "tests", "unit", "plugins", "module_utils", "fixtures")
DOCS_SCREENSHOT = os.path.join(REPO, "docs", "images", "preflight-report.png")
CILIUM_VERSION = "1.18.12"
# One captured config per inventory host (the host name is what the report must show).
CAPTURED = {
    "debian12-amd64": "node_kconfig_debian12_6.1.192_amd64_cloud.gz",
    "debian12-arm64": "node_kconfig_debian12_6.1.192_arm64.gz",
    "firecracker-6-18": "node_kconfig_firecracker_6.18.44_nomodules.gz",
}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _playbook(args, tmp_path, timeout=300):
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"))
    return subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), PLAYBOOK] + args,
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


@pytest.fixture(scope="module")
def offline_report(tmp_path_factory):
    """Audit the captured configs offline, one inventory host per config, all with a local connection."""
    tmp = tmp_path_factory.mktemp("offline")
    lines = ["[captured]"]
    for host, name in CAPTURED.items():
        lines.append("%s kernel_config_path=%s" % (host, os.path.join(FIXTURES, name)))
    lines += ["", "[captured:vars]", "ansible_connection=local"]
    inventory = tmp / "inventory.ini"
    inventory.write_text("\n".join(lines) + "\n")
    report_dir = tmp / "report"
    result = _playbook(["-i", str(inventory), "-e", "cilium_version=" + CILIUM_VERSION,
                        "-e", "preflight_report_dir=" + str(report_dir), "-e", "preflight_fail_on_error=false"], tmp)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    report = json.loads((report_dir / "report.json").read_text())
    return {"tmp": tmp, "dir": report_dir, "report": report, "stdout": result.stdout}


def test_offline_report_covers_every_host(offline_report):
    report = offline_report["report"]
    assert report["cilium_version"] == CILIUM_VERSION
    assert sorted(report["nodes"]) == sorted(CAPTURED)
    for host, entry in report["nodes"].items():
        assert entry["verdict"] in ("pass", "warn", "fail", "unknown"), host
        sources = {c["message"] for c in entry["checks"] if c["id"] == "CONFIG_BPF"}
        assert sources, "%s: no CONFIG_BPF check" % host
    # The firecracker config is this CI kernel's: it lacks SCHEDSTATS and CRYPTO_USER_API_HASH.
    failing = {c["id"] for c in report["nodes"]["firecracker-6-18"]["checks"] if c["status"] == "fail"}
    assert {"CONFIG_SCHEDSTATS", "CONFIG_CRYPTO_USER_API_HASH"} <= failing
    assert "firecracker-6-18" in report["summary"]["blocking_nodes"]
    # The Markdown report is printed on the console too.
    assert "# Cilium preflight report" in offline_report["stdout"]


def test_offline_audit_reads_each_hosts_file(offline_report):
    nodes = offline_report["report"]["nodes"]
    assert nodes["debian12-amd64"]["kernel_release"].startswith("6.1.")
    assert nodes["firecracker-6-18"]["kernel_release"].startswith("6.18.")
    arch = {h: next(c["found"] for c in e["checks"] if c["id"] == "architecture") for h, e in nodes.items()}
    assert arch["debian12-arm64"] == "aarch64"
    assert arch["debian12-amd64"] == "x86_64"


def test_second_offline_run_changes_nothing(offline_report):
    """The report files are deterministic: a re-run reports no change (idempotent, --diff friendly)."""
    tmp = offline_report["tmp"]
    result = _playbook(["-i", str(tmp / "inventory.ini"), "-e", "cilium_version=" + CILIUM_VERSION,
                        "-e", "preflight_report_dir=" + str(offline_report["dir"]),
                        "-e", "preflight_fail_on_error=false", "-e", "preflight_print_report=false"], tmp)
    assert result.returncode == 0, result.stdout[-4000:]
    recap = re.findall(r"^\S+\s+: ok=\d+\s+changed=(\d+)", result.stdout, re.M)
    assert recap and set(recap) == {"0"}, result.stdout[-3000:]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium package is not installed")
def test_report_html_in_headless_chromium(offline_report, tmp_path):
    page = offline_report["dir"] / "report.html"
    url = "file://" + str(page)
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM] + CHROMIUM_FLAGS + ["--user-data-dir=%s" % profile, "--dump-dom", url],
                         capture_output=True, text=True, timeout=120, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = html.unescape(re.sub(r"<[^>]+>", " ", dom.stdout))
    assert "<table" in dom.stdout
    report = offline_report["report"]
    for host, entry in report["nodes"].items():
        assert host in text, "node %s missing from the rendered page" % host
        for check in entry["checks"]:
            if check["status"] == "fail":
                assert check["id"] in text, "failing check %s of %s missing from the page" % (check["id"], host)
    # Self-contained: nothing is fetched from a server.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.read_text())

    shot = tmp_path / "preflight-report.png"
    argv = [CHROMIUM] + CHROMIUM_FLAGS + ["--user-data-dir=%s" % profile, "--hide-scrollbars",
                                          "--window-size=1400,900", "--screenshot=%s" % shot, url]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 900)
    if os.environ.get("KUBESHIFT_UPDATE_SCREENSHOT") == "1" or not os.path.exists(DOCS_SCREENSHOT):
        os.makedirs(os.path.dirname(DOCS_SCREENSHOT), exist_ok=True)
        shutil.copyfile(str(shot), DOCS_SCREENSHOT)


def test_live_localhost_preflight_fails_honestly(tmp_path):
    """This machine's kernel lacks CONFIG_SCHEDSTATS and CONFIG_CRYPTO_USER_API_HASH: the preflight must say so."""
    config = subprocess.run(["zcat", "/proc/config.gz"], capture_output=True, text=True, check=False).stdout
    if not config:
        pytest.skip("no /proc/config.gz on this machine")
    missing = [o for o in ("CONFIG_SCHEDSTATS", "CONFIG_CRYPTO_USER_API_HASH")
               if not re.search(r"^%s=[ym]$" % o, config, re.M)]
    if len(missing) != 2:
        pytest.skip("this kernel has %s set; the honest-failure test is about the CI kernel"
                    % ", ".join(sorted({"CONFIG_SCHEDSTATS", "CONFIG_CRYPTO_USER_API_HASH"} - set(missing))))
    report_dir = tmp_path / "report"
    result = _playbook(["-i", "localhost,", "-c", "local", "-e", "cilium_version=" + CILIUM_VERSION,
                        "-e", "preflight_report_dir=" + str(report_dir)], tmp_path)
    assert result.returncode != 0, result.stdout[-3000:]
    failure = result.stdout + result.stderr
    assert "Fail when a node cannot run Cilium" in failure
    for option in missing:
        assert re.search(r"localhost is fail \([^)]*%s" % option, failure), failure[-3000:]
    report = json.loads((report_dir / "report.json").read_text())
    entry = report["nodes"]["localhost"]
    assert entry["verdict"] == "fail"
    assert {c["id"] for c in entry["checks"] if c["status"] == "fail"} == set(missing)


@pytest.mark.parametrize("content, expected", [
    (None, "not found on the controller"),
    ("routingMode: [native\n", "YAML parsing failed"),
    ("- routingMode\n", "must be stored as a dictionary"),
], ids=["missing", "unparsable", "not-a-mapping"])
def test_bad_values_file_stops_before_any_node(tmp_path, content, expected):
    values = tmp_path / "values.yaml"
    if content is not None:
        values.write_text(content)
    report_dir = tmp_path / "report"
    result = _playbook(["-i", "localhost,", "-c", "local", "-e", json.dumps({"cilium_values_files": [str(values)]}),
                        "-e", "preflight_report_dir=" + str(report_dir)], tmp_path)
    assert result.returncode != 0
    failure = re.search(r"^fatal: \[localhost\]: FAILED! => (.*)$", result.stdout, re.M)
    assert failure, result.stdout[-3000:]
    message = json.loads(failure.group(1))["msg"]
    assert message.startswith("cilium_values_files: ") and str(values) in message and expected in message
    assert "Traceback" not in result.stdout + result.stderr
    assert "Gather node facts" not in result.stdout
    assert not report_dir.exists()


def test_unreadable_kernel_config_is_reported_unknown(tmp_path):
    missing = tmp_path / "no-such-config.gz"
    report_dir = tmp_path / "report"
    result = _playbook(["-i", "localhost,", "-c", "local", "-e", "kernel_config_path=%s" % missing,
                        "-e", "preflight_report_dir=" + str(report_dir), "-e", "preflight_print_report=false"], tmp_path)
    assert result.returncode != 0
    assert "localhost is unknown (node_facts: node_facts failed: kernel_config_path: %s" % missing in result.stdout
    entry = json.loads((report_dir / "report.json").read_text())["nodes"]["localhost"]
    assert entry["verdict"] == "unknown"
    assert [c["id"] for c in entry["checks"]] == ["node_facts"]
