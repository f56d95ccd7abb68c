"""`make openapi-lint` (and CI): the OpenAPI document lints clean and its TypeScript SDK type-checks.

    python -m tests.clients.openapi_check <document>   # the output of `manage.py spectacular`

1. `redocly lint` with the repository's redocly.yaml (@redocly/cli, pinned in
   tests/clients/package.json): any problem, warning or error, fails.
2. `openapi-ts` generates the hey-api SDK as tests/clients/test_generated_clients.py does, and
   `tsc --noEmit` (strict) compiles it with tests/clients/typed_scenario.ts beside it.

The npm tools come from the same cached `npm ci` as the client tests (generated.npm_tools). The
Python client is generated and driven by tests/clients/test_generated_clients.py, in the suite.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.clients.generated import HERE, HeyApiClient, npm_tools, run

ROOT = HERE.parent.parent
LINT_TIMEOUT = 120
TSC_TIMEOUT = 180

# strict, and nothing from outside the folder: the SDK and the scenario are all there is.
TSCONFIG = {
    "compilerOptions": {
        "target": "ES2022",
        "module": "ESNext",
        "moduleResolution": "bundler",
        "lib": ["ES2022", "DOM", "DOM.Iterable"],
        "strict": True,
        "noEmit": True,
        "skipLibCheck": True,  # only TypeScript's own lib .d.ts files; the SDK is .ts and checked
        "types": [],
        "forceConsistentCasingInFileNames": True,
    },
    "include": ["typed_scenario.ts", "sdk/**/*.ts"],
}


def lint(document: Path, tools: Path) -> None:
    output = run(
        [
            str(tools / "node_modules" / ".bin" / "redocly"),
            "lint",
            str(document),
            "--config",
            str(ROOT / "redocly.yaml"),
            "--format",
            "stylish",
            "--max-problems",
            "1000",
        ],
        cwd=ROOT,
        timeout=LINT_TIMEOUT,
        merge_stderr=True,
    )
    # recommended-strict makes every rule an error (exit code 1); a rule set to warn would not be.
    if re.search(r"(?m)^\s*\d+:\d+\s+warning\b|\b\d+ warnings?\b", output):
        raise AssertionError(f"redocly lint reported warnings:\n{output}")
    # Less Node.js 20's end-of-life banner (a boxed notice, not a problem in the document).
    print("\n".join(line for line in output.splitlines() if not re.match(r"\s*[║╔╚]", line)).strip())


def type_check(document: Path, tools: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="openapi-check-") as folder:
        into = Path(folder)
        HeyApiClient.generate(document, into)
        shutil.copy2(HERE / "typed_scenario.ts", into)
        (into / "tsconfig.json").write_text(json.dumps(TSCONFIG, indent=2))
        run([str(tools / "node_modules" / ".bin" / "tsc"), "--project", str(into)], cwd=into, timeout=TSC_TIMEOUT)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    if shutil.which("npm") is None or shutil.which("node") is None:
        print("openapi-lint needs Node.js and npm on PATH (tests/clients/package.json).", file=sys.stderr)
        return 1
    document = Path(argv[0]).resolve()
    started = time.monotonic()
    tools = npm_tools()
    print(f"== npm tools ready ({time.monotonic() - started:.0f} s)")
    try:
        lint(document, tools)
        print(f"== redocly lint: 0 problems ({time.monotonic() - started:.0f} s)")
        type_check(document, tools)
        print(
            f"== hey-api SDK and typed_scenario.ts type-check under tsc --strict ({time.monotonic() - started:.0f} s)"
        )
    except AssertionError as failure:
        print(failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
