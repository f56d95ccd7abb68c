"""Print a development bearer token signed by the local key pair in DEV_KEYS_DIR."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import devkeys


class Command(BaseCommand):
    help = (
        "Print a Stytch-shaped JWT signed by the development key pair in DEV_KEYS_DIR "
        "(created on first use). The server accepts it when started with "
        "STYTCH_JWKS_URL set to the URL that --print-jwks-url prints."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--org",
            default=devkeys.DEFAULT_ORGANIZATION_ID,
            help="Organization id (default: %(default)s).",
        )
        parser.add_argument(
            "--org-slug",
            default=devkeys.DEFAULT_ORGANIZATION_SLUG,
            help="Organization slug of a member token (default: %(default)s).",
        )
        parser.add_argument(
            "--member",
            default=devkeys.DEFAULT_MEMBER_ID,
            help="Member id, the 'sub' of a session token (default: %(default)s).",
        )
        parser.add_argument(
            "--role",
            action="append",
            dest="roles",
            metavar="ROLE",
            help=("Role of the member besides stytch_member; repeat for several (default: stytch_admin)."),
        )
        parser.add_argument(
            "--m2m",
            action="store_true",
            help="Mint an M2M access token instead of a member session token.",
        )
        parser.add_argument(
            "--client",
            default=devkeys.DEFAULT_CLIENT_ID,
            help="M2M client id, the 'sub' of an M2M token (default: %(default)s).",
        )
        parser.add_argument(
            "--scope",
            default="read:* write:*",
            help="Space-separated scopes of an M2M token (default: '%(default)s').",
        )
        parser.add_argument(
            "--ttl",
            type=int,
            default=devkeys.DEFAULT_TTL,
            help="Lifetime in seconds (default: %(default)s).",
        )
        parser.add_argument(
            "--print-jwks-url",
            action="store_true",
            help="Print the file:// URL of the development JWKS instead of a token.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project_id: str = settings.STYTCH_PROJECT_ID
        if not settings.DEBUG and project_id.startswith("project-live-"):
            raise CommandError(
                "dev_token refuses to run against a live Stytch project with DEBUG off: "
                "its tokens are signed by a local development key."
            )
        if options["ttl"] <= 0:
            raise CommandError("--ttl must be a positive number of seconds.")

        private_key, jwks_path = devkeys.ensure_dev_keys(Path(settings.DEV_KEYS_DIR))
        jwks_url = devkeys.jwks_file_url(jwks_path)
        if options["print_jwks_url"]:
            self.stdout.write(jwks_url)
            return

        if options["m2m"]:
            claims = devkeys.m2m_claims(
                project_id=project_id,
                organization_id=options["org"],
                client_id=options["client"],
                scopes=options["scope"],
                ttl=options["ttl"],
            )
        else:
            roles = ["stytch_member", *(options["roles"] or ["stytch_admin"])]
            claims = devkeys.member_claims(
                project_id=project_id,
                organization_id=options["org"],
                organization_slug=options["org_slug"],
                member_id=options["member"],
                roles=dict.fromkeys(roles),
                ttl=options["ttl"],
            )
        self.stdout.write(devkeys.mint_token(private_key, devkeys.DEV_KID, claims))
        if jwks_url != settings.STYTCH_JWKS_URL:
            self.stderr.write(f"Note: the server trusts this token only with STYTCH_JWKS_URL={jwks_url}")
