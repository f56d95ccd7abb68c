"""Issue 18: every command in the README works as written on a fresh machine.

The way a newcomer uses it: `make run` in one terminal (it writes the development `.env`,
migrates, seeds and serves), then each shell block of the README pasted into another, in
order, with nothing exported beforehand. Here: `make run` on a free port with a `.env` and a
SQLite database of the test's own (`DOTENV_FILE`, `DATABASE_URL`), and every ```sh block in
one bash session with `set -euo pipefail`, where `curl` also fails on an HTTP error status.
A block that cannot run here says so in a comment the reader sees above it
(`<!-- readme-test: skip (why) -->`), and the test lists them.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SKIP = re.compile(r"<!-- readme-test: skip \((?P<why>[^)]+)\) -->")
START_TIMEOUT_SECONDS = 180

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or shutil.which("curl") is None, reason="needs make and curl"
)


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    code: str
    skip: str | None  # why it is not run here


def shell_blocks(text: str) -> list[Block]:
    blocks = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() == "```sh":
            start = index
            index += 1
            body = []
            while lines[index].strip() != "```":
                body.append(lines[index])
                index += 1
            previous = next((line for line in reversed(lines[:start]) if line.strip()), "")
            match = SKIP.search(previous)
            blocks.append(Block(start + 1, "\n".join(body), match["why"] if match else None))
        index += 1
    return blocks


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def newcomer_environment(tmp_path: Path) -> dict[str, str]:
    """A shell's environment with nothing of this project in it, but for where the test keeps
    its files (the newcomer's are the defaults: .env and db.sqlite3 in the project folder)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    return {
        **env,
        "DOTENV_FILE": str(tmp_path / ".env"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TMPDIR": str(tmp_path),
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str]]:
    """`make run` on a free port; yields the environment and the API's URL."""
    tmp_path = tmp_path_factory.mktemp("readme")
    env = newcomer_environment(tmp_path)
    port = free_port()
    log = (tmp_path / "make-run.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        ["make", "--no-print-directory", "run", f"PORT={port}"],  # noqa: S607
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"make run exited {server.returncode}:\n{(tmp_path / 'make-run.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{api}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"make run did not serve in {START_TIMEOUT_SECONDS} s:\n{(tmp_path / 'make-run.log').read_text()}"
                )
            time.sleep(0.5)
        yield env, api
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_make_run_prints_a_token_and_the_env_it_wrote_has_no_placeholder(served: tuple[dict[str, str], str]) -> None:
    env, _ = served
    dotenv = Path(env["DOTENV_FILE"]).read_text()
    assert "DEBUG=true" in dotenv
    assert re.search(r"^SECRET_KEY=\S{40,}$", dotenv, re.M), "a generated SECRET_KEY"
    assert re.search(r"^STYTCH_JWKS_URL=file://\S+jwks\.json$", dotenv, re.M)


def test_every_shell_block_of_the_readme_runs_as_written(served: tuple[dict[str, str], str]) -> None:
    env, api = served
    blocks = shell_blocks(README.read_text())
    runnable = [block for block in blocks if block.skip is None]
    assert len(runnable) >= 4, "the README's examples were found"
    script = [
        "set -Eeuo pipefail",
        # An HTTP error status fails the block, as it would stop a reader (curl -s alone exits 0).
        'curl() { command curl --fail-with-body --show-error "$@"; }',
        "trap 'echo \"README.md line $BLOCK: failed: $BASH_COMMAND\" >&2' ERR",
    ]
    for block in runnable:
        script += [f"BLOCK={block.line}", f"echo '=== README.md line {block.line}'", block.code]
    completed = subprocess.run(  # noqa: S603
        ["bash", "-c", "\n".join(script)],  # noqa: S607
        cwd=ROOT,
        env={**env, "API": api},
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    assert "Traceback" not in output, output[-6000:]
    assert re.search(r"304$", completed.stdout, re.M), "the conditional read answered 304"
    skipped = {block.line: block.skip for block in blocks if block.skip}
    print(f"skipped README blocks (line: why): {skipped}")


def test_manage_py_commands_need_no_prefix(served: tuple[dict[str, str], str]) -> None:
    """The README and make run's banner suggest these bare: with .env they work as typed."""
    env, _ = served
    superuser = {**env, "DJANGO_SUPERUSER_PASSWORD": "a-long-enough-password-1"}
    for command in (
        ["check"],
        ["createsuperuser", "--noinput", "--username", "staff", "--email", "staff@example.com"],
        ["seed_system_models", "--dry-run"],
    ):
        completed = subprocess.run(  # noqa: S603
            [str(ROOT / ".venv/bin/python"), "manage.py", *command],
            cwd=ROOT,
            env=superuser,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 0, (command, completed.stdout, completed.stderr)
        assert "Traceback" not in completed.stderr


def test_the_skip_marker_is_read() -> None:
    blocks = shell_blocks(
        "text\n<!-- readme-test: skip (needs docker) -->\n```sh\ndocker ps\n```\n\n```sh\necho hi\n```\n"
    )
    assert [(block.code, block.skip) for block in blocks] == [("docker ps", "needs docker"), ("echo hi", None)]
