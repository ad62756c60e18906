"""gongkai.git_trees and the folder hasher's use of it: a folder git reports unchanged keeps the
digest a previous build made of the same tree without being walked; anything git cannot vouch
for (a change, a new or ignored file, filters, attributes, no repository) is walked as before."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from gongkai.folder_hash import FolderHasher
from gongkai.git_trees import GitTrees

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=ENV)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")  # the tester's own config is not the repository's
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "repo"
    for name in ("a", "b"):
        (root / "datasets" / name).mkdir(parents=True)
        (root / "datasets" / name / "data.csv").write_text(f"x\n{name}\n")
        (root / "datasets" / name / "datapackage.json").write_text("{}")
    (root / "metadata").mkdir()
    (root / "metadata" / "site.yaml").write_text("title: t\n")
    (root / ".gitignore").write_text("*.tmp\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    return root


def test_trees_of_a_clean_work_tree(repo):
    trees = GitTrees.read(repo)
    assert trees is not None and not trees.dirty
    assert set(trees.trees) == {"datasets/a", "datasets/b", "metadata"}
    assert all(trees.tree(k) for k in trees.trees)
    assert trees.tree("datasets/missing") is None


def test_a_change_a_new_file_and_an_ignored_one_make_their_folder_dirty(repo):
    (repo / "datasets" / "a" / "data.csv").write_text("x\nchanged\n")
    (repo / "datasets" / "b" / "notes.tmp").write_text("ignored, still in the folder")
    (repo / "metadata" / "new.yaml").write_text("untracked: yes\n")
    trees = GitTrees.read(repo)
    assert trees is not None
    assert trees.dirty == {"datasets/a", "datasets/b", "metadata"}
    assert trees.tree("datasets/a") is None and trees.tree("datasets/b") is None and trees.tree("metadata") is None


def test_a_staged_or_deleted_file_is_a_change(repo):
    (repo / "datasets" / "a" / "data.csv").write_text("x\nstaged\n")
    git(repo, "add", "datasets/a/data.csv")
    (repo / "datasets" / "b" / "data.csv").unlink()
    trees = GitTrees.read(repo)
    assert trees is not None and trees.dirty == {"datasets/a", "datasets/b"}


@pytest.mark.parametrize(
    "setup",
    [
        lambda root: (root / ".gitattributes").write_text("*.csv text eol=crlf\n"),
        lambda root: git(root, "config", "filter.lfs.smudge", "git-lfs smudge -- %f"),
        lambda root: git(root, "config", "core.autocrlf", "true"),
        lambda root: (
            (root / ".git" / "info").mkdir(exist_ok=True)
            or (root / ".git" / "info" / "attributes").write_text("* -text\n")
        ),
    ],
    ids=["gitattributes", "filter", "autocrlf", "info-attributes"],
)
def test_a_work_tree_git_may_convert_is_not_trusted(repo, setup):
    setup(repo)
    if (repo / ".gitattributes").exists():
        git(repo, "add", ".gitattributes")
        git(repo, "commit", "-qm", "attributes")
    assert GitTrees.read(repo) is None


def test_outside_a_repository_there_is_no_view(tmp_path):
    (tmp_path / "datasets").mkdir()
    assert GitTrees.read(tmp_path) is None


def _trusted(trees: GitTrees) -> GitTrees:
    """As if git had been asked well after the files were written (their ctime is now)."""
    return dataclasses.replace(trees, read_ns=trees.read_ns + 10 * 1_000_000_000)


def test_an_unchanged_tree_is_not_walked_and_has_the_walked_digest(repo):
    folder = repo / "datasets" / "a"
    plain = FolderHasher().folder(folder, "datasets/a")  # no git: walked and read
    trees = GitTrees.read(repo)
    assert trees is not None
    first = FolderHasher(None, _trusted(trees))
    assert first.folder(folder, "datasets/a") == plain and first.walked == 1
    second = FolderHasher(first.cache(), _trusted(GitTrees.read(repo)))
    assert second.folder(folder, "datasets/a") == plain and second.walked == 0 and second.read == 0
    # an edit, then committed: a new tree id, walked again, the same digest as without git
    (folder / "data.csv").write_text("x\nedited\n")
    edited = FolderHasher().folder(folder, "datasets/a")
    dirty = FolderHasher(second.cache(), GitTrees.read(repo))
    assert dirty.folder(folder, "datasets/a") == edited != plain and dirty.walked == 1
    git(repo, "commit", "-qam", "edit")
    committed = FolderHasher(dirty.cache(), _trusted(GitTrees.read(repo)))
    assert committed.folder(folder, "datasets/a") == edited and committed.walked == 1
    # reverted to the first bytes and tree: the digest is the first one again
    git(repo, "revert", "--no-edit", "HEAD")
    back = FolderHasher(committed.cache(), _trusted(GitTrees.read(repo)))
    assert back.folder(folder, "datasets/a") == plain


def test_a_folder_written_just_before_git_looked_is_walked_next_time(repo):
    folder = repo / "datasets" / "b"
    first = FolderHasher(None, GitTrees.read(repo))  # the files' ctime is within RACY_S
    digest = first.folder(folder, "datasets/b")
    second = FolderHasher(first.cache(), GitTrees.read(repo))
    assert second.folder(folder, "datasets/b") == digest and second.walked == 1


def test_an_empty_folder_is_walked_as_before_and_git_does_not_see_it(repo):
    """git keeps no empty folders; the validator reads none, so a digest without it is right."""
    (repo / "datasets" / "a" / "empty").mkdir()
    trees = GitTrees.read(repo)
    assert trees is not None and not trees.dirty
