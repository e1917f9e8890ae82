"""-V / -L / -l / --dry-run / rule selection through the real CLI and the real rule engine."""

from __future__ import annotations

import json
import textwrap

from app_helpers import REPO, shared_path

from tercel.app.config import builtin_rules_path

GOOD = """\
- macro: is_cat
  condition: proc.name = cat
- rule: Cat runs
  desc: cat was started, a rule for tests that is long enough to need wrapping in the description column of -L
  condition: evt.type = execve and is_cat
  output: "cat ran (cmd=%proc.cmdline)"
  priority: WARNING
  tags: [process, test]
- rule: Netcat runs
  desc: nc was started
  condition: evt.type = execve and proc.name = nc
  output: "nc ran (cmd=%proc.cmdline)"
  priority: INFO
  tags: [network]
"""

BROKEN = """\
- rule: Broken
  desc: uses a field that does not exist
  condition: evt.type = execve and proc.nmae = cat
  output: "x"
  priority: WARNING
"""

WARN_ONLY = """\
- macro: unused_macro
  condition: proc.name = cat
- rule: R
  desc: d
  condition: evt.type = execve
  output: "x"
  priority: WARNING
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return str(p)


def test_validate_good_file(tercel, tmp_path):
    f = write(tmp_path, "good.yaml", GOOD)
    r = tercel("-V", f)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{f}: Ok\n"


def test_validate_broken_file_text(tercel, tmp_path):
    f = write(tmp_path, "broken.yaml", BROKEN)
    r = tercel("-V", f)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[0] == f"{f}: Invalid"
    assert "LOAD_ERR_COMPILE_CONDITION" in r.stdout
    assert "proc.nmae" in r.stdout
    assert f"rule 'Broken': ({f}:" in r.stdout
    assert "Traceback" not in r.stderr


def test_validate_json_shape(tercel, tmp_path):
    good = write(tmp_path, "good.yaml", GOOD)
    bad = write(tmp_path, "broken.yaml", BROKEN)
    r = tercel("-o", "json_output=true", "-V", good, "-V", bad)
    assert r.returncode == 1
    first = r.stdout.splitlines()[0]
    body = json.loads(first)
    results = body["falco_load_results"]
    assert [x["name"] for x in results] == [good, bad]
    assert results[0]["successful"] is True and results[0]["errors"] == []
    assert results[1]["successful"] is False
    err = results[1]["errors"][0]
    assert err["code"] == "LOAD_ERR_COMPILE_CONDITION"
    assert {"code", "codedesc", "message", "context"} <= set(err)
    locs = err["context"]["locations"]
    assert locs[0]["item_type"] == "rules content"
    assert any(loc["item_type"] == "rule" and loc["item_name"] == "Broken" for loc in locs)
    pos = locs[-1]["position"]
    assert {"name", "line", "column", "offset"} <= set(pos)
    assert isinstance(err["context"]["snippet"], str)


def test_validate_warnings_only(tercel, tmp_path):
    f = write(tmp_path, "warn.yaml", WARN_ONLY)
    r = tercel("-V", f)
    assert r.returncode == 0
    assert r.stdout == f"{f}: Ok, with warnings\n"
    assert "LOAD_UNUSED_MACRO" in r.stderr
    r = tercel("-o", "json_output=true", "-V", f)
    res = json.loads(r.stdout.splitlines()[0])["falco_load_results"][0]
    assert res["successful"] is True
    assert [w["code"] for w in res["warnings"]] == ["LOAD_UNUSED_MACRO"]


def test_validate_config_file_hint(tercel):
    cfg = REPO / "src" / "tercel" / "data" / "tercel.yaml"
    r = tercel("-V", str(cfg))
    assert r.returncode == 1
    assert "Hint: --validate expects a rules file" in r.stdout
    assert f"tercel -c {cfg} --dry-run" in r.stdout


def test_validate_prints_the_files_own_text_unchanged(tercel, tmp_path):
    # the hint names tercel, but a rules file's own words shown in the error stay as written
    f = write(tmp_path, "r.yaml", "- rule: r\n  desc: d\n  condition: proc.cmdline = '`falco -c x`' and\n"
                                  "  output: o\n  priority: INFO\n")
    r = tercel("-V", f)
    assert r.returncode == 1
    assert "condition: proc.cmdline = '`falco -c x`' and" in r.stdout


def test_validate_missing_file(tercel, tmp_path):
    r = tercel("-V", str(tmp_path / "nope.yaml"))
    assert r.returncode == 1
    assert "Could not open file" in r.stderr and "Traceback" not in r.stderr


def test_validate_official_rules(tercel):
    d = shared_path("rules", "falcosecurity")
    files = [str(d / n) for n in ("falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml")]
    r = tercel("-o", "json_output=true", *[a for f in files for a in ("-V", f)])
    assert r.returncode == 0, r.stdout[:2000]
    results = json.loads(r.stdout.splitlines()[0])["falco_load_results"]
    assert [x["successful"] for x in results] == [True, True, True]
    assert all(x["errors"] == [] for x in results)


def test_builtin_rules_are_clean(tercel):
    r = tercel("-o", "json_output=true", "-V", builtin_rules_path())
    assert r.returncode == 0, r.stdout
    res = json.loads(r.stdout.splitlines()[0])["falco_load_results"][0]
    assert res["errors"] == [] and res["warnings"] == [], res


def test_describe_all_text(tercel, tmp_path):
    f = write(tmp_path, "good.yaml", GOOD)
    r = tercel("-r", f, "-L")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"{'Rule':<50} Description"
    assert lines[1] == f"{'----':<50} -----------"
    assert lines[2].startswith(f"{'Cat runs':<50} cat was started")
    assert lines[3].startswith(" " * 51)  # wrapped description continues under its column
    assert any(line.startswith(f"{'Netcat runs':<50} nc was started") for line in lines)


def test_describe_one_rule_json(tercel, tmp_path):
    f = write(tmp_path, "good.yaml", GOOD)
    r = tercel("-r", f, "-l", "Cat runs", "-o", "json_output=true")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert len(d["rules"]) == 1
    info = d["rules"][0]["info"]
    assert info["name"] == "Cat runs" and info["priority"] == "Warning" and info["enabled"] is True
    assert d["rules"][0]["details"]["events"] == ["execve"]
    r = tercel("-r", f, "-l", "No such rule")
    assert r.returncode == 1 and "No such rule" in r.stderr


def test_describe_all_json_and_selection(tercel, tmp_path):
    f = write(tmp_path, "good.yaml", GOOD)

    def enabled(*extra):
        r = tercel("-r", f, "-L", "-o", "json_output=true", *extra)
        assert r.returncode == 0, r.stderr
        return {x["info"]["name"]: x["info"]["enabled"] for x in json.loads(r.stdout)["rules"]}

    assert enabled() == {"Cat runs": True, "Netcat runs": True}
    assert enabled("-D", "Netcat") == {"Cat runs": True, "Netcat runs": False}
    assert enabled("-T", "network") == {"Cat runs": True, "Netcat runs": False}
    assert enabled("-t", "network") == {"Cat runs": False, "Netcat runs": True}
    assert enabled("-o", "rules[].disable.rule=*", "-o", "rules[].enable.tag=test") == {
        "Cat runs": True, "Netcat runs": False}
    # rules below the priority threshold are not loaded at all
    assert enabled("-o", "priority=warning") == {"Cat runs": True}


def test_validate_and_describe_together(tercel, tmp_path):
    f = write(tmp_path, "good.yaml", GOOD)
    r = tercel("-V", f, "-L", "-o", "json_output=true")
    assert r.returncode == 0
    body = json.loads(r.stdout.splitlines()[0])
    assert body["falco_load_results"][0]["successful"] is True
    assert [x["info"]["name"] for x in body["falco_describe_results"]["rules"]] == ["Cat runs", "Netcat runs"]


def test_dry_run(tercel, tmp_path):
    f = write(tmp_path, "good.yaml", GOOD)
    r = tercel("-r", f, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    bad = write(tmp_path, "broken.yaml", BROKEN)
    r = tercel("-r", bad, "--dry-run")
    assert r.returncode == 1
    assert "LOAD_ERR_COMPILE_CONDITION" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(f"tercel: Could not load rules file {bad}")
    r = tercel("-r", str(tmp_path / "missing.yaml"), "--dry-run")
    assert r.returncode == 1 and "Could not read rules file" in r.stderr


def test_dry_run_with_config_rules_files(tercel, tmp_path):
    d = tmp_path / "rules.d"
    d.mkdir()
    write(d, "10-good.yaml", GOOD)
    cfg = write(tmp_path, "tercel.yaml", "rules_files: [rules.d, /nonexistent/local.yaml]\nlog_stderr: true\n")
    r = tercel("-c", cfg, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "10-good.yaml" in r.stderr  # "Loading rules from:" lists what was read
    r = tercel("-c", cfg, "-L", "-o", "json_output=true")
    assert [x["info"]["name"] for x in json.loads(r.stdout)["rules"]] == ["Cat runs", "Netcat runs"]


def test_default_config_and_rules_dry_run(tercel):
    r = tercel("--dry-run")
    assert r.returncode == 0, r.stderr
    r = tercel("-L", "-o", "json_output=true")
    names = [x["info"]["name"] for x in json.loads(r.stdout)["rules"]]
    for n in ("Read sensitive file untrusted", "Terminal shell in container", "Run shell untrusted"):
        assert n in names


def test_dry_run_checks_outputs_config(tercel, tmp_path):
    f = write(tmp_path, "good.yaml", GOOD)
    cfg = write(tmp_path, "c.yaml", """\
        http_output:
          enabled: true
          url: "ftp://example.invalid/"
        """)
    r = tercel("-c", cfg, "-r", f, "--dry-run")
    assert r.returncode == 1
    # the outputs layer words the problem; the app adds where the key is
    assert r.stderr.strip().splitlines()[-1].startswith(f"tercel: configuration error: {cfg}:3:8: key 'http_output.url': ")
