"""`manage.py dev_env`: write the development `.env` that every `manage.py` command then reads."""

from __future__ import annotations

import secrets
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import devkeys

TEMPLATE = """\
# Development settings, written by `make run` (manage.py dev_env). Never used in production:
# git-ignored, and the real environment wins over every line. Delete the file to start over.
DEBUG=true
SECRET_KEY={secret_key}
# The local development key that `manage.py dev_token` signs with (core/devkeys.py).
STYTCH_JWKS_URL={jwks_url}
"""


class Command(BaseCommand):
    help = (
        "Write a development .env (DEBUG, a generated SECRET_KEY, the development JWKS URL) unless "
        "one is there already. make run calls it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--file",
            default=settings.DOTENV_FILE or str(settings.BASE_DIR / ".env"),
            help="Where to write it (default: DOTENV_FILE, else .env in the project folder).",
        )
        parser.add_argument("--force", action="store_true", help="Replace a file that exists.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if path.exists() and not options["force"]:
            self.stdout.write(f"{path} exists; leaving it as it is (--force replaces it).")
            return
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent} is not a directory.")
        _, jwks_path = devkeys.ensure_dev_keys(settings.DEV_KEYS_DIR)
        path.write_text(
            TEMPLATE.format(secret_key=secrets.token_urlsafe(50), jwks_url=devkeys.jwks_file_url(jwks_path))
        )
        path.chmod(0o600)
        self.stdout.write(f"Wrote {path}: DEBUG=true, a new SECRET_KEY, STYTCH_JWKS_URL of the development key.")
