"""Configuration loading: Falco's keys and defaults, includes, ${VAR}, -o paths, errors with file:line."""

from __future__ import annotations

import textwrap

import pytest

from tercel.app import overrides as ov
from tercel.app.config import ConfigError, builtin_config_path, load_config
from tercel.engine.priority import Priority


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return str(p)


def test_builtin_config_has_falco_shipped_values():
    cfg = load_config(builtin_config_path())
    assert cfg.get("stdout_output.enabled") is True
    assert cfg.json_output is False
    assert cfg.min_priority is Priority.DEBUG
    assert cfg.rule_matching == "first"
    assert cfg.get("http_output.user_agent") == "falcosecurity/falco"
    assert cfg.get("syscall_event_drops.actions") == ["log", "alert"]
    assert cfg.get("falco_libs.snaplen") == 80
    assert cfg.rules_files[0].endswith("tercel/data/tercel_rules.yaml")
    assert cfg.warnings == []


def test_code_defaults_fill_absent_keys(tmp_path):
    cfg = load_config(write(tmp_path, "c.yaml", "json_output: true\n"))
    assert cfg.json_output is True
    assert cfg.get("stdout_output.enabled") is False  # Falco's code default when absent
    assert cfg.get("webserver.listen_port") == 8765
    assert cfg.get("outputs_queue.capacity") == 0
    assert cfg.engine_kind == "modern_ebpf"
    assert cfg.rules_files == []


def test_empty_file_is_all_defaults(tmp_path):
    cfg = load_config(write(tmp_path, "c.yaml", ""))
    assert cfg.get("priority") == "debug"


def test_type_error_names_file_line_and_key(tmp_path):
    path = write(tmp_path, "c.yaml", """\
        json_output: true
        file_output:
          enabled: sometimes
        """)
    with pytest.raises(ConfigError) as ei:
        load_config(path)
    msg = str(ei.value)
    assert msg.startswith(f"{path}:3:")
    assert "file_output.enabled" in msg and "boolean" in msg


def test_yaml_syntax_error_is_located(tmp_path):
    path = write(tmp_path, "c.yaml", "a: [1, 2\nb: 3\n")
    with pytest.raises(ConfigError) as ei:
        load_config(path)
    assert str(ei.value).startswith(path + ":")
    assert "invalid YAML" in str(ei.value)


def test_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        load_config(write(tmp_path, "c.yaml", "- a\n- b\n"))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(str(tmp_path / "nope.yaml"))


def test_enum_and_priority_validation(tmp_path):
    with pytest.raises(ConfigError, match="rule_matching.*expected one of: first, all"):
        load_config(write(tmp_path, "c.yaml", "rule_matching: some\n"))
    with pytest.raises(ConfigError, match="'priority'.*unknown priority"):
        load_config(write(tmp_path, "c.yaml", "priority: loud\n"))
    assert load_config(write(tmp_path, "c.yaml", "priority: INFO\n")).min_priority is Priority.INFORMATIONAL


def test_unknown_and_removed_keys_warn(tmp_path):
    cfg = load_config(write(tmp_path, "c.yaml", """\
        jsn_output: true
        webserver:
          listen_prot: 1
        grpc:
          enabled: true
        """))
    assert any("unknown configuration key 'jsn_output'" in w and ":1:" in w for w in cfg.warnings)
    assert any(w.endswith(":3:3: unknown configuration key 'webserver.listen_prot'") for w in cfg.warnings)
    assert any("'grpc' has no effect" in w for w in cfg.warnings)


def test_env_expansion(tmp_path):
    path = write(tmp_path, "c.yaml", """\
        file_output:
          filename: "${TERCEL_TEST_DIR}/events.txt"
        program_output:
          program: "echo $${NOT_EXPANDED} ${TERCEL_UNSET_VAR}x"
        """)
    cfg = load_config(path, env={"TERCEL_TEST_DIR": "/var/log/t"})
    assert cfg.get("file_output.filename") == "/var/log/t/events.txt"
    assert cfg.get("program_output.program") == "echo ${NOT_EXPANDED} x"


def test_rules_file_alias_and_relative_paths(tmp_path):
    (tmp_path / "sub").mkdir()
    path = write(tmp_path / "sub", "c.yaml", "rules_file: my_rules.yaml\n")
    cfg = load_config(path)
    assert cfg.rules_files == [str(tmp_path / "sub" / "my_rules.yaml")]
    assert any("'rules_file' is deprecated" in w for w in cfg.warnings)
    assert "rules_file" not in cfg.as_dict()


def test_config_files_strategies(tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    write(d, "10-append.yaml", """\
        rules_files: [b.yaml]
        json_output: true
        """)
    write(d, "20-addonly.yaml", """\
        json_output: false
        log_level: debug
        """)
    write(tmp_path, "override.yaml", """\
        rules_files: [c.yaml]
        """)
    main = write(tmp_path, "main.yaml", f"""\
        rules_files: [a.yaml]
        config_files:
          - {d}
          - path: {d}/20-addonly.yaml
            strategy: add-only
          - path: override.yaml
            strategy: override
        """)
    cfg = load_config(main)
    # 20-addonly.yaml is read twice: first with append (overrides json_output), then add-only
    assert cfg.get("log_level") == "debug"
    assert cfg.rules_files == [str(tmp_path / "c.yaml")]
    assert cfg.files[0] == main and len(cfg.files) == 5


def test_config_files_append_and_add_only(tmp_path):
    inc = write(tmp_path, "inc.yaml", "rules_files: [b.yaml]\npriority: warning\njson_output: true\n")
    main = write(tmp_path, "main.yaml", f"rules_files: [a.yaml]\njson_output: false\nconfig_files: [{inc}]\n")
    cfg = load_config(main)
    assert cfg.rules_files == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]
    assert cfg.json_output is True and cfg.min_priority is Priority.WARNING
    main2 = write(tmp_path, "main2.yaml", f"json_output: false\nconfig_files: [{{path: {inc}, strategy: add-only}}]\n")
    cfg2 = load_config(main2)
    assert cfg2.json_output is False and cfg2.min_priority is Priority.WARNING


def test_bad_include_strategy_is_located(tmp_path):
    main = write(tmp_path, "main.yaml", "config_files:\n  - path: x.yaml\n    strategy: merge\n")
    with pytest.raises(ConfigError, match=r"main.yaml:2:.*unknown strategy 'merge'"):
        load_config(main)


def test_error_in_included_file_names_that_file(tmp_path):
    inc = write(tmp_path, "inc.yaml", "\n\nbuffered_outputs: 12x\n")
    main = write(tmp_path, "main.yaml", f"config_files: [{inc}]\n")
    with pytest.raises(ConfigError) as ei:
        load_config(main)
    assert str(ei.value).startswith(f"{inc}:3:")


def test_overrides_types_and_paths(tmp_path):
    main = write(tmp_path, "main.yaml", "rules_files: [a.yaml, b.yaml]\nrules:\n  - disable: {rule: '*'}\n")
    cfg = load_config(main, [
        "json_output=true",
        "file_output.filename=007",
        "rules_files[1]=z.yaml",
        "rules[].enable.tag=network",
        "static_fields.my\\.key=v",
        "base_syscalls.custom_set=[openat, '!read']",
        "outputs_queue.capacity=0x10",
    ])
    assert cfg.json_output is True
    assert cfg.get("file_output.filename") == "007"
    assert cfg.rules_files == [str(tmp_path / "a.yaml"), "z.yaml"]
    assert cfg.get("rules") == [{"disable": {"rule": "*"}}, {"enable": {"tag": "network"}}]
    assert cfg.get("static_fields") == {"my.key": "v"}
    assert cfg.get("base_syscalls.custom_set") == ["openat", "!read"]
    assert cfg.get("outputs_queue.capacity") == 16


def test_override_errors_name_the_option(tmp_path):
    main = write(tmp_path, "main.yaml", "")
    with pytest.raises(ConfigError, match=r"command line option -o json_output=perhaps: key 'json_output'"):
        load_config(main, ["json_output=perhaps"])
    with pytest.raises(ConfigError, match="must be KEY=VALUE"):
        load_config(main, ["json_output"])
    with pytest.raises(ConfigError, match="past the end"):
        load_config(main, ["rules_files[3]=x"])
    with pytest.raises(ConfigError, match="each entry is exactly one of"):
        load_config(main, ["rules[].enabled.tag=x"])


def test_override_parser():
    o = ov.parse(r"a\.b.c[2].d=x=y")
    assert o.path == ("a.b", "c", 2, "d") and o.value == "x=y"
    o = ov.parse("rules[].enable.tag=x")
    assert o.path == ("rules", ov.APPEND, "enable", "tag")
    assert ov.parse(r"k\\=v").path == ("k\\",)
    for bad in ("=v", "a..b=v", "a[x]=v", "a[1=v", "a]=v", "a\\"):
        with pytest.raises(ov.OverrideError):
            ov.parse(bad)


def test_rules_selector_validation(tmp_path):
    bad = write(tmp_path, "c.yaml", "rules:\n  - enable: {}\n")
    with pytest.raises(ConfigError, match=r"c.yaml:2:.*needs 'rule' or 'tag'"):
        load_config(bad)


def test_hostile_yaml_is_a_config_error(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    with pytest.raises(ConfigError, match="more than"):
        load_config(write(tmp_path, "c.yaml", bomb))
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, "d.yaml", "a: !!python/object:os.system x\n"))


def test_default_config_location(tmp_path, monkeypatch):
    from tercel.app import config as config_mod

    system = tmp_path / "etc-tercel.yaml"
    monkeypatch.setattr(config_mod, "SYSTEM_CONFIG", str(system))
    assert config_mod.default_config_path(None) == builtin_config_path()  # no system file: the built-in one
    system.write_text("json_output: true\n")
    assert config_mod.default_config_path(None) == str(system)
    assert config_mod.load_config(None).json_output is True
    assert config_mod.default_config_path("/x/y.yaml") == "/x/y.yaml"  # -c wins


def test_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError, match="larger than 16 MB"):
        load_config("/dev/zero")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"json_output: true\nfile_output:\n  filename: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin1.yaml:3:16: invalid UTF-8 byte 0xe9 at byte offset 46"):
        load_config(str(bad))


def test_loading_again_keeps_nothing_of_the_previous_load():
    # a daemon reloads its configuration on every change: each load must leave no YAML nodes behind
    import gc

    import yaml

    def scalar_nodes() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, yaml.ScalarNode))

    load_config(builtin_config_path())
    before = scalar_nodes()
    for _ in range(5):
        load_config(builtin_config_path())
    assert scalar_nodes() - before < 50
