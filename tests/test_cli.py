"""The CLI is a thin layer: exit codes, JSON report shape, no tracebacks for data problems."""

import json
import subprocess
import sys


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gongkai", *args], capture_output=True, text=True, cwd=cwd)


def test_validate_valid_exits_0(site_root):
    proc = run("validate", "--root", str(site_root))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "✓ towns" in proc.stdout and "✓ budget" in proc.stdout


def test_validate_json_has_frictionless_shape(site_root):
    csv = site_root / "datasets/towns/data/cities.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + '1301,"石家庄市",13\n', encoding="utf-8")
    proc = run("validate", "--json", "--root", str(site_root))
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["valid"] is False and report["stats"]["tasks"] == 3
    cities = next(t for t in report["tasks"] if t["name"] == "cities")
    assert cities["dataset"] == "towns" and cities["valid"] is False
    [error] = cities["errors"]
    assert (error["type"], error["rowNumber"]) == ("foreign-key", 4)
    for key in ("type", "rowNumber", "message", "message_zh", "note"):
        assert key in error
    assert "Traceback" not in proc.stderr


def test_validate_given_paths_only(site_root):
    proc = run("validate", str(site_root / "datasets" / "budget"), "--root", str(site_root))
    assert proc.returncode == 0 and "budget" in proc.stdout and "towns" not in proc.stdout


def test_usage_error_exits_2(site_root):
    assert run("validate", "--no-such-option").returncode == 2
    assert run("validate", str(site_root / "nope")).returncode == 2


def test_bad_data_never_tracebacks(site_root):
    (site_root / "datasets/budget/budget.csv").write_bytes("项目,年度\n".encode("gbk"))
    (site_root / "datasets/towns/datapackage.json").write_text("{nope")
    proc = run("validate", "--root", str(site_root))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "encoding" in proc.stdout.lower() and "编码" in proc.stdout


def test_build_fails_with_exit_1_naming_dataset(site_root, tmp_path):
    (site_root / "datasets/budget/budget.csv").write_text("项目,年度\n", encoding="utf-8")
    proc = run("build", "--root", str(site_root), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert "budget" in proc.stderr and "Traceback" not in proc.stderr
