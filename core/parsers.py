"""The API's JSON body parser: DRF's, with the input a serious API refuses up front.

- nesting deeper than `MAX_JSON_DEPTH` (Python's own parser gives up with RecursionError
  around 1,000 levels, and everything that walks the data afterwards would too);
- strings that cannot be stored or sent back: lone surrogates (`"\\ud800"` parses, but no
  UTF-8 encoder accepts it) and NUL characters (PostgreSQL's text type cannot hold them), in
  keys and in values alike.

Each is a 400 in the API's error shape that names where the bad value is (`parse_error` code).
"""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.limits import MAX_JSON_DEPTH


def _problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (it holds a lone surrogate)"
    return None


def check_json(data: Any) -> None:
    """Raise ParseError for a document nested too deeply or holding a string no one can store."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_JSON_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels (at {path or 'the top'}).")
        if isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else key
                problem = _problem(key)
                if problem:
                    raise ParseError(f"A key {problem} (at {path or 'the top'}).")
                stack.append((item, where, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str):
            problem = _problem(value)
            if problem:
                raise ParseError(f"The value of {path or 'the body'} {problem}.")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
        check_json(data)
        return data
