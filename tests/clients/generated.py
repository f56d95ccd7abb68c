"""Clients generated from the API's OpenAPI document, and one list call through each.

- openapi-python-client (PyPI, requirements-dev.txt): a Python package generated into a
  temporary folder and imported; its httpx client records the URL of each request.
- hey-api (@hey-api/openapi-ts, npm, tests/clients/package.json and its lock): a TypeScript
  SDK with its fetch client, generated into a temporary folder; tests/clients/call_list.ts
  makes the call under tsx and prints what was sent and what came back.

Each driver's `list(base_url, token, operation_id, query)` takes the query as the document's
names and JSON values (`{"ordering": ["-contextWindow", "name"], "isSystem": True}`), turns
it into what that client's generated function takes, and answers a `Sent`.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON_PACKAGE = "model_registry_client"

# Every subprocess is bounded (seconds).
NPM_CI_TIMEOUT = 300  # once per version of package-lock.json on a machine
GENERATE_TIMEOUT = 60
CALL_TIMEOUT = 30


@dataclass(frozen=True)
class Sent:
    """One list call: the status, the URL the client requested, and the ids of the page's results."""

    status: int
    url: str
    ids: list[str] | None
    count: int | None
    body: Any  # the answer when it is not a page (an error), for the failure message


def run(command: list[str], *, cwd: Path, timeout: float, merge_stderr: bool = False) -> str:
    """Run a command; its output goes into the failure when it exits non-zero. With `merge_stderr`,
    the answer is stdout and stderr interleaved (@redocly/cli reports on stderr)."""
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
        "npm_config_update_notifier": "false",
        # @redocly/cli (openapi_check.py): no usage reports, no update check.
        "REDOCLY_TELEMETRY": "off",
        "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    }
    completed = subprocess.run(  # noqa: S603 - fixed commands, no shell
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {completed.returncode}\n"
            f"--- stdout\n{completed.stdout}\n--- stderr\n{completed.stderr or ''}"
        )
    return completed.stdout


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


# --- openapi-python-client -------------------------------------------------------------------


class PythonClient:
    name = "openapi-python-client"

    def __init__(self, package: types.ModuleType, root: Path) -> None:
        self.package = package
        self.root = root

    @classmethod
    def generate(cls, schema_path: Path, into: Path) -> PythonClient:
        """`openapi-python-client generate` into `into/model_registry_client`, then imported."""
        config = into / "openapi-python-client.yaml"
        # No post hooks: they would run ruff over the generated code, which only formats it.
        config.write_text(f"package_name_override: {PYTHON_PACKAGE}\npost_hooks: []\n")
        run(
            [
                sys.executable,
                "-m",
                "openapi_python_client",
                "generate",
                "--path",
                str(schema_path),
                "--meta",
                "none",
                "--output-path",
                str(into / PYTHON_PACKAGE),
                "--config",
                str(config),
                "--fail-on-warning",
            ],
            cwd=into,
            timeout=GENERATE_TIMEOUT,
        )
        sys.path.insert(0, str(into))
        importlib.invalidate_caches()
        return cls(importlib.import_module(PYTHON_PACKAGE), into)

    def unload(self) -> None:
        sys.path.remove(str(self.root))
        for module in [name for name in sys.modules if name.split(".")[0] == PYTHON_PACKAGE]:
            del sys.modules[module]

    def operation(self, operation_id: str) -> types.ModuleType:
        """The generated module of an operation: `api/<tag>/<operation id>.py`."""
        (path,) = (self.root / PYTHON_PACKAGE / "api").glob(f"*/{operation_id}.py")
        return importlib.import_module(f"{PYTHON_PACKAGE}.api.{path.parent.name}.{operation_id}")

    @staticmethod
    def typed(annotation: Any, value: Any) -> Any:
        """A JSON value as the generated function's parameter takes it: an enum member, a list
        of them, a datetime."""
        for option in typing.get_args(annotation) or (annotation,):
            if typing.get_origin(option) is list:
                (item,) = typing.get_args(option)
                return [PythonClient.typed(item, each) for each in value]
            if isinstance(option, type) and issubclass(option, enum.Enum):
                return option(value)
            if option is datetime.datetime:
                return datetime.datetime.fromisoformat(value)
        return value

    def list(self, base_url: str, token: str, operation_id: str, query: dict[str, Any]) -> Sent:
        import httpx

        module = self.operation(operation_id)
        hints = typing.get_type_hints(module.sync_detailed)
        kwargs = {snake_case(name): self.typed(hints[snake_case(name)], value) for name, value in query.items()}
        requested: list[str] = []
        client = self.package.AuthenticatedClient(
            base_url=base_url,
            token=token,
            timeout=httpx.Timeout(CALL_TIMEOUT),
            httpx_args={"event_hooks": {"request": [lambda request: requested.append(str(request.url))]}},
        )
        with client:
            response = module.sync_detailed(client=client, **kwargs)
        (url,) = requested
        if response.status_code != 200:
            return Sent(response.status_code, url, None, None, json.loads(response.content or b"null"))
        page = response.parsed  # the generated model of the page: the client understood the answer
        assert type(page).__name__.startswith("Paginated"), type(page)
        return Sent(response.status_code, url, [str(row.id) for row in page.results], page.count, None)


# --- hey-api -----------------------------------------------------------------------------------


def npm_tools() -> Path:
    """A folder with tests/clients' npm packages installed (`npm ci`), cached per lock file.

    Under `$XDG_CACHE_HOME/model-registry/` (default ~/.cache), named by the lock's hash: a
    machine installs each version once. Installed into a temporary folder, then renamed, so an
    interrupted install is never taken for a finished one.
    """
    lock = HERE / "package-lock.json"
    digest = hashlib.sha256(lock.read_bytes() + (HERE / "package.json").read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "model-registry"
    tools = cache / f"client-tests-npm-{digest}"
    if (tools / "node_modules" / ".bin" / "openapi-ts").exists():
        return tools
    cache.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="client-tests-npm-", dir=cache))
    try:
        shutil.copy2(HERE / "package.json", building)
        shutil.copy2(lock, building)
        run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=building,
            timeout=NPM_CI_TIMEOUT,
        )
        try:
            building.rename(tools)
        except OSError:  # another run finished first: keep its copy
            if not (tools / "node_modules" / ".bin" / "openapi-ts").exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return tools


class HeyApiClient:
    name = "hey-api"

    def __init__(self, tools: Path, sdk: Path) -> None:
        self.tools = tools
        self.sdk = sdk

    @classmethod
    def generate(cls, schema_path: Path, into: Path) -> HeyApiClient:
        """`openapi-ts` with the fetch client into `into/sdk`."""
        tools = npm_tools()
        sdk = into / "sdk"
        run(
            [
                str(tools / "node_modules" / ".bin" / "openapi-ts"),
                "--input",
                str(schema_path),
                "--output",
                str(sdk),
                "--client",
                "@hey-api/client-fetch",
                "--no-log-file",
            ],
            cwd=into,
            timeout=GENERATE_TIMEOUT,
        )
        return cls(tools, sdk)

    def list(self, base_url: str, token: str, operation_id: str, query: dict[str, Any]) -> Sent:
        output = run(
            [
                str(self.tools / "node_modules" / ".bin" / "tsx"),
                str(HERE / "call_list.ts"),
                str(self.sdk),
                base_url,
                token,
                camel_case(operation_id),
                json.dumps(query),
            ],
            cwd=self.sdk.parent,
            timeout=CALL_TIMEOUT,
        )
        return Sent(**json.loads(output.strip().splitlines()[-1]))
